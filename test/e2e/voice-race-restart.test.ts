/**
 * Voice conferences under concurrency and across a restart, over real HTTP and the official
 * CometD client:
 *  - two RemoveParticipantFromConference requests racing on one conference (same participant:
 *    exactly one wins, the other is refused clearly; different participants: both win);
 *  - a conference built on a SQLite file survives a server restart: every party's calls read the
 *    same, and the conference can still be changed, with notifications from the new server.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { callNote, listen, type Listener, type Notification } from '../helpers/cometd.js';
import { gws, type GwsClient, type Reply } from '../helpers/gws.js';
import { startTestServer, tempDataFile, type TestServer } from '../helpers/server.js';

// ---- Helpers -------------------------------------------------------------------------------------
type Dn = '15000' | '15001' | '15002' | '15003';
type Parties = Record<Dn, GwsClient>;

const partiesOf = (url: string): Parties => ({
  '15000': gws(url, 'agent15000'),
  '15001': gws(url, 'agent15001'),
  '15002': gws(url, 'agent15002'),
  '15003': gws(url, 'agent15003'),
});

const OK = { statusCode: 0 };

const expectOk = async (reply: Promise<Reply> | Reply, what: string): Promise<void> => {
  const r = await reply;
  assert.deepEqual(r.body, OK, `${what}: ${JSON.stringify(r.body)}`);
  assert.equal(r.status, 200, what);
};

/** GET /api/v2/me/calls?fields=* for one user. */
const callsOf = async (client: GwsClient): Promise<any[]> => {
  const reply = await client.get('/api/v2/me/calls?fields=*');
  assert.equal(reply.body.statusCode, 0, `${client.user} GET calls: ${JSON.stringify(reply.body)}`);
  return reply.body.calls;
};

const onlyCall = async (client: GwsClient, where: (call: any) => boolean = () => true): Promise<any> => {
  const matching = (await callsOf(client)).filter(where);
  assert.equal(matching.length, 1, `${client.user} should have exactly one such call, has ${JSON.stringify(matching.map((c) => [c.id, c.state, c.callType]))}`);
  return matching[0];
};

const participantDns = (call: any): string[] => call.participants.map((p: any) => p.phoneNumber).sort();

/**
 * The owner dials the first guest, who answers; every further guest is conferenced in, either in
 * one step (SingleStepConference + Answer) or by consultation (InitiateConference, Answer,
 * CompleteConference on the consult call). Returns the conference's call id.
 */
const buildConference = async (
  parties: Parties,
  owner: Dn,
  guests: readonly Dn[],
  how: 'single-step' | 'consultation' = 'single-step',
): Promise<string> => {
  const [first, ...rest] = guests;
  assert.ok(first, 'a conference needs guests');
  await expectOk(parties[owner].dial(first), `${owner} dials ${first}`);
  const callId = (await onlyCall(parties[first])).id as string;
  await expectOk(parties[first].op(callId, 'Answer'), `${first} answers`);
  for (const guest of rest) {
    if (how === 'single-step') {
      await expectOk(parties[owner].op(callId, 'SingleStepConference', { destination: { phoneNumber: guest } }), `${owner} conferences ${guest} in`);
      await expectOk(parties[guest].op(callId, 'Answer'), `${guest} answers`);
    } else {
      await expectOk(parties[owner].op(callId, 'InitiateConference', { destination: { phoneNumber: guest } }), `${owner} consults ${guest}`);
      const consultId = (await onlyCall(parties[guest], (c) => c.callType === 'Consult')).id as string;
      await expectOk(parties[guest].op(consultId, 'Answer'), `${guest} answers the consultation`);
      await expectOk(parties[owner].op(consultId, 'CompleteConference'), `${owner} completes the conference with ${guest}`);
    }
  }
  return callId;
};

/** Each party's view of the call: Established, with exactly the other parties as participants. */
const assertConference = async (parties: Parties, callId: string, members: readonly Dn[]): Promise<void> => {
  for (const dn of members) {
    const call = await onlyCall(parties[dn], (c) => c.id === callId);
    assert.equal(call.state, 'Established', `${dn}'s state on ${callId}`);
    assert.deepEqual(participantDns(call), members.filter((m) => m !== dn).sort(), `${dn}'s participants on ${callId}`);
  }
};

/**
 * A removed party no longer lists the call, and reading it shows Released with nothing to do,
 * and the parties they saw when they left (GWS keeps a Released call's participants: the
 * CallsHangup and ClearCall samples) — one of `saw`, when a race decides which.
 */
const assertReleased = async (parties: Parties, callId: string, dn: Dn, ...saw: (readonly Dn[])[]): Promise<void> => {
  assert.ok(!(await callsOf(parties[dn])).some((c) => c.id === callId), `${dn} no longer lists ${callId}`);
  const reply = await parties[dn].get(`/api/v2/me/calls/${callId}`);
  assert.equal(reply.body.statusCode, 0);
  assert.equal(reply.body.call.state, 'Released', `${dn}'s state on ${callId}`);
  assert.deepEqual(reply.body.call.capabilities, []);
  const seen = participantDns(reply.body.call).join();
  assert.ok(saw.some((dns) => [...dns].sort().join() === seen), `${dn} sees [${seen}] on the Released ${callId}, expected one of ${JSON.stringify(saw)}`);
};

const remove = (parties: Parties, owner: Dn, callId: string, participant: Dn) =>
  parties[owner].op(callId, 'RemoveParticipantFromConference', { participant });

const notesFor = (listener: Listener, from: number, match: (n: Notification) => boolean): Notification[] =>
  listener.received.slice(from).filter(match);

// ---- (a) racing removals -----------------------------------------------------------------------
describe('voice: concurrent RemoveParticipantFromConference', () => {
  let server: TestServer;
  let parties: Parties;
  let listeners: Record<Dn, Listener>;

  beforeEach(async () => {
    server = await startTestServer();
    parties = partiesOf(server.url);
    const dns: Dn[] = ['15000', '15001', '15002', '15003'];
    const all = await Promise.all(dns.map((dn) => listen(server.url, `agent${dn}`)));
    listeners = Object.fromEntries(dns.map((dn, i) => [dn, all[i] as Listener])) as Record<Dn, Listener>;
  });
  afterEach(async () => {
    await Promise.all(Object.values(listeners ?? {}).map((l) => l.disconnect()));
    await server?.dispose();
  });

  /** Every listener has caught up: what the requests so far sent them has arrived (Listener.caughtUp). */
  const caughtUpAll = () => Promise.all(Object.values(listeners).map((l) => l.caughtUp()));

  it('the same participant twice at once: exactly one succeeds, the other is refused, the state is consistent', async () => {
    const callId = await buildConference(parties, '15000', ['15001', '15002', '15003']);
    await assertConference(parties, callId, ['15000', '15001', '15002', '15003']);
    await caughtUpAll();
    const marks = Object.fromEntries(Object.entries(listeners).map(([dn, l]) => [dn, l.received.length])) as Record<Dn, number>;

    const replies = await Promise.all([remove(parties, '15000', callId, '15001'), remove(parties, '15000', callId, '15001')]);

    const winners = replies.filter((r) => r.body?.statusCode === 0);
    const losers = replies.filter((r) => r.body?.statusCode !== 0);
    assert.equal(winners.length, 1, `exactly one removal wins: ${JSON.stringify(replies.map((r) => [r.status, r.body]))}`);
    assert.deepEqual(winners[0]?.body, OK);
    assert.equal(winners[0]?.status, 200);
    const loser = losers[0] as Reply;
    assert.equal(loser.status, 400);
    assert.deepEqual(Object.keys(loser.body).sort(), ['statusCode', 'statusMessage']);
    assert.equal(loser.body.statusCode, 2);
    assert.match(loser.body.statusMessage, /15001/);
    assert.match(loser.body.statusMessage, /not a live party/);

    await assertReleased(parties, callId, '15001', ['15000', '15002', '15003']);
    await assertConference(parties, callId, ['15000', '15002', '15003']);

    // Notified once: the removal happened once.
    await listeners['15001'].next(callNote('StatusChange', { id: callId, state: 'Released' }), 5000, 'Released');
    for (const dn of ['15000', '15002', '15003'] as const)
      await listeners[dn].next(
        (n) => listeners[dn].received.indexOf(n) >= marks[dn] && callNote('ParticipantsUpdated', { id: callId })(n),
        5000,
        'ParticipantsUpdated',
      );
    await caughtUpAll();
    assert.equal(notesFor(listeners['15001'], marks['15001'], callNote('StatusChange', { id: callId, state: 'Released' })).length, 1);
    for (const dn of ['15000', '15002', '15003'] as const) {
      const updates = notesFor(listeners[dn], marks[dn], (n) => n.channel === '/v2/me/calls' && n.data.call?.id === callId);
      assert.deepEqual(updates.map((n) => n.data.notificationType), ['ParticipantsUpdated'], `${dn} hears of one removal`);
      assert.deepEqual(participantDns(updates[0]?.data.call), ['15000', '15002', '15003'].filter((x) => x !== dn).sort());
    }
  });

  it('two different participants at once: both succeed and two parties remain', async () => {
    const callId = await buildConference(parties, '15000', ['15001', '15002', '15003']);
    await assertConference(parties, callId, ['15000', '15001', '15002', '15003']);

    const replies = await Promise.all([remove(parties, '15000', callId, '15001'), remove(parties, '15000', callId, '15002')]);
    for (const [i, reply] of replies.entries()) {
      assert.deepEqual(reply.body, OK, `removal ${i + 1}: ${JSON.stringify(reply.body)}`);
      assert.equal(reply.status, 200);
    }

    // Whichever removal committed first, its party saw the other still there.
    await assertReleased(parties, callId, '15001', ['15000', '15002', '15003'], ['15000', '15003']);
    await assertReleased(parties, callId, '15002', ['15000', '15001', '15003'], ['15000', '15003']);
    await assertConference(parties, callId, ['15000', '15003']);
    const owner = await onlyCall(parties['15000'], (c) => c.id === callId);
    assert.ok(!owner.capabilities.includes('RemoveParticipantFromConference'), 'a two-party call is no conference');

    const last = await listeners['15003'].next(
      (n) => callNote('ParticipantsUpdated', { id: callId })(n) && participantDns(n.data.call).join() === '15000',
      5000,
      'ParticipantsUpdated listing only 15000',
    );
    assert.equal(last.data.call.state, 'Established');
  });
});

// ---- (b) restart ---------------------------------------------------------------------------------
describe('voice: a conference survives a restart on the same SQLite file', () => {
  /** Every party's calls with the server's own address (its port) factored out, and durations dropped. */
  const snapshot = async (url: string, parties: Parties, dns: readonly Dn[]): Promise<Record<string, unknown>> => {
    const views: Record<string, unknown> = {};
    for (const dn of dns) {
      const calls = (await callsOf(parties[dn])).map(({ duration: _ignored, ...rest }) => rest);
      views[dn] = JSON.parse(JSON.stringify(calls).split(url).join('<server>'));
    }
    return views;
  };

  it('every party sees the same calls after the restart, and the conference can still be changed', async () => {
    const data = tempDataFile();
    let first: TestServer | undefined;
    let second: TestServer | undefined;
    const listeners: Listener[] = [];
    try {
      first = await startTestServer({ data: data.file });
      const before = partiesOf(first.url);
      const callId = await buildConference(before, '15000', ['15001', '15002'], 'consultation');
      await assertConference(before, callId, ['15000', '15001', '15002']);
      const ownerBefore = await onlyCall(before['15000']);
      assert.ok(ownerBefore.capabilities.includes('RemoveParticipantFromConference'), 'the owner may remove a participant');
      const viewsBefore = await snapshot(first.url, before, ['15000', '15001', '15002', '15003']);
      await first.close();
      first = undefined;

      second = await startTestServer({ data: data.file });
      const after = partiesOf(second.url);
      const viewsAfter = await snapshot(second.url, after, ['15000', '15001', '15002', '15003']);
      assert.deepEqual(viewsAfter, viewsBefore, 'GET /api/v2/me/calls?fields=* answers the same for every party');
      // And the views are of the conference itself (not vacuous).
      assert.deepEqual(
        Object.fromEntries(Object.entries(viewsAfter).map(([dn, calls]) => [dn, (calls as any[]).map((c) => [c.id, c.state])])),
        { '15000': [[callId, 'Established']], '15001': [[callId, 'Established']], '15002': [[callId, 'Established']], '15003': [] },
      );

      const [owner, removed, remaining] = await Promise.all(['agent15000', 'agent15001', 'agent15002'].map((u) => listen((second as TestServer).url, u)));
      listeners.push(owner as Listener, removed as Listener, remaining as Listener);

      await expectOk(remove(after, '15000', callId, '15001'), 'RemoveParticipantFromConference after the restart');

      const forRemaining = await (remaining as Listener).next(callNote('ParticipantsUpdated', { id: callId }), 5000, 'ParticipantsUpdated');
      assert.equal(forRemaining.data.call.state, 'Established');
      assert.deepEqual(participantDns(forRemaining.data.call), ['15000']);
      assert.equal(forRemaining.data.call.uri, `${second.url}/api/v2/me/calls/${callId}`, 'rendered by the new server');
      const forOwner = await (owner as Listener).next(callNote('ParticipantsUpdated', { id: callId }), 5000, 'ParticipantsUpdated');
      assert.deepEqual(participantDns(forOwner.data.call), ['15002']);
      await (removed as Listener).next(callNote('StatusChange', { id: callId, state: 'Released' }), 5000, 'Released');

      await assertReleased(after, callId, '15001', ['15000', '15002']);
      await assertConference(after, callId, ['15000', '15002']);
    } finally {
      await Promise.all(listeners.map((l) => l.disconnect()));
      await first?.close();
      await second?.dispose();
      data.remove();
    }
  });
});
