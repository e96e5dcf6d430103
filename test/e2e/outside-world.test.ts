/**
 * The outside world, end to end over real HTTP and the official CometD client: a customer calls
 * an agent through the simulation API, the call becomes a conference with a second agent and an
 * external number, parties leave it in every way (removed by the owner, hung up by the customer,
 * ejected by a compliance flag), an agent dials out, and every bad input is refused unnoticed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callNote, listen, type Listener, type Notification } from '../helpers/cometd.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CUSTOMER = '+14155550100';
const OUTSIDE = '+442071838750';

const partiesOf = (n: Notification): string[] => (n.data.call.participants as { phoneNumber: string }[]).map((p) => p.phoneNumber).sort();

describe('the outside world: customers and external numbers', () => {
  let server: TestServer;
  let a: GwsClient, b: GwsClient, admin: GwsClient;
  let la: Listener, lb: Listener;

  before(async () => {
    server = await startTestServer({ externalAnswerMs: 0 });
    [a, b, admin] = ['agent15000', 'agent15001', 'admin'].map((u) => gws(server.url, u)) as [GwsClient, GwsClient, GwsClient];
    [la, lb] = (await Promise.all(['agent15000', 'agent15001'].map((u) => listen(server.url, u)))) as [Listener, Listener];
  });
  after(async () => {
    await Promise.all([la, lb].map((l) => l?.disconnect()));
    await server?.dispose();
  });

  const since = (l: Listener, from: number, match: (n: Notification) => boolean) => (n: Notification) => l.received.indexOf(n) >= from && match(n);

  /** A customer calls 15000, who answers; 15000 conferences in 15001, then OUTSIDE (answers at once). */
  const conference = async (): Promise<string> => {
    const markA = la.received.length;
    const created = await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to: '15000', userData: { account: 'A-42', tier: 3 } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const callId = created.body.callId as string;
    assert.deepEqual(created.body, { callId, from: CUSTOMER, to: '15000' });
    const ringing = await la.next(since(la, markA, callNote('StatusChange', { id: callId, state: 'Ringing', callType: 'Inbound' })), 5000, 'Ringing');
    assert.equal(ringing.data.call.ani, CUSTOMER);
    assert.equal(ringing.data.call.dnis, '15000');
    assert.deepEqual(ringing.data.call.userData, { account: 'A-42', tier: 3 });
    assert.deepEqual(ringing.data.call.participants, [{ e164Number: CUSTOMER, formattedPhoneNumber: CUSTOMER, phoneNumber: CUSTOMER, digits: CUSTOMER }]);
    assert.ok(ringing.data.call.capabilities.includes('Answer'));

    assert.deepEqual((await a.op(callId, 'Answer')).body, { statusCode: 0 });
    await la.next(since(la, markA, callNote('StatusChange', { id: callId, state: 'Established' })));

    const markB = lb.received.length;
    assert.deepEqual((await a.op(callId, 'SingleStepConference', { destination: { phoneNumber: '15001' } })).body, { statusCode: 0 });
    await lb.next(since(lb, markB, callNote('StatusChange', { id: callId, state: 'Ringing' })));
    assert.deepEqual((await b.op(callId, 'Answer')).body, { statusCode: 0 });
    await lb.next(since(lb, markB, callNote('StatusChange', { id: callId, state: 'Established' })));

    const markA2 = la.received.length;
    assert.deepEqual((await a.op(callId, 'SingleStepConference', { destination: { phoneNumber: OUTSIDE } })).body, { statusCode: 0 });
    // The far end answers by itself (externalAnswerMs 0): the owner sees it connected.
    await la.next(
      since(la, markA2, (n) => callNote('ParticipantsUpdated', { id: callId })(n) && partiesOf(n).includes(OUTSIDE) && (n.data.call.capabilities as string[]).includes('ClearCall')),
      5000,
      'the external party connected',
    );
    const interactions = await admin.get('/conclave/v1/interactions');
    const call = (interactions.body.calls as { callId: string; parties: unknown[] }[]).find((c) => c.callId === callId);
    assert.deepEqual(call?.parties, [
      { number: CUSTOMER, state: 'Established', external: true, monitoring: false },
      { number: '15000', userId: server.directory.byDn('15000')?.id, state: 'Established', external: false, monitoring: false },
      { number: '15001', userId: server.directory.byDn('15001')?.id, state: 'Established', external: false, monitoring: false },
      { number: OUTSIDE, state: 'Established', external: true, monitoring: false },
    ]);
    return callId;
  };

  it('a customer calls, the agent conferences in an agent and an external number; the owner removes the external party', async () => {
    const callId = await conference();
    await Promise.all([la, lb].map((l) => l.caughtUp()));
    const marks = { a: la.received.length, b: lb.received.length };
    assert.deepEqual((await a.op(callId, 'RemoveParticipantFromConference', { participant: OUTSIDE })).body, { statusCode: 0 });
    for (const [l, mark] of [[la, marks.a], [lb, marks.b]] as const) {
      const updated = await l.next(since(l, mark, callNote('ParticipantsUpdated', { id: callId })), 5000, 'ParticipantsUpdated');
      assert.ok(!partiesOf(updated).includes(OUTSIDE));
      assert.ok(partiesOf(updated).includes(CUSTOMER));
    }
    assert.deepEqual((await a.op(callId, 'ClearCall')).body, { statusCode: 0 });
  });

  it('the customer hangs up out of a conference: only the customer leaves', async () => {
    const callId = await conference();
    await Promise.all([la, lb].map((l) => l.caughtUp()));
    const marks = { a: la.received.length, b: lb.received.length };
    const reply = await admin.post(`/conclave/v1/sim/calls/${callId}`, { action: 'hangup' });
    assert.deepEqual([reply.status, reply.body], [200, { statusCode: 0 }]);
    for (const [l, mark] of [[la, marks.a], [lb, marks.b]] as const) {
      const updated = await l.next(since(l, mark, callNote('ParticipantsUpdated', { id: callId })), 5000, 'ParticipantsUpdated');
      assert.equal(updated.data.call.state, 'Established');
      assert.deepEqual(partiesOf(updated).filter((p) => p.startsWith('+')), [OUTSIDE]);
    }
    assert.deepEqual((await a.op(callId, 'ClearCall')).body, { statusCode: 0 });
  });

  it("a flag naming the customer's number ejects only the customer", async () => {
    const callId = await conference();
    await Promise.all([la, lb].map((l) => l.caughtUp()));
    const raised = await admin.post('/conclave/v1/compliance/flags', { user: CUSTOMER, reason: 'fraud', source: 'e2e' });
    assert.equal(raised.status, 202, JSON.stringify(raised.body));
    await server.compliance.idle();
    const call = await server.store.getCall(callId);
    const states = Object.fromEntries((call?.parties ?? []).filter((p) => !p.monitor).map((p) => [p.dn, p.state]));
    assert.deepEqual(states, { [CUSTOMER]: 'Released', '15000': 'Established', '15001': 'Established', [OUTSIDE]: 'Established' });
    const audit = await admin.get(`/conclave/v1/compliance/audit?user=${encodeURIComponent(CUSTOMER)}`);
    assert.ok((audit.body.entries as { outcome: string }[]).some((e) => e.outcome === 'ejected'), JSON.stringify(audit.body));
    await la.next((n) => callNote('ParticipantsUpdated', { id: callId })(n) && !partiesOf(n).includes(CUSTOMER) && partiesOf(n).includes(OUTSIDE));
    assert.deepEqual((await a.op(callId, 'ClearCall')).body, { statusCode: 0 });
  });
});

describe('the outside world: a far end that never answers by itself', () => {
  let server: TestServer;
  let a: GwsClient, admin: GwsClient;
  let la: Listener;

  before(async () => {
    server = await startTestServer({ externalAnswerMs: -1 });
    a = gws(server.url, 'agent15000');
    admin = gws(server.url, 'admin');
    la = await listen(server.url, 'agent15000');
  });
  after(async () => {
    await la?.disconnect();
    await server?.dispose();
  });

  it('Dial to an external number is Outbound and stays Dialing until the sim API answers', async () => {
    assert.deepEqual((await a.dial(OUTSIDE)).body, { statusCode: 0 });
    const dialing = await la.next(callNote('StatusChange', { state: 'Dialing', callType: 'Outbound' }), 5000, 'Dialing');
    const callId = dialing.data.call.id as string;
    assert.equal(dialing.data.call.dnis, OUTSIDE);
    assert.equal(dialing.data.call.ani, undefined, 'ani is on Inbound calls only');
    assert.deepEqual(dialing.data.call.participants, [{ e164Number: OUTSIDE, formattedPhoneNumber: OUTSIDE, phoneNumber: OUTSIDE, digits: OUTSIDE }]);
    await la.caughtUp();
    assert.equal((await server.store.getCall(callId))?.parties.find((p) => p.dn === OUTSIDE)?.state, 'Ringing');

    const answered = await admin.post(`/conclave/v1/sim/calls/${callId}`, { action: 'answer' });
    assert.deepEqual([answered.status, answered.body], [200, { statusCode: 0 }]);
    await la.next(callNote('StatusChange', { id: callId, state: 'Established' }));
    assert.deepEqual((await admin.post(`/conclave/v1/sim/calls/${callId}`, { action: 'dtmf', digits: '12#' })).body, { statusCode: 0 });

    // In a two-party call the far end hanging up ends it.
    assert.deepEqual((await admin.post(`/conclave/v1/sim/calls/${callId}`, { action: 'hangup' })).body, { statusCode: 0 });
    await la.next(callNote('StatusChange', { id: callId, state: 'Released' }));
  });

  it('refuses a destination that is neither a DN nor an external number (10)', async () => {
    // (7000 is the support queue's DN: dialling it queues the call, test/e2e/queues.test.ts.)
    for (const bad of ['12', 'abc', '+1-415']) {
      const reply = await a.dial(bad);
      assert.equal(reply.status, 400, bad);
      assert.equal(reply.body.statusCode, 10, bad);
    }
  });

  it('bad inputs for each sim endpoint get a 4xx and notify nobody', async () => {
    await la.caughtUp();
    const mark = la.received.length;
    const createCases: [unknown, number, RegExp][] = [
      [{ from: 'anonymous', to: '15000' }, 400, /from/],
      [{ from: '15001', to: '15000' }, 400, /from/],
      [{ from: CUSTOMER, to: '18999' }, 400, /to/], // no such DN (19999 down are the compliance orchestrator's lanes)
      [{ from: CUSTOMER, to: 'sales' }, 400, /not a known agent DN, queue name or queue DN/],
      [{ from: '7000', to: 'support' }, 400, /from/],
      [{ from: CUSTOMER, to: '15000', userData: { k: { nested: true } } }, 400, /userData/],
      [{ to: '15000' }, 400, /from/],
    ];
    for (const [body, status, message] of createCases) {
      const reply = await admin.post('/conclave/v1/sim/calls', body);
      assert.equal(reply.status, status, JSON.stringify(body));
      assert.deepEqual(Object.keys(reply.body).sort(), ['statusCode', 'statusMessage']);
      assert.match(reply.body.statusMessage, message, JSON.stringify(body));
    }
    assert.equal((await gws(server.url, 'agent15000').post('/conclave/v1/sim/calls', { from: CUSTOMER, to: '15000' })).status, 403);
    assert.equal((await fetch(`${server.url}/conclave/v1/sim/calls`, { method: 'POST' })).status, 401);
    assert.equal((await gws(server.url, 'agent15000').get('/conclave/v1/interactions')).status, 403);

    // An internal call (no external party), and an unknown call: 404; bad actions: 400.
    assert.deepEqual((await a.dial('15001')).body, { statusCode: 0 });
    const internal = (await la.next((n) => la.received.indexOf(n) >= mark && callNote('StatusChange', { state: 'Dialing', callType: 'Internal' })(n))).data.call.id;
    // A customer call ringing at 15001: its external party is the caller, not Ringing.
    const customerCall = (await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to: '15001' })).body.callId as string;
    await la.caughtUp();
    const afterDial = la.received.length;
    const actionCases: [string, unknown, number][] = [
      ['0123456789ABCDEFGHIJKLMNOPQRSTUV', { action: 'hangup' }, 404],
      [internal, { action: 'hangup' }, 404],
      [internal, { action: 'explode' }, 400],
      [internal, { action: 'dtmf' }, 400],
      [internal, { action: 'dtmf', digits: 'xyz' }, 400],
      [internal, {}, 400],
      [customerCall, { action: 'answer' }, 400],
    ];
    for (const [callId, body, status] of actionCases) {
      const reply = await admin.post(`/conclave/v1/sim/calls/${callId}`, body);
      assert.equal(reply.status, status, JSON.stringify([callId, body]));
      assert.deepEqual(Object.keys(reply.body).sort(), ['statusCode', 'statusMessage']);
    }
    await la.caughtUp();
    assert.deepEqual(la.received.slice(afterDial), [], 'nobody was notified of a refusal');
    const live = (await admin.get('/conclave/v1/interactions')).body;
    assert.deepEqual(live.calls.map((c: { callId: string }) => c.callId).sort(), [internal, customerCall].sort());
    assert.deepEqual(live.chats, []);
    assert.deepEqual((await a.op(internal, 'Hangup')).body, { statusCode: 0 });
    assert.deepEqual((await admin.post(`/conclave/v1/sim/calls/${customerCall}`, { action: 'hangup' })).body, { statusCode: 0 });
    assert.equal((await admin.post(`/conclave/v1/sim/calls/${customerCall}`, { action: 'hangup' })).status, 404, 'an ended call');
  });
});
