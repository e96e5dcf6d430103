/**
 * A cluster on PostgreSQL (CONTRACT.md "A cluster on PostgreSQL"): real `conclave serve --data
 * postgres://…` processes on one real PostgreSQL server the test starts (test/helpers/postgres.ts).
 *  - a conference built across two nodes: the official CometD client on each node hears what the
 *    other node did (GWS reference "Notifications: /v2/me/calls", StatusChange and
 *    ParticipantsUpdated), exactly once;
 *  - two RemoveParticipantFromConference of the same participant racing through different nodes
 *    (GWS reference "RemoveParticipantFromConference"): one wins, the other is statusCode 2;
 *  - /healthz answers 503 while the database is stopped, and the node recovers by itself.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { callNote, listen, type Listener, type Notification } from '../helpers/cometd.js';
import { gws, type GwsClient, type Reply } from '../helpers/gws.js';
import { sharedPostgres, startNode, type ClusterNode as Node, type Postgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

const OK = { statusCode: 0 };
const expectOk = async (reply: Promise<Reply>, what: string): Promise<void> => {
  const r = await reply;
  assert.deepEqual(r.body, OK, `${what}: ${JSON.stringify(r.body)}`);
};
const callsOf = async (client: GwsClient): Promise<any[]> => (await client.get('/api/v2/me/calls?fields=*')).body.calls;
const since = (listener: Listener, mark: number, match: (n: Notification) => boolean) => listener.received.slice(mark).filter(match);

describe('cluster on PostgreSQL: two nodes, one system', async () => {
  const server = await sharedPostgres();
  if ('reason' in server) {
    it(`skipped: no PostgreSQL: ${server.reason}`, { skip: server.reason });
    return;
  }
  const pg: Postgres = server;
  let a: Node;
  let b: Node;
  before(async () => {
    const url = await pg.createDatabase();
    [a, b] = await Promise.all([startNode(url), startNode(url)]);
  });

  it('a conference built across two nodes: each node’s CometD sessions hear what the other node did, once', async () => {
    // 15000 works through node A, 15001 and 15002 through node B; each listens on its own node.
    const owner = gws(a.url, 'agent15000');
    const guest = gws(b.url, 'agent15001');
    const third = gws(b.url, 'agent15002');
    const [onA, onB, thirdOnB] = await Promise.all([listen(a.url, 'agent15000'), listen(b.url, 'agent15001'), listen(b.url, 'agent15002')]);
    try {
      await expectOk(owner.dial('15001'), '15000 dials 15001 through A');
      const ringing = await onB.next(callNote('StatusChange', { state: 'Ringing' }), 10_000, 'Ringing on B for a call made on A');
      const callId = ringing.data.call.id as string;
      assert.deepEqual((await callsOf(guest)).map((c) => c.id), [callId], 'node B reads the call node A committed');

      await expectOk(guest.op(callId, 'Answer'), '15001 answers through B');
      await onA.next(callNote('StatusChange', { id: callId, state: 'Established' }), 10_000, 'Established on A after the answer on B');

      await expectOk(owner.op(callId, 'SingleStepConference', { destination: { phoneNumber: '15002' } }), '15000 conferences 15002 in through A');
      await thirdOnB.next(callNote('StatusChange', { id: callId, state: 'Ringing' }), 10_000, '15002 rings on B');
      await expectOk(third.op(callId, 'Answer'), '15002 answers through B');
      const updated = await onB.next(
        (n) => callNote('ParticipantsUpdated', { id: callId })(n) && n.data.call.participants.length === 2,
        10_000,
        'B hears the three-party conference',
      );
      assert.deepEqual(updated.data.call.participants.map((p: any) => p.phoneNumber).sort(), ['15000', '15002']);
      await onA.next((n) => callNote('ParticipantsUpdated', { id: callId })(n) && n.data.call.participants.length === 2, 10_000, 'A hears the conference');

      // Exactly once: the answer on B reached A's session once (the outbox does not echo a
      // node's own rows back to it, and the originating node published locally).
      const mark = onA.received.length;
      await expectOk(owner.op(callId, 'RemoveParticipantFromConference', { participant: '15002' }), '15000 removes 15002 through A');
      await thirdOnB.next(callNote('StatusChange', { id: callId, state: 'Released' }), 10_000, '15002 released, heard on B');
      await onB.next((n) => onB.received.indexOf(n) >= 0 && callNote('ParticipantsUpdated', { id: callId })(n) && n.data.call.participants.length === 1, 10_000, 'B hears the removal');
      // A positive barrier instead of a quiet period: the outbox is delivered in commit order, so
      // once A hears the hang-up made on B it has heard everything committed before it.
      await expectOk(guest.op(callId, 'Hangup'), '15001 hangs up through B');
      await onA.next(callNote('StatusChange', { id: callId, state: 'Released' }), 10_000, 'A hears the hang-up on B (the call ends)');
      assert.equal(
        since(onA, mark, (n) => callNote('ParticipantsUpdated', { id: callId })(n) && n.data.call.participants.length === 1).length,
        1,
        'A hears its own removal once',
      );
      assert.equal(onA.received.filter(callNote('StatusChange', { id: callId, state: 'Established' })).length, 1, 'A heard the answer made on B once');
      assert.equal(onB.received.filter(callNote('StatusChange', { id: callId, state: 'Ringing' })).length, 1, 'B heard the dial made on A once');
    } finally {
      await Promise.all([onA, onB, thirdOnB].map((l) => l.disconnect()));
    }
  });

  it('racing removals of one participant through different nodes: one wins, the other is a clear refusal', async () => {
    const ownerA = gws(a.url, 'agent15000');
    const ownerB = gws(b.url, 'agent15000');
    await expectOk(ownerA.dial('15001'), 'dial');
    const callId = (await waitFor(async () => (await callsOf(gws(b.url, 'agent15001'))).find((c) => c.state === 'Ringing'), 5000, 'the call ringing on B')).id as string;
    await expectOk(gws(b.url, 'agent15001').op(callId, 'Answer'), '15001 answers');
    for (const dn of ['15002', '15003']) {
      await expectOk(ownerA.op(callId, 'SingleStepConference', { destination: { phoneNumber: dn } }), `conference ${dn}`);
      await expectOk(gws(a.url, `agent${dn}`).op(callId, 'Answer'), `${dn} answers`);
    }
    const replies = await Promise.all([
      ownerA.op(callId, 'RemoveParticipantFromConference', { participant: '15001' }),
      ownerB.op(callId, 'RemoveParticipantFromConference', { participant: '15001' }),
    ]);
    const winners = replies.filter((r) => r.body?.statusCode === 0);
    assert.equal(winners.length, 1, `exactly one wins: ${JSON.stringify(replies.map((r) => [r.status, r.body]))}`);
    const loser = replies.find((r) => r.body?.statusCode !== 0) as Reply;
    assert.equal(loser.status, 400);
    assert.equal(loser.body.statusCode, 2);
    assert.match(loser.body.statusMessage, /15001/);
    for (const base of [a.url, b.url]) {
      const call = (await callsOf(gws(base, 'agent15000'))).find((c) => c.id === callId);
      assert.deepEqual(call.participants.map((p: any) => p.phoneNumber).sort(), ['15002', '15003'], `the same conference on ${base}`);
    }
    await expectOk(ownerB.op(callId, 'ClearCall'), 'end the conference');
  });

  it('/healthz answers 503 while the database is stopped; the node reconnects by itself', async () => {
    const health = async (node: Node) => (await fetch(`${node.url}/healthz`)).status;
    assert.equal(await health(a), 200);
    await pg.stop();
    try {
      assert.equal(await health(a), 503, 'database down: 503');
      assert.equal(await health(b), 503);
    } finally {
      await pg.start();
    }
    await waitFor(async () => (await health(a)) === 200 && (await health(b)) === 200, 15_000, 'both nodes healthy again');
    // A write through each node, and its notification across nodes after the reconnection.
    const listener = await listen(b.url, 'agent15001');
    try {
      await expectOk(gws(a.url, 'agent15000').dial('15001'), 'a request after recovery');
      const ringing = await listener.next(callNote('StatusChange', { state: 'Ringing' }), 10_000, 'a notification across nodes after recovery');
      await expectOk(gws(b.url, 'agent15000').op(ringing.data.call.id, 'Hangup'), 'a request on B after recovery');
    } finally {
      await listener.disconnect();
    }
  });
});
