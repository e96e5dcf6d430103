/**
 * Authentication and isolation, end to end over real HTTP and CometD: HTTP Basic on every
 * /api/v2/ request (401 + WWW-Authenticate + statusCode 20 otherwise), the JSESSIONID cookie and
 * its precedence rule, /healthz without credentials, CometD handshakes refused at the Bayeux
 * level, per-user notification delivery, no client publishing, and GET /api/v2/users/{id}.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callNote, listen, type Listener } from '../helpers/cometd.js';
import { basic, gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface RawReply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

const HANDSHAKE = [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }];

describe('authentication and isolation', () => {
  let server: TestServer;
  let a: GwsClient, b: GwsClient;

  before(async () => {
    server = await startTestServer();
    a = gws(server.url, 'agent15000');
    b = gws(server.url, 'agent15001');
  });
  after(async () => server?.dispose());

  /** A request with exactly the given headers (no credentials unless given). */
  const send = async (method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<RawReply> => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: the assertions will show the text.
    }
    return { status: response.status, headers: response.headers, body: parsed };
  };

  /** The JSESSIONID cookie (name=value) a response sets, if any. */
  const sessionCookie = (reply: RawReply): string | undefined =>
    reply.headers.getSetCookie().map((c) => c.split(';')[0] as string).find((c) => c.startsWith('JSESSIONID='));

  const assertUnauthenticated = (reply: RawReply, what: string) => {
    assert.equal(reply.status, 401, `${what}: HTTP 401 (${JSON.stringify(reply.body)})`);
    assert.match(reply.headers.get('www-authenticate') ?? '', /^Basic\b/, `${what}: WWW-Authenticate: Basic`);
    assert.deepEqual(Object.keys(reply.body ?? {}).sort(), ['statusCode', 'statusMessage'], `${what}: exactly statusCode and statusMessage`);
    assert.equal(reply.body.statusCode, 20, `${what}: statusCode 20`);
    assert.equal(typeof reply.body.statusMessage, 'string', `${what}: a statusMessage`);
    assert.ok(reply.body.statusMessage.length > 0, `${what}: a non-empty statusMessage`);
    assert.equal(sessionCookie(reply), undefined, `${what}: no session cookie for a refused request`);
  };

  /** Bayeux messages POSTed to the CometD endpoint (path '' or '/handshake', ...). */
  const bayeux = (path: string, messages: unknown[], headers: Record<string, string> = {}) =>
    send('POST', `/api/v2/notifications${path}`, headers, messages);

  const badCredentials: [string, Record<string, string>][] = [
    ['no credentials', {}],
    ['a bad password', { authorization: basic('agent15000', 'wrong') }],
    ['an unknown user', { authorization: basic('nobody', 'nobody') }],
    ['a malformed Authorization header (not Basic)', { authorization: 'Bearer abc.def' }],
    ['a malformed Authorization header (not base64)', { authorization: 'Basic %%%not-base64%%%' }],
    ['a malformed Authorization header (no colon)', { authorization: `Basic ${Buffer.from('agent15000').toString('base64')}` }],
    ['a forged session cookie', { cookie: 'JSESSIONID=forged.value' }],
  ];

  describe('REST without valid credentials', () => {
    for (const [name, headers] of badCredentials) {
      it(`GET /api/v2/me with ${name}: 401`, async () => assertUnauthenticated(await send('GET', '/api/v2/me', headers), name));
    }
    it('every /api/v2/ REST request needs credentials, POSTs included', async () => {
      assertUnauthenticated(await send('GET', '/api/v2/me/calls?fields=*'), 'GET calls');
      assertUnauthenticated(await send('GET', '/api/v2/me/devices?fields=*'), 'GET devices');
      assertUnauthenticated(await send('POST', '/api/v2/me/calls/any-call', {}, { operationName: 'Hangup' }), 'POST call');
      assertUnauthenticated(await send('GET', `/api/v2/users/${'0'.repeat(32)}`), 'GET user');
    });
    it('a refused request changes nothing: an unauthenticated Dial makes no call', async () => {
      const device = await a.deviceId();
      const dial = { operationName: 'Dial', destination: { phoneNumber: '15001' } };
      assertUnauthenticated(await send('POST', `/api/v2/me/devices/${device}/calls`, { authorization: basic('agent15000', 'x') }, dial), 'Dial');
      assert.deepEqual((await b.get('/api/v2/me/calls?fields=*')).body, { statusCode: 0, calls: [] });
    });
  });

  describe('the session cookie', () => {
    it('a Basic request sets JSESSIONID, and the cookie alone then authenticates the same user', async () => {
      const first = await send('GET', '/api/v2/me', { authorization: basic('agent15000') });
      assert.equal(first.status, 200);
      const cookie = sessionCookie(first);
      assert.ok(cookie, `a JSESSIONID cookie is set (Set-Cookie: ${first.headers.get('set-cookie')})`);
      const later = await send('GET', '/api/v2/me', { cookie });
      assert.equal(later.status, 200, JSON.stringify(later.body));
      assert.equal(later.body.statusCode, 0);
      assert.equal(later.body.user.userName, 'agent15000');
      assert.equal(later.body.user.id, first.body.user.id);
    });

    it('with a cookie for A and Basic credentials for B, B wins', async () => {
      const cookieA = sessionCookie(await send('GET', '/api/v2/me', { authorization: basic('agent15000') }));
      assert.ok(cookieA);
      const both = await send('GET', '/api/v2/me', { cookie: cookieA, authorization: basic('agent15001') });
      assert.equal(both.status, 200, JSON.stringify(both.body));
      assert.equal(both.body.user.userName, 'agent15001');
    });

    it("with a cookie for A and bad Basic credentials, the header decides: 401", async () => {
      const cookieA = sessionCookie(await send('GET', '/api/v2/me', { authorization: basic('agent15000') }));
      assert.ok(cookieA);
      assertUnauthenticated(await send('GET', '/api/v2/me', { cookie: cookieA, authorization: basic('agent15001', 'wrong') }), 'cookie + bad Basic');
    });
  });

  it('GET /healthz needs no credentials', async () => {
    const health = await send('GET', '/healthz');
    assert.equal(health.status, 200, JSON.stringify(health.body));
  });

  describe('CometD', () => {
    for (const [name, headers] of badCredentials.filter(([n]) => !n.includes('cookie'))) {
      it(`a raw handshake with ${name} is denied at the Bayeux level`, async () => {
        const reply = await bayeux('/handshake', HANDSHAKE, headers);
        assert.ok(Array.isArray(reply.body), `a Bayeux reply (HTTP ${reply.status}: ${JSON.stringify(reply.body)})`);
        const message = reply.body[0];
        assert.equal(message.channel, '/meta/handshake');
        assert.equal(message.successful, false);
        assert.equal(message.error, '403::handshake_denied');
        assert.equal(message.advice?.reconnect, 'none', 'clients are told not to retry');
      });
    }

    it('the official client fails to handshake with a bad password', async () => {
      await assert.rejects(listen(server.url, 'agent15000', 'wrong'), /403::handshake_denied/);
    });

    it('a client cannot publish to /v2/me/calls', async () => {
      const victim = await listen(server.url, 'agent15000');
      try {
        const auth = { authorization: basic('agent15001') };
        const shake = (await bayeux('/handshake', HANDSHAKE, auth)).body[0];
        assert.equal(shake.successful, true, JSON.stringify(shake));
        const forged = { notificationType: 'StatusChange', call: { id: 'forged', state: 'Released' } };
        const reply = await bayeux('', [{ channel: '/v2/me/calls', clientId: shake.clientId, id: '2', data: forged }], auth);
        assert.ok(Array.isArray(reply.body), `a Bayeux reply (HTTP ${reply.status}: ${JSON.stringify(reply.body)})`);
        const answer = reply.body.find((m: any) => m.channel === '/v2/me/calls');
        assert.ok(answer, `a reply to the publish: ${JSON.stringify(reply.body)}`);
        assert.equal(answer.successful, false, 'the publish is refused');
        assert.match(answer.error ?? '', /^403::/);
        // Caught up after the refusal: a forged message delivered to anyone would be here by now.
        assert.deepEqual(await victim.caughtUp(), [], 'nobody receives the forged message');
      } finally {
        await victim.disconnect();
      }
    });

    it("a client for 15001 receives nothing about a call between 15000 and 15002", async () => {
      const c = gws(server.url, 'agent15002');
      const [la, lb, lc] = (await Promise.all(['agent15000', 'agent15001', 'agent15002'].map((u) => listen(server.url, u)))) as [Listener, Listener, Listener];
      try {
        assert.deepEqual((await a.dial('15002')).body, { statusCode: 0 });
        const ringing = await lc.next(callNote('StatusChange', { state: 'Ringing' }));
        const callId = ringing.data.call.id as string;
        assert.deepEqual((await c.op(callId, 'Answer')).body, { statusCode: 0 });
        await la.next(callNote('StatusChange', { id: callId, state: 'Established' }));
        assert.deepEqual((await a.op(callId, 'Hangup')).body, { statusCode: 0 });
        await la.next(callNote('StatusChange', { id: callId, state: 'Released' }));
        await lc.next(callNote('StatusChange', { id: callId, state: 'Released' }));
        // Caught up after the last operation of the call: anything sent to 15001 would be here by now.
        assert.deepEqual(await lb.caughtUp(), [], '15001 received nothing');
        assert.equal((await b.get(`/api/v2/me/calls/${callId}`)).status, 404, 'nor can 15001 read the call');
      } finally {
        await Promise.all([la, lb, lc].map((l) => l.disconnect()));
      }
    });
  });

  describe('GET /api/v2/users/{id}', () => {
    it("answers another user's record with its uri and path", async () => {
      const me = await a.get('/api/v2/me');
      const id = me.body.user.id as string;
      const reply = await b.get(`/api/v2/users/${id}`);
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.equal(reply.body.statusCode, 0);
      assert.equal(reply.body.user.id, id);
      assert.equal(reply.body.user.userName, 'agent15000');
      assert.ok(reply.body.user.uri.endsWith(`/api/v2/users/${id}`), reply.body.user.uri);
      assert.equal(reply.body.user.uri, `${server.url}/api/v2/users/${id}`);
      assert.equal(reply.body.user.path, `/users/${id}`);
    });

    it('an unknown user id: 404, statusCode 6', async () => {
      const unknown = 'f'.repeat(32);
      const reply = await b.get(`/api/v2/users/${unknown}`);
      assert.equal(reply.status, 404, JSON.stringify(reply.body));
      assert.deepEqual(Object.keys(reply.body).sort(), ['statusCode', 'statusMessage']);
      assert.equal(reply.body.statusCode, 6);
      assert.match(reply.body.statusMessage, new RegExp(unknown));
    });
  });
});
