/**
 * The chat seed, end to end: a real customer over the customer API, two agents on the official
 * CometD client. Agent 1 (test_consult, visible to all) removes agent 2 (chat_consult) from a
 * chat conference; each agent's notifications are checked in order against the seed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { listen, type Listener, type Notification } from '../helpers/cometd.js';
import { startCustomerChat, type CustomerChat } from '../helpers/customer.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const seed = JSON.parse(readFileSync(new URL('../../../test/fixtures/seed-chat-remove-participant.json', import.meta.url), 'utf8'));

const chatNotes = (l: Listener, from: number, chatId: string) =>
  l.received.slice(from).filter((n) => n.channel === '/v2/me/chats' && (n.data.chat?.id === chatId || n.data.chatUri?.endsWith(chatId)));

/** Same keys as the seed, same values except ids, URIs and times; participants by nickname. */
const assertLikeSeed = (actual: any, expected: any, where: string) => {
  assert.deepEqual(Object.keys(actual).filter((k) => k !== 'chatPath').sort(), Object.keys(expected).sort(), `${where}: keys`);
  for (const [key, value] of Object.entries(expected)) {
    const got = actual[key];
    if (key === 'chat') {
      const e = value as any;
      assert.deepEqual(Object.keys(got).sort(), Object.keys(e).sort(), `${where}: chat keys`);
      assert.equal(got.state, e.state, `${where}: state`);
      assert.deepEqual(got.capabilities, e.capabilities, `${where}: capabilities`);
      assert.deepEqual(got.participants.map((p: any) => [p.nickname, p.type, p.visibility, Object.keys(p).sort().join()]),
        e.participants.map((p: any) => [p.nickname, p.type, p.visibility, Object.keys(p).sort().join()]), `${where}: participants`);
    } else if (key === 'messages') {
      const [m] = got;
      const [s] = value as any[];
      assert.equal(got.length, 1, `${where}: one message`);
      assert.deepEqual(Object.keys(m).sort(), Object.keys(s).sort(), `${where}: message keys`);
      assert.equal(m.type, s.type);
      assert.equal(m.visibility, s.visibility);
      assert.deepEqual([m.from.nickname, m.from.type, m.from.visibility], [s.from.nickname, s.from.type, s.from.visibility]);
      assert.deepEqual(Object.keys(m.from).sort(), Object.keys(s.from).sort(), `${where}: from keys`);
      assert.match(m.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$/);
      assert.equal(typeof m.timestampSeconds, 'number');
      assert.ok(Math.abs(m.timestampSeconds - Date.now()) < 60_000, 'timestampSeconds is epoch milliseconds');
    } else if (key === 'referenceId') {
      assert.equal(typeof got, 'number');
    } else if (key !== 'chatUri') {
      assert.deepEqual(got, value, `${where}: ${key}`);
    }
  }
};

describe('seed: RemoveParticipantFromConference (chat)', () => {
  let server: TestServer;
  let a1: GwsClient, a2: GwsClient, a3: GwsClient;
  let l1: Listener, l2: Listener, l3: Listener;
  let ids: Record<string, string>;

  before(async () => {
    server = await startTestServer();
    [a1, a2, a3] = ['agent15000', 'agent15001', 'agent15002'].map((u) => gws(server.url, u)) as [GwsClient, GwsClient, GwsClient];
    [l1, l2, l3] = (await Promise.all(['agent15000', 'agent15001', 'agent15002'].map((u) => listen(server.url, u)))) as [Listener, Listener, Listener];
    ids = {};
    ids['agent15003'] = (await gws(server.url, 'agent15003').get('/api/v2/me')).body.user.id;
    for (const a of [a1, a2, a3]) {
      ids[a.user] = (await a.get('/api/v2/me')).body.user.id;
      assert.deepEqual((await a.post('/api/v2/me', { operationName: 'StartContactCenterSession', channels: ['chat'] })).body, { statusCode: 0 });
    }
  });
  after(async () => {
    await Promise.all([l1, l2, l3].map((l) => l?.disconnect()));
    await server?.dispose();
  });

  const userUri = (user: string) => `${server.url}/api/v2/users/${ids[user]}`;

  /** A customer's chat routed to agent 1 (the only Ready agent) and accepted. */
  const routedChat = async (): Promise<{ chatId: string; customer: CustomerChat }> => {
    assert.deepEqual((await a1.post('/api/v2/me/channels/chat', { operationName: 'Ready' })).body, { statusCode: 0 });
    const mark = l1.received.length;
    const customer = await startCustomerChat(server.url, {
      nickname: 'test_consult_clientL', firstName: 'test_consult_client', lastName: 'Lastname',
      emailAddress: 'Email@abc.com', subject: 'Customersupport', 'userData[IdentifyCreateContact]': '3',
    });
    const offered = await l1.next((n) => l1.received.indexOf(n) >= mark && n.data.chat?.id === customer.chatId && n.data.chat.state === 'Invited');
    assert.deepEqual(offered.data.chat.capabilities, ['Accept', 'Reject']);
    const accepted = await a1.post(`/api/v2/me/chats/${customer.chatId}`, { operationName: 'Accept', nickname: 'test_consult' });
    assert.equal(accepted.body.statusCode, 0);
    assert.equal(typeof accepted.body.referenceId, 'number');
    await l1.next((n) => n.data.chat?.id === customer.chatId && n.data.chat.state === 'Chatting');
    // Agent 1 stops taking new chats, so that later chats in this file are routed deliberately.
    await a1.post('/api/v2/me/channels/chat', { operationName: 'NotReady' });
    return { chatId: customer.chatId, customer };
  };

  /** Agent 1 invites agent 2 (visible to all) and agent 2 accepts. */
  const conference = async (chatId: string, how: 'Invite' | 'Consult' = 'Invite') => {
    const invited = await a1.post(`/api/v2/me/chats/${chatId}`, { operationName: how, targetUri: userUri('agent15001') });
    assert.equal(invited.body.statusCode, 0);
    assert.equal(typeof invited.body.referenceId, 'number');
    const offer = await l2.next((n) => n.data.chat?.id === chatId && n.data.chat.state === 'Invited');
    assert.ok(offer);
    assert.equal((await a2.post(`/api/v2/me/chats/${chatId}`, { operationName: 'Accept', nickname: 'chat_consult' })).body.statusCode, 0);
    await l1.next((n) => n.data.chat?.id === chatId && n.data.notificationType === 'ParticipantsUpdated' && n.data.chat.participants.length === 3);
    await Promise.all([l1, l2].map((l) => l.caughtUp()));
  };

  const removeAndCheckSeed = async (chatId: string, target: Record<string, string>) => {
    const marks = [l1.received.length, l2.received.length];
    const reply = await a1.post(`/api/v2/me/chats/${chatId}`, { operationName: 'RemoveParticipantFromConference', ...target });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, seed.response);
    await l2.next((n) => n.data.chat?.id === chatId && n.data.notificationType === 'StatusChange' && n.data.chat.state === 'LeftChat');
    await Promise.all([l1.caughtUp(), l2.caughtUp()]);
    const [got1, got2] = [l1, l2].map((l, i) => chatNotes(l, marks[i] as number, chatId).map((n: Notification) => n.data));
    assert.equal(got1?.length, 2, `agent 1 receives 2 notifications: ${JSON.stringify(got1?.map((d: any) => d.notificationType))}`);
    assert.equal(got2?.length, 3, `agent 2 receives 3 notifications: ${JSON.stringify(got2?.map((d: any) => d.notificationType))}`);
    seed.agent1.forEach((expected: any, i: number) => assertLikeSeed(got1?.[i], expected, `agent 1 notification ${i + 1}`));
    seed.agent2.slice(0, 3).forEach((expected: any, i: number) => assertLikeSeed(got2?.[i], expected, `agent 2 notification ${i + 1}`));

    // Agent 2 completes: StatusChange Completed, no capabilities, the request's referenceId.
    const mark = l2.received.length;
    const completed = await a2.post(`/api/v2/me/chats/${chatId}`, { operationName: 'Complete' });
    assert.equal(completed.body.statusCode, 0);
    assert.equal(typeof completed.body.referenceId, 'number');
    const done = await l2.next((n) => l2.received.indexOf(n) >= mark && n.data.chat?.state === 'Completed');
    assertLikeSeed(done.data, seed.agent2[3], 'agent 2 notification 4');
    assert.equal(done.data.referenceId, completed.body.referenceId);
  };

  it('removes the agent named by targetUri, with the seed notifications in order', async () => {
    const { chatId, customer } = await routedChat();
    await conference(chatId);
    await removeAndCheckSeed(chatId, { targetUri: userUri('agent15001') });
    const transcript = await customer.refresh(1);
    const left = transcript.messages.filter((m: any) => m.type === 'ParticipantLeft');
    assert.deepEqual(left.map((m: any) => m.from.nickname), ['chat_consult']);
    assert.equal(transcript.chatEnded, false);
  });

  it('removes the agent named by targetPath', async () => {
    const { chatId } = await routedChat();
    await conference(chatId);
    await removeAndCheckSeed(chatId, { targetPath: `/users/${ids['agent15001']}` });
  });

  it('delivers the optional text to the customer', async () => {
    const { chatId, customer } = await routedChat();
    await conference(chatId);
    const reply = await a1.post(`/api/v2/me/chats/${chatId}`, {
      operationName: 'RemoveParticipantFromConference', targetUri: userUri('agent15001'), text: 'Your specialist has left; I am still here.',
    });
    assert.deepEqual(reply.body, { statusCode: 0 });
    const transcript = await customer.refresh(1);
    const texts = transcript.messages.filter((m: any) => m.type === 'Message').map((m: any) => [m.from.nickname, m.text]);
    assert.deepEqual(texts, [['test_consult', 'Your specialist has left; I am still here.']]);
  });

  it('refuses a consultant (visibility Agents) with statusCode 3, and the customer never sees them', async () => {
    const { chatId, customer } = await routedChat();
    await conference(chatId, 'Consult');
    const consultant = await a2.get(`/api/v2/me/chats/${chatId}`);
    assert.ok(!consultant.body.chat.capabilities.includes('RemoveParticipantFromConference'));
    const reply = await a2.post(`/api/v2/me/chats/${chatId}`, { operationName: 'RemoveParticipantFromConference', targetUri: userUri('agent15000') });
    assert.equal(reply.status, 403);
    assert.equal(reply.body.statusCode, 3);
    assert.match(reply.body.statusMessage, /visible to all/);
    const transcript = await customer.refresh(1);
    assert.ok(!transcript.messages.some((m: any) => m.from.nickname === 'chat_consult'), 'the consultant is invisible to the customer');
    const owner = await a1.get(`/api/v2/me/chats/${chatId}`);
    assert.ok(owner.body.chat.capabilities.includes('RemoveParticipantFromConference'));
    assert.deepEqual((await a1.post(`/api/v2/me/chats/${chatId}`, { operationName: 'RemoveParticipantFromConference', targetUri: userUri('agent15001') })).body, { statusCode: 0 });
  });

  it('refuses bad targets with a message that says which', async () => {
    const { chatId } = await routedChat();
    await conference(chatId);
    const post = (body: Record<string, unknown>) => a1.post(`/api/v2/me/chats/${chatId}`, { operationName: 'RemoveParticipantFromConference', ...body });
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{}, 1, /targetUri/],
      [{ targetUri: userUri('agent15001'), messageType: 'Text' }, 1, /text/],
      [{ targetUri: userUri('agent15001'), text: 'x', treatAs: 'Loud' }, 10, /treatAs/],
      [{ targetUri: 'http://nowhere/api/v2/queues/1' }, 10, /targetUri/],
      [{ targetUri: userUri('agent15000') }, 2, /you/],
      [{ targetUri: userUri('agent15002') }, 2, /not a participant/],
      [{ targetUri: userUri('agent15003') }, 2, /not a participant/],
    ];
    for (const [body, statusCode, message] of cases) {
      const reply = await post(body);
      assert.equal(reply.body.statusCode, statusCode, JSON.stringify(body));
      assert.match(reply.body.statusMessage, message, JSON.stringify(body));
      assert.equal(reply.status, 400);
    }
    assert.equal((await a1.get(`/api/v2/me/chats/${chatId}`)).body.chat.participants.length, 3, 'nothing changed');
  });
});
