#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries the tests start (test/helpers/postgres.ts) are here:
# if initdb is missing and we are root, installs the distribution's postgresql package; otherwise
# says why the PostgreSQL tests will skip. Never fails the build by itself: the tests decide
# (CONCLAVE_REQUIRE_POSTGRES=1 makes a missing server a test failure).
set -uo pipefail
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || { [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; }; then
  echo "ensure-postgres: found $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)${PG_BIN:+ (PG_BIN=$PG_BIN)}"
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "ensure-postgres: installing postgresql (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null || echo "ensure-postgres: apt-get install postgresql failed"
  # The package starts a cluster of its own; the tests start theirs.
  command -v service >/dev/null && service postgresql stop >/dev/null 2>&1 || true
else
  echo "ensure-postgres: no PostgreSQL binaries and not root (or no apt-get): the PostgreSQL tests will skip"
fi
exit 0
