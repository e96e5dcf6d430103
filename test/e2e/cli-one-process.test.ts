/**
 * One process per SQLite file (CONTRACT.md "Hardening promises outside checks rely on"): a second
 * `conclave serve` on a SQLite file another process has open exits non-zero with a one-line reason
 * naming the PostgreSQL cluster, and answers nothing; the lock dies with its process (SIGKILL
 * included). Real CLI processes, as test/e2e/cli.test.ts runs them.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/wait.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const LISTENING = /^conclave listening on (http:\/\/127\.0\.0\.1:\d+)$/m;
const work = mkdtempSync(join(tmpdir(), 'conclave-lock-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  readonly child: ChildProcess;
  out: string;
  err: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}
const serve = (data: string, port = 0): Run => {
  const env = { ...process.env };
  for (const name of ['CONCLAVE_HOST', 'PORT', 'CONCLAVE_DATA', 'CONCLAVE_DIRECTORY', 'LOG_LEVEL']) delete env[name];
  const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port), '--data', data, '--log-level', 'silent'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const run: Run = {
    child,
    out: '',
    err: '',
    exited: new Promise((resolve) => child.on('close', (code, signal) => (children.delete(child), resolve({ code, signal })))),
  };
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (run.out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (run.err += c));
  return run;
};
const listening = (run: Run) =>
  waitFor(() => LISTENING.exec(run.out)?.[1] ?? (run.child.exitCode !== null ? `exited: ${run.err}` : undefined), 30_000, () => `a listening line: ${run.err}`, 20).then(
    (url) => (url.startsWith('http') ? url : assert.fail(url)),
  );
const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

describe('conclave serve: one process per SQLite file', () => {
  it('a second serve on the same file exits non-zero naming the PostgreSQL cluster and answers nothing; after a SIGKILL of the first a new one starts', async () => {
    const data = join(mkdtempSync(join(work, 'case-')), 'one.db');
    const first = serve(data);
    const url = await listening(first);

    const port = await freePort();
    const second = serve(data, port);
    const exit = await second.exited;
    assert.equal(exit.code, 1);
    const lines = second.err.split('\n').filter((l) => l.trim() !== '');
    assert.equal(lines.length, 1, `a one-line reason: ${JSON.stringify(second.err)}`);
    assert.ok(lines[0]!.includes(data), `names the file: ${lines[0]}`);
    assert.match(lines[0]!, /in use by another conclave process/);
    assert.match(lines[0]!, /--data postgres:\/\//, 'points at the PostgreSQL cluster for several nodes');
    assert.equal(second.out, '', 'no listening line');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'nothing listens on the port it was given');
    assert.equal((await fetch(`${url}/healthz`)).status, 200, 'the first goes on');

    // The lock is the process's: a SIGKILL leaves nothing stale behind.
    first.child.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');
    const third = serve(data);
    assert.equal((await fetch(`${await listening(third)}/healthz`)).status, 200);
    third.child.kill('SIGTERM');
    assert.equal((await third.exited).code, 0);
    // And after a clean exit too.
    const fourth = serve(data);
    await listening(fourth);
    fourth.child.kill('SIGTERM');
    await fourth.exited;
  });

  it('two servers on different files run side by side', async () => {
    const dir = mkdtempSync(join(work, 'case-'));
    const a = serve(join(dir, 'a.db'));
    const b = serve(join(dir, 'b.db'));
    await Promise.all([listening(a), listening(b)]);
    for (const run of [a, b]) run.child.kill('SIGTERM');
    await Promise.all([a.exited, b.exited]);
  });
});
