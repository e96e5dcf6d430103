/**
 * CSRF wherever a cookie authenticates (CONTRACT.md "Hardening promises outside checks rely on":
 * with `--csrf`, every cookie-authenticated write is refused without the token, /conclave/v1
 * included, 403). The token is GWS's: a GET answers `X-CSRF-HEADER: X-CSRF-TOKEN` and the token in
 * `X-CSRF-TOKEN` (GWS reference, "CSRF protection"); the session cookie is SameSite=Strict unless
 * `--cookie-samesite` says otherwise.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';

const basic = (user: string) => `Basic ${Buffer.from(`${user}:${user}`).toString('base64')}`;

/** Logs in with Basic once; returns the session cookie, its attributes, and the CSRF token. */
const login = async (server: TestServer, user: string) => {
  const response = await fetch(`${server.url}/api/v2/me`, { headers: { authorization: basic(user) } });
  assert.equal(response.status, 200);
  const setCookie = response.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0] as string, setCookie, token: response.headers.get('x-csrf-token') };
};

const send = async (server: TestServer, method: string, path: string, headers: Record<string, string>, body?: unknown) => {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
};

const CSRF_REFUSED = { statusCode: 3, statusMessage: 'Missing or invalid Csrf token' };

describe('--csrf: cookie-authenticated writes need the token', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ csrf: true });
  });
  after(() => server.dispose());

  it('a GET hands out the token (X-CSRF-HEADER names the header) and the cookie is SameSite=Strict, HttpOnly', async () => {
    const response = await fetch(`${server.url}/api/v2/me`, { headers: { authorization: basic('agent15000') } });
    assert.equal(response.headers.get('x-csrf-header'), 'X-CSRF-TOKEN');
    assert.match(response.headers.get('x-csrf-token') ?? '', /.{16,}/);
    const cookie = response.headers.get('set-cookie') ?? '';
    assert.match(cookie, /; SameSite=Strict/);
    assert.match(cookie, /; HttpOnly/);
  });

  it('/api/v2: a cookie write without the token (or with another user\'s) is 403; with it, it goes through', async () => {
    const ann = await login(server, 'agent15000');
    const ben = await login(server, 'agent15001');
    const op = { operationName: 'Ready' };
    assert.deepEqual(await send(server, 'POST', '/api/v2/me/channels/voice', { cookie: ann.cookie }, op), { status: 403, body: CSRF_REFUSED });
    assert.deepEqual(await send(server, 'POST', '/api/v2/me/channels/voice', { cookie: ann.cookie, 'x-csrf-token': 'forged' }, op), { status: 403, body: CSRF_REFUSED });
    assert.deepEqual(await send(server, 'POST', '/api/v2/me/channels/voice', { cookie: ann.cookie, 'x-csrf-token': ben.token! }, op), { status: 403, body: CSRF_REFUSED });
    assert.notEqual((await send(server, 'POST', '/api/v2/me/channels/voice', { cookie: ann.cookie, 'x-csrf-token': ann.token! }, op)).status, 403);
    assert.equal((await send(server, 'GET', '/api/v2/me', { cookie: ann.cookie })).status, 200, 'a cookie read needs no token');
  });

  it('/conclave/v1: a cookie write without the token is 403 and changes nothing; with it, it goes through; Basic needs none', async () => {
    const admin = await login(server, 'admin');
    const call = { from: '+15550100', to: '15000' };
    assert.deepEqual(await send(server, 'POST', '/conclave/v1/sim/calls', { cookie: admin.cookie }, call), { status: 403, body: CSRF_REFUSED });
    assert.deepEqual(await send(server, 'POST', '/conclave/v1/compliance/flags', { cookie: admin.cookie }, { user: 'agent15000', reason: 'csrf test' }), { status: 403, body: CSRF_REFUSED });
    const none = await send(server, 'GET', '/conclave/v1/interactions', { cookie: admin.cookie });
    assert.equal(none.status, 200, 'a cookie read needs no token');
    assert.deepEqual(none.body.calls, [], 'the refused write changed nothing');

    const created = await send(server, 'POST', '/conclave/v1/sim/calls', { cookie: admin.cookie, 'x-csrf-token': admin.token! }, call);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const viaBasic = await send(server, 'POST', `/conclave/v1/sim/calls/${created.body.callId}`, { authorization: basic('admin') }, { action: 'hangup' });
    assert.notEqual(viaBasic.status, 403, 'Basic credentials are not sent by a cross-site page: no token needed');
  });
});

describe('--csrf off: cookie writes go through (the GWS default)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({});
  });
  after(() => server.dispose());

  it('no token is handed out or needed', async () => {
    const admin = await login(server, 'admin');
    assert.equal(admin.token, null);
    assert.equal((await send(server, 'POST', '/conclave/v1/sim/calls', { cookie: admin.cookie }, { from: '+15550100', to: '15000' })).status, 201);
  });
});

describe('--cookie-samesite', () => {
  const servers: TestServer[] = [];
  after(async () => {
    for (const s of servers) await s.dispose();
  });
  for (const [sameSite, expected] of [
    ['Lax', /; SameSite=Lax$/],
    ['None', /; SameSite=None; Secure$/],
  ] as const) {
    it(`${sameSite}: the session cookie says so`, async () => {
      const server = await startTestServer({ cookieSameSite: sameSite });
      servers.push(server);
      assert.match((await login(server, 'agent15000')).setCookie, expected);
    });
  }
});
