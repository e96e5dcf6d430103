/**
 * Each dialect answers its own errors: everything under /cloud is a Genesys Cloud ErrorBody
 * (Cloud API reference, "ErrorBody": message, code, status = the HTTP status, contextId), never a
 * GWS body; the customer chat API (modelled on GMS Chat API v2) answers any body with a success or
 * a 4xx, and never with a refusal a client wrote itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basic } from '../helpers/gws.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { VOICE_CALL_OPERATIONS } from '../../src/domain/voice/commands.js';

let server: TestServer;
let token: string;

const cloudToken = async (): Promise<string> => {
  const reply = await fetch(`${server.url}/cloud/oauth/token`, {
    method: 'POST',
    headers: { authorization: basic('conclave-demo', 'conclave-demo'), 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  assert.equal(reply.status, 200);
  return ((await reply.json()) as { access_token: string }).access_token;
};

/** An ErrorBody as Cloud sends it, with `status` equal to the HTTP status. */
const assertCloudError = (status: number, body: unknown, expected: number, what: string) => {
  assert.equal(status, expected, `${what}: HTTP status`);
  const b = body as Record<string, unknown>;
  assert.equal(typeof b['message'], 'string', `${what}: message`);
  assert.ok((b['message'] as string).length > 0, `${what}: a message that names the problem`);
  assert.equal(typeof b['code'], 'string', `${what}: code`);
  assert.equal(b['status'], expected, `${what}: status equals the HTTP status`);
  assert.equal(typeof b['contextId'], 'string', `${what}: contextId`);
  assert.ok(!('statusCode' in b), `${what}: not a GWS body`);
};

before(async () => {
  server = await startTestServer();
  token = await cloudToken();
});
after(() => server.dispose());

describe('every error under /cloud is a Cloud ErrorBody', () => {
  const cases: { what: string; method: string; path: string; headers?: Record<string, string>; body?: string; status: number }[] = [
    { what: 'an unknown path', method: 'GET', path: '/cloud/api/v2/anything-unknown', status: 404 },
    { what: 'an unknown path outside the API', method: 'GET', path: '/cloud/nothing-here', status: 404 },
    {
      what: 'bad JSON on a Cloud PATCH',
      method: 'PATCH',
      path: '/cloud/api/v2/conversations/calls/ABC/participants/DEF',
      headers: { 'content-type': 'application/json' },
      body: '{"state":',
      status: 400,
    },
    { what: 'an over-long id', method: 'GET', path: `/cloud/api/v2/conversations/calls/${'A'.repeat(4000)}`, status: 400 },
    {
      what: 'an unsupported content type',
      method: 'PATCH',
      path: '/cloud/api/v2/conversations/calls/ABC/participants/DEF',
      headers: { 'content-type': 'text/plain' },
      body: 'state=disconnected',
      status: 415,
    },
    {
      what: 'a body over the size limit',
      method: 'PATCH',
      path: '/cloud/api/v2/conversations/calls/ABC/participants/DEF',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'disconnected', pad: 'x'.repeat(70 * 1024) }),
      status: 413,
    },
    { what: 'a malformed URL escape', method: 'GET', path: '/cloud/api/v2/conversations/calls/%E0%A4%A', status: 400 },
  ];
  for (const c of cases)
    it(`${c.what}: ${c.status}`, async () => {
      const reply = await rawRequest(server.url, {
        method: c.method,
        path: c.path,
        headers: { authorization: `Bearer ${token}`, ...(c.headers ?? {}) },
        ...(c.body !== undefined ? { body: c.body } : {}),
      });
      assert.equal(reply.kind, 'answer');
      if (reply.kind !== 'answer') return;
      assertCloudError(reply.status, reply.json, c.status, c.what);
    });

  it('a bad Bearer token: 401 ErrorBody', async () => {
    for (const authorization of ['Bearer not-a-token', 'Basic YWdlbnQxNTAwMDphZ2VudDE1MDAw', '']) {
      const reply = await fetch(`${server.url}/cloud/api/v2/conversations/calls`, { headers: authorization ? { authorization } : {} });
      assertCloudError(reply.status, await reply.json(), 401, `Authorization '${authorization}'`);
    }
  });

  // Every path the dialect serves, walked with a method it does not serve: 405, an Allow header
  // naming the methods that work, a Cloud ErrorBody (Cloud lists no generic 405 code: notes 3.4).
  const wrongMethods: { method: string; path: string; allows: string }[] = [
    { method: 'GET', path: '/cloud/oauth/token', allows: 'POST' },
    { method: 'PUT', path: '/cloud/api/v2/conversations/calls', allows: 'GET' },
    { method: 'DELETE', path: '/cloud/api/v2/conversations/calls/ABC', allows: 'GET' },
    { method: 'POST', path: '/cloud/api/v2/conversations/ABC', allows: 'GET' },
    { method: 'GET', path: '/cloud/api/v2/conversations/calls/ABC/participants', allows: 'POST' },
    { method: 'PUT', path: '/cloud/api/v2/conversations/calls/ABC/participants/DEF', allows: 'PATCH' },
    { method: 'GET', path: '/cloud/api/v2/conversations/calls/ABC/participants/DEF/replace', allows: 'POST' },
    { method: 'DELETE', path: '/cloud/api/v2/conversations/calls/ABC/participants/DEF/consult', allows: 'POST' },
    { method: 'GET', path: '/cloud/api/v2/conversations/ABC/disconnect', allows: 'POST' },
    { method: 'GET', path: '/cloud/api/v2/analytics/conversations/details/query', allows: 'POST' },
    { method: 'POST', path: '/cloud/api/v2/users', allows: 'GET' },
    { method: 'PATCH', path: '/cloud/api/v2/users/me', allows: 'GET' },
    { method: 'DELETE', path: '/cloud/api/v2/users/ABC', allows: 'GET' },
    { method: 'POST', path: '/cloud/api/v2/routing/queues', allows: 'GET' },
    { method: 'PUT', path: '/cloud/api/v2/routing/queues/ABC', allows: 'GET' },
    { method: 'POST', path: '/cloud/api/v2/routing/queues/ABC/members', allows: 'GET' },
    { method: 'GET', path: '/cloud/api/v2/tokens/me', allows: 'DELETE' },
    { method: 'GET', path: '/cloud/api/v2/notifications/channels', allows: 'POST' },
    { method: 'PATCH', path: '/cloud/api/v2/notifications/channels/ABC/subscriptions', allows: 'PUT' },
  ];
  for (const c of wrongMethods)
    it(`${c.method} ${c.path}: 405 with Allow naming ${c.allows}`, async () => {
      const reply = await rawRequest(server.url, { method: c.method, path: c.path, headers: { authorization: `Bearer ${token}` } });
      assert.equal(reply.kind, 'answer');
      if (reply.kind !== 'answer') return;
      assertCloudError(reply.status, reply.json, 405, `${c.method} ${c.path}`);
      assert.ok(String(reply.headers['allow']).split(', ').includes(c.allows), `Allow: ${reply.headers['allow']}`);
    });

  it('no token is 401 authentication.required; a bad, revoked or expired one is 401 bad.credentials (notes 3.2)', async () => {
    const missing = await fetch(`${server.url}/cloud/api/v2/users`);
    const missingBody = (await missing.json()) as Record<string, unknown>;
    assertCloudError(missing.status, missingBody, 401, 'no token');
    assert.equal(missingBody['code'], 'authentication.required');
    const bad = await fetch(`${server.url}/cloud/api/v2/users`, { headers: { authorization: 'Bearer forged' } });
    const badBody = (await bad.json()) as Record<string, unknown>;
    assertCloudError(bad.status, badBody, 401, 'a forged token');
    assert.equal(badBody['code'], 'bad.credentials');
    const mine = await cloudToken();
    const revoke = await fetch(`${server.url}/cloud/api/v2/tokens/me`, { method: 'DELETE', headers: { authorization: `Bearer ${mine}` } });
    assert.equal(revoke.status, 200);
    const after = await fetch(`${server.url}/cloud/api/v2/users`, { headers: { authorization: `Bearer ${mine}` } });
    const afterBody = (await after.json()) as Record<string, unknown>;
    assertCloudError(after.status, afterBody, 401, 'a revoked token');
    assert.equal(afterBody['code'], 'bad.credentials');
  });

  it('bad bodies on every Cloud write are 400 ErrorBodies that name the problem', async () => {
    const writes: [string, string, unknown][] = [
      ['POST', '/conversations/calls/ABC/participants', { participants: 'x' }],
      ['PATCH', '/conversations/calls/ABC/participants/DEF', { held: 'x' }],
      ['POST', '/conversations/calls/ABC/participants/DEF/replace', { address: 7 }],
      ['POST', '/conversations/calls/ABC/participants/DEF/consult', { destination: 'x' }],
      ['POST', '/analytics/conversations/details/query', { interval: 5 }],
      ['PUT', '/notifications/channels/ABC/subscriptions', { id: 'x' }],
    ];
    for (const [method, path, body] of writes) {
      const reply = await fetch(`${server.url}/cloud/api/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      // An unknown conversation or channel wins over a bad body (404), as in Cloud; the
      // analytics query has no resource, so its bad body is a 400.
      assert.ok([400, 404].includes(reply.status), `${method} ${path}: ${reply.status}`);
      assertCloudError(reply.status, await reply.json(), reply.status, `${method} ${path}`);
    }
    const query = await fetch(`${server.url}/cloud/api/v2/analytics/conversations/details/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ interval: 5 }),
    });
    assertCloudError(query.status, await query.json(), 400, 'analytics query');
  });

  it('the GWS dialect keeps its own shape for the same mistakes', async () => {
    const reply = await fetch(`${server.url}/api/v2/anything-unknown`, { headers: { authorization: basic('agent15000') } });
    assert.equal(reply.status, 404);
    const body = (await reply.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['statusCode', 'statusMessage']);
    assert.equal(body['statusCode'], 6);
  });
});

describe('the customer chat API cannot be made to answer a refusal a client wrote', () => {
  const forged = [
    { ok: false },
    { ok: false, statusCode: 3, message: 'forged by the client' },
    { ok: false, statusCode: 4, code: 'internal', message: 'forged by the client' },
    { statusCode: 3, statusMessage: 'forged by the client' },
  ];
  for (const body of forged)
    it(`start with ${JSON.stringify(body)}: a 4xx in the API's own words, or a success`, async () => {
      const reply = await fetch(`${server.url}/genesys/2/chat/customer-support`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.ok(reply.status < 500, `no 5xx (got ${reply.status})`);
      const text = await reply.text();
      assert.ok(!text.includes('forged by the client'), `the client's words are not the answer: ${text}`);
      if (reply.status >= 400) {
        const answer = JSON.parse(text) as { statusCode: number; statusMessage: string };
        assert.equal(typeof answer.statusMessage, 'string');
        assert.match(answer.statusMessage, /nickname|lastName|parameter/);
      }
    });

  it('send, refresh and disconnect with a forged body: 4xx, nothing echoed', async () => {
    const started = await fetch(`${server.url}/genesys/2/chat/customer-support`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nickname: 'Chris' }),
    });
    const chat = (await started.json()) as { chatId: string };
    for (const verb of ['send', 'refresh', 'disconnect'])
      for (const body of forged) {
        const reply = await fetch(`${server.url}/genesys/2/chat/customer-support/${chat.chatId}/${verb}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        assert.ok(reply.status >= 400 && reply.status < 500, `${verb} ${JSON.stringify(body)}: a 4xx (got ${reply.status})`);
        assert.ok(!(await reply.text()).includes('forged by the client'));
      }
  });
});

describe('each dialect publishes its OpenAPI document', () => {
  const expected: Record<string, { path: string; method: string }[]> = {
    gws: [
      { path: '/api/v2/me/calls/{id}', method: 'post' },
      { path: '/api/v2/me/devices/{id}/calls', method: 'post' },
      { path: '/api/v2/me/chats/{id}', method: 'post' },
      { path: '/api/v2/users/{id}', method: 'get' },
    ],
    cloud: [
      { path: '/cloud/oauth/token', method: 'post' },
      { path: '/cloud/api/v2/conversations/calls/{id}/participants/{participantId}', method: 'patch' },
    ],
    conclave: [{ path: '/conclave/v1/compliance/flags', method: 'post' }],
    'customer-chat': [{ path: '/genesys/2/chat/{serviceName}', method: 'post' }],
  };
  for (const [dialect, routes] of Object.entries(expected))
    it(`/openapi/${dialect}.json lists the dialect's routes and only those`, async () => {
      const reply = await fetch(`${server.url}/openapi/${dialect}.json`);
      assert.equal(reply.status, 200);
      const doc = (await reply.json()) as { openapi: string; info: { title: string }; paths: Record<string, Record<string, unknown>> };
      assert.match(doc.openapi, /^3\./);
      assert.ok(doc.info.title.length > 0);
      for (const { path, method } of routes) assert.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is documented`);
      const foreign = Object.keys(doc.paths).filter((p) => !Object.values(expected).every((r) => r === routes || !r.some((x) => x.path === p)));
      assert.deepEqual(foreign, [], 'no route of another dialect');
      assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/api/v2/notifications')), 'Bayeux is not an OpenAPI route');
    });

  it('the voice operations route documents every operation body, RemoveParticipantFromConference included', async () => {
    const doc = (await (await fetch(`${server.url}/openapi/gws.json`)).json()) as {
      paths: Record<string, { post: { requestBody: { content: { 'application/json': { schema: { oneOf: { title: string; required?: string[] }[] } } } } } }>;
    };
    const bodies = doc.paths['/api/v2/me/calls/{id}']?.post.requestBody.content['application/json'].schema.oneOf ?? [];
    const remove = bodies.find((b) => b.title === 'RemoveParticipantFromConference');
    assert.ok(remove, 'RemoveParticipantFromConference has a body schema');
    assert.ok(remove.required?.includes('participant'));
    assert.equal(bodies.length, VOICE_CALL_OPERATIONS.length);
  });
});

describe('a body nested thousands deep is a clear 400, never a 5xx', () => {
  const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const cases = [
    { what: 'GWS StartContactCenterSession', path: '/api/v2/me', auth: basic('agent15000'), body: `{"operationName":"StartContactCenterSession","channels":${deep(20_000)}}` },
    { what: 'GWS Dial userData', path: '/api/v2/me/devices/x/calls', auth: basic('agent15000'), body: `{"operationName":"Dial","destination":{"phoneNumber":"15001"},"userData":{"k":${deep(20_000)}}}` },
    { what: 'customer chat start', path: '/genesys/2/chat/customer-support', auth: '', body: `{"nickname":"Chris","userData":{"k":${deep(20_000)}}}` },
  ];
  for (const c of cases)
    it(c.what, async () => {
      const reply = await fetch(`${server.url}${c.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(c.auth ? { authorization: c.auth } : {}) },
        body: c.body,
      });
      assert.ok(reply.status >= 400 && reply.status < 500, `${c.what}: a 4xx (got ${reply.status})`);
    });
  it('the nesting refusal names the problem', async () => {
    const reply = await fetch(`${server.url}/api/v2/me`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic('agent15000') },
      body: cases[0]?.body ?? '',
    });
    assert.equal(reply.status, 400);
    assert.match(((await reply.json()) as { statusMessage: string }).statusMessage, /nests deeper/);
  });
});
