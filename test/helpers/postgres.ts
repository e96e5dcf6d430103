/**
 * A real, throw-away PostgreSQL server for a test file: finds the binaries
 * (/usr/lib/postgresql/<version>/bin, or PG_BIN), runs initdb in a scratch folder, starts the
 * server on a free 127.0.0.1 port with trust authentication on loopback, and stops it (and
 * removes the folder) at the end. PostgreSQL refuses to run as root, and CI runs as root: then
 * the folder is given to the existing `postgres` user and the binaries run through
 * `runuser -u postgres --`. fsync is off: a test's data need not survive a power cut.
 *
 * When no server can be started, `startPostgres` answers a reason instead; tests skip with it,
 * except where CONCLAVE_REQUIRE_POSTGRES=1 (.ci/run sets it): there a missing PostgreSQL fails.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import pg from 'pg';
import { openPostgresStore } from '../../src/store/postgres.js';
import type { Store } from '../../src/store/port.js';

export interface Postgres {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:PORT/DATABASE */
  url(database?: string): string;
  /** A fresh empty database (its URL). */
  createDatabase(): Promise<string>;
  /** Stops the server (fast shutdown), keeping its folder: `start` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its folder. */
  dispose(): Promise<void>;
}

const binDir = (): string | undefined => {
  const fromEnv = process.env['PG_BIN'];
  if (fromEnv && existsSync(join(fromEnv, 'initdb'))) return fromEnv;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
};

const isRoot = (): boolean => userInfo().uid === 0;

/** A free loopback port, as the kernel hands one out. */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });

/** True when tests must not skip for want of PostgreSQL. */
export const postgresRequired = (): boolean => process.env['CONCLAVE_REQUIRE_POSTGRES'] === '1';

/** Starts a scratch server, or answers why none can be started. */
export const startPostgres = async (): Promise<Postgres | { reason: string }> => {
  const bin = binDir();
  if (bin === undefined) return { reason: 'no PostgreSQL binaries (initdb) under /usr/lib/postgresql/*/bin or PG_BIN' };
  const root = isRoot();
  let owner: { uid: number; gid: number } | undefined;
  if (root) {
    try {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      owner = { uid, gid };
    } catch {
      return { reason: 'running as root and there is no `postgres` user to run PostgreSQL as' };
    }
  }
  const folder = mkdtempSync(join(tmpdir(), 'conclave-pg-'));
  const data = join(folder, 'data');
  if (owner) {
    chownSync(folder, owner.uid, owner.gid);
    chmodSync(folder, 0o700);
  }
  // As root, every binary runs as the postgres user.
  const command = (name: string, args: string[]): [string, string[]] =>
    root ? ['runuser', ['-u', 'postgres', '--', join(bin, name), ...args]] : [join(bin, name), args];
  try {
    const [file, args] = command('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    execFileSync(file, args, { stdio: 'pipe' });
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    return { reason: `initdb failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}` };
  }
  const port = await freePort();
  let server: ChildProcess | undefined;
  let log = '';
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;

  const start = async () => {
    const [file, args] = command('postgres', [
      '-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', folder,
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
      '-c', 'max_connections=200', '-c', 'shared_buffers=32MB',
    ]);
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    server = child;
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log = (log + chunk).slice(-4000)));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`postgres exited at start (${child.exitCode}): ${log}`);
      const client = new pg.Client({ connectionString: url() });
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 30 s: ${log}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };

  const stop = async () => {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // pg_ctl's fast shutdown: clients are disconnected, the data is kept. (A signal to runuser
    // would not reliably reach the server behind it.)
    const [file, args] = command('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w', '-t', '30']);
    try {
      execFileSync(file, args, { stdio: 'pipe' });
    } catch {
      child.kill('SIGKILL');
    }
    await exited;
  };

  try {
    await start();
  } catch (error) {
    await stop();
    rmSync(folder, { recursive: true, force: true });
    return { reason: (error as Error).message };
  }

  let databases = 0;
  return {
    port,
    url,
    createDatabase: async () => {
      const name = `t${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop,
    start,
    dispose: async () => {
      await stop();
      rmSync(folder, { recursive: true, force: true });
    },
  };
};

let shared: Promise<Postgres | { reason: string }> | undefined;
// Registered on the file's root test as this module is loaded: the shared server outlives every
// suite of the file that uses it, and stops after the last.
after(async () => {
  const server = await shared;
  shared = undefined;
  if (server !== undefined && 'port' in server) await server.dispose();
});

/**
 * One server for the whole test file, started on first use and stopped after the file's last
 * test. Answers the server, or why there is none: the reason is a skip diagnostic, and a failure
 * where PostgreSQL is required (CI).
 */
export const sharedPostgres = async (): Promise<Postgres | { reason: string }> => {
  shared ??= startPostgres();
  const server = await shared;
  if ('reason' in server && postgresRequired()) throw new Error(`PostgreSQL is required here (CI) but cannot be started: ${server.reason}`);
  return server;
};

/** The PostgreSQL adapter of the store conformance suite: a fresh database per case. */
export const postgresStoreAdapter = {
  name: 'postgres (real server, a database per case)',
  unavailable: async (): Promise<string | undefined> => {
    const server = await sharedPostgres();
    return 'reason' in server ? `no PostgreSQL: ${server.reason}` : undefined;
  },
  open: async (): Promise<{ store: Store; dispose: () => Promise<void> }> => {
    const server = await sharedPostgres();
    if ('reason' in server) throw new Error(server.reason);
    const { store } = await openPostgresStore(await server.createDatabase(), { max: 4 });
    return { store, dispose: async () => undefined };
  },
};

// ---- Cluster nodes: real `conclave serve` processes -------------------------------------------
/** The compiled CLI next to this compiled helper, whatever the outDir. */
const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const LISTENING = /^conclave listening on (http:\/\/127\.0\.0\.1:\d+)$/m;
export interface ClusterNode {
  readonly url: string;
  readonly child: ChildProcess;
  readonly stderr: () => string;
  readonly exited: Promise<void>;
}

const nodes = new Set<ChildProcess>();
after(() => {
  for (const child of nodes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** `node cli.js serve --data URL --port 0`, resolved once it prints where it listens. */
export const startNode = (data: string, extra: readonly string[] = [], logLevel = 'warn'): Promise<ClusterNode> =>
  new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: logLevel };
    delete env['CONCLAVE_DATA'];
    const child = spawn(process.execPath, [CLI, 'serve', '--data', data, '--port', '0', ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    nodes.add(child);
    let out = '';
    let err = '';
    const exited = new Promise<void>((done) => child.on('close', () => (nodes.delete(child), done())));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = LISTENING.exec(out);
      if (match) resolve({ url: match[1] as string, child, stderr: () => err, exited });
    });
    void exited.then(() => reject(new Error(`the node exited before listening: ${err}`)));
  });

