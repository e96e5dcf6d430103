/** What the figures were measured on: they mean nothing without it. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../paths.js';

export interface Machine {
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly totalMemoryBytes: number;
  readonly os: string;
  readonly node: string;
  readonly v8: string;
  readonly packages: Readonly<Record<string, string>>;
}

const PACKAGES = ['fastify', 'better-sqlite3', 'cometd-nodejs-server', 'cometd', 'cometd-nodejs-client', 'autocannon', 'pino', 'typebox'];

const versionOf = (pkg: string): string => {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
};

export const describeMachine = (): Machine => {
  const cpus = os.cpus();
  const conclave = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    packages: Object.fromEntries([['conclave', conclave], ...PACKAGES.map((p) => [p, versionOf(p)])]),
  };
};
