/**
 * Each Cloud notification topic over a real WebSocket, with channels made through the official
 * SDK (NotificationsApi), on a customer call started with the simulation API. Reference pages
 * (notes/cloud-reference.md 2.3–2.5): v2.users.{id}.conversations → ConversationEventTopicConversation
 * (participants with calls[]), v2.users.{id}.conversations.calls →
 * ConversationCallEventTopicCallConversation (flat participants, endTime), and the `calls`
 * tutorial (developercenter-tutorials calls/javascript/calls.js): copyCallPropsToParticipant and
 * isConversationDisconnected, applied here exactly as it does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { assertErrorBody, CloudSdk, rejection } from '../helpers/cloud-sdk.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const CUSTOMER = '+14155550100';

// The calls tutorial, verbatim in substance: make a `.conversations` event look like the REST
// CallConversation, then drop the conversation when every participant is disconnected.
const copyCallPropsToParticipant = (conversation: any) => {
  conversation.participants.forEach((participant: any) => {
    if (!participant.calls || participant.calls.length === 0) return;
    participant.ani = participant.calls[0].self.addressNormalized;
    participant.attributes = participant.additionalProperties;
    participant.confined = participant.calls[0].confined;
    participant.direction = participant.calls[0].direction;
    participant.dnis = participant.calls[0].other.addressNormalized;
    participant.held = participant.calls[0].held;
    participant.muted = participant.calls[0].muted;
    participant.provider = participant.calls[0].provider;
    participant.recording = participant.calls[0].recording;
    participant.recordingState = participant.calls[0].recordingState;
    participant.state = participant.calls[0].state;
    if (participant.userId) participant.user = { id: participant.userId, selfUri: `/api/v2/users/${participant.userId}` };
    if (participant.calls[0].peerId) participant.peer = participant.calls[0].peerId;
  });
};
const isConversationDisconnected = (conversation: any) => {
  let isConnected = false;
  conversation.participants.some((participant: any) => {
    if (participant.state !== 'disconnected') {
      isConnected = true;
      return true;
    }
    return false;
  });
  return !isConnected;
};

describe('Cloud notification topics on a customer call', () => {
  let server: TestServer;
  let sdk: CloudSdk;
  let admin: GwsClient, a: GwsClient, b: GwsClient;
  let agentId: string;

  before(async () => {
    server = await startTestServer({ externalAnswerMs: 0 });
    admin = gws(server.url, 'admin');
    a = gws(server.url, 'agent15000');
    b = gws(server.url, 'agent15001');
    sdk = CloudSdk.open(server.port);
    await sdk.login('conclave-demo', 'conclave-demo');
    agentId = (await sdk.users('getUsers', { pageSize: 100 })).entities.find((u: any) => u.username === 'agent15000').id;
  });
  after(async () => {
    await sdk?.close();
    await server?.dispose();
  });

  const openChannel = async (topics: string[]) => {
    const channel = await sdk.notifications('postNotificationsChannels');
    const subscribed = await sdk.notifications('putNotificationsChannelSubscriptions', channel.id, topics.map((id) => ({ id })));
    assert.deepEqual(subscribed.entities.map((e: any) => e.id).sort(), [...topics].sort());
    const received: any[] = [];
    const socket = new WebSocket(channel.connectUri);
    socket.on('message', (data) => received.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)));
    await waitFor(() => received.some((m) => m.topicName === 'channel.metadata'), 2000, 'the first heartbeat');
    const until = (match: (m: any) => boolean, what: string) =>
      waitFor(() => received.find(match), 5000, () => `${what}; received ${JSON.stringify(received.map((m) => [m.topicName, m.eventBody?.participants?.map((p: any) => p.state ?? p.calls?.[0]?.state)]))}`);
    return { received, until, close: () => socket.close() };
  };

  it('v2.users.{id}.conversations: participants with calls[]; the tutorial keeps the call until everyone is disconnected', async () => {
    const topic = `v2.users.${agentId}.conversations`;
    const channel = await openChannel([topic]);
    const created = await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to: '15000' });
    const callId = created.body.callId as string;
    const alerting = await channel.until((m) => m.topicName === topic && m.eventBody.id === callId, 'the ringing call');
    assert.equal(alerting.version, '2');
    for (const p of alerting.eventBody.participants) {
      assert.equal(p.state, undefined, 'no participant-level state in this topic');
      assert.equal(p.calls.length, 1);
    }
    assert.equal(alerting.eventBody.participants.find((p: any) => p.purpose === 'customer').address, CUSTOMER);
    assert.equal(alerting.eventBody.startTime, undefined, 'no conversation-level times in this topic');

    // The tutorial's handler, over every event of this topic, in order.
    const conversations = new Map<string, any>();
    let applied = 0;
    const apply = () => {
      for (const m of channel.received.slice(applied)) {
        applied++;
        if (m.topicName !== topic) continue;
        const conversation = structuredClone(m.eventBody);
        copyCallPropsToParticipant(conversation);
        if (isConversationDisconnected(conversation)) conversations.delete(conversation.id);
        else conversations.set(conversation.id, conversation);
      }
    };
    assert.deepEqual((await a.op(callId, 'Answer')).body, { statusCode: 0 });
    await channel.until((m) => m.topicName === topic && m.eventBody.participants.every((p: any) => p.calls[0].state === 'connected'), 'connected');
    apply();
    const live = conversations.get(callId);
    assert.ok(live, 'the tutorial keeps a live conversation');
    const customer = live.participants.find((p: any) => p.purpose === 'customer');
    assert.equal(customer.state, 'connected');
    assert.equal(customer.ani, `tel:${CUSTOMER}`);
    assert.equal(customer.dnis, 'tel:15000');
    assert.equal(live.participants.find((p: any) => p.purpose === 'agent').user.id, agentId);

    const mark = channel.received.length;
    assert.equal((await admin.post(`/conclave/v1/sim/calls/${callId}`, { action: 'hangup' })).status, 200);
    await channel.until((m) => channel.received.indexOf(m) >= mark && m.topicName === topic && m.eventBody.participants.every((p: any) => p.calls[0].state === 'disconnected'), 'the end');
    apply();
    assert.equal(conversations.has(callId), false, 'isConversationDisconnected: every participant disconnected');
    const last = channel.received.filter((m) => m.topicName === topic).at(-1);
    assert.ok(last.eventBody.participants.every((p: any) => p.endTime && p.calls[0].disconnectedTime));
    channel.close();
  });

  it('v2.users.{id}.conversations.calls: flat participants; the customer removed from a conference has an endTime', async () => {
    const topic = `v2.users.${agentId}.conversations.calls`;
    const channel = await openChannel([topic]);
    const callId = (await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to: '15000' })).body.callId as string;
    await a.op(callId, 'Answer');
    await sdk.conversations('postConversationsCallParticipants', callId, { participants: [{ address: '15001' }] });
    await b.op(callId, 'Answer');
    const conference = await channel.until(
      (m) => m.topicName === topic && m.eventBody.participants.length === 3 && m.eventBody.participants.every((p: any) => p.state === 'connected'),
      'a connected three-party conference',
    );
    for (const p of conference.eventBody.participants) assert.equal(p.calls, undefined, 'flat: no calls[]');
    const customer = conference.eventBody.participants.find((p: any) => p.purpose === 'customer');
    assert.equal(customer.direction, 'inbound');

    const mark = channel.received.length;
    await sdk.conversations('patchConversationsCallParticipant', callId, customer.id, { state: 'disconnected' });
    const removed = await channel.until(
      (m) => channel.received.indexOf(m) >= mark && m.topicName === topic && m.eventBody.participants.some((p: any) => p.purpose === 'customer' && p.state === 'disconnected'),
      'the customer disconnected',
    );
    const gone = removed.eventBody.participants.find((p: any) => p.purpose === 'customer');
    assert.ok(!Number.isNaN(Date.parse(gone.endTime)));
    assert.deepEqual(removed.eventBody.participants.filter((p: any) => p.state === 'connected').map((p: any) => p.address), ['15000', '15001']);
    await a.op(callId, 'Hangup');
    channel.close();
  });

  it('both user topics on one channel each get their own shape; v2.routing.queues.{id}.conversations by queue name (not id): 400', async () => {
    const calls = `v2.users.${agentId}.conversations.calls`;
    const nested = `v2.users.${agentId}.conversations`;
    const channel = await openChannel([calls, nested]);
    const callId = (await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to: '15000' })).body.callId as string;
    const flat = await channel.until((m) => m.topicName === calls && m.eventBody.id === callId, 'flat event');
    const withCalls = await channel.until((m) => m.topicName === nested && m.eventBody.id === callId, 'nested event');
    assert.ok(flat.eventBody.participants.every((p: any) => typeof p.state === 'string'));
    assert.ok(withCalls.eventBody.participants.every((p: any) => Array.isArray(p.calls)));
    await admin.post(`/conclave/v1/sim/calls/${callId}`, { action: 'hangup' });

    const other = await sdk.notifications('postNotificationsChannels');
    const error = await rejection(sdk.notifications('postNotificationsChannelSubscriptions', other.id, [{ id: 'v2.routing.queues.support.conversations' }]), 'queue topic');
    assertErrorBody(error, 400, 'queue topic');
    assert.match(error.message, /unknown queue/);
    channel.close();
  });

  it('v2.routing.queues.{id}.conversations (QueueConversationEventTopicConversation): a customer call entering support is seen there, with its acd participant', async () => {
    const queueId = (await sdk.routing('getRoutingQueues', { name: 'support' })).entities[0].id as string;
    const topic = `v2.routing.queues.${queueId}.conversations`;
    const channel = await openChannel([topic]);
    // Nobody is Ready: the call waits in the queue, and the queue's topic sees it waiting.
    const callId = (await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to: 'support' })).body.callId as string;
    const waiting = await channel.until((m) => m.topicName === topic && m.eventBody.id === callId, 'the queued call');
    const acd = waiting.eventBody.participants.find((p: any) => p.purpose === 'acd');
    assert.equal(acd.queueId, queueId);
    assert.equal(acd.name, 'support');
    assert.equal(acd.calls[0].state, 'connected');
    assert.equal(waiting.eventBody.participants.find((p: any) => p.purpose === 'customer').address, CUSTOMER);
    // The REST Conversation shows the same acd participant.
    const rest = await sdk.conversations('getConversation', callId);
    const restAcd = rest.participants.find((p: any) => p.purpose === 'acd');
    assert.equal(restAcd.queueId, queueId);
    // The acd leg has no device: nobody can act on it.
    assertErrorBody(await rejection(sdk.conversations('patchConversationsCallParticipant', callId, restAcd.id, { state: 'disconnected' }), 'acd patch'), 404, 'acd patch');
    // A member goes Ready: the call rings there, then is answered; the acd leg ends.
    assert.deepEqual((await a.post('/api/v2/me', { operationName: 'StartContactCenterSession', channels: ['voice'] })).body, { statusCode: 0 });
    assert.deepEqual((await a.post('/api/v2/me/channels/voice', { operationName: 'Ready' })).body, { statusCode: 0 });
    await channel.until((m) => m.topicName === topic && m.eventBody.participants.some((p: any) => p.address === '15000' && p.calls[0].state === 'alerting'), 'ringing at 15000');
    assert.deepEqual((await a.op(callId, 'Answer')).body, { statusCode: 0 });
    const answered = await channel.until((m) => m.topicName === topic && m.eventBody.participants.some((p: any) => p.address === '15000' && p.calls[0].state === 'connected'), 'answered');
    assert.equal(answered.eventBody.participants.find((p: any) => p.purpose === 'acd').calls[0].state, 'disconnected');
    await a.op(callId, 'Hangup');
    channel.close();
  });
});
