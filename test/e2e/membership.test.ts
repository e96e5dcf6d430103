/**
 * Reads follow membership (CONTRACT.md "Hardening promises outside checks rely on": a party that
 * has left a call or a chat reads it as it was when they left — no user data attached and no
 * message sent after they left, in any view, or a 404). GWS reference: "GET
 * /api/v2/me/calls/{id}", "GET /api/v2/me/chats/{id}", "GET /api/v2/me/chats/{id}/messages",
 * AttachUserData on calls and chats.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bringIn, chatOp, chatWith, openChatWorld, setChatState, startChatSession, type ChatWorld } from '../helpers/chat-world.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';


describe('reads follow membership: a call', () => {
  let server: TestServer;
  let a: GwsClient, b: GwsClient, c: GwsClient;
  before(async () => {
    server = await startTestServer({});
    [a, b, c] = ['agent15000', 'agent15001', 'agent15002'].map((u) => gws(server.url, u)) as [GwsClient, GwsClient, GwsClient];
  });
  after(() => server.dispose());

  const ringing = (client: GwsClient) =>
    waitFor(async () => ((await client.get('/api/v2/me/calls?fields=*')).body.calls as any[]).find((x) => x.state === 'Ringing'), 10_000, `${client.user} rings`, 50);

  it('a party removed from a conference never reads user data attached after they left', async () => {
    assert.equal((await a.dial('15001')).body.statusCode, 0);
    const callId = (await ringing(b)).id as string;
    assert.equal((await b.op(callId, 'Answer')).body.statusCode, 0);
    assert.equal((await a.op(callId, 'SingleStepConference', { destination: { phoneNumber: '15002' } })).body.statusCode, 0);
    assert.equal((await ringing(c)).id, callId);
    assert.equal((await c.op(callId, 'Answer')).body.statusCode, 0);
    assert.equal((await a.op(callId, 'AttachUserData', { userData: { before: 'seen' } })).body.statusCode, 0);
    assert.deepEqual((await c.get(`/api/v2/me/calls/${callId}`)).body.call?.userData, { before: 'seen' }, 'present: reads it all');

    assert.equal((await a.op(callId, 'RemoveParticipantFromConference', { participant: '15002' })).body.statusCode, 0);
    assert.equal((await a.op(callId, 'AttachUserData', { userData: { after: 'secret' } })).body.statusCode, 0);

    const afterLeaving = await c.get(`/api/v2/me/calls/${callId}`);
    if (afterLeaving.status === 200) {
      assert.equal(afterLeaving.body.call.state, 'Released');
      assert.deepEqual(afterLeaving.body.call.userData, { before: 'seen' }, 'as it was when they left');
    } else assert.equal(afterLeaving.status, 404);
    for (const call of ((await c.get('/api/v2/me/calls?fields=*')).body.calls ?? []) as any[]) assert.equal(call.userData?.after, undefined);
    assert.deepEqual((await b.get(`/api/v2/me/calls/${callId}`)).body.call.userData, { before: 'seen', after: 'secret' }, 'who stays reads everything');
  });
});

describe('reads follow membership: a chat', () => {
  let world: ChatWorld;
  before(async () => {
    world = await openChatWorld(['agent15000', 'agent15001']);
    for (const agent of world.agents) await startChatSession(agent);
  });
  after(() => world.dispose());

  it('an agent who left reads neither messages sent nor user data attached after they left, in the chat view or GET messages', async () => {
    const [one, two] = [world.agent('agent15000'), world.agent('agent15001')];
    await setChatState(one, 'Ready');
    const customer = await chatWith(world, one);
    await setChatState(one, 'NotReady');
    const chatId = customer.chatId;
    await bringIn(one, two, chatId, 'Invite', 3);
    await customer.send('customer-before');
    assert.equal((await chatOp(one, chatId, 'SendMessage', { text: 'agent-before' })).body.statusCode, 0);
    assert.equal((await chatOp(one, chatId, 'AttachUserData', { userData: { before: 'seen' } })).body.statusCode, 0);

    assert.equal((await chatOp(two, chatId, 'Leave')).body.statusCode, 0);
    assert.equal((await chatOp(one, chatId, 'SendMessage', { text: 'agent-after' })).body.statusCode, 0);
    await customer.send('customer-after');
    assert.equal((await chatOp(one, chatId, 'AttachUserData', { userData: { after: 'secret' } })).body.statusCode, 0);

    const view = await two.client.get(`/api/v2/me/chats/${chatId}`);
    if (view.status === 200) {
      assert.equal(view.body.chat.userData.after, undefined, 'no user data attached after they left');
      assert.equal(view.body.chat.userData.before, 'seen', 'the user data as it was when they left');
    } else assert.equal(view.status, 404);
    const messages = await two.client.get(`/api/v2/me/chats/${chatId}/messages`);
    if (messages.status === 200) {
      const texts = (messages.body.messages as any[]).map((m) => m.text).filter(Boolean);
      assert.ok(texts.includes('customer-before') && texts.includes('agent-before'), `what was said before: ${JSON.stringify(texts)}`);
      assert.ok(!texts.includes('agent-after') && !texts.includes('customer-after'), `nothing sent after they left: ${JSON.stringify(texts)}`);
      const last = (messages.body.messages as any[]).at(-1);
      assert.equal(last.type, 'ParticipantLeft', 'their own leaving is the last thing they read');
    } else assert.equal(messages.status, 404);

    const stayed = ((await one.client.get(`/api/v2/me/chats/${chatId}/messages`)).body.messages as any[]).map((m) => m.text);
    assert.ok(stayed.includes('agent-after') && stayed.includes('customer-after'), 'who stays reads everything');
    assert.deepEqual((await one.client.get(`/api/v2/me/chats/${chatId}`)).body.chat.userData.after, 'secret');
  });
});
