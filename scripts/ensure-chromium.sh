#!/usr/bin/env bash
# The console's end-to-end tests drive a real Chromium: Debian's `chromium` package at
# /usr/bin/chromium. CI runs as root on a fresh Debian machine, so it installs it here; a dev
# machine without root is told why and carries on (the console tests then skip, saying so).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "ensure-chromium: /usr/bin/chromium present ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "ensure-chromium: /usr/bin/chromium is missing and we are not root: not installing it; the console's browser tests will skip"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: /usr/bin/chromium is missing and there is no apt-get here: the console's browser tests will skip"
  exit 0
fi
echo "ensure-chromium: installing Debian's chromium package"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "ensure-chromium: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
