/**
 * The Genesys Cloud–compatible dialect, end to end, through the official SDK
 * (`purecloud-platform-client-v2`, pointed at /cloud with setGateway) on one side and GWS v2 over
 * HTTP and the official CometD client on the other: one domain, two dialects.
 *
 * The SDK runs in a worker thread (see helpers/cloud-sdk-worker.ts): it refuses the client
 * credentials grant when `window` exists, and the CometD helper defines `window` here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO_DIRECTORY } from '../../src/directory/demo.js';
import { buildDirectory } from '../../src/directory/directory.js';
import { assertErrorBody, CloudSdk, rejection } from '../helpers/cloud-sdk.js';
import { callNote, listen, type Listener, type Notification } from '../helpers/cometd.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { clockMovesOn } from '../helpers/wait.js';

const DOCUMENTED_REMOVAL = 'PATCH /api/v2/conversations/calls/{conversationId}/participants/{participantId}';
const PURPOSES = ['agent', 'user', 'customer', 'external', 'acd', 'ivr'];

const isIsoTime = (value: unknown) => typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value) && !Number.isNaN(Date.parse(value));

// ---------------------------------------------------------------------------------------------
// GWS agents 15000, 15001, 15002, with their notifications.

interface World {
  readonly server: TestServer;
  readonly a: GwsClient;
  readonly b: GwsClient;
  readonly c: GwsClient;
  readonly la: Listener;
  readonly lb: Listener;
  readonly lc: Listener;
}

const openWorld = async (server: TestServer): Promise<World> => {
  const users = ['agent15000', 'agent15001', 'agent15002'];
  const [a, b, c] = users.map((u) => gws(server.url, u)) as [GwsClient, GwsClient, GwsClient];
  const [la, lb, lc] = (await Promise.all(users.map((u) => listen(server.url, u)))) as [Listener, Listener, Listener];
  return { server, a, b, c, la, lb, lc };
};

const closeWorld = async (world: World | undefined) => {
  if (!world) return;
  await Promise.all([world.la, world.lb, world.lc].map((l) => l.disconnect()));
};

/** The first notification at or after `mark` that matches. */
const nextAfter = (l: Listener, mark: number, match: (n: Notification) => boolean, what: string) =>
  l.next((n) => l.received.indexOf(n) >= mark && match(n), 5000, `${what} (for ${l.user})`);

/** 15000 dials 15001 and 15001 answers: the call id. */
const twoPartyCall = async ({ a, b, la, lb }: World): Promise<string> => {
  const marks = { a: la.received.length, b: lb.received.length };
  assert.deepEqual((await a.dial('15001')).body, { statusCode: 0 });
  const ringing = await nextAfter(lb, marks.b, callNote('StatusChange', { state: 'Ringing' }), 'Ringing');
  const callId = ringing.data.call.id as string;
  assert.deepEqual((await b.op(callId, 'Answer')).body, { statusCode: 0 });
  await nextAfter(la, marks.a, callNote('StatusChange', { id: callId, state: 'Established' }), 'Established');
  return callId;
};

/** The two-party call, then 15000 SingleStepConference 15002, and 15002 answers: the call id. */
const threePartyConference = async (world: World): Promise<string> => {
  const { a, c, lb, lc } = world;
  const callId = await twoPartyCall(world);
  const marks = { b: lb.received.length, c: lc.received.length };
  assert.deepEqual((await a.op(callId, 'SingleStepConference', { destination: { phoneNumber: '15002' } })).body, { statusCode: 0 });
  await nextAfter(lc, marks.c, callNote('StatusChange', { id: callId, state: 'Ringing' }), 'Ringing');
  assert.deepEqual((await c.op(callId, 'Answer')).body, { statusCode: 0 });
  await nextAfter(lc, marks.c, callNote('StatusChange', { id: callId, state: 'Established' }), 'Established');
  await nextAfter(lb, marks.b, callNote('ParticipantsUpdated', { id: callId }), 'ParticipantsUpdated');
  await caughtUp(world);
  return callId;
};

/** Every listener has caught up: what the requests so far sent them has arrived (Listener.caughtUp). */
const caughtUp = (world: World) => Promise.all([world.la, world.lb, world.lc].map((l) => l.caughtUp()));

/** Hangs up whatever call each agent still has, so that tests do not see each other's calls. */
const hangUpAll = async (world: World) => {
  for (const client of [world.a, world.b, world.c]) {
    const mine = await client.get('/api/v2/me/calls?fields=*');
    for (const call of mine.body.calls ?? []) await client.op(call.id, 'Hangup');
  }
  await caughtUp(world);
};

const participantAt = (conversation: any, dn: string) => {
  const found = conversation.participants.find((p: any) => p.address === dn && !p.monitoredParticipantId);
  assert.ok(found, `no participant with address ${dn} in ${JSON.stringify(conversation)}`);
  return found;
};

const phoneNumbers = (n: Notification) => n.data.call.participants.map((p: any) => p.phoneNumber).sort();

// ---------------------------------------------------------------------------------------------

describe('Genesys Cloud dialect through the official SDK (demo directory)', () => {
  let server: TestServer;
  let world: World;
  let sdk: CloudSdk;

  before(async () => {
    server = await startTestServer();
    world = await openWorld(server);
    sdk = CloudSdk.open(server.port);
    await sdk.login('conclave-demo', 'conclave-demo');
  });
  after(async () => {
    await sdk?.close();
    await closeWorld(world);
    await server?.dispose();
  });

  describe('OAuth client credentials', () => {
    it('loginClientCredentialsGrant succeeds with the demo client; POST /cloud/oauth/token answers {access_token, token_type, expires_in}', async () => {
      const fresh = CloudSdk.open(server.port);
      try {
        const auth = await fresh.login('conclave-demo', 'conclave-demo');
        assert.equal(typeof auth.accessToken, 'string');
        assert.ok(auth.accessToken.length > 0);
        assert.ok(auth.tokenExpiryTime > Date.now());
        // The token works: an API call through the same SDK instance.
        const calls = await fresh.conversations('getConversationsCalls');
        assert.ok(Array.isArray(calls.entities), JSON.stringify(calls));
      } finally {
        await fresh.close();
      }

      const response = await fetch(`${server.url}/cloud/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from('conclave-demo:conclave-demo').toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      });
      assert.equal(response.status, 200);
      const body = (await response.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
      assert.equal(typeof body['access_token'], 'string');
      assert.equal(body['token_type'], 'bearer');
      assert.equal(typeof body['expires_in'], 'number');
      assert.ok((body['expires_in'] as number) > 0);
    });

    it('a wrong secret or an unknown client is refused', async () => {
      const fresh = CloudSdk.open(server.port);
      try {
        for (const [id, secret] of [['conclave-demo', 'wrong'], ['nobody', 'conclave-demo']] as const) {
          const error = await rejection(fresh.login(id, secret), `login ${id}:${secret}`);
          assert.equal(error.status, 401, JSON.stringify(error));
        }
        // Without a token, the API refuses the SDK with an ErrorBody.
        assertErrorBody(await rejection(fresh.conversations('getConversationsCalls'), 'GET without login'), 401, 'GET without login');
      } finally {
        await fresh.close();
      }
    });

    it('an API request without a bearer token, or with a bad one, answers 401 with an ErrorBody', async () => {
      const good = await sdk.login('conclave-demo', 'conclave-demo');
      const cases: [string, Record<string, string>][] = [
        ['no Authorization', {}],
        ['a made-up bearer token', { authorization: 'Bearer not-a-token' }],
        ['a tampered token', { authorization: `Bearer ${good.accessToken}x` }],
        ['HTTP Basic client credentials', { authorization: `Basic ${Buffer.from('conclave-demo:conclave-demo').toString('base64')}` }],
        ['GWS user credentials', { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }],
      ];
      for (const [name, headers] of cases) {
        const response = await fetch(`${server.url}/cloud/api/v2/conversations/calls`, { headers });
        assert.equal(response.status, 401, name);
        assertErrorBody(await response.json(), 401, name);
      }
      // The SDK with a bad token sees the ErrorBody as its rejection.
      const fresh = CloudSdk.open(server.port);
      try {
        await fresh.token('not-a-token');
        assertErrorBody(await rejection(fresh.conversations('getConversationsCalls'), 'SDK with a bad token'), 401, 'SDK with a bad token');
      } finally {
        await fresh.close();
      }
    });
  });

  describe('conversations', () => {
    it('a three-party GWS conference is a CallConversation with its three participants', async () => {
      const callId = await threePartyConference(world);
      const conversation = await sdk.conversations('getConversationsCall', callId);
      assert.equal(conversation.id, callId);
      const people = conversation.participants.filter((p: any) => !p.monitoredParticipantId);
      assert.deepEqual(people.map((p: any) => p.address).sort(), ['15000', '15001', '15002']);
      assert.equal(new Set(people.map((p: any) => p.id)).size, 3, 'participant ids are distinct');

      for (const client of [world.a, world.b, world.c]) {
        const me = (await client.get('/api/v2/me')).body.user;
        const dn = client.user.replace('agent', '');
        const p = participantAt(conversation, dn);
        assert.equal(typeof p.id, 'string');
        assert.ok(p.id.length > 0);
        assert.equal(p.name, `${me.firstName} ${me.lastName}`, dn);
        assert.ok(PURPOSES.includes(p.purpose), `${dn} purpose ${p.purpose}`);
        assert.equal(p.state, 'connected', dn);
        assert.equal(p.user?.id, me.id, `${dn} user.id is the directory user id`);
        assert.equal(p.held, false, dn);
        assert.equal(p.muted, false, dn);
        assert.equal(p.confined, false, dn);
        assert.ok(isIsoTime(p.connectedTime), `${dn} connectedTime ${p.connectedTime}`);
        assert.equal(p.endTime, undefined, `${dn} has no endTime while connected`);
      }

      const list = await sdk.conversations('getConversationsCalls');
      const listed = list.entities.find((e: any) => e.id === callId);
      assert.ok(listed, `getConversationsCalls lists ${callId}: ${JSON.stringify(list)}`);
      assert.deepEqual(listed.participants.map((p: any) => p.address).sort(), people.map((p: any) => p.address).sort());
      await hangUpAll(world);
    });

    it('PATCH participant {state: disconnected} removes exactly that participant, and GWS clients see it (the done-when)', async () => {
      const { a, la, lb, lc } = world;
      const callId = await threePartyConference(world);
      const before = await sdk.conversations('getConversationsCall', callId);
      const target = participantAt(before, '15001');
      const marks = { a: la.received.length, b: lb.received.length, c: lc.received.length };

      await sdk.extended(true);
      let reply: any;
      try {
        reply = await sdk.conversations('patchConversationsCallParticipant', callId, target.id, { state: 'disconnected' });
      } finally {
        await sdk.extended(false);
      }
      assert.equal(reply.status, 202, JSON.stringify(reply));
      assert.ok(reply.body === '' || reply.body === undefined || reply.body === null, `empty body, got ${JSON.stringify(reply.body)}`);

      // GWS: the owner sees 15002 only, 15001 is Released, 15002 sees the owner only.
      const owner = await nextAfter(la, marks.a, callNote('ParticipantsUpdated', { id: callId }), 'ParticipantsUpdated');
      assert.deepEqual(phoneNumbers(owner), ['15002']);
      assert.equal(owner.data.call.state, 'Established');
      const removed = await nextAfter(lb, marks.b, callNote('StatusChange', { id: callId, state: 'Released' }), 'Released');
      assert.equal(removed.data.phoneNumber, '15001');
      const third = await nextAfter(lc, marks.c, callNote('ParticipantsUpdated', { id: callId }), 'ParticipantsUpdated');
      assert.deepEqual(phoneNumbers(third), ['15000']);
      assert.equal(third.data.call.state, 'Established');
      await caughtUp(world);
      assert.ok(
        !la.received.slice(marks.a).some(callNote('StatusChange', { id: callId, state: 'Released' })) &&
          !lc.received.slice(marks.c).some(callNote('StatusChange', { id: callId, state: 'Released' })),
        'the others stay on the call',
      );
      const ownerView = await a.get(`/api/v2/me/calls/${callId}`);
      assert.equal(ownerView.body.call.state, 'Established');
      assert.deepEqual(ownerView.body.call.participants.map((p: any) => p.phoneNumber), ['15002']);

      // Cloud: 15001 disconnected with an endTime; the others still connected.
      const afterwards = await sdk.conversations('getConversationsCall', callId);
      const gone = participantAt(afterwards, '15001');
      assert.equal(gone.id, target.id, 'the participant keeps its id');
      assert.equal(gone.state, 'disconnected');
      assert.ok(isIsoTime(gone.endTime), `endTime ${gone.endTime}`);
      assert.ok(Date.parse(gone.endTime) >= Date.parse(gone.connectedTime), 'endTime is not before connectedTime');
      for (const dn of ['15000', '15002']) assert.equal(participantAt(afterwards, dn).state, 'connected', dn);
      const list = await sdk.conversations('getConversationsCalls');
      assert.ok(list.entities.some((e: any) => e.id === callId), 'the conversation goes on');
      await hangUpAll(world);
    });

    it("a participant conferenced in later has their own connectedTime (when they joined)", async () => {
      const { a, c, lc } = world;
      const callId = await twoPartyCall(world);
      // Strictly later than the call's start, so that a connectedTime copied from it would show.
      const conferencedAt = await clockMovesOn();
      const mark = lc.received.length;
      await a.op(callId, 'SingleStepConference', { destination: { phoneNumber: '15002' } });
      await nextAfter(lc, mark, callNote('StatusChange', { id: callId, state: 'Ringing' }), 'Ringing');
      await c.op(callId, 'Answer');
      await nextAfter(lc, mark, callNote('StatusChange', { id: callId, state: 'Established' }), 'Established');
      const joined = participantAt(await sdk.conversations('getConversationsCall', callId), '15002');
      await hangUpAll(world);
      assert.ok(
        Date.parse(joined.connectedTime) >= conferencedAt,
        `15002 connectedTime ${joined.connectedTime} should not be before it was conferenced in (${new Date(conferencedAt).toISOString()})`,
      );
    });

    it("a disconnected participant's endTime is when they left", async () => {
      const { lb } = world;
      const callId = await threePartyConference(world);
      // Strictly later than every join, so that an endTime copied from one would show.
      const removedAt = await clockMovesOn();
      const mark = lb.received.length;
      const target = participantAt(await sdk.conversations('getConversationsCall', callId), '15001');
      await sdk.conversations('patchConversationsCallParticipant', callId, target.id, { state: 'disconnected' });
      await nextAfter(lb, mark, callNote('StatusChange', { id: callId, state: 'Released' }), 'Released');
      const gone = participantAt(await sdk.conversations('getConversationsCall', callId), '15001');
      await hangUpAll(world);
      assert.ok(
        Date.parse(gone.endTime) >= removedAt,
        `15001 endTime ${gone.endTime} should not be before it was disconnected (${new Date(removedAt).toISOString()})`,
      );
    });

    it('a GWS RemoveParticipantFromConference makes the participant disconnected in the Cloud view', async () => {
      const { a, lb } = world;
      const callId = await threePartyConference(world);
      const target = participantAt(await sdk.conversations('getConversationsCall', callId), '15001');
      const mark = lb.received.length;
      assert.deepEqual((await a.op(callId, 'RemoveParticipantFromConference', { participant: '15001' })).body, { statusCode: 0 });
      await nextAfter(lb, mark, callNote('StatusChange', { id: callId, state: 'Released' }), 'Released');

      const conversation = await sdk.conversations('getConversationsCall', callId);
      const gone = participantAt(conversation, '15001');
      assert.equal(gone.id, target.id);
      assert.equal(gone.state, 'disconnected');
      assert.ok(isIsoTime(gone.endTime), `endTime ${gone.endTime}`);
      for (const dn of ['15000', '15002']) assert.equal(participantAt(conversation, dn).state, 'connected', dn);

      // Disconnecting them again is a clear refusal, not a success nor a teardown.
      const again = await rejection(
        sdk.conversations('patchConversationsCallParticipant', callId, target.id, { state: 'disconnected' }),
        'PATCH a participant already gone',
      );
      assert.ok([400, 404, 409].includes(again.status), JSON.stringify(again));
      assertErrorBody(again, again.status, 'PATCH a participant already gone');
      assert.equal((await a.get(`/api/v2/me/calls/${callId}`)).body.call.state, 'Established');
      await hangUpAll(world);
    });
  });

  describe('errors reach the SDK as ErrorBody', () => {
    it('PATCH an unknown participant, or in an unknown conversation: 404', async () => {
      const callId = await threePartyConference(world);
      const unknown = await rejection(
        sdk.conversations('patchConversationsCallParticipant', callId, '00000000-0000-0000-0000-000000000000', { state: 'disconnected' }),
        'unknown participant',
      );
      assertErrorBody(unknown, 404, 'unknown participant');
      const target = participantAt(await sdk.conversations('getConversationsCall', callId), '15001');
      const noCall = await rejection(
        sdk.conversations('patchConversationsCallParticipant', 'no-such-conversation', target.id, { state: 'disconnected' }),
        'unknown conversation',
      );
      assertErrorBody(noCall, 404, 'unknown conversation');
      assertErrorBody(await rejection(sdk.conversations('getConversationsCall', 'no-such-conversation'), 'GET unknown'), 404, 'GET unknown');
      assert.equal(participantAt(await sdk.conversations('getConversationsCall', callId), '15001').state, 'connected');
      await hangUpAll(world);
    });

    it("PATCH a two-party call's participant: 400 pointing to disconnect, and the call goes on", async () => {
      const { a, b } = world;
      const callId = await twoPartyCall(world);
      const target = participantAt(await sdk.conversations('getConversationsCall', callId), '15001');
      const error = await rejection(
        sdk.conversations('patchConversationsCallParticipant', callId, target.id, { state: 'disconnected' }),
        'two-party PATCH',
      );
      assertErrorBody(error, 400, 'two-party PATCH');
      assert.match(error.message, /disconnect/);
      for (const client of [a, b]) assert.equal((await client.get(`/api/v2/me/calls/${callId}`)).body.call.state, 'Established', client.user);
      await hangUpAll(world);
    });

    it('PATCH {muted: true} in a conference is that party\'s own MuteCall: 202, muted in both dialects', async () => {
      const callId = await threePartyConference(world);
      const target = participantAt(await sdk.conversations('getConversationsCall', callId), '15001');
      await sdk.conversations('patchConversationsCallParticipant', callId, target.id, { muted: true });
      const after = participantAt(await sdk.conversations('getConversationsCall', callId), '15001');
      assert.equal(after.state, 'connected');
      assert.equal(after.muted, true);
      assert.equal((await world.b.get(`/api/v2/me/calls/${callId}`)).body.call.mute, 'On');
      await hangUpAll(world);
    });

    it('DELETE and POST /api/v2/conversations/conferences/{id}/participants/{pid}: 404 naming the documented PATCH', async () => {
      const callId = await threePartyConference(world);
      const target = participantAt(await sdk.conversations('getConversationsCall', callId), '15001');
      for (const method of ['DELETE', 'POST']) {
        const error = await rejection(
          sdk.callApi('/api/v2/conversations/conferences/{conversationId}/participants/{participantId}', method, {
            conversationId: callId,
            participantId: target.id,
          }),
          `${method} conferences`,
        );
        assertErrorBody(error, 404, `${method} conferences`);
        assert.ok(error.message.includes(DOCUMENTED_REMOVAL), `${method}: ${error.message}`);
      }
      assert.equal(participantAt(await sdk.conversations('getConversationsCall', callId), '15001').state, 'connected');
      await hangUpAll(world);
    });
  });

  describe('postConversationDisconnect (a bodiless POST with Content-Type: application/json)', () => {
    it('on a two-party call: the call is Released for both GWS parties', async () => {
      const { la, lb } = world;
      const callId = await twoPartyCall(world);
      const marks = { a: la.received.length, b: lb.received.length };
      await sdk.conversations('postConversationDisconnect', callId);
      await nextAfter(la, marks.a, callNote('StatusChange', { id: callId, state: 'Released' }), 'Released');
      await nextAfter(lb, marks.b, callNote('StatusChange', { id: callId, state: 'Released' }), 'Released');
      const conversation = await sdk.conversations('getConversationsCall', callId);
      for (const dn of ['15000', '15001']) assert.equal(participantAt(conversation, dn).state, 'disconnected', dn);
      const list = await sdk.conversations('getConversationsCalls');
      assert.ok(!list.entities.some((e: any) => e.id === callId), 'an ended call is not listed');
      await caughtUp(world);
    });

    it('on a conference, sent raw (no body, Content-Type: application/json): 202, Released for all three GWS parties', async () => {
      const { la, lb, lc } = world;
      const callId = await threePartyConference(world);
      const marks = [la, lb, lc].map((l) => l.received.length);
      const { accessToken } = await sdk.login('conclave-demo', 'conclave-demo');
      const response = await fetch(`${server.url}/cloud/api/v2/conversations/${callId}/disconnect`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      });
      assert.equal(response.status, 202, await response.clone().text());
      assert.equal(await response.text(), '');
      await Promise.all(
        [la, lb, lc].map((l, i) => nextAfter(l, marks[i] as number, callNote('StatusChange', { id: callId, state: 'Released' }), 'Released')),
      );
      await hangUpAll(world);
    });
  });
});

describe('Genesys Cloud dialect: a client without a controlling role', () => {
  let server: TestServer;
  let world: World;
  let viewer: CloudSdk;

  before(async () => {
    const directory = buildDirectory(
      // An agent-level client reads its own user's conversations only (cloud-least-privilege.test.ts):
      // this one acts for the conference's owner, agent15000.
      { users: DEMO_DIRECTORY.users, clients: [{ clientId: 'viewer', clientSecret: 's', roles: ['ROLE_AGENT'], userName: 'agent15000' }] },
      'cloud viewer directory',
    );
    server = await startTestServer({ directory });
    world = await openWorld(server);
    viewer = CloudSdk.open(server.port);
    await viewer.login('viewer', 's');
  });
  after(async () => {
    await viewer?.close();
    await closeWorld(world);
    await server?.dispose();
  });

  it('can GET conversations, but its PATCH and disconnect answer 403 and change nothing', async () => {
    const callId = await threePartyConference(world);
    const list = await viewer.conversations('getConversationsCalls');
    assert.ok(list.entities.some((e: any) => e.id === callId));
    const target = participantAt(await viewer.conversations('getConversationsCall', callId), '15001');

    const patch = await rejection(viewer.conversations('patchConversationsCallParticipant', callId, target.id, { state: 'disconnected' }), 'viewer PATCH');
    assertErrorBody(patch, 403, 'viewer PATCH');
    const teardown = await rejection(viewer.conversations('postConversationDisconnect', callId), 'viewer disconnect');
    assertErrorBody(teardown, 403, 'viewer disconnect');
    const writes: [string, unknown[]][] = [
      ['postConversationsCallParticipants', [callId, { participants: [{ address: '15003' }] }]],
      ['postConversationsCallParticipantReplace', [callId, target.id, { address: '15003' }]],
      ['postConversationsCallParticipantConsult', [callId, target.id, { speakTo: 'DESTINATION', destination: { address: '15003' } }]],
      ['patchConversationsCallParticipant', [callId, target.id, { held: true }]],
    ];
    for (const [method, args] of writes) assertErrorBody(await rejection(viewer.conversations(method, ...args), `viewer ${method}`), 403, `viewer ${method}`);

    await caughtUp(world);
    const conversation = await viewer.conversations('getConversationsCall', callId);
    for (const dn of ['15000', '15001', '15002']) assert.equal(participantAt(conversation, dn).state, 'connected', dn);
    const ownerView = await world.a.get(`/api/v2/me/calls/${callId}`);
    assert.deepEqual(ownerView.body.call.participants.map((p: any) => p.phoneNumber).sort(), ['15001', '15002']);
    // The demo client is not in this directory.
    const fresh = CloudSdk.open(server.port);
    try {
      assert.equal((await rejection(fresh.login('conclave-demo', 'conclave-demo'), 'demo client')).status, 401);
    } finally {
      await fresh.close();
    }
    await hangUpAll(world);
  });
});
