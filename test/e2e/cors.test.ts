/**
 * CORS for a browser desktop served from another origin (`--cors-origin`), with real preflight
 * requests as a browser sends them (OPTIONS with Origin and Access-Control-Request-*), on the GWS
 * API and on CometD's endpoint. (The Fetch standard's CORS protocol; GWS desktops such as
 * Workspace Web Edition are served from their own origin and call GWS with credentials.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basic } from '../helpers/gws.js';
import { rawRequest, type RawResponse } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const DESK = 'https://desk.example.com';
const OTHER = 'https://evil.example.net';

const answer = (r: RawResponse) => {
  assert.equal(r.kind, 'answer', JSON.stringify(r));
  return r as Extract<RawResponse, { kind: 'answer' }>;
};

const preflight = async (server: TestServer, path: string, origin: string, method = 'POST', headers = 'authorization, content-type') =>
  answer(
    await rawRequest(server.url, {
      method: 'OPTIONS',
      path,
      headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
    }),
  );

describe('CORS (--cors-origin)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ corsOrigins: [DESK, 'http://localhost:3000'] });
  });
  after(async () => server?.dispose());

  for (const path of ['/api/v2/me/calls/SOMECALL', '/api/v2/me', '/api/v2/notifications/handshake', '/api/v2/notifications'])
    it(`answers a preflight from an allowed origin before authentication: ${path}`, async () => {
      const r = await preflight(server, path, DESK);
      assert.equal(r.status, 204);
      assert.equal(r.headers['access-control-allow-origin'], DESK);
      assert.equal(r.headers['access-control-allow-credentials'], 'true');
      assert.match(String(r.headers['access-control-allow-methods']), /POST/);
      assert.match(String(r.headers['access-control-allow-headers']), /authorization/i);
      assert.match(String(r.headers['vary']), /Origin/);
      assert.equal(r.text, '');
    });

  it('an actual request from an allowed origin carries the CORS headers (GWS API)', async () => {
    const r = answer(await rawRequest(server.url, { method: 'GET', path: '/api/v2/me', headers: { origin: DESK, authorization: basic('agent15000') } }));
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], DESK);
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.match(String(r.headers['access-control-expose-headers']), /X-CSRF-TOKEN/);
    // A refused request carries them too, so the desktop can read the GWS error.
    const refused = answer(await rawRequest(server.url, { method: 'GET', path: '/api/v2/me', headers: { origin: DESK } }));
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['access-control-allow-origin'], DESK);
  });

  it('an actual CometD handshake from an allowed origin carries the CORS headers (the reply is hijacked)', async () => {
    const r = answer(
      await rawRequest(server.url, {
        method: 'POST',
        path: '/api/v2/notifications/handshake',
        headers: { origin: 'http://localhost:3000', authorization: basic('agent15000'), 'content-type': 'application/json' },
        body: JSON.stringify([{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: '1' }]),
      }),
    );
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'http://localhost:3000');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal((r.json as { successful: boolean }[])[0]?.successful, true);
  });

  it('bad input: an origin not on the list gets no CORS header, and its preflight is not answered as allowed', async () => {
    const pre = await preflight(server, '/api/v2/me', OTHER);
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
    assert.equal(pre.headers['access-control-allow-credentials'], undefined);
    assert.equal(pre.status, 401, 'it goes on to authentication, which refuses it');
    const get = answer(await rawRequest(server.url, { method: 'GET', path: '/api/v2/me', headers: { origin: OTHER, authorization: basic('agent15000') } }));
    assert.equal(get.status, 200);
    assert.equal(get.headers['access-control-allow-origin'], undefined);
    // "null" (a sandboxed page) and a look-alike with another port are not the listed origins.
    for (const origin of ['null', 'https://desk.example.com:8443', 'http://desk.example.com'])
      assert.equal((await preflight(server, '/api/v2/me', origin)).headers['access-control-allow-origin'], undefined, origin);
  });

  it('without --cors-origin no request gets a CORS header', async () => {
    const plain = await startTestServer();
    try {
      const pre = await preflight(plain, '/api/v2/me', DESK);
      assert.equal(pre.headers['access-control-allow-origin'], undefined);
      assert.equal(pre.headers['vary'], undefined);
      assert.notEqual(pre.status, 204);
    } finally {
      await plain.dispose();
    }
  });
});
