/**
 * Authentication you can run in production (CONTRACT.md "Hardening promises outside checks rely
 * on": repeated failed logins for one user are answered 429 with Retry-After, at most 120 s for a
 * first lockout, in the dialect's error shape; the right password works again after the wait).
 * GWS /api/v2 and /conclave/v1 answer `{statusCode, statusMessage}`; a CometD handshake is a
 * Bayeux denial (CometD reference: a denied /meta/handshake has successful false and an error).
 * Directory passwords may be bcrypt hashes. A short configured lockout stands in for the minute.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { buildDirectory } from '../../src/directory/directory.js';
import { DEMO_DIRECTORY } from '../../src/directory/demo.js';
import { DEFAULT_LOGIN_THROTTLE } from '../../src/api/login-throttle.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const basic = (user: string, password = user) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const get = async (url: string, authorization: string) => {
  const response = await fetch(url, { headers: { authorization } });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as any };
};

/** GET with Basic from a chosen loopback address. */
const getFrom = (url: string, authorization: string, localAddress: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization }, localAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });

const assertThrottled = (reply: { status: number; retryAfter: string | null; body: any }, what: string) => {
  assert.equal(reply.status, 429, `${what}: HTTP 429`);
  assert.match(reply.retryAfter ?? '', /^\d+$/, `${what}: Retry-After in seconds`);
  const seconds = Number(reply.retryAfter);
  assert.ok(seconds >= 1 && seconds <= 120, `${what}: Retry-After ${seconds} within 1..120`);
  assert.deepEqual(Object.keys(reply.body).sort(), ['statusCode', 'statusMessage'], `${what}: the GWS error shape`);
  assert.equal(reply.body.statusCode, 20);
  assert.match(reply.body.statusMessage, /too many failed logins/);
};

describe('login throttle: defaults', () => {
  it('a first lockout is at most 120 s', () => {
    assert.ok(DEFAULT_LOGIN_THROTTLE.lockoutMs <= 120_000);
    assert.ok(DEFAULT_LOGIN_THROTTLE.maxFailuresPerUser >= 3);
  });
});

describe('login throttle: per user, every dialect', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ loginThrottle: { lockoutMs: 1500 } });
  });
  after(() => server.dispose());

  it('/api/v2: five wrong passwords, then 429 with Retry-After even for the right one; others unaffected; the right password works after the wait', async () => {
    const me = `${server.url}/api/v2/me`;
    for (let i = 0; i < 5; i++) assert.equal((await get(me, basic('agent15001', 'wrong'))).status, 401, `attempt ${i + 1}`);
    const locked = await get(me, basic('agent15001'));
    assertThrottled(locked, '/api/v2 after five failures');
    assert.ok(Number(locked.retryAfter) <= 2, `the configured 1.5 s lockout: Retry-After ${locked.retryAfter}`);
    assertThrottled(await get(me, basic('agent15001', 'wrong')), 'a wrong password while locked');
    assert.equal((await get(me, basic('agent15002'))).status, 200, 'another user is not locked');

    const lockedAt = performance.now();
    await waitFor(async () => (await get(me, basic('agent15001'))).status === 200, 10_000, 'the right password works again', 100);
    assert.ok(performance.now() - lockedAt >= 900, 'not before the wait');
  });

  it('/conclave/v1: the same throttle, the same shape', async () => {
    const url = `${server.url}/conclave/v1/interactions`;
    for (let i = 0; i < 5; i++) assert.equal((await get(url, basic('admin', 'wrong'))).status, 401);
    assertThrottled(await get(url, basic('admin')), '/conclave/v1');
    assertThrottled(await get(`${server.url}/api/v2/me`, basic('admin')), 'the lock holds across dialects');
    await waitFor(async () => (await get(url, basic('admin'))).status === 200, 10_000, 'admin works again', 100);
  });

  it('CometD: a handshake with the right password while locked is a Bayeux denial', async () => {
    const handshake = async (password: string) => {
      const response = await fetch(`${server.url}/api/v2/notifications/handshake`, {
        method: 'POST',
        headers: { authorization: basic('agent15003', password), 'content-type': 'application/json' },
        body: JSON.stringify([{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }]),
      });
      return ((await response.json()) as any[])[0];
    };
    for (let i = 0; i < 5; i++) assert.equal((await handshake('wrong')).successful, false);
    const denied = await handshake('agent15003');
    assert.equal(denied.successful, false);
    assert.equal(denied.error, '403::handshake_denied');
    assertThrottled(await get(`${server.url}/api/v2/me`, basic('agent15003')), 'REST after failed handshakes');
    await waitFor(async () => (await handshake('agent15003')).successful === true, 10_000, 'the handshake succeeds after the wait', 100);
  });

  it('/cloud/oauth/token: wrong client secrets are throttled too, answered with a Cloud 429 ErrorBody and Retry-After', async () => {
    const token = (secret: string) =>
      fetch(`${server.url}/cloud/oauth/token`, {
        method: 'POST',
        headers: { authorization: basic('conclave-demo', secret), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
    for (let i = 0; i < 5; i++) assert.equal((await token('wrong')).status, 401, `attempt ${i + 1}`);
    const locked = await token('conclave-demo');
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) >= 1);
    const body = (await locked.json()) as { status: number; code: string; message: string };
    assert.equal(body.status, 429);
    assert.equal(body.code, 'too.many.requests');
    assert.equal((await get(`${server.url}/api/v2/me`, basic('agent15002'))).status, 200, 'a user of the directory is not locked by a client');
    await waitFor(async () => (await token('conclave-demo')).status === 200, 10_000, 'the right secret works again', 100);
  });
});

describe('login throttle: per address', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ loginThrottle: { lockoutMs: 60_000, maxFailuresPerAddress: 8, maxFailuresPerUser: 100 } });
  });
  after(() => server.dispose());

  it('wrong passwords spread over many names lock the address, not other addresses', async () => {
    const me = `${server.url}/api/v2/me`;
    for (let i = 0; i < 8; i++) assert.equal(await getFrom(me, basic(`guess${i}`, 'x'), '127.0.0.7'), 401);
    assert.equal(await getFrom(me, basic('agent15000'), '127.0.0.7'), 429, 'a valid user from the guessing address waits');
    assert.equal(await getFrom(me, basic('agent15000'), '127.0.0.8'), 200, 'from another address it logs in');
  });
});

describe('bcrypt passwords', () => {
  let server: TestServer;
  const hash = bcrypt.hashSync('s3cret-Pass', 4);
  before(async () => {
    const doc = structuredClone(DEMO_DIRECTORY) as { users: { userName: string; password: string }[] };
    for (const user of doc.users) if (user.userName === 'agent15000') user.password = hash;
    server = await startTestServer({ directory: buildDirectory(doc, 'test directory') });
  });
  after(() => server.dispose());

  it('a user with a bcrypt hash logs in with the password, not with the hash; plain-text users still log in', async () => {
    const me = `${server.url}/api/v2/me`;
    assert.equal((await get(me, basic('agent15000', 's3cret-Pass'))).status, 200);
    assert.equal((await get(me, basic('agent15000', 's3cret-Pass'))).status, 200, 'again (remembered)');
    assert.equal((await get(me, basic('agent15000', 'agent15000'))).status, 401);
    assert.equal((await get(me, basic('agent15000', hash))).status, 401, 'the hash itself is not the password');
    assert.equal((await get(me, basic('agent15001'))).status, 200);
  });
});
