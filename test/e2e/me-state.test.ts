/**
 * A reloaded desktop rebuilds its state from GET /api/v2/me?subresources=* (GWS UsersResource,
 * Subresources and QueryAgentState 8.5.0 pages; CallResource: "Calls are returned from GET
 * requests to /api/v2/me/calls or GET requests to /api/v2/me?subresources=*"), and every `uri`
 * Conclave hands out resolves with a GET.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accept, mark, offered, openChatWorld, setChatState, type ChatWorld } from '../helpers/chat-world.js';
import { callNote } from '../helpers/cometd.js';
import { gws } from '../helpers/gws.js';

/** Every string value under a key named `uri` or ending in `Uri`, anywhere in a JSON value. */
const urisIn = (value: unknown, found = new Set<string>()): Set<string> => {
  if (Array.isArray(value)) for (const v of value) urisIn(v, found);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if ((k === 'uri' || k.endsWith('Uri')) && typeof v === 'string' && v !== '') {
        found.add(v);
      } else if (k === 'uris' && Array.isArray(v)) {
        for (const u of v) if (typeof u === 'string') found.add(u);
      } else {
        urisIn(v, found);
      }
    }
  return found;
};

describe('GET /api/v2/me?subresources=* and every uri handed out', () => {
  let world: ChatWorld;
  let callId: string;
  let chatId: string;

  before(async () => {
    world = await openChatWorld(['agent15000', 'agent15001']);
    const [a, b] = [world.agent('agent15000'), world.agent('agent15001')];
    assert.deepEqual((await a.client.post('/api/v2/me', { operationName: 'StartContactCenterSession', channels: ['voice', 'chat'] })).body, { statusCode: 0 });
    await setChatState(a, 'Ready');
    // A call in progress, and a chat in progress.
    const from = mark(b);
    assert.deepEqual((await a.client.dial('15001')).body, { statusCode: 0 });
    const ringing = await b.listener.next((n) => b.listener.received.indexOf(n) >= from && callNote('StatusChange', { state: 'Ringing' })(n), 5000, 'Ringing');
    callId = ringing.data.call.id;
    assert.deepEqual((await b.client.op(callId, 'Answer')).body, { statusCode: 0 });
    const m = mark(a);
    const customer = await world.customer();
    chatId = customer.chatId;
    await offered(a, chatId, m);
    await accept(a, chatId);
  });
  after(async () => world?.dispose());

  it('subresources=* carries devices, channels and calls as siblings of the user fields', async () => {
    const a = world.agent('agent15000');
    const plain = (await a.client.get('/api/v2/me')).body;
    const full = await a.client.get('/api/v2/me?subresources=*');
    assert.equal(full.status, 200);
    assert.equal(full.body.statusCode, 0);
    const user = full.body.user;
    // Without the parameter "you receive everything except" the collections.
    for (const k of ['devices', 'channels', 'calls']) assert.equal(plain.user[k], undefined, k);
    for (const [k, v] of Object.entries(plain.user)) assert.deepEqual(user[k], v, k);
    // The same views as the collections' own GETs.
    assert.deepEqual(user.devices, (await a.client.get('/api/v2/me/devices?fields=*')).body.devices);
    assert.deepEqual(user.calls.map((c: any) => c.id), [callId]);
    assert.deepEqual(
      user.calls.map((c: any) => ({ ...c, duration: undefined })),
      (await a.client.get('/api/v2/me/calls?fields=*')).body.calls.map((c: any) => ({ ...c, duration: undefined })),
    );
    assert.equal(user.calls[0].state, 'Established');
    const channels = Object.fromEntries(user.channels.map((c: any) => [c.channel, c.userState.state]));
    assert.deepEqual(channels, { voice: 'NotReady', chat: 'Ready' });
    assert.equal(user.devices[0].userState.state, 'NotReady');
  });

  it('a comma-separated list picks some of them', async () => {
    const a = world.agent('agent15000');
    const some = (await a.client.get('/api/v2/me?subresources=devices,calls')).body.user;
    assert.ok(some.devices && some.calls);
    assert.equal(some.channels, undefined);
  });

  it('bad input: an unknown subresource is a 400 naming it', async () => {
    const a = world.agent('agent15000');
    // The page shows no chats or skills under /me; an empty name is no subresource either.
    for (const bad of ['skills', 'devices,chats', '']) {
      const reply = await a.client.get(`/api/v2/me?subresources=${bad}`);
      assert.equal(reply.status, 400, bad);
      assert.equal(reply.body.statusCode, 10);
      assert.match(reply.body.statusMessage, /subresources/);
    }
  });

  it('every uri in /me, /me/devices, /me/calls and /me/chats views resolves with a GET', async () => {
    const a = world.agent('agent15000');
    const sources = [
      '/api/v2/me?subresources=*',
      '/api/v2/me/devices',
      '/api/v2/me/devices?fields=*',
      '/api/v2/me/calls',
      '/api/v2/me/calls?fields=*',
      `/api/v2/me/calls/${callId}`,
      '/api/v2/me/chats',
      '/api/v2/me/chats?fields=*',
      `/api/v2/me/chats/${chatId}`,
      `/api/v2/me/chats/${chatId}/messages`,
    ];
    const uris = new Set<string>();
    for (const path of sources) {
      const reply = await a.client.get(path);
      assert.equal(reply.status, 200, path);
      urisIn(reply.body, uris);
    }
    const base = world.server.url;
    // Devices, calls, chats and users are all among them.
    for (const kind of ['/api/v2/devices/', '/api/v2/me/calls/', '/api/v2/chats/', '/api/v2/users/'])
      assert.ok([...uris].some((u) => u.startsWith(`${base}${kind}`)), `some uri is under ${kind}`);
    for (const uri of uris) {
      assert.ok(uri.startsWith(`${base}/api/v2/`), `${uri} is absolute to the server`);
      const reply = await a.client.get(uri.slice(base.length));
      assert.equal(reply.status, 200, `GET ${uri}: ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body.statusCode, 0, uri);
    }
  });

  it("bad input: another agent's device and chat uris are not found (404), as are unknown ids", async () => {
    const [a, b] = [world.agent('agent15000'), world.agent('agent15001')];
    const aDevice = (await a.client.get('/api/v2/me/devices?fields=*')).body.devices[0].id;
    for (const path of [`/api/v2/devices/${aDevice}`, `/api/v2/chats/${chatId}`, '/api/v2/devices/nope', '/api/v2/chats/nope']) {
      const reply = await b.client.get(path);
      assert.equal(reply.status, 404, path);
      assert.equal(reply.body.statusCode, 6, path);
    }
    // A supervisor may read a device (to name it in targetDeviceUri).
    const sup = gws(world.server.url, 'super15010');
    assert.equal((await sup.get(`/api/v2/devices/${aDevice}`)).body.device.id, aDevice);
  });
});
