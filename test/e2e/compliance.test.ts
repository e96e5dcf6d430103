/**
 * Compliance, end to end over real HTTP, the customer chat API and the official CometD client:
 * an admin flags an agent; every conference they are in (a voice call with 3+ live parties, a chat
 * with the customer and another visible agent) loses exactly that agent, everyone else stays
 * connected and is told as usual, and each step is in the audit. Two-party calls and chats are
 * left alone. Flags are idempotent, resume after a restart, and the audit survives one.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Notification } from '../helpers/cometd.js';
import { callNote } from '../helpers/cometd.js';
import type { CustomerChat } from '../helpers/customer.js';
import { gws, type GwsClient, type Reply } from '../helpers/gws.js';
import { startTestServer, tempDataFile, type TestServer } from '../helpers/server.js';
import { clockMovesOn, waitFor } from '../helpers/wait.js';
import {
  bringIn, caughtUpAll, chatOp, chatWith, mark, nextChatNote, openChatWorld, setChatState, startChatSession, transcript,
  type Agent, type ChatWorld,
} from '../helpers/chat-world.js';

// ---- Helpers -------------------------------------------------------------------------------------
const FLAGS = '/conclave/v1/compliance/flags';
const AUDIT = '/conclave/v1/compliance/audit';
const COMPLIANCE_USER = 'conclave-compliance';
const OK = { statusCode: 0 };

const admin = (s: { url: string }) => gws(s.url, 'admin');
const raise = (s: { url: string }, user: string, reason = 'policy breach', source = 'e2e') => admin(s).post(FLAGS, { user, reason, source });

/** Raises a flag (202), waits until the orchestrator is idle and the listeners have caught up. */
const flagAndWait = async (w: ChatWorld, user: string, reason?: string): Promise<any> => {
  const reply = await raise(w.server, user, reason);
  assert.equal(reply.status, 202, JSON.stringify(reply.body));
  await w.server.compliance.idle();
  await caughtUpAll(w.agents);
  return reply.body;
};

const auditOf = async (s: { url: string }, query: Record<string, string> = {}): Promise<any[]> => {
  const reply = await admin(s).get(`${AUDIT}?${new URLSearchParams(query)}`);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  assert.ok(Array.isArray(reply.body.entries));
  return reply.body.entries;
};

/** [step, interactionType, outcome] of each entry, in order. */
const stepsOf = (entries: any[]) => entries.map((e) => [e.step, e.interactionType, e.outcome]);

const expectOk = async (reply: Promise<Reply>, what: string) => assert.deepEqual((await reply).body, OK, what);

const callOf = async (client: GwsClient, callId: string): Promise<any> => {
  const reply = await client.get(`/api/v2/me/calls/${callId}`);
  assert.equal(reply.body.statusCode, 0, `${client.user} GET call: ${JSON.stringify(reply.body)}`);
  return reply.body.call;
};
const liveCallIds = async (client: GwsClient): Promise<string[]> =>
  (await client.get('/api/v2/me/calls?fields=*')).body.calls.filter((c: any) => c.state !== 'Released').map((c: any) => c.id);
const dnsOf = (call: any): string[] => call.participants.map((p: any) => p.phoneNumber).sort();

/** 15000 dials 15001, who answers; then 15000 conferences in each further DN in one step. */
const callWith = async (w: ChatWorld | { url: string }, guests: string[]): Promise<string> => {
  const url = 'server' in w ? w.server.url : w.url;
  const [owner, first, ...rest] = [gws(url, 'agent15000'), ...guests.map((dn) => gws(url, `agent${dn}`))] as GwsClient[];
  await expectOk(owner!.dial(guests[0]!), 'dial');
  const [callId] = await liveCallIds(first!);
  assert.ok(callId, 'the guest has the call');
  await expectOk(first!.op(callId, 'Answer'), 'answer');
  for (const [i, guest] of rest.entries()) {
    await expectOk(owner!.op(callId, 'SingleStepConference', { destination: { phoneNumber: guests[i + 1] } }), 'conference');
    await expectOk(guest.op(callId, 'Answer'), 'answer the conference');
  }
  assert.equal((await callOf(owner!, callId)).participants.length, guests.length, 'everyone is in');
  return callId;
};

/** A customer's chat routed to agent15000 (the only Ready agent), with agent15001 invited as chat_consult. */
const chatConference = async (w: ChatWorld): Promise<CustomerChat> => {
  const [a0, a1] = [w.agent('agent15000'), w.agent('agent15001')];
  for (const a of [a0, a1]) await startChatSession(a);
  await setChatState(a0, 'Ready');
  const customer = await chatWith(w, a0);
  await setChatState(a0, 'NotReady');
  const from = mark(a0);
  const offer = mark(a1);
  assert.equal((await chatOp(a0, customer.chatId, 'Invite', { targetUri: a1.uri })).body.statusCode, 0);
  await nextChatNote(a1, customer.chatId, offer, 'StatusChange', 'Invited');
  assert.equal((await chatOp(a1, customer.chatId, 'Accept', { nickname: 'chat_consult' })).body.statusCode, 0);
  const joined = await nextChatNote(a0, customer.chatId, from, 'ParticipantsUpdated');
  assert.equal(joined.chat.participants.length, 3);
  return customer;
};

/** Notifications at or after a mark about one call (or chat). */
const callNotes = (a: Agent, callId: string, from: number): Notification[] =>
  a.listener.received.slice(from).filter((n) => n.channel === '/v2/me/calls' && n.data.call?.id === callId);
const chatNotesOf = (a: Agent, chatId: string, from: number): any[] =>
  a.listener.received.slice(from).filter((n) => n.channel === '/v2/me/chats' && (n.data.chat?.id ?? n.data.chatUri?.split('/').pop()) === chatId).map((n) => n.data);

/** How many times the DN disappeared from the participants the agent was told about (from present). */
const drops = (notes: Notification[], dn: string): number => {
  let present = true;
  let count = 0;
  for (const n of notes) {
    const now = n.data.call.participants.some((p: any) => p.phoneNumber === dn);
    if (present && !now) count++;
    present = now;
  }
  return count;
};

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const USERS = ['agent15000', 'agent15001', 'agent15002'];

// ---- The done-when scenario ---------------------------------------------------------------------
describe('compliance: a flagged agent leaves every conference, and only them', () => {
  let w: ChatWorld;
  before(async () => (w = await openChatWorld(USERS)));
  after(async () => w?.dispose());

  it('ejects agent15001 from a 3-party call and a chat conference; the rest stay and are told; the audit tells it step by step', async () => {
    const [a0, a1, a2] = USERS.map((u) => w.agent(u)) as [Agent, Agent, Agent];
    const callId = await callWith(w, ['15001', '15002']);
    const customer = await chatConference(w);
    const chatId = customer.chatId;
    await caughtUpAll(w.agents);
    const marks = w.agents.map(mark) as [number, number, number];
    const a1Id = w.server.directory.byUserName('agent15001')!.id;

    const body = await flagAndWait(w, 'agent15001', 'recording consent withdrawn');
    assert.equal(typeof body.flagId, 'string');
    assert.deepEqual(body.user, { id: a1Id, userName: 'agent15001', phoneNumber: '15001' });
    assert.deepEqual([body.reason, body.source, body.status, body.duplicate], ['recording consent withdrawn', 'e2e', 'pending', false]);
    assert.match(body.createdAt, ISO);

    // Voice: 15001 is released; 15000 and 15002 stay Established with each other, and are told.
    await a1.listener.next((n) => a1.listener.received.indexOf(n) >= marks[1] && callNote('StatusChange', { id: callId, state: 'Released' })(n), 5000, 'Released');
    assert.deepEqual(await liveCallIds(a1.client), []);
    for (const [a, other, from] of [[a0, '15002', marks[0]], [a2, '15000', marks[2]]] as const) {
      const view = await callOf(a.client, callId);
      assert.equal(view.state, 'Established', a.user);
      assert.deepEqual(dnsOf(view), [other], `${a.user} sees only ${other}`);
      const updates = callNotes(a, callId, from).filter((n) => n.data.notificationType === 'ParticipantsUpdated');
      assert.ok(updates.length > 0, `${a.user} receives ParticipantsUpdated`);
      assert.deepEqual(dnsOf(updates.at(-1)!.data.call), [other], `${a.user}'s last ParticipantsUpdated`);
      assert.equal(drops(callNotes(a, callId, from), '15001'), 1, `${a.user} is told once that 15001 left`);
    }

    // Chat: 15001 LeftChat; agent15000 still Chatting, told the participants are itself and the customer.
    await nextChatNote(a1, chatId, marks[1], 'StatusChange', 'LeftChat');
    assert.equal((await a0.client.get(`/api/v2/me/chats/${chatId}`)).body.chat.state, 'Chatting');
    const chatUpdates = chatNotesOf(a0, chatId, marks[0]).filter((d) => d.notificationType === 'ParticipantsUpdated');
    assert.ok(chatUpdates.length > 0, 'agent15000 receives ParticipantsUpdated on the chat');
    const last = chatUpdates.at(-1).chat;
    assert.equal(last.state, 'Chatting');
    assert.deepEqual(last.participants.map((p: any) => [p.type, p.nickname]).sort(), [['Agent', a0.nickname], ['Customer', 'pat']]);
    const seen = await transcript(customer);
    assert.ok(seen.messages.some((m: any) => m.type === 'ParticipantLeft' && m.from.nickname === 'chat_consult'), 'the customer sees chat_consult leave');
    assert.equal(seen.chatEnded, false);

    // The audit, step by step.
    const entries = await auditOf(w.server, { user: 'agent15001' });
    assert.deepEqual(stepsOf(entries), [
      ['flagged', null, 'accepted'],
      ['found', 'call', 'accepted'],
      ['removed', 'call', 'ejected'],
      ['found', 'chat', 'accepted'],
      ['removed', 'chat', 'ejected'],
      ['done', null, 'completed'],
    ]);
    assert.deepEqual(entries.map((e) => e.interaction), [null, callId, callId, chatId, chatId, null]);
    assert.deepEqual(entries.map((e) => e.participant), ['15001', '15001', '15001', a1Id, a1Id, '15001']);
    assert.deepEqual(entries.map((e) => e.actor), ['admin', ...Array(5).fill(COMPLIANCE_USER)]);
    for (const e of entries) {
      assert.equal(e.flagId, body.flagId);
      assert.equal(e.userId, a1Id);
      assert.match(e.time, ISO);
    }
    for (const e of entries.filter((x) => x.step === 'removed')) assert.equal(typeof e.latencyMs, 'number');
    assert.equal((await w.server.store.getFlag(body.flagId))?.status, 'done');
  });

  it('goes through the policy as a monitoring supervisor, and leaves no trace on the calls (no back door)', async () => {
    // Runs on the state left by the previous case: the call 15000–15002 and the chat go on.
    const [a0, a1, a2] = USERS.map((u) => w.agent(u)) as [Agent, Agent, Agent];
    const complianceDn = w.server.directory.byUserName(COMPLIANCE_USER)!.phoneNumber;
    const [callId] = await liveCallIds(a0.client);
    assert.ok(callId, 'the call 15000–15002 left by the previous case (this case runs on its state: run it with that case)');
    // 15001 was told, as any monitored agent is, that a supervisor listened in before the removal.
    const monitored = callNotes(a1, callId, 0).some((n) => n.data.call.supervisorListeningIn === true);
    assert.ok(monitored, '15001 was monitored (supervisorListeningIn true) by the compliance supervisor');
    for (const a of [a0, a2]) {
      const view = await callOf(a.client, callId);
      assert.equal(view.supervisorListeningIn, false, `${a.user}: supervisorListeningIn back to false`);
      assert.equal(view.monitoring, false);
      assert.ok(!dnsOf(view).includes(complianceDn!), `${a.user}: the compliance user is not a participant`);
      for (const n of a.listener.received.filter((x) => x.channel === '/v2/me/calls'))
        assert.ok(!n.data.call.participants.some((p: any) => p.phoneNumber === complianceDn), `${a.user} never saw the compliance DN as a participant`);
    }
    const chats = (await a0.client.get('/api/v2/me/chats?fields=*')).body.chats as any[];
    assert.equal(chats.length, 1, 'agent15000 still has the chat');
    for (const chat of chats) assert.ok(!chat.participants.some((p: any) => p.nickname === 'Compliance'), 'the compliance user left the chat');
    const cannotLogIn = await gws(w.server.url, COMPLIANCE_USER).get('/api/v2/me');
    assert.equal(cannotLogIn.status, 401, 'the compliance user has no password');
  });
});

// ---- Two-party, idempotency, already gone ------------------------------------------------------
describe('compliance: what is left alone, and what happens once', () => {
  let w: ChatWorld;
  before(async () => (w = await openChatWorld(USERS)));
  after(async () => w?.dispose());

  it('leaves a two-party call and a two-party chat alone (skipped, two-party; no Hangup)', async () => {
    const [a0, a1] = [w.agent('agent15000'), w.agent('agent15001')];
    const callId = await callWith(w, ['15001']);
    await startChatSession(a1);
    await setChatState(a1, 'Ready');
    const customer = await chatWith(w, a1);
    await setChatState(a1, 'NotReady');
    await caughtUpAll(w.agents);
    const marks = w.agents.map(mark);

    const body = await flagAndWait(w, '15001');
    assert.equal(body.user.userName, 'agent15001', 'a DN names the user too');
    const entries = await auditOf(w.server, { flagId: body.flagId });
    assert.deepEqual(stepsOf(entries), [
      ['flagged', null, 'accepted'],
      ['skipped', 'call', 'two-party'],
      ['skipped', 'chat', 'two-party'],
      ['done', null, 'completed'],
    ]);
    assert.deepEqual(entries.map((e) => e.interaction), [null, callId, customer.chatId, null]);
    for (const a of [a0, a1]) assert.equal((await callOf(a.client, callId)).state, 'Established', `${a.user} still talks`);
    assert.equal((await a1.client.get(`/api/v2/me/chats/${customer.chatId}`)).body.chat.state, 'Chatting');
    assert.equal((await transcript(customer)).chatEnded, false);
    w.agents.forEach((a, i) => assert.deepEqual(a.listener.received.slice(marks[i]), [], `${a.user} is told nothing`));
    await expectOk(a0.client.op(callId, 'Hangup'), 'hang up');
    await customer.disconnect();
  });

  it('carries out the same flag raised twice once: one removal per interaction, one ParticipantsUpdated dropping 15001', async (t) => {
    const [a0] = [w.agent('agent15000')];
    const callId = await callWith(w, ['15001', '15002']);
    await caughtUpAll(w.agents);
    const from = mark(a0);
    const since = Date.now();
    const [r1, r2] = await Promise.all([raise(w.server, 'agent15001', 'dup'), raise(w.server, 'agent15001', 'dup')]);
    assert.deepEqual([r1.status, r2.status], [202, 202]);
    await w.server.compliance.idle();
    await caughtUpAll(w.agents);
    const entries = await auditOf(w.server, { user: 'agent15001', from: String(since) });
    t.diagnostic(r1.body.flagId === r2.body.flagId ? 'the second request found the first flag pending' : 'the first flag had finished');
    if (r1.body.flagId === r2.body.flagId) {
      assert.deepEqual([r1.body.duplicate, r2.body.duplicate].sort(), [false, true], 'the second is a duplicate');
    } else {
      // The first had finished already: the second found nothing left to do.
      assert.deepEqual([r1.body.duplicate, r2.body.duplicate], [false, false]);
      const [later] = [r1.body, r2.body].sort((x, y) => Date.parse(x.createdAt) - Date.parse(y.createdAt)).slice(1);
      const steps = entries.filter((e) => e.flagId === later.flagId);
      assert.ok(!steps.some((e) => e.step === 'removed'), `the later flag removes nothing: ${JSON.stringify(stepsOf(steps))}`);
      assert.deepEqual(stepsOf(steps).at(-1), ['done', null, 'completed']);
    }
    assert.equal(entries.filter((e) => e.step === 'removed' && e.interaction === callId).length, 1, 'exactly one removal');
    assert.equal(drops(callNotes(a0, callId, from), '15001'), 1, '15000 is told once that 15001 left');
    assert.deepEqual(dnsOf(await callOf(a0.client, callId)), ['15002']);

    // Raised twice in the same tick, the pending flag is found: same flagId, duplicate.
    const [first, second] = await Promise.all([
      w.server.compliance.raise({ user: 'agent15003', reason: 'twice', source: 'e2e' }, 'admin'),
      w.server.compliance.raise({ user: 'agent15003', reason: 'twice', source: 'e2e' }, 'admin'),
    ]);
    assert.ok(first.ok && second.ok);
    assert.equal(second.flag.id, first.flag.id);
    assert.deepEqual([first.duplicate, second.duplicate], [false, true]);
    await w.server.compliance.idle();
    await expectOk(a0.client.op(callId, 'Hangup'), 'hang up');
  });

  it('completes without a removal for a user who already left the conference', async () => {
    const [a0, a1, a2] = USERS.map((u) => w.agent(u)) as [Agent, Agent, Agent];
    const callId = await callWith(w, ['15001', '15002']);
    await expectOk(a1.client.op(callId, 'Hangup'), '15001 hangs up');
    await caughtUpAll(w.agents);
    const marks = w.agents.map(mark);
    const body = await flagAndWait(w, 'agent15001');
    const entries = await auditOf(w.server, { flagId: body.flagId });
    assert.ok(!entries.some((e) => e.step === 'removed' || e.step === 'failed'), JSON.stringify(stepsOf(entries)));
    assert.deepEqual(stepsOf(entries).at(-1), ['done', null, 'completed']);
    for (const [a, other] of [[a0, '15002'], [a2, '15000']] as const) assert.deepEqual(dnsOf(await callOf(a.client, callId)), [other]);
    w.agents.forEach((a, i) => assert.deepEqual(callNotes(a, callId, marks[i]!), [], `${a.user} is told nothing`));
    await expectOk(a0.client.op(callId, 'Hangup'), 'hang up');
  });
});

// ---- Restart -------------------------------------------------------------------------------------
describe('compliance: across a restart (SQLite file)', () => {
  const temp = tempDataFile();
  let server: TestServer | undefined;
  after(async () => {
    await server?.close();
    temp.remove();
  });
  const restart = async () => {
    await server?.close();
    server = await startTestServer({ data: temp.file });
    return server;
  };

  it('resumes a flag a crash left pending: the participant is ejected, the audit says retried then removed', async () => {
    const s1 = await restart();
    const callId = await callWith(s1, ['15001', '15002']);
    const user = s1.directory.byUserName('agent15001')!;
    const flagId = randomUUID();
    await s1.store.saveFlag({
      id: flagId, userId: user.id, userName: user.userName, dn: '15001', reason: 'crash', source: 'e2e',
      raisedBy: 'admin', createdAt: Date.now(), status: 'pending',
    });
    const s2 = await restart();
    await s2.compliance.idle();
    const [a0, a1] = ['agent15000', 'agent15001'].map((u) => gws(s2.url, u)) as [GwsClient, GwsClient];
    const view = await callOf(a0, callId);
    assert.equal(view.state, 'Established');
    assert.deepEqual(dnsOf(view), ['15002']);
    assert.deepEqual(await liveCallIds(a1), []);
    const entries = await auditOf(s2, { flagId });
    assert.deepEqual(stepsOf(entries), [
      ['retried', null, 'retrying'],
      ['found', 'call', 'accepted'],
      ['removed', 'call', 'ejected'],
      ['done', null, 'completed'],
    ]);
    assert.equal(entries[0].detail, 'resumed after restart');
    assert.equal((await s2.store.getFlag(flagId))?.status, 'done');
  });

  it('keeps the audit: a new server on the same file answers the same entries, and re-runs nothing', async () => {
    const s = await restart();
    const raised = await raise(s, 'agent15002', 'kept');
    assert.equal(raised.status, 202);
    await s.compliance.idle();
    const before = await auditOf(s);
    assert.ok(before.some((e) => e.flagId === raised.body.flagId));
    const again = await restart();
    await again.compliance.idle();
    assert.deepEqual(await auditOf(again), before);
  });
});

// ---- An honest outcome -----------------------------------------------------------------------
describe('compliance: a flag that cannot be carried out ends failed, with why', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer({ externalAnswerMs: 0 })));
  after(async () => server?.dispose());

  it('an external number in a conference no agent is left in (nobody to monitor): failed, the reason on the flag and the last entry', async () => {
    // RemoveParticipantFromConference needs the owner or a monitoring supervisor: with only outside
    // numbers left, the orchestrator has no device to monitor, so the customer cannot be removed.
    const a = gws(server.url, 'agent15000');
    const [x, y, z] = ['+14155550100', '+14155550101', '+14155550102'];
    await expectOk(a.dial(x), 'dial out');
    const [callId] = await liveCallIds(a);
    assert.ok(callId);
    const established = async () => (await server.store.getCall(callId))!.parties.filter((p) => p.state === 'Established').length;
    await waitFor(async () => (await established()) === 2, 5000, 'the far end to answer');
    for (const [i, dn] of [y, z].entries()) {
      await expectOk(a.op(callId, 'SingleStepConference', { destination: { phoneNumber: dn } }), `conference ${dn}`);
      await waitFor(async () => (await established()) === 3 + i, 5000, `${dn} to answer`);
    }
    await expectOk(a.op(callId, 'Hangup'), 'the agent leaves the outside parties talking');

    const raised = await raise(server, x, 'fraud');
    assert.equal(raised.status, 202, JSON.stringify(raised.body));
    await server.compliance.idle();
    const entries = await auditOf(server, { flagId: raised.body.flagId });
    assert.deepEqual(stepsOf(entries), [
      ['flagged', null, 'accepted'],
      ['failed', 'call', 'error'],
      ['failed', null, 'error'],
    ]);
    assert.match(entries.at(-1).detail, new RegExp(`no agent of call ${callId} to monitor`));
    assert.match(entries.at(-1).detail, new RegExp(`\\${x} is still in call ${callId}`));
    const flag = await server.store.getFlag(raised.body.flagId);
    assert.equal(flag?.status, 'failed');
    assert.equal(flag?.detail, entries.at(-1).detail);
    const parties = Object.fromEntries((await server.store.getCall(callId))!.parties.map((p) => [p.dn, p.state]));
    assert.deepEqual([parties[x], parties[y], parties[z]], ['Established', 'Established', 'Established'], 'nobody was disturbed');
  });
});

// ---- Bad requests and audit queries --------------------------------------------------------------
describe('compliance: bad requests and audit queries', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(async () => server?.dispose());

  it('refuses without credentials (401), for an agent or a supervisor (403), and bad bodies (4xx with a message)', async () => {
    const anonymous = await fetch(`${server.url}${FLAGS}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'agent15001', reason: 'r', source: 's' }) });
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic/);
    for (const user of ['agent15000', 'super15010']) {
      const refused = await gws(server.url, user).post(FLAGS, { user: 'agent15001', reason: 'r', source: 's' });
      assert.equal(refused.status, 403, user);
      assert.equal(typeof refused.body.statusMessage, 'string');
      assert.equal((await gws(server.url, user).get(AUDIT)).status, 403, `${user} reads the audit`);
    }
    const noUser = await admin(server).post(FLAGS, { reason: 'r', source: 's' });
    assert.equal(noUser.status, 400);
    assert.equal(noUser.body.statusCode, 1);
    assert.match(noUser.body.statusMessage, /user/);
    const unknown = await admin(server).post(FLAGS, { user: 'nobody', reason: 'r', source: 's' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.statusCode, 6);
    assert.match(unknown.body.statusMessage, /nobody/);
    const notJson = await admin(server).raw(FLAGS, '{not json', 'application/json');
    assert.ok(notJson.status >= 400 && notJson.status < 500, `non-JSON: ${notJson.status}`);
    assert.equal(typeof notJson.body.statusMessage, 'string');
    assert.deepEqual(await auditOf(server), [], 'nothing was flagged');
  });

  it('filters the audit by user, outcome, time and flag, and answers JSON lines on request', async () => {
    const one = await raise(server, 'agent15003', 'first');
    await server.compliance.idle();
    // A time strictly after every entry of the first flag and strictly before any of the second.
    const between = await clockMovesOn();
    await clockMovesOn();
    const two = await raise(server, 'agent15002', 'second');
    await server.compliance.idle();
    const [f1, f2] = [one.body.flagId, two.body.flagId];

    assert.deepEqual(stepsOf(await auditOf(server, { flagId: f1 })), [['flagged', null, 'accepted'], ['done', null, 'completed']]);
    assert.deepEqual(new Set((await auditOf(server, { user: 'agent15002' })).map((e) => e.flagId)), new Set([f2]));
    const completed = await auditOf(server, { outcome: 'completed' });
    assert.deepEqual(completed.map((e) => [e.flagId, e.outcome]), [[f1, 'completed'], [f2, 'completed']]);
    assert.deepEqual(new Set((await auditOf(server, { from: new Date(between).toISOString() })).map((e) => e.flagId)), new Set([f2]));
    assert.deepEqual(new Set((await auditOf(server, { to: String(between) })).map((e) => e.flagId)), new Set([f1]));

    const response = await fetch(`${server.url}${AUDIT}?format=jsonl`, { headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    const lines = (await response.text()).split('\n').filter((l) => l !== '');
    assert.deepEqual(lines.map((l) => JSON.parse(l)), await auditOf(server));
    assert.equal(lines.length, 4);
  });

  it('refuses bad audit queries: a time that is not one (10), an unknown outcome, an unknown user (404)', async () => {
    const bad = (query: string) => admin(server).get(`${AUDIT}?${query}`);
    const time = await bad('from=notatime');
    assert.deepEqual([time.status, time.body.statusCode], [400, 10]);
    assert.match(time.body.statusMessage, /from/);
    const outcome = await bad('outcome=bogus');
    assert.equal(outcome.status, 400);
    assert.equal(typeof outcome.body.statusMessage, 'string');
    const user = await bad('user=unknown');
    assert.deepEqual([user.status, user.body.statusCode], [404, 6]);
  });
});
