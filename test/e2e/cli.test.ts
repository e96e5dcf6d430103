/**
 * `conclave serve` as a user runs it: the real CLI in a child process. Start-up line, health,
 * clean exit on SIGTERM/SIGINT (also with a CometD long poll held), refusals of bad flags,
 * directory files and busy ports, environment variables, and persistence across restarts.
 * Also parseServeConfig, the flag/environment parser, called directly.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULTS, parseServeConfig } from '../../src/config.js';
import { quietFor, waitFor } from '../helpers/wait.js';

/** The compiled CLI next to this compiled test, whatever the outDir. */
const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

const LISTENING = /^conclave listening on http:\/\/127\.0\.0\.1:(\d+)$/;
const CONCLAVE_VARS = ['CONCLAVE_HOST', 'PORT', 'CONCLAVE_DATA', 'CONCLAVE_DIRECTORY', 'LOG_LEVEL'];

const basic = (user: string, password = user) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface Cli {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<Exit>;
  /** Resolves with the base URL once the listening line is printed; rejects if the process exits first. */
  listening(timeoutMs?: number): Promise<string>;
  /** Sends a signal and resolves with the exit and how long it took, in ms. */
  signal(signal: NodeJS.Signals): Promise<Exit & { ms: number }>;
}

const children = new Set<ChildProcess>();
let work: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'conclave-cli-'));
});
after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  rmSync(work, { recursive: true, force: true });
});

/** A fresh folder under the test's temp folder. */
const fresh = () => mkdtempSync(join(work, 'case-'));

/** Runs `node cli.js serve ...args` with the Conclave variables cleared, then `env` added. */
const serve = (args: readonly string[], env: Record<string, string> = {}, cwd = work): Cli => {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CONCLAVE_VARS) delete base[name];
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<Exit>((resolve) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  const cli: Cli = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    listening: (timeoutMs = 15_000) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          clearInterval(poll);
          reject(new Error(`no listening line within ${timeoutMs} ms; stdout: ${JSON.stringify(out)}; stderr: ${JSON.stringify(err)}`));
        }, timeoutMs);
        const check = () => {
          const line = out.split('\n').find((l) => LISTENING.test(l));
          if (line) {
            clearTimeout(timer);
            clearInterval(poll);
            resolve(line.replace(/^conclave listening on /, ''));
          }
        };
        const poll = setInterval(check, 20);
        void exited.then((exit) => {
          check();
          clearTimeout(timer);
          clearInterval(poll);
          reject(new Error(`exited (${JSON.stringify(exit)}) before listening; stdout: ${JSON.stringify(out)}; stderr: ${JSON.stringify(err)}`));
        });
      }),
    signal: async (signal) => {
      const started = performance.now();
      child.kill(signal);
      const exit = await exited;
      return { ...exit, ms: performance.now() - started };
    },
  };
  return cli;
};

/** Waits for a process that is expected to fail at start; kills it if it does not within 15 s. */
const failure = async (cli: Cli): Promise<Exit> => {
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), 15_000);
  const exit = await cli.exited;
  clearTimeout(timer);
  return exit;
};

/** The stderr reason: the first line, with the rest allowed to be only the usage line. */
const reasonOf = (stderr: string): string => {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  assert.ok(lines.length >= 1, 'a reason on stderr');
  for (const extra of lines.slice(1)) assert.match(extra, /^usage:/, `stderr has more than a one-line reason: ${JSON.stringify(stderr)}`);
  return lines[0]!;
};

/** A port nobody listens on right now. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

const get = async (url: string, user?: string) => {
  const response = await fetch(url, user ? { headers: { authorization: basic(user) } } : {});
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
};

const post = async (url: string, user: string, body: unknown) => {
  const response = await fetch(url, { method: 'POST', headers: { authorization: basic(user), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
};

const VALID_DIRECTORY = { users: [{ userName: 'zed', password: 'zed', roles: ['ROLE_AGENT'], phoneNumber: '4000' }] };
const writeJson = (dir: string, name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
};

describe('conclave serve: start-up', () => {
  let cli: Cli;
  let url: string;
  before(async () => {
    const dir = fresh();
    cli = serve(['--port', '0', '--data', join(dir, 'c.db'), '--log-level', 'silent']);
    url = await cli.listening();
    // The start-up output is complete once the second line (the demo logins, built-in directory) is out.
    await waitFor(() => cli.stdout().split('\n').filter((l) => l !== '').length >= 2, 5000, () => `the demo logins line; stdout: ${JSON.stringify(cli.stdout())}`);
  });
  after(async () => {
    if (cli.child.exitCode === null) await cli.signal('SIGTERM');
  });

  it('prints exactly one listening line with the real port, first', async () => {
    const lines = cli.stdout().split('\n').filter((l) => l !== '');
    assert.match(lines[0] ?? '', LISTENING);
    assert.equal(lines.filter((l) => /listening/.test(l)).length, 1, `stdout: ${JSON.stringify(cli.stdout())}`);
    assert.ok(lines.length <= 2, `only the listening line and the demo logins line: ${JSON.stringify(cli.stdout())}`);
    const port = Number(LISTENING.exec(lines[0]!)![1]);
    assert.ok(port > 0 && port <= 65535, 'a real port, not 0');
  });

  it('prints the demo logins after the listening line (built-in directory)', () => {
    const lines = cli.stdout().split('\n').filter((l) => l !== '');
    assert.match(lines[1] ?? '', /agent15000/);
  });

  it('answers GET /healthz with 200 and no credentials', async () => {
    const reply = await get(`${url}/healthz`);
    assert.equal(reply.status, 200);
  });

  it('serves the demo directory (agent15000/agent15000)', async () => {
    assert.equal((await get(`${url}/api/v2/me/devices?fields=*`, 'agent15000')).status, 200);
  });
});

describe('conclave serve: signals', () => {
  it('SIGTERM: exits 0 within 5 s', async () => {
    const cli = serve(['--port', '0', '--data', join(fresh(), 'c.db'), '--log-level', 'silent']);
    const url = await cli.listening();
    assert.equal((await get(`${url}/healthz`)).status, 200);
    const exit = await cli.signal('SIGTERM');
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
    assert.ok(exit.ms < 5000, `took ${Math.round(exit.ms)} ms`);
  });

  it('SIGINT: exits 0 within 5 s', async () => {
    const cli = serve(['--port', '0', '--data', join(fresh(), 'c.db'), '--log-level', 'silent']);
    await cli.listening();
    const exit = await cli.signal('SIGINT');
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
    assert.ok(exit.ms < 5000, `took ${Math.round(exit.ms)} ms`);
  });

  /** Starts the CLI, handshakes as agent15000 and leaves a second /meta/connect held. */
  const withHeldPoll = async () => {
    const cli = serve(['--port', '0', '--data', join(fresh(), 'c.db'), '--log-level', 'silent']);
    const url = await cli.listening();
    const bayeux = (path: string, message: Record<string, unknown>) =>
      fetch(`${url}/api/v2/notifications/${path}`, {
        method: 'POST',
        headers: { authorization: basic('agent15000'), 'content-type': 'application/json' },
        body: JSON.stringify([message]),
      });
    const handshake = (await (
      await bayeux('handshake', { channel: '/meta/handshake', version: '1.0', minimumVersion: '1.0', supportedConnectionTypes: ['long-polling'] })
    ).json()) as any[];
    assert.equal(handshake[0]?.successful, true, `handshake: ${JSON.stringify(handshake)}`);
    const clientId = handshake[0].clientId as string;
    // The first connect returns at once (advice timeout 0); the second is held.
    const first = (await (await bayeux('connect', { channel: '/meta/connect', clientId, connectionType: 'long-polling', advice: { timeout: 0 } })).json()) as any[];
    assert.equal(first[0]?.successful, true, `first connect: ${JSON.stringify(first)}`);
    const state: { settled?: string } = {};
    const held = bayeux('connect', { channel: '/meta/connect', clientId, connectionType: 'long-polling' }).then(
      async (response) => (state.settled = `HTTP ${response.status}: ${await response.text()}`),
      (error: unknown) => (state.settled = `failed: ${String((error as Error).cause ?? error)}`),
    );
    // A held poll is one not answered: nothing to wait for but time.
    await quietFor(500, 'the second /meta/connect is not answered (held)');
    assert.equal(state.settled, undefined, `the second /meta/connect should be held, but: ${state.settled}`);
    return { cli, held, state };
  };

  it('SIGTERM with a CometD long poll held: exits 0 within 5 s', async () => {
    const { cli } = await withHeldPoll();
    const exit = await cli.signal('SIGTERM');
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
    assert.ok(exit.ms < 5000, `took ${Math.round(exit.ms)} ms`);
  });

  it('SIGTERM with a CometD long poll held: the held poll is answered (HTTP 200), not dropped', async () => {
    const { cli, held, state } = await withHeldPoll();
    const exit = await cli.signal('SIGTERM');
    assert.equal(exit.code, 0);
    await Promise.race([held, new Promise((r) => setTimeout(r, 2000))]);
    assert.match(state.settled ?? 'still pending', /^HTTP 200/, 'the held long poll is answered at once, as the contract says');
  });
});

describe('conclave serve: refusals at start', () => {
  const flagCases: [string, string[], RegExp][] = [
    ['--port abc', ['--port', 'abc'], /--port/],
    ['--port 65536', ['--port', '65536'], /--port/],
    ['--log-level loud', ['--log-level', 'loud'], /--log-level/],
    ['--nope (unknown flag)', ['--nope'], /--nope/],
  ];
  for (const [name, args, names] of flagCases) {
    it(`a bad flag: ${name} — exits non-zero, one-line reason naming the flag`, async () => {
      const cli = serve(['--data', ':memory:', ...args]);
      const exit = await failure(cli);
      assert.notEqual(exit.code, 0, `exit ${JSON.stringify(exit)}`);
      assert.notEqual(exit.code, null, 'exits by itself, not killed');
      assert.match(reasonOf(cli.stderr()), names);
      assert.doesNotMatch(cli.stdout(), /listening/);
    });
  }

  it('an invalid directory file: exits non-zero naming the file and the field', async () => {
    const dir = fresh();
    const path = writeJson(dir, 'users.json', { users: [{ userName: 'zed', password: 'zed', roles: ['ROLE_EMPEROR'], phoneNumber: '4000' }] });
    const cli = serve(['--port', '0', '--data', ':memory:', '--directory', path]);
    const exit = await failure(cli);
    assert.notEqual(exit.code, 0);
    assert.notEqual(exit.code, null);
    const reason = reasonOf(cli.stderr());
    assert.ok(reason.includes(path), `names the file: ${reason}`);
    assert.match(reason, /roles/, 'names the field');
    assert.match(reason, /users\[0\]/, 'names the entry');
    assert.doesNotMatch(cli.stdout(), /listening/);
  });

  it('an invalid YAML directory file: exits non-zero naming the file and the field', async () => {
    const dir = fresh();
    const path = writeJson(dir, 'users.yaml', 'users:\n  - userName: zed\n    roles: [ROLE_AGENT]\n');
    const cli = serve(['--port', '0', '--data', ':memory:', '--directory', path]);
    const exit = await failure(cli);
    assert.notEqual(exit.code, 0);
    assert.notEqual(exit.code, null);
    const reason = reasonOf(cli.stderr());
    assert.ok(reason.includes(path), `names the file: ${reason}`);
    assert.match(reason, /password/, 'names the field');
  });

  it('a directory file that is not JSON: exits non-zero naming the file', async () => {
    const dir = fresh();
    const path = writeJson(dir, 'users.json', '{ "users": [');
    const cli = serve(['--port', '0', '--data', ':memory:', '--directory', path]);
    const exit = await failure(cli);
    assert.notEqual(exit.code, 0);
    assert.notEqual(exit.code, null);
    assert.ok(reasonOf(cli.stderr()).includes(path));
  });

  it('a missing directory file: exits non-zero naming the file', async () => {
    const path = join(fresh(), 'no-such-users.json');
    const cli = serve(['--port', '0', '--data', ':memory:', '--directory', path]);
    const exit = await failure(cli);
    assert.notEqual(exit.code, 0);
    assert.notEqual(exit.code, null);
    assert.ok(reasonOf(cli.stderr()).includes(path), `names the file: ${cli.stderr()}`);
    assert.doesNotMatch(cli.stdout(), /listening/);
  });

  describe('a port in use', () => {
    let blocker: Server;
    let port: number;
    before(async () => {
      blocker = createServer();
      await new Promise<void>((resolve, reject) => {
        blocker.once('error', reject);
        blocker.listen(0, '127.0.0.1', () => resolve());
      });
      port = (blocker.address() as { port: number }).port;
    });
    after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

    it('exits non-zero with a one-line reason saying the port is in use', async () => {
      const cli = serve(['--port', String(port), '--data', join(fresh(), 'c.db'), '--log-level', 'silent']);
      const exit = await failure(cli);
      assert.notEqual(exit.code, 0);
      assert.notEqual(exit.code, null);
      const reason = reasonOf(cli.stderr());
      assert.match(reason, /in use/i);
      assert.ok(reason.includes(String(port)), `names the port: ${reason}`);
      assert.doesNotMatch(cli.stdout(), /listening/);
    });
  });
});

describe('conclave serve: environment variables, and flags win over them', () => {
  const running: Cli[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => (c.child.exitCode === null && c.child.signalCode === null ? c.signal('SIGTERM') : undefined)));
  });
  const start = (args: string[], env: Record<string, string>) => {
    const cli = serve(args, env);
    running.push(cli);
    return cli;
  };

  it('PORT sets the port', async () => {
    const port = await freePort();
    const url = await start(['--data', ':memory:', '--log-level', 'silent'], { PORT: String(port) }).listening();
    assert.equal(url, `http://127.0.0.1:${port}`);
  });

  it('--port wins over PORT', async () => {
    const port = await freePort();
    const url = await start(['--port', String(port), '--data', ':memory:', '--log-level', 'silent'], { PORT: 'abc' }).listening();
    assert.equal(url, `http://127.0.0.1:${port}`);
  });

  it('a bad PORT is refused naming --port / PORT', async () => {
    const cli = serve(['--data', ':memory:'], { PORT: 'abc' });
    const exit = await failure(cli);
    assert.notEqual(exit.code, 0);
    assert.notEqual(exit.code, null);
    assert.match(reasonOf(cli.stderr()), /port/i);
  });

  it('CONCLAVE_DATA sets the data file; --data wins over it', async () => {
    const dir = fresh();
    const fromEnv = join(dir, 'env.db');
    const fromFlag = join(dir, 'flag.db');
    const one = start(['--port', '0', '--log-level', 'silent'], { CONCLAVE_DATA: fromEnv });
    await one.listening();
    assert.ok(existsSync(fromEnv), 'CONCLAVE_DATA file created');
    await one.signal('SIGTERM');

    const other = join(dir, 'other-env.db');
    const two = start(['--port', '0', '--log-level', 'silent', '--data', fromFlag], { CONCLAVE_DATA: other });
    await two.listening();
    assert.ok(existsSync(fromFlag), '--data file created');
    assert.ok(!existsSync(other), 'CONCLAVE_DATA ignored when --data is given');
  });

  it('CONCLAVE_DIRECTORY sets the directory file; --directory wins over it', async () => {
    const dir = fresh();
    const path = writeJson(dir, 'users.json', VALID_DIRECTORY);
    const url = await start(['--port', '0', '--data', ':memory:', '--log-level', 'silent'], { CONCLAVE_DIRECTORY: path }).listening();
    assert.equal((await get(`${url}/api/v2/me/devices?fields=*`, 'zed')).status, 200, 'the file user logs in');
    assert.equal((await get(`${url}/api/v2/me/devices?fields=*`, 'agent15000')).status, 401, 'the demo user does not');

    const missing = join(dir, 'missing.json');
    const url2 = await start(['--port', '0', '--data', ':memory:', '--log-level', 'silent', '--directory', path], { CONCLAVE_DIRECTORY: missing }).listening();
    assert.equal((await get(`${url2}/api/v2/me/devices?fields=*`, 'zed')).status, 200);
  });

  it('a missing CONCLAVE_DIRECTORY file is refused naming the file', async () => {
    const missing = join(fresh(), 'missing.yaml');
    const cli = serve(['--port', '0', '--data', ':memory:'], { CONCLAVE_DIRECTORY: missing });
    const exit = await failure(cli);
    assert.notEqual(exit.code, 0);
    assert.notEqual(exit.code, null);
    assert.ok(reasonOf(cli.stderr()).includes(missing));
  });

  it('LOG_LEVEL sets the level (info logs to stderr); --log-level wins over it', async () => {
    const loud = start(['--port', '0', '--data', ':memory:'], { LOG_LEVEL: 'info' });
    await loud.listening();
    await loud.signal('SIGTERM');
    assert.notEqual(loud.stderr().trim(), '', 'LOG_LEVEL=info logs something on stderr');

    const quiet = start(['--port', '0', '--data', ':memory:', '--log-level', 'silent'], { LOG_LEVEL: 'loud' });
    await quiet.listening();
    const exit = await quiet.signal('SIGTERM');
    assert.equal(exit.code, 0);
    assert.equal(quiet.stderr(), '', '--log-level silent wins over LOG_LEVEL (even an invalid one)');
  });

  it('a bad LOG_LEVEL is refused naming the log level', async () => {
    const cli = serve(['--port', '0', '--data', ':memory:'], { LOG_LEVEL: 'loud' });
    const exit = await failure(cli);
    assert.notEqual(exit.code, 0);
    assert.notEqual(exit.code, null);
    assert.match(reasonOf(cli.stderr()), /log-level|LOG_LEVEL/);
  });
});

describe('conclave serve: persistence across real restarts', () => {
  let cli: Cli | undefined;
  after(async () => {
    if (cli && cli.child.exitCode === null && cli.child.signalCode === null) await cli.signal('SIGTERM');
  });

  it('a Ringing call dialled before SIGTERM is there, with the same id, after a restart on the same file', async () => {
    const data = join(fresh(), 'c.db');
    cli = serve(['--port', '0', '--data', data, '--log-level', 'silent']);
    let url = await cli.listening();

    const devices = await get(`${url}/api/v2/me/devices?fields=*`, 'agent15000');
    assert.equal(devices.status, 200);
    const deviceId = devices.body.devices[0].id as string;
    const dial = await post(`${url}/api/v2/me/devices/${deviceId}/calls`, 'agent15000', { operationName: 'Dial', destination: { phoneNumber: '15001' } });
    assert.deepEqual(dial.body, { statusCode: 0 });

    // Wait until 15001 sees it ringing.
    let seen: any[] = [];
    const ringing = await waitFor(
      async () => (seen = (await get(`${url}/api/v2/me/calls?fields=*`, 'agent15001')).body.calls).find((c: any) => c.state === 'Ringing'),
      5000,
      () => `agent15001 to see a Ringing call before the restart: ${JSON.stringify(seen)}`,
      100,
    );
    const callerCalls = (await get(`${url}/api/v2/me/calls?fields=*`, 'agent15000')).body.calls as any[];
    assert.ok(callerCalls.some((c) => c.id === ringing.id), 'the caller sees the same call');

    const exit = await cli.signal('SIGTERM');
    assert.equal(exit.code, 0);

    cli = serve(['--port', '0', '--data', data, '--log-level', 'silent']);
    url = await cli.listening();
    const afterRestart = await get(`${url}/api/v2/me/calls?fields=*`, 'agent15001');
    assert.equal(afterRestart.status, 200);
    const calls = afterRestart.body.calls as any[];
    const same = calls.find((c) => c.id === ringing.id);
    assert.ok(same, `the call ${ringing.id} is still there: ${JSON.stringify(calls)}`);
    assert.equal(same.state, 'Ringing');
    assert.equal(calls.length, 1);
  });
});

describe('parseServeConfig', () => {
  const ok = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const result = parseServeConfig(argv, env);
    assert.ok(result.ok, `expected ok, got ${JSON.stringify(result)}`);
    return result.config;
  };
  const error = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const result = parseServeConfig(argv, env);
    assert.ok(!result.ok, `expected an error, got ${JSON.stringify(result)}`);
    assert.doesNotMatch(result.error, /\n/, 'one line');
    return result.error;
  };

  it('defaults as the contract says', () => {
    assert.deepEqual(ok([]), { host: '127.0.0.1', port: 8080, data: './.conclave/conclave.db', directory: null, logLevel: 'info', csrf: false, compliance: null, externalAnswerMs: 1000, maxConnectionsPerAddress: 8192, cookieSameSite: 'Strict', retentionMs: 259_200_000, corsOrigins: [], chatWaitTimeoutMs: 600_000, shedDelayMs: 100, complianceLanes: 4 });
    assert.deepEqual(ok([]), DEFAULTS);
  });

  it('ignores unrelated environment variables', () => {
    assert.deepEqual(ok([], { HOME: '/x', HOST: '0.0.0.0', DATA: 'x.db' }), DEFAULTS);
  });

  it('reads every flag (separate and = forms)', () => {
    assert.deepEqual(ok(['--host', '0.0.0.0', '--port', '9000', '--data', ':memory:', '--directory', 'users.yaml', '--log-level', 'debug', '--csrf', '--compliance', 'rules.yaml']), {
      ...DEFAULTS,
      host: '0.0.0.0',
      port: 9000,
      data: ':memory:',
      directory: 'users.yaml',
      logLevel: 'debug',
      csrf: true,
      compliance: 'rules.yaml',
    });
    assert.equal(ok(['--port=9001']).port, 9001);
    assert.equal(ok(['--log-level=warn']).logLevel, 'warn');
  });

  it('reads every environment variable', () => {
    assert.deepEqual(ok([], { CONCLAVE_HOST: '::1', PORT: '9100', CONCLAVE_DATA: '/tmp/x.db', CONCLAVE_DIRECTORY: '/tmp/u.json', LOG_LEVEL: 'error', CONCLAVE_CSRF: 'true', CONCLAVE_COMPLIANCE: '/tmp/r.yaml' }), {
      ...DEFAULTS,
      host: '::1',
      port: 9100,
      data: '/tmp/x.db',
      directory: '/tmp/u.json',
      logLevel: 'error',
      csrf: true,
      compliance: '/tmp/r.yaml',
    });
  });

  it('a flag wins over its variable', () => {
    const env = { CONCLAVE_HOST: '::1', PORT: '9100', CONCLAVE_DATA: '/tmp/x.db', CONCLAVE_DIRECTORY: '/tmp/u.json', LOG_LEVEL: 'error' };
    assert.deepEqual(ok(['--host', '127.0.0.2', '--port', '9200', '--data', 'y.db', '--directory', 'v.yaml', '--log-level', 'trace'], env), {
      ...DEFAULTS,
      host: '127.0.0.2',
      port: 9200,
      data: 'y.db',
      directory: 'v.yaml',
      logLevel: 'trace',
      csrf: false,
      compliance: null,
    });
  });

  it('reads --compliance-lanes and CONCLAVE_COMPLIANCE_LANES (flag wins), refusing a bad one', () => {
    assert.equal(ok(['--compliance-lanes', '1']).complianceLanes, 1);
    assert.equal(ok([], { CONCLAVE_COMPLIANCE_LANES: '8' }).complianceLanes, 8);
    assert.equal(ok(['--compliance-lanes=2'], { CONCLAVE_COMPLIANCE_LANES: '8' }).complianceLanes, 2);
    for (const bad of ['0', '17', 'many', '2.5']) {
      const result = parseServeConfig(['--compliance-lanes', bad], {});
      assert.ok(!result.ok && result.error.includes('--compliance-lanes') && result.error.includes(`'${bad}'`), bad);
    }
  });

  it('reads --max-connections-per-address and CONCLAVE_MAX_CONNECTIONS_PER_ADDRESS (flag wins), refusing a bad one', () => {
    assert.equal(ok(['--max-connections-per-address', '50']).maxConnectionsPerAddress, 50);
    assert.equal(ok([], { CONCLAVE_MAX_CONNECTIONS_PER_ADDRESS: '70' }).maxConnectionsPerAddress, 70);
    assert.equal(ok(['--max-connections-per-address=5'], { CONCLAVE_MAX_CONNECTIONS_PER_ADDRESS: '70' }).maxConnectionsPerAddress, 5);
    for (const bad of ['0', '-1', 'many', '1.5']) assert.match(error([`--max-connections-per-address=${bad}`]), /--max-connections-per-address/, bad);
  });

  it('reads --cookie-samesite and CONCLAVE_COOKIE_SAMESITE (flag wins), refusing a bad one', () => {
    assert.equal(ok(['--cookie-samesite', 'lax']).cookieSameSite, 'Lax');
    assert.equal(ok([], { CONCLAVE_COOKIE_SAMESITE: 'None' }).cookieSameSite, 'None');
    assert.equal(ok(['--cookie-samesite=strict'], { CONCLAVE_COOKIE_SAMESITE: 'none' }).cookieSameSite, 'Strict');
    assert.match(error(['--cookie-samesite=sometimes']), /--cookie-samesite/);
  });

  it('reads --retention and CONCLAVE_RETENTION (days by default, d/h/m/s, 0 keeps everything), refusing a bad one', () => {
    assert.equal(ok(['--retention', '0']).retentionMs, 0);
    assert.equal(ok(['--retention', '7']).retentionMs, 7 * 86_400_000);
    assert.equal(ok(['--retention=12h']).retentionMs, 12 * 3_600_000);
    assert.equal(ok([], { CONCLAVE_RETENTION: '30m' }).retentionMs, 30 * 60_000);
    assert.equal(ok(['--retention', '10s'], { CONCLAVE_RETENTION: '30m' }).retentionMs, 10_000);
    for (const bad of ['-1', 'forever', '1.5d', '3w']) assert.match(error([`--retention=${bad}`]), /--retention/, bad);
  });

  it('reads --chat-wait-timeout and CONCLAVE_CHAT_WAIT_TIMEOUT (a duration, 0 = for ever), refusing a bad one', () => {
    assert.equal(ok(['--chat-wait-timeout', '0']).chatWaitTimeoutMs, 0);
    assert.equal(ok(['--chat-wait-timeout=30s']).chatWaitTimeoutMs, 30_000);
    assert.equal(ok([], { CONCLAVE_CHAT_WAIT_TIMEOUT: '1h' }).chatWaitTimeoutMs, 3_600_000);
    for (const bad of ['10', '-1m', 'soon', '99d']) assert.match(error([`--chat-wait-timeout=${bad}`]), /--chat-wait-timeout/, bad);
  });

  it('reads --external-answer-ms and CONCLAVE_EXTERNAL_ANSWER_MS (flag wins), refusing a bad one', () => {
    assert.equal(ok(['--external-answer-ms', '0']).externalAnswerMs, 0);
    assert.equal(ok(['--external-answer-ms=-1']).externalAnswerMs, -1);
    assert.equal(ok([], { CONCLAVE_EXTERNAL_ANSWER_MS: '250' }).externalAnswerMs, 250);
    assert.equal(ok(['--external-answer-ms', '5'], { CONCLAVE_EXTERNAL_ANSWER_MS: '250' }).externalAnswerMs, 5);
    for (const bad of ['-2', 'soon', '1.5', '99999999999']) assert.match(error([`--external-answer-ms=${bad}`]), /--external-answer-ms/, bad);
  });

  it('reads --cors-origin and CONCLAVE_CORS_ORIGIN (comma-separated origins, flag wins), refusing a non-origin', () => {
    assert.deepEqual(ok(['--cors-origin', 'https://desk.example.com']).corsOrigins, ['https://desk.example.com']);
    assert.deepEqual(ok([], { CONCLAVE_CORS_ORIGIN: 'http://a.test:3000, https://b.test' }).corsOrigins, ['http://a.test:3000', 'https://b.test']);
    assert.deepEqual(ok(['--cors-origin=http://c.test'], { CONCLAVE_CORS_ORIGIN: 'http://a.test' }).corsOrigins, ['http://c.test']);
    for (const bad of ['desk.example.com', 'https://desk.example.com/app', 'ftp://x.test', '*'])
      assert.match(error([`--cors-origin=${bad}`]), /--cors-origin/, bad);
  });

  it('a valid flag wins over an invalid variable', () => {
    assert.equal(ok(['--port', '0'], { PORT: 'abc' }).port, 0);
    assert.equal(ok(['--log-level', 'silent'], { LOG_LEVEL: 'loud' }).logLevel, 'silent');
  });

  it('accepts port 0 and 65535 and every pino level', () => {
    assert.equal(ok(['--port', '0']).port, 0);
    assert.equal(ok(['--port', '65535']).port, 65535);
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) assert.equal(ok(['--log-level', level]).logLevel, level);
  });

  it('refuses a bad port, naming --port', () => {
    for (const port of ['abc', '65536', '1.5', '80x', ' 80', '-1', '1e3']) assert.match(error([`--port=${port}`]), /--port/, port);
    assert.match(error([], { PORT: 'abc' }), /port/i);
  });

  it('refuses a bad log level, naming --log-level', () => {
    assert.match(error(['--log-level', 'loud']), /--log-level/);
    assert.match(error([], { LOG_LEVEL: 'verbose' }), /log-level|LOG_LEVEL/);
  });

  it('refuses an unknown flag, naming it', () => {
    assert.match(error(['--nope']), /--nope/);
    assert.match(error(['--port', '0', '--verbose']), /--verbose/);
  });

  it('refuses a flag without its value', () => {
    assert.match(error(['--port']), /--port/);
    assert.match(error(['--data']), /--data/);
  });

  it('refuses a positional argument', () => {
    error(['extra']);
  });
});
