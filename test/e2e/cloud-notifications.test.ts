/**
 * Genesys Cloud notification channels over a real WebSocket: create a channel, subscribe to a
 * user's calls topic, and receive each change of that user's calls as a CallConversation event —
 * including a removal made through the GWS API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

describe('Cloud notification channels', () => {
  let server: TestServer;
  let token: string;
  let a: GwsClient, b: GwsClient, c: GwsClient;
  let ownerId: string;

  const cloud = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}/cloud/api/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };

  before(async () => {
    server = await startTestServer();
    const auth = Buffer.from('conclave-demo:conclave-demo').toString('base64');
    const response = await fetch(`${server.url}/cloud/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${auth}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    token = ((await response.json()) as { access_token: string }).access_token;
    [a, b, c] = ['agent15000', 'agent15001', 'agent15002'].map((u) => gws(server.url, u)) as [GwsClient, GwsClient, GwsClient];
    ownerId = (await a.get('/api/v2/me')).body.user.id;
  });
  after(async () => server?.dispose());

  it('pushes a subscribed user\'s call changes as CallConversation events', async () => {
    const channel = await cloud('POST', '/notifications/channels');
    assert.equal(channel.status, 200);
    assert.match(channel.body.connectUri, /^ws:\/\/127\.0\.0\.1:\d+\/cloud\/channels\/[0-9a-f-]{36}$/);
    const topic = `v2.users.${ownerId}.conversations.calls`;
    assert.deepEqual((await cloud('PUT', `/notifications/channels/${channel.body.id}/subscriptions`, [{ id: topic }])).body, { entities: [{ id: topic }] });
    assert.deepEqual((await cloud('GET', `/notifications/channels/${channel.body.id}/subscriptions`)).body, { entities: [{ id: topic }] });

    const received: any[] = [];
    const socket = new WebSocket(channel.body.connectUri);
    socket.on('message', (data) => received.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)));
    const until = (match: (m: any) => boolean, what: string) =>
      waitFor(() => received.find(match), 2000, () => `${what}; received ${JSON.stringify(received.map((m) => m.topicName))}`);
    await until((m) => m.topicName === 'channel.metadata' && m.eventBody.message === 'WebSocket Heartbeat', 'heartbeat');

    await a.dial('15001');
    const callId = (await b.get('/api/v2/me/calls')).body.uris[0].split('/').pop() as string;
    const dialing = await until((m) => m.topicName === topic && m.eventBody.id === callId, 'event for the new call');
    assert.equal(dialing.version, '2');
    assert.equal(typeof dialing.metadata.CorrelationId, 'string');
    assert.deepEqual(dialing.eventBody.participants.map((p: any) => [p.address, p.state]), [['15000', 'dialing'], ['15001', 'alerting']]);

    await b.op(callId, 'Answer');
    await a.op(callId, 'SingleStepConference', { destination: { phoneNumber: '15002' } });
    await c.op(callId, 'Answer');
    const from = received.length;
    assert.deepEqual((await a.op(callId, 'RemoveParticipantFromConference', { participant: '15001' })).body, { statusCode: 0 });
    const removed = await until(
      (m) => received.indexOf(m) >= from && m.eventBody?.participants?.some((p: any) => p.address === '15001' && p.state === 'disconnected'),
      'event showing 15001 disconnected',
    );
    assert.deepEqual(removed.eventBody.participants.filter((p: any) => p.state === 'connected').map((p: any) => p.address), ['15000', '15002']);
    socket.close();
  });

  it('refuses bad subscriptions and unknown channels with ErrorBodies', async () => {
    const channel = (await cloud('POST', '/notifications/channels')).body;
    const bad = await cloud('PUT', `/notifications/channels/${channel.id}/subscriptions`, [{ id: 'v2.routing.queues.x' }]);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'bad.request');
    assert.match(bad.body.message, /not supported/);
    const unknownUser = await cloud('POST', `/notifications/channels/${channel.id}/subscriptions`, [{ id: `v2.users.${'0'.repeat(32)}.conversations` }]);
    assert.equal(unknownUser.status, 400);
    assert.match(unknownUser.body.message, /unknown user/);
    assert.equal((await cloud('GET', '/notifications/channels/nope/subscriptions')).status, 404);
    assert.equal((await cloud('HEAD', `/notifications/channels/${channel.id}`)).status, 200);
    const refused = new WebSocket(`${server.url.replace('http', 'ws')}/cloud/channels/00000000-0000-0000-0000-000000000000`);
    const outcome = await new Promise<string>((resolve) => {
      refused.once('open', () => resolve('open'));
      refused.once('error', () => resolve('refused'));
      refused.once('unexpected-response', (_req, res) => resolve(`HTTP ${res.statusCode}`));
    });
    assert.equal(outcome, 'HTTP 404');
  });
});
