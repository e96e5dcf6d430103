/**
 * The Conversations API as a Cloud orchestrator uses it, through the official SDK
 * (purecloud-platform-client-v2 262) by its method names, on the same domain as GWS. Reference
 * pages followed (notes/cloud-reference.md): ConversationsApi getConversation (1.1),
 * getConversationsCall (1.2), postConversationsCallParticipants (1.3),
 * patchConversationsCallParticipant (1.4), postConversationsCallParticipantReplace (1.5),
 * postConversationsCallParticipantConsult (1.6); UsersApi getUsers/getUser/getUsersMe (1.7–1.9,
 * 3.1); RoutingApi getRoutingQueues/getRoutingQueue/getRoutingQueueMembers (1.10–1.12);
 * AnalyticsApi postAnalyticsConversationsDetailsQuery (1.13, 1.16); TokensApi deleteTokensMe (1.14,
 * 4.2); models 1.15.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO_DIRECTORY } from '../../src/directory/demo.js';
import { buildDirectory } from '../../src/directory/directory.js';
import { assertErrorBody, CloudSdk, rejection } from '../helpers/cloud-sdk.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const CUSTOMER = '+14155550100';
const OUTSIDE = '+14155550199';

let server: TestServer;
let sdk: CloudSdk;
let admin: GwsClient;
let agents: Record<string, GwsClient>;

const at = (conversation: any, address: string) => {
  const found = conversation.participants.find((p: any) => p.address === address);
  assert.ok(found, `no participant ${address} in ${JSON.stringify(conversation)}`);
  return found;
};
/** The flat CallConversation, polled until `ok` holds (Cloud writes answer 202: "asynchronous"). */
const callUntil = (id: string, ok: (c: any) => boolean, what: string): Promise<any> => {
  let last: unknown;
  return waitFor(
    async () => {
      last = await sdk.conversations('getConversationsCall', id);
      return ok(last) ? last : undefined;
    },
    5000,
    () => `${what}; last ${JSON.stringify(last)}`,
  );
};

/** A customer calls `to`, who answers through GWS: the call id. */
const customerCall = async (to: string): Promise<string> => {
  const created = await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const callId = created.body.callId as string;
  assert.deepEqual((await (agents[to] as GwsClient).op(callId, 'Answer')).body, { statusCode: 0 });
  await callUntil(callId, (c) => at(c, to).state === 'connected', `${to} connected`);
  return callId;
};

/** `from` dials `to` (an agent) and `to` answers: the call id. */
const agentCall = async (from: string, to: string): Promise<string> => {
  assert.deepEqual((await (agents[from] as GwsClient).dial(to)).body, { statusCode: 0 });
  const mine = await waitFor(async () => (await (agents[to] as GwsClient).get('/api/v2/me/calls')).body.uris?.[0], 5000, `a call at ${to}`);
  const callId = (mine as string).split('/').pop() as string;
  assert.deepEqual((await (agents[to] as GwsClient).op(callId, 'Answer')).body, { statusCode: 0 });
  await callUntil(callId, (c) => at(c, to).state === 'connected', `${to} connected`);
  return callId;
};

const hangUpAll = async () => {
  for (const client of Object.values(agents)) {
    const mine = await client.get('/api/v2/me/calls?fields=*');
    for (const call of mine.body.calls ?? []) await client.op(call.id, 'Hangup');
  }
  await waitFor(async () => (await sdk.conversations('getConversationsCalls')).entities.length === 0, 5000, 'no live calls');
};

before(async () => {
  server = await startTestServer({ externalAnswerMs: 0 });
  admin = gws(server.url, 'admin');
  agents = Object.fromEntries(['15000', '15001', '15002', '15003'].map((dn) => [dn, gws(server.url, `agent${dn}`)]));
  sdk = CloudSdk.open(server.port);
  await sdk.login('conclave-demo', 'conclave-demo');
});
after(async () => {
  await sdk?.close();
  await server?.dispose();
});

describe('getConversation and getConversationsCall on a customer call', () => {
  it('CallConversation: flat participants; the customer is `customer`, inbound, with no user', async () => {
    const callId = await customerCall('15000');
    const call = await sdk.conversations('getConversationsCall', callId);
    assert.equal(call.id, callId);
    const customer = at(call, CUSTOMER);
    assert.equal(customer.purpose, 'customer');
    assert.equal(customer.direction, 'inbound');
    assert.equal(customer.state, 'connected');
    assert.equal(customer.user, undefined);
    const agent = at(call, '15000');
    assert.equal(agent.purpose, 'agent');
    assert.equal(agent.direction, 'inbound');
    assert.equal(typeof agent.user.id, 'string');
    for (const p of [customer, agent]) {
      assert.equal(p.held, false);
      assert.equal(p.muted, false);
      assert.equal(p.confined, false);
      assert.ok(!Number.isNaN(Date.parse(p.connectedTime)), JSON.stringify(p));
      assert.equal(p.endTime, undefined);
    }
    await hangUpAll();
  });

  it('Conversation: participants carry calls[] with state, held, muted, confined; none at participant level', async () => {
    const callId = await customerCall('15000');
    const conversation = await sdk.conversations('getConversation', callId);
    assert.equal(conversation.id, callId);
    assert.ok(!Number.isNaN(Date.parse(conversation.startTime)));
    for (const p of conversation.participants) {
      assert.equal(p.state, undefined, 'Participant has no state of its own');
      assert.equal(p.calls.length, 1);
      const [leg] = p.calls;
      assert.equal(leg.state, 'connected');
      for (const field of ['held', 'muted', 'confined']) assert.equal(leg[field], false, field);
      assert.equal(typeof leg.self.addressNormalized, 'string');
      assert.equal(typeof leg.other.addressNormalized, 'string');
    }
    assert.equal(at(conversation, CUSTOMER).purpose, 'customer');
    assert.equal(typeof at(conversation, '15000').userId, 'string');
    await hangUpAll();
    // An ended conversation still reads, with its endTime and every leg disconnected.
    const ended = await sdk.conversations('getConversation', callId);
    assert.ok(!Number.isNaN(Date.parse(ended.endTime)));
    assert.ok(ended.participants.every((p: any) => p.calls[0].state === 'disconnected' && p.calls[0].disconnectedTime));
  });

  it('an outside number on an Outbound call is `external`, outbound', async () => {
    assert.deepEqual((await (agents['15002'] as GwsClient).dial(OUTSIDE)).body, { statusCode: 0 });
    const listed = await waitFor(
      async () => (await sdk.conversations('getConversationsCalls')).entities.find((c: any) => c.participants.some((p: any) => p.address === OUTSIDE && p.state === 'connected')),
      5000,
      'the outbound call, answered',
    );
    const external = at(listed, OUTSIDE);
    assert.equal(external.purpose, 'external');
    assert.equal(external.direction, 'outbound');
    assert.equal(at(listed, '15002').direction, 'outbound');
    await hangUpAll();
  });

  it('unknown conversations: 404 ErrorBodies', async () => {
    assertErrorBody(await rejection(sdk.conversations('getConversation', 'no-such-call'), 'getConversation'), 404, 'getConversation', 'not.found');
    assertErrorBody(
      await rejection(sdk.conversations('getConversationsCall', 'no-such-call'), 'getConversationsCall'),
      404,
      'getConversationsCall',
      'conversation.error.conversation.not.found',
    );
  });
});

describe('postConversationsCallParticipants: add a party by address', () => {
  it('the call becomes a conference (SingleStepConference by the agent), 200 with the Conversation', async () => {
    const callId = await customerCall('15000');
    const added = await sdk.conversations('postConversationsCallParticipants', callId, { participants: [{ address: '15001' }] });
    assert.equal(added.id, callId);
    assert.equal(at(added, '15001').calls[0].state, 'alerting');
    // 15001 answers through Cloud: PATCH {state: connected} is their Answer.
    await sdk.conversations('patchConversationsCallParticipant', callId, at(added, '15001').id, { state: 'connected' });
    const conference = await callUntil(callId, (c) => at(c, '15001').state === 'connected', '15001 connected');
    assert.deepEqual(conference.participants.map((p: any) => [p.address, p.state]), [[CUSTOMER, 'connected'], ['15000', 'connected'], ['15001', 'connected']]);
    // GWS sees the same conference.
    const gwsView = (await (agents['15000'] as GwsClient).get(`/api/v2/me/calls/${callId}`)).body.call;
    assert.deepEqual(gwsView.participants.map((p: any) => p.phoneNumber).sort(), [CUSTOMER, '15001'].sort());
    await hangUpAll();
  });

  it('bad bodies are 400 and change nothing; a client without a controlling role cannot add', async () => {
    const callId = await customerCall('15000');
    for (const body of [{}, { participants: [] }, { participants: [{}] }, { participants: [{ address: '15001' }, { address: '15002' }] }])
      assertErrorBody(await rejection(sdk.conversations('postConversationsCallParticipants', callId, body), JSON.stringify(body)), 400, JSON.stringify(body));
    assertErrorBody(await rejection(sdk.conversations('postConversationsCallParticipants', 'nope', { participants: [{ address: '15001' }] }), 'unknown call'), 404, 'unknown call');
    assert.equal((await sdk.conversations('getConversationsCall', callId)).participants.length, 2);
    await hangUpAll();
  });
});

describe('patchConversationsCallParticipant: muted, held, confined, wrapup, state', () => {
  it('muted and held are the party\'s own MuteCall/Hold; confined is refused; wrapup is attached data', async () => {
    const callId = await customerCall('15000');
    await sdk.conversations('postConversationsCallParticipants', callId, { participants: [{ address: '15001' }] });
    const b = at(await sdk.conversations('getConversationsCall', callId), '15001');
    await sdk.conversations('patchConversationsCallParticipant', callId, b.id, { state: 'connected' });
    await callUntil(callId, (c) => at(c, '15001').state === 'connected', '15001 connected');

    await sdk.conversations('patchConversationsCallParticipant', callId, b.id, { muted: true });
    await callUntil(callId, (c) => at(c, '15001').muted === true, '15001 muted');
    assert.equal((await (agents['15001'] as GwsClient).get(`/api/v2/me/calls/${callId}`)).body.call.mute, 'On');
    // PATCH is a desired state: repeating it is no error.
    await sdk.conversations('patchConversationsCallParticipant', callId, b.id, { muted: true });
    await sdk.conversations('patchConversationsCallParticipant', callId, b.id, { muted: false });
    await callUntil(callId, (c) => at(c, '15001').muted === false, '15001 unmuted');

    await sdk.conversations('patchConversationsCallParticipant', callId, b.id, { held: true });
    const held = await callUntil(callId, (c) => at(c, '15001').held === true, '15001 held');
    assert.equal(at(held, '15001').state, 'connected');
    assert.equal((await sdk.conversations('getConversation', callId)).participants.find((p: any) => p.address === '15001').calls[0].held, true);
    await sdk.conversations('patchConversationsCallParticipant', callId, b.id, { held: false });
    await callUntil(callId, (c) => at(c, '15001').held === false, '15001 retrieved');

    const confined = await rejection(sdk.conversations('patchConversationsCallParticipant', callId, b.id, { confined: true }), 'confined');
    assertErrorBody(confined, 400, 'confined', 'conversation.error.cannot.confine.party');

    await sdk.conversations('patchConversationsCallParticipant', callId, b.id, { wrapup: { code: 'sale', notes: 'upsold' } });
    const wrapped = await callUntil(callId, (c) => at(c, '15001').wrapup?.code === 'sale', 'wrapup');
    assert.equal(at(wrapped, '15001').wrapup.notes, 'upsold');
    assertErrorBody(await rejection(sdk.conversations('patchConversationsCallParticipant', callId, b.id, { wrapup: { notes: 'x' } }), 'wrapup without code'), 400, 'no code', 'conversation.error.wrapup.code.required');

    // The customer cannot be muted or held as themselves (no user): 400, unchanged.
    const customer = at(wrapped, CUSTOMER);
    assertErrorBody(await rejection(sdk.conversations('patchConversationsCallParticipant', callId, customer.id, { held: true }), 'hold customer'), 400, 'hold customer');
    // ... but can be removed from the conference: only they leave.
    await sdk.conversations('patchConversationsCallParticipant', callId, customer.id, { state: 'disconnected' });
    const left = await callUntil(callId, (c) => at(c, CUSTOMER).state === 'disconnected', 'customer disconnected');
    assert.ok(at(left, CUSTOMER).endTime);
    assert.deepEqual(left.participants.filter((p: any) => p.state === 'connected').map((p: any) => p.address), ['15000', '15001']);
    await hangUpAll();
  });

  it('muting a party of a two-party call is refused (GWS mutes in conferences only), and nothing changes', async () => {
    const callId = await agentCall('15000', '15001');
    const b = at(await sdk.conversations('getConversationsCall', callId), '15001');
    assertErrorBody(await rejection(sdk.conversations('patchConversationsCallParticipant', callId, b.id, { muted: true }), 'mute'), 400, 'mute');
    assert.equal(at(await sdk.conversations('getConversationsCall', callId), '15001').muted, false);
    for (const body of [{}, { state: 'parked' }, { held: 'yes' }, { recording: true }, { state: 'disconnected', held: true }])
      assertErrorBody(await rejection(sdk.conversations('patchConversationsCallParticipant', callId, b.id, body), JSON.stringify(body)), 400, JSON.stringify(body));
    await hangUpAll();
  });
});

describe('postConversationsCallParticipantReplace and postConversationsCallParticipantConsult', () => {
  it('replace is a blind transfer (SingleStepTransfer by that participant): 202, the address rings on the same call', async () => {
    const callId = await customerCall('15000');
    const agent = at(await sdk.conversations('getConversationsCall', callId), '15000');
    const response = await sdk.conversations('postConversationsCallParticipantReplace', callId, agent.id, { address: '15002' });
    assert.ok(response === undefined || response === '', JSON.stringify(response));
    const moved = await callUntil(callId, (c) => c.participants.some((p: any) => p.address === '15002'), '15002 on the call');
    assert.equal(at(moved, '15000').state, 'disconnected');
    assert.equal(at(moved, '15002').state, 'alerting');
    assert.equal(at(moved, CUSTOMER).state, 'connected');
    const same = await rejection(sdk.conversations('postConversationsCallParticipantReplace', callId, at(moved, CUSTOMER).id, {}), 'no address');
    assertErrorBody(same, 400, 'no address');
    await hangUpAll();
  });

  it('consult places a consultation (InitiateTransfer by the other agent): 200 {destinationParticipantId}', async () => {
    const callId = await agentCall('15000', '15001');
    const b = at(await sdk.conversations('getConversationsCall', callId), '15001');
    const answer = await sdk.conversations('postConversationsCallParticipantConsult', callId, b.id, { speakTo: 'destination', destination: { address: '15002' } });
    assert.deepEqual(Object.keys(answer), ['destinationParticipantId']);
    const consult = await waitFor(
      async () => (await sdk.conversations('getConversationsCalls')).entities.find((c: any) => c.id !== callId && c.participants.some((p: any) => p.id === answer.destinationParticipantId)),
      5000,
      'the consultation listing the destination participant',
    );
    assert.equal(at(consult, '15002').id, answer.destinationParticipantId);
    assert.equal(at(consult, '15002').state, 'alerting');
    assert.equal(at(await sdk.conversations('getConversationsCall', callId), '15000').held, true, 'the consulting agent holds the first call');
    assertErrorBody(
      await rejection(sdk.conversations('postConversationsCallParticipantConsult', callId, b.id, { speakTo: 'sideways', destination: { address: '15003' } }), 'bad speakTo'),
      400,
      'bad speakTo',
    );
    await hangUpAll();
  });
});

describe('postAnalyticsConversationsDetailsQuery', () => {
  const day = () => {
    const now = Date.now();
    return `${new Date(now - 3_600_000).toISOString()}/${new Date(now + 3_600_000).toISOString()}`;
  };

  it("finds a user's active conversations by userId with conversationEnd notExists; ended ones only without that filter", async () => {
    const userId = (await sdk.users('getUsers', { pageSize: 100 })).entities.find((u: any) => u.username === 'agent15003').id;
    const ended = await customerCall('15003');
    await hangUpAll();
    const live = await customerCall('15003');
    const bySegment = { type: 'or', predicates: [{ type: 'dimension', dimension: 'userId', operator: 'matches', value: userId }] };
    const active = await sdk.analytics('postAnalyticsConversationsDetailsQuery', {
      interval: day(),
      order: 'asc',
      orderBy: 'conversationStart',
      paging: { pageSize: 25, pageNumber: 1 },
      segmentFilters: [bySegment],
      conversationFilters: [{ type: 'and', predicates: [{ type: 'dimension', dimension: 'conversationEnd', operator: 'notExists' }] }],
    });
    assert.equal(active.totalHits, 1);
    const [conversation] = active.conversations;
    assert.equal(conversation.conversationId, live);
    assert.equal(conversation.conversationEnd, undefined);
    assert.equal(conversation.originatingDirection, 'inbound');
    const mine = conversation.participants.find((p: any) => p.userId === userId);
    assert.equal(mine.purpose, 'agent');
    assert.equal(mine.sessions[0].mediaType, 'voice');
    assert.ok(mine.sessions[0].segments.some((s: any) => s.segmentType === 'interact' && s.segmentEnd === undefined));
    assert.equal(conversation.participants.find((p: any) => p.purpose === 'customer').userId, undefined);

    const all = await sdk.analytics('postAnalyticsConversationsDetailsQuery', { interval: day(), segmentFilters: [bySegment] });
    assert.deepEqual(all.conversations.map((c: any) => c.conversationId), [ended, live]);
    assert.ok(all.conversations[0].conversationEnd);

    const nobody = await sdk.analytics('postAnalyticsConversationsDetailsQuery', {
      interval: day(),
      segmentFilters: [{ type: 'and', predicates: [{ dimension: 'userId', value: '0'.repeat(32) }] }],
    });
    assert.equal(nobody.totalHits, 0);
    assert.equal(nobody.conversations, undefined, 'Cloud leaves conversations out when nothing matches');
    await hangUpAll();
  });

  it('a query without an interval, a bad interval or a filter it cannot judge is a 400 that names it', async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /interval/],
      [{ interval: 'yesterday' }, /interval/],
      [{ interval: day(), segmentFilters: [{ type: 'and', predicates: [{ dimension: 'wrapUpCode', value: 'x' }] }] }, /wrapUpCode/],
      [{ interval: day(), conversationFilters: [{ type: 'and', predicates: [{ type: 'metric', metric: 'tTalk' }] }] }, /dimension/],
    ];
    for (const [body, message] of cases) {
      const error = await rejection(sdk.analytics('postAnalyticsConversationsDetailsQuery', body), JSON.stringify(body));
      assertErrorBody(error, 400, JSON.stringify(body));
      assert.match(error.message, message);
    }
  });
});

describe('users and routing queues', () => {
  it('getUsers lists the directory (not the system compliance user); getUser has the User fields', async () => {
    const listing = await sdk.users('getUsers', { pageSize: 100 });
    assert.equal(listing.total, DEMO_DIRECTORY.users.length);
    assert.ok(!listing.entities.some((u: any) => u.username === 'conclave-compliance'));
    const agent = listing.entities.find((u: any) => u.username === 'agent15000');
    assert.equal(agent.state, 'active');
    assert.equal(agent.version, 1);
    assert.ok(agent.addresses.some((a: any) => a.address === '15000' && a.mediaType === 'PHONE'));
    const one = await sdk.users('getUser', agent.id, { expand: ['presence', 'routingStatus'] });
    assert.equal(one.id, agent.id);
    assert.equal(one.name, agent.name);
    assert.equal(typeof one.presence.presenceDefinition.systemPresence, 'string');
    assert.equal(typeof one.routingStatus.status, 'string');
    const paged = await sdk.users('getUsers', { pageSize: 2, pageNumber: 2 });
    assert.equal(paged.entities.length, 2);
    assert.equal(paged.pageNumber, 2);
    assertErrorBody(await rejection(sdk.users('getUser', '0'.repeat(32)), 'unknown user'), 404, 'unknown user');
  });

  it('getUsersMe with a client-credentials token: 400 not.a.user', async () => {
    const error = await rejection(sdk.users('getUsersMe'), 'getUsersMe');
    assertErrorBody(error, 400, 'getUsersMe', 'not.a.user');
    assert.match(error.message, /requires a user context/);
  });

  it('routing queues (RoutingApi 1.10–1.12): getRoutingQueues lists support with a stable id, getRoutingQueue, getRoutingQueueMembers the four agents', async () => {
    const queues = await sdk.routing('getRoutingQueues', { pageSize: 25 });
    assert.equal(queues.total, 1);
    const support = queues.entities[0];
    assert.equal(support.name, 'support');
    assert.match(support.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal((await sdk.routing('getRoutingQueues', { name: 'supp*' })).entities[0].id, support.id);
    const one = await sdk.routing('getRoutingQueue', support.id);
    assert.equal(one.id, support.id);
    assert.equal(one.name, 'support');
    const members = await sdk.routing('getRoutingQueueMembers', support.id, { pageSize: 25 });
    const users = (await sdk.users('getUsers', { pageSize: 100 })).entities;
    const expected = ['agent15000', 'agent15001', 'agent15002', 'agent15003'].map((n) => users.find((u: any) => u.username === n).id);
    assert.deepEqual(members.entities.map((m: any) => m.id), expected);
    assert.deepEqual(members.entities.map((m: any) => m.user.id), expected);
    // A queue is named by its id, not its name.
    assertErrorBody(await rejection(sdk.routing('getRoutingQueue', 'support'), 'getRoutingQueue'), 404, 'getRoutingQueue', 'not.found');
    assertErrorBody(await rejection(sdk.routing('getRoutingQueueMembers', 'support'), 'getRoutingQueueMembers'), 404, 'getRoutingQueueMembers', 'not.found');
  });
});

describe('tokens: revocation and expiry', () => {
  it('deleteTokensMe revokes the token that made it: the next request is 401 bad.credentials; a new login works', async () => {
    const other = CloudSdk.open(server.port);
    try {
      await other.login('conclave-demo', 'conclave-demo');
      await other.users('getUsers');
      await other.tokens('deleteTokensMe');
      assertErrorBody(await rejection(other.users('getUsers'), 'revoked'), 401, 'revoked', 'bad.credentials');
      await sdk.users('getUsers'); // another token of the same client is untouched
      await other.login('conclave-demo', 'conclave-demo');
      await other.users('getUsers');
    } finally {
      await other.close();
    }
  });

  it('a token lives tokenTtlS seconds (the client\'s configuration): then 401 bad.credentials', async () => {
    const directory = buildDirectory(
      { users: DEMO_DIRECTORY.users, clients: [{ clientId: 'brief', clientSecret: 's', roles: ['ROLE_ADMIN'], tokenTtlS: 1 }] },
      'short-token directory',
    );
    const short = await startTestServer({ directory });
    const client = CloudSdk.open(short.port);
    try {
      const auth = await client.login('brief', 's');
      assert.ok(auth.tokenExpiryTime - Date.now() <= 1000, 'the SDK read expires_in 1');
      const raw = await fetch(`${short.url}/cloud/oauth/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('brief:s').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      assert.equal(((await raw.json()) as { expires_in: number }).expires_in, 1);
      const error = await waitFor(() => client.users('getUsers').then(() => undefined, (e) => e), 3000, 'the token to expire');
      assertErrorBody(error, 401, 'expired', 'bad.credentials');
    } finally {
      await client.close();
      await short.dispose();
    }
  });
});
