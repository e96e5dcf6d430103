/**
 * A cluster on PostgreSQL when a node dies (CONTRACT.md "A cluster on PostgreSQL": SIGKILL loses
 * no acknowledged change; the compliance orchestrator runs on one node at a time and another
 * takes over within 10 s). Real `conclave serve` processes on a real PostgreSQL.
 *  - SIGKILL of a node under load: every change a node answered 2xx for is in the database;
 *  - the lease holder carries out a flag raised on the other node; after a SIGKILL of the holder
 *    the other node takes the lease within 10 s and carries out the pending flag
 *    (Conclave's compliance API, docs/compliance; GWS "RemoveParticipantFromConference").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { conference, liveCalls } from '../helpers/conference.js';
import { gws } from '../helpers/gws.js';
import { sharedPostgres, startNode } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

/** "this node now runs the compliance orchestrator" in a node's (pino JSON) log. */
const holds = (node: { stderr: () => string }) => node.stderr().includes('this node now runs the compliance orchestrator');

describe('cluster on PostgreSQL: a node dies', async () => {
  const server = await sharedPostgres();
  if ('reason' in server) {
    it(`skipped: no PostgreSQL: ${server.reason}`, { skip: server.reason });
    return;
  }

  it('SIGKILL of a node under load: every change answered 2xx is in the database', async () => {
    const url = await server.createDatabase();
    const [a, b] = await Promise.all([startNode(url), startNode(url)]);
    // Two calls, one worked through each node; each worker attaches a new key per request.
    const onA = await conference(a.url, '15000', ['15001']);
    const onB = await conference(b.url, '15002', ['15003']);
    const acknowledged = new Map<string, string[]>([[onA, []], [onB, []]]);
    let stop = false;
    const worker = async (base: string, user: string, callId: string, name: string) => {
      for (let i = 0; !stop; i++) {
        const key = `${name}-${i}`;
        try {
          const reply = await gws(base, user).op(callId, 'AttachUserData', { userData: { [key]: i } });
          if (reply.status >= 200 && reply.status < 300 && reply.body?.statusCode === 0) acknowledged.get(callId)?.push(key);
        } catch {
          // The node died under this request: no answer, nothing acknowledged.
          if (base === a.url) return;
        }
      }
    };
    const workers = [
      worker(a.url, 'agent15000', onA, 'a1'),
      worker(a.url, 'agent15001', onA, 'a2'),
      worker(b.url, 'agent15002', onB, 'b1'),
      worker(a.url, 'agent15003', onB, 'a3'),
    ];
    await waitFor(() => (acknowledged.get(onA)?.length ?? 0) >= 20, 20_000, 'load through node A');
    a.child.kill('SIGKILL');
    await a.exited;
    // Node B carries on.
    const after = acknowledged.get(onB)?.length ?? 0;
    await waitFor(() => (acknowledged.get(onB)?.length ?? 0) > after + 5, 20_000, 'node B still answers');
    stop = true;
    await Promise.all(workers);

    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    try {
      for (const [callId, keys] of acknowledged) {
        const row = (await raw.query<{ body: string }>('SELECT body FROM calls WHERE id = $1', [callId])).rows[0];
        const stored = Object.keys(JSON.parse(row?.body ?? '{}').userData ?? {});
        const lost = keys.filter((k) => !stored.includes(k));
        assert.deepEqual(lost, [], `acknowledged changes of ${callId} missing from the database (${keys.length} acknowledged)`);
        assert.ok(keys.length > 0);
      }
    } finally {
      await raw.end();
    }
    b.child.kill('SIGTERM');
    await b.exited;
  });

  it('the lease holder carries out flags raised anywhere; after its SIGKILL another node takes over within 10 s and resumes the pending flag', async () => {
    const url = await server.createDatabase();
    const a = await startNode(url, [], 'info');
    await waitFor(() => holds(a), 10_000, 'node A takes the lease');
    const b = await startNode(url, [], 'info');
    const admin = (base: string) => gws(base, 'admin');

    // Raised on B, carried out by A (the holder).
    const first = await conference(b.url, '15000', ['15001', '15002']);
    const raised = await admin(b.url).post('/conclave/v1/compliance/flags', { user: 'agent15002', reason: 'policy', source: 'e2e' });
    assert.equal(raised.status, 202, JSON.stringify(raised.body));
    await waitFor(async () => (await liveCalls(gws(b.url, 'agent15002'))).length === 0, 10_000, '15002 ejected by the holder');
    assert.ok(!holds(b), 'B did not run the orchestrator');
    assert.equal((await gws(a.url, 'agent15000').get(`/api/v2/me/calls/${first}`)).body.call.participants.length, 1, 'the others stay');

    // The holder dies; a flag raised meanwhile waits, and B carries it out within 10 s.
    const second = await conference(b.url, '15003', ['15001', '15002']);
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.exited;
    const flagged = await admin(b.url).post('/conclave/v1/compliance/flags', { user: 'agent15001', reason: 'policy', source: 'e2e' });
    assert.equal(flagged.status, 202, JSON.stringify(flagged.body));
    await waitFor(async () => (await liveCalls(gws(b.url, 'agent15001'))).every((c) => c.id !== second), 10_000, '15001 ejected after the takeover');
    assert.ok(Date.now() - killedAt < 10_000, 'within 10 s of the SIGKILL');
    assert.ok(holds(b), 'B took the lease');
    const audit = (await admin(b.url).get(`/conclave/v1/compliance/audit?flagId=${flagged.body.flagId}`)).body.entries;
    assert.ok(audit.some((e: any) => e.step === 'removed' && e.outcome === 'ejected'), JSON.stringify(audit));
    b.child.kill('SIGTERM');
    await b.exited;
  });
});
