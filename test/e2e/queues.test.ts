/**
 * Voice queues, end to end over real HTTP and the official CometD client (CONTRACT.md "The outside
 * world: Queues"). A customer calls the `support` queue through the simulation API; the call rings
 * at the member Ready the longest (Inbound, ani = the customer, dnis = the queue DN); Reject (GWS
 * CallsReject: "only available when a call is delivered via a queue") or no answer within
 * ringTimeoutS hands it to the next member and makes the one who did not answer NotReady (the
 * AgentStateNotReady page's userState); a member going Ready takes a waiting call; a routed call
 * ending lets the next one through and starts wrap-up (AgentStateAfterCallWork's userState), then
 * Ready again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildDirectory } from '../../src/directory/directory.js';
import { callNote, listen, type Listener, type Notification } from '../helpers/cometd.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { clockMovesOn, quietFor } from '../helpers/wait.js';

const CUSTOMER = '+14155550100';
const OTHER_CUSTOMER = '+14155550199';

/** A device message on /v2/me/devices whose voice userState matches. */
const deviceNote =
  (where: { state: string; workMode?: string }) =>
  (n: Notification): boolean => {
    if (n.channel !== '/v2/me/devices') return false;
    const userState = n.data.devices?.[0]?.userState;
    return n.data.messageType === 'DeviceStateChangeMessage' && userState?.state === where.state && (where.workMode === undefined || userState.workMode === where.workMode);
  };

const after_ = (l: Listener, mark: number, match: (n: Notification) => boolean) => (n: Notification) => l.received.indexOf(n) >= mark && match(n);

const ringingCalls = (l: Listener, from: number) => l.received.slice(from).filter(callNote('StatusChange', { state: 'Ringing' }));

/** Logs the agent in on voice (StartContactCenterSession) and makes them Ready. */
const readyOnVoice = async (c: GwsClient, login = true) => {
  if (login) assert.deepEqual((await c.post('/api/v2/me', { operationName: 'StartContactCenterSession', channels: ['voice'] })).body, { statusCode: 0 });
  assert.deepEqual((await c.post('/api/v2/me/channels/voice', { operationName: 'Ready' })).body, { statusCode: 0 });
  // The next agent to go Ready is stamped strictly later: "Ready the longest" is decided.
  await clockMovesOn();
};

describe('queues: the support queue of the demo directory (ringTimeoutS 15, wrapUpS 0)', () => {
  let server: TestServer;
  let admin: GwsClient;
  const c: Record<string, GwsClient> = {};
  const l: Record<string, Listener> = {};
  const users = ['agent15000', 'agent15001', 'agent15002'];

  before(async () => {
    server = await startTestServer({ externalAnswerMs: -1 });
    admin = gws(server.url, 'admin');
    for (const u of users) {
      c[u] = gws(server.url, u);
      l[u] = await listen(server.url, u);
    }
  });
  after(async () => {
    await Promise.all(Object.values(l).map((x) => x.disconnect()));
    await server?.dispose();
  });

  const marks = async () => {
    await Promise.all(Object.values(l).map((x) => x.caughtUp()));
    return Object.fromEntries(users.map((u) => [u, l[u]!.received.length])) as Record<string, number>;
  };

  it('an inbound customer call rings at the longest-Ready member; Reject passes it to the next, the rejecter goes NotReady', async () => {
    // 15001 goes Ready first, then 15000: 15001 has been Ready the longest. 15002 has no session.
    await readyOnVoice(c.agent15001!);
    await readyOnVoice(c.agent15000!);
    const m = await marks();

    const created = await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to: 'support', userData: { account: 'A-42' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const callId = created.body.callId as string;
    assert.deepEqual(created.body, { callId, from: CUSTOMER, to: 'support' });

    const ringing = await l.agent15001!.next(after_(l.agent15001!, m.agent15001!, callNote('StatusChange', { id: callId, state: 'Ringing', callType: 'Inbound' })), 5000, '15001 rung');
    assert.equal(ringing.data.call.ani, CUSTOMER);
    assert.equal(ringing.data.call.dnis, '7000', 'the DNIS is the queue DN (as the CallsReject sample: dnis 9000)');
    assert.deepEqual(ringing.data.call.participants, [{ e164Number: CUSTOMER, formattedPhoneNumber: CUSTOMER, phoneNumber: CUSTOMER, digits: CUSTOMER }]);
    assert.equal(ringing.data.call.userData.account, 'A-42', 'user data as given');
    assert.equal(ringing.data.call.userData.RTargetRequested, 'support');
    assert.equal(ringing.data.call.userData.RTargetAgentSelected, 'agent15001');
    assert.ok((ringing.data.call.capabilities as string[]).includes('Reject'), 'a ringing queue call can be rejected');
    assert.ok((ringing.data.call.capabilities as string[]).includes('Answer'));
    await marks();
    assert.deepEqual(ringingCalls(l.agent15000!, m.agent15000!), [], 'only one member is offered the call');

    // CallsReject: the call goes back to the queue, which offers it to the next member.
    const m2 = await marks();
    assert.deepEqual((await c.agent15001!.op(callId, 'Reject')).body, { statusCode: 0 });
    await l.agent15001!.next(after_(l.agent15001!, m2.agent15001!, callNote('StatusChange', { id: callId, state: 'Released' })), 5000, 'the rejecter Released');
    const notReady = await l.agent15001!.next(after_(l.agent15001!, m2.agent15001!, deviceNote({ state: 'NotReady' })), 5000, 'the rejecter NotReady');
    assert.deepEqual(notReady.data.devices[0].userState, { id: 'NotReady', displayName: 'Not Ready', state: 'NotReady' });
    const next = await l.agent15000!.next(after_(l.agent15000!, m2.agent15000!, callNote('StatusChange', { id: callId, state: 'Ringing' })), 5000, '15000 rung');
    assert.equal(next.data.call.userData.RTargetAgentSelected, 'agent15000');

    // 15000 answers and the customer hangs up: with wrapUpS 0 the agent stays Ready, no AfterCallWork.
    assert.deepEqual((await c.agent15000!.op(callId, 'Answer')).body, { statusCode: 0 });
    await l.agent15000!.next(callNote('StatusChange', { id: callId, state: 'Established' }));
    const m3 = await marks();
    assert.deepEqual((await admin.post(`/conclave/v1/sim/calls/${callId}`, { action: 'hangup' })).body, { statusCode: 0 });
    await l.agent15000!.next(after_(l.agent15000!, m3.agent15000!, callNote('StatusChange', { id: callId, state: 'Released' })));
    await marks();
    assert.deepEqual(l.agent15000!.received.slice(m3.agent15000!).filter((n) => n.channel === '/v2/me/devices'), [], 'wrapUpS 0: no wrap-up');
    const me = await c.agent15000!.get('/api/v2/me/devices?fields=*');
    assert.equal(me.body.devices[0].userState.state, 'Ready');
  });

  it('an agent going Ready picks up a waiting call, in the same change', async () => {
    // 15000 is Ready: put them NotReady, so that nobody is Ready (15001 is NotReady since its Reject).
    assert.deepEqual((await c.agent15000!.post('/api/v2/me/channels/voice', { operationName: 'NotReady' })).body, { statusCode: 0 });
    const m = await marks();
    const created = await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to: '7000' });
    assert.equal(created.status, 201);
    const callId = created.body.callId as string;
    // Nobody is rung; the call waits in the queue.
    const waiting = (await admin.get('/conclave/v1/interactions')).body.calls.find((x: { callId: string }) => x.callId === callId);
    assert.deepEqual([waiting.queue, waiting.routedTo, waiting.parties.length], ['support', null, 1]);
    await marks();
    for (const u of users) assert.deepEqual(ringingCalls(l[u]!, m[u]!), [], `${u} is not rung while nobody is Ready`);

    // 15001 goes Ready: by the time the reply arrives, the offer is committed and sent.
    assert.deepEqual((await c.agent15001!.post('/api/v2/me/channels/voice', { operationName: 'Ready' })).body, { statusCode: 0 });
    await l.agent15001!.caughtUp();
    assert.equal(ringingCalls(l.agent15001!, m.agent15001!).filter((n) => n.data.call.id === callId).length, 1, 'the Ready agent rings');
    assert.deepEqual((await c.agent15001!.op(callId, 'Answer')).body, { statusCode: 0 });
  });

  it('a busy member is not offered another call; the routed call ending lets the next waiting call through', async () => {
    // 15001 is on the routed call of the test before; 15000 is NotReady.
    const busy = (await admin.get('/conclave/v1/interactions')).body.calls.find((x: { routedTo: string }) => x.routedTo === '15001');
    assert.ok(busy, 'agent15001 has a routed call');
    const m = await marks();
    const second = await admin.post('/conclave/v1/sim/calls', { from: OTHER_CUSTOMER, to: 'support' });
    const secondId = second.body.callId as string;
    await marks();
    assert.deepEqual(ringingCalls(l.agent15001!, m.agent15001!), [], 'an agent with a routed call is not offered another');

    const m2 = await marks();
    assert.deepEqual((await c.agent15001!.op(busy.callId, 'Hangup')).body, { statusCode: 0 });
    await l.agent15001!.caughtUp();
    assert.equal(ringingCalls(l.agent15001!, m2.agent15001!).filter((n) => n.data.call.id === secondId).length, 1, 'the next waiting call rings');
    assert.deepEqual((await admin.post(`/conclave/v1/sim/calls/${secondId}`, { action: 'hangup' })).body, { statusCode: 0 });
  });

  it('an agent dialling the queue DN is routed like a customer (Internal); a DND member is not routed to', async () => {
    // 15000 Ready but do-not-disturb; 15001 Ready: 15000 has been Ready longer, but DND skips them.
    await readyOnVoice(c.agent15000!, false);
    const device = await c.agent15000!.deviceId();
    assert.deepEqual((await c.agent15000!.post(`/api/v2/me/devices/${device}`, { operationName: 'DoNotDisturbOn' })).body, { statusCode: 0 });
    const m = await marks();
    assert.deepEqual((await c.agent15002!.dial('7000')).body, { statusCode: 0 });
    const dialing = await l.agent15002!.next(after_(l.agent15002!, m.agent15002!, callNote('StatusChange', { state: 'Dialing' })), 5000, 'the caller Dialing');
    assert.equal(dialing.data.call.dnis, '7000');
    const rung = await l.agent15001!.next(after_(l.agent15001!, m.agent15001!, callNote('StatusChange', { id: dialing.data.call.id, state: 'Ringing' })), 5000, '15001 rung');
    assert.equal(rung.data.call.callType, 'Internal');
    await marks();
    assert.deepEqual(ringingCalls(l.agent15000!, m.agent15000!), [], 'a DND agent is not routed to');
    // Reject is for queue calls only: the caller cannot Reject their own call, and a direct call cannot be rejected.
    const refused = await c.agent15002!.op(dialing.data.call.id, 'Reject');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.statusCode, 2);
    assert.deepEqual((await c.agent15002!.op(dialing.data.call.id, 'Hangup')).body, { statusCode: 0 });
    assert.deepEqual((await c.agent15000!.post(`/api/v2/me/devices/${device}`, { operationName: 'DoNotDisturbOff' })).body, { statusCode: 0 });
  });

  it('Reject of a direct call is refused (statusCode 2), nothing changes, nobody is notified', async () => {
    const m = await marks();
    const direct = await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to: '15002' });
    const callId = direct.body.callId as string;
    await l.agent15002!.next(after_(l.agent15002!, m.agent15002!, callNote('StatusChange', { id: callId, state: 'Ringing' })));
    const before = await server.store.getCall(callId);
    const m2 = await marks();
    const reply = await c.agent15002!.op(callId, 'Reject');
    assert.equal(reply.status, 400);
    assert.equal(reply.body.statusCode, 2);
    assert.match(reply.body.statusMessage, /through a queue/);
    assert.deepEqual(await server.store.getCall(callId), before, 'nothing changed');
    await marks();
    for (const u of users) assert.deepEqual(l[u]!.received.slice(m2[u]!), [], `${u} heard nothing`);
    await admin.post(`/conclave/v1/sim/calls/${callId}`, { action: 'hangup' });
  });

  it('the simulation API refuses a bad queue call: 4xx, nothing created, nobody notified', async () => {
    const m = await marks();
    const liveBefore = (await server.store.liveCallIds()).length;
    const cases: [unknown, RegExp][] = [
      [{ from: CUSTOMER, to: 'Support' }, /not a known agent DN, queue name or queue DN/],
      [{ from: CUSTOMER, to: '7001' }, /not a known agent DN, queue name or queue DN/],
      [{ from: 'support', to: 'support' }, /from/],
      [{ from: '7000', to: 'support' }, /from/],
      [{ from: CUSTOMER, to: 'support', userData: [1] }, /userData/],
      [{ from: CUSTOMER }, /to/],
    ];
    for (const [body, message] of cases) {
      const reply = await admin.post('/conclave/v1/sim/calls', body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.match(reply.body.statusMessage, message, JSON.stringify(body));
    }
    assert.equal((await server.store.liveCallIds()).length, liveBefore, 'no call was created');
    await marks();
    for (const u of users) assert.deepEqual(l[u]!.received.slice(m[u]!), [], `${u} heard nothing`);
  });
});

describe('queues: ring timeout and wrap-up (ringTimeoutS 1, wrapUpS 1)', () => {
  const user = (n: number) => ({ userName: `q${n}`, password: `q${n}`, roles: ['ROLE_AGENT'], phoneNumber: String(n) });
  const directory = buildDirectory(
    {
      users: [user(3000), user(3001), { userName: 'admin', password: 'admin', roles: ['ROLE_ADMIN'] }],
      queues: [{ name: 'fast', dn: '3900', members: ['q3000', 'q3001'], ringTimeoutS: 1, wrapUpS: 1 }],
    },
    'queues test directory',
  );
  let server: TestServer;
  let admin: GwsClient, a: GwsClient, b: GwsClient;
  let la: Listener, lb: Listener;

  before(async () => {
    server = await startTestServer({ directory, externalAnswerMs: -1 });
    [a, b, admin] = ['q3000', 'q3001', 'admin'].map((u) => gws(server.url, u)) as [GwsClient, GwsClient, GwsClient];
    [la, lb] = (await Promise.all(['q3000', 'q3001'].map((u) => listen(server.url, u)))) as [Listener, Listener];
  });
  after(async () => {
    await Promise.all([la, lb].map((x) => x?.disconnect()));
    await server?.dispose();
  });

  it('no answer within ringTimeoutS: the call goes to the next member and the first goes NotReady', async () => {
    await readyOnVoice(a);
    await readyOnVoice(b);
    await Promise.all([la.caughtUp(), lb.caughtUp()]);
    const [ma, mb] = [la.received.length, lb.received.length];
    const callId = (await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to: 'fast' })).body.callId as string;
    await la.next(after_(la, ma, callNote('StatusChange', { id: callId, state: 'Ringing' })), 5000, 'q3000 rung first');
    // Nobody answers: after 1 s the offer moves on (waiting on the notification, not on the clock).
    await la.next(after_(la, ma, callNote('StatusChange', { id: callId, state: 'Released' })), 5000, 'q3000 no longer rung');
    await la.next(after_(la, ma, deviceNote({ state: 'NotReady' })), 5000, 'q3000 NotReady');
    await lb.next(after_(lb, mb, callNote('StatusChange', { id: callId, state: 'Ringing' })), 5000, 'q3001 rung next');

    // q3001 answers; the customer hangs up: AfterCallWork for wrapUpS (1 s), then Ready.
    assert.deepEqual((await b.op(callId, 'Answer')).body, { statusCode: 0 });
    await lb.next(callNote('StatusChange', { id: callId, state: 'Established' }));
    const mb2 = lb.received.length;
    assert.deepEqual((await admin.post(`/conclave/v1/sim/calls/${callId}`, { action: 'hangup' })).body, { statusCode: 0 });
    const acw = await lb.next(after_(lb, mb2, deviceNote({ state: 'NotReady', workMode: 'AfterCallWork' })), 5000, 'q3001 AfterCallWork');
    // AgentStateAfterCallWork's sample userState (its id is Conclave's, as for every state).
    assert.deepEqual(acw.data.devices[0].userState, { id: 'AfterCallWork', displayName: 'AfterCallWork', state: 'NotReady', workMode: 'AfterCallWork' });
    const ready = await lb.next(after_(lb, lb.received.indexOf(acw) + 1, deviceNote({ state: 'Ready' })), 5000, 'q3001 Ready again');
    assert.deepEqual(ready.data.devices[0].userState, { id: 'Ready', displayName: 'Ready', state: 'Ready' });
  });

  it('an agent who chooses a state during wrap-up keeps it when wrap-up would have ended', async () => {
    // q3001 is Ready again; q3000 NotReady. A call, answered, ended: q3001 wraps up, then goes AuxWork.
    const mb = lb.received.length;
    const callId = (await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to: '3900' })).body.callId as string;
    await lb.next(after_(lb, mb, callNote('StatusChange', { id: callId, state: 'Ringing' })));
    await b.op(callId, 'Answer');
    await lb.next(after_(lb, mb, callNote('StatusChange', { id: callId, state: 'Established' })));
    await b.op(callId, 'Hangup');
    await lb.next(after_(lb, mb, deviceNote({ state: 'NotReady', workMode: 'AfterCallWork' })));
    assert.deepEqual((await b.post('/api/v2/me/channels/voice', { operationName: 'AuxWork' })).body, { statusCode: 0 });
    await lb.caughtUp();
    const mark = lb.received.length;
    await quietFor(1500, 'the wrap-up timer (1 s) would have put q3001 Ready');
    await lb.caughtUp();
    assert.deepEqual(lb.received.slice(mark).filter(deviceNote({ state: 'Ready' })), [], 'AuxWork stays');
  });
});
