/**
 * Compliance lanes (issue "Performance", compliance target): the orchestrator has several users
 * (lanes), so flags on different users are carried out concurrently, while
 *  - one user's flags stay in order, on one lane;
 *  - two flags whose users share a conference are carried out one after the other, so the second
 *    finds what the first left: a two-party call, left alone (skipped), exactly as one at a time;
 *  - each flag's audit is the same sequence of steps as when flags run one at a time.
 * Real HTTP, real SQLite file; the concurrency itself on a real PostgreSQL server, where a flag's
 * steps wait for the database and another lane's flag runs meanwhile.
 * (Conclave's compliance API, README "Compliance"; GWS "RemoveParticipantFromConference".)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildDirectory } from '../../src/directory/directory.js';
import { conference, liveCalls } from '../helpers/conference.js';
import { gws } from '../helpers/gws.js';
import { sharedPostgres } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const FLAGS = '/conclave/v1/compliance/flags';
const AUDIT = '/conclave/v1/compliance/audit';

const raise = async (url: string, user: string, reason: string): Promise<string> => {
  const reply = await gws(url, 'admin').post(FLAGS, { user, reason, source: 'lanes-e2e' });
  assert.equal(reply.status, 202, JSON.stringify(reply.body));
  return reply.body.flagId as string;
};

const auditOf = async (url: string, flagId: string): Promise<any[]> => {
  const reply = await gws(url, 'admin').get(`${AUDIT}?${new URLSearchParams({ flagId })}`);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.entries;
};
/** All entries, in the order the store appended them. */
const wholeAudit = async (url: string): Promise<any[]> => (await gws(url, 'admin').get(AUDIT)).body.entries;

const settled = (url: string, flagId: string) =>
  waitFor(async () => (await auditOf(url, flagId)).find((e) => e.step === 'done' || e.step === 'failed'), 15_000, `flag ${flagId} settles`);

/** Agents 15100–15123 (password = user name) and an admin: room for several conferences at once. */
const directory = () =>
  buildDirectory(
    {
      users: [
        ...Array.from({ length: 24 }, (_, i) => ({ userName: `agent${15100 + i}`, password: `agent${15100 + i}`, roles: ['ROLE_AGENT'], phoneNumber: String(15100 + i) })),
        { userName: 'admin', password: 'admin', roles: ['ROLE_ADMIN'] },
      ],
    },
    'compliance lanes test',
  );

const steps = (entries: any[]) => entries.map((e) => `${e.step}:${e.outcome}`);
const ONE_REMOVAL = ['flagged:accepted', 'found:accepted', 'removed:ejected', 'done:completed'];

/** A three-party conference; its two guests are flagged at once: one is removed, the other's call is then two-party. */
const sharedConference = async (url: string, [owner, ...guests]: [string, string, string]) => {
  const callId = await conference(url, owner, guests);
  const flags = await Promise.all(guests.map((dn) => raise(url, `agent${dn}`, 'shared conference')));
  const ends = await Promise.all(flags.map((id) => settled(url, id)));
  assert.deepEqual(ends.map((e) => e.step), ['done', 'done']);
  const both = await Promise.all(flags.map((id) => auditOf(url, id)));
  const removed = both.filter((entries) => entries.some((e) => e.step === 'removed' && e.interaction === callId));
  const skipped = both.filter((entries) => entries.some((e) => e.step === 'skipped' && e.outcome === 'two-party' && e.interaction === callId));
  assert.equal(removed.length, 1, 'exactly one of the two is removed');
  assert.equal(skipped.length, 1, 'the other finds a two-party call and is left alone');
  const seen = (await liveCalls(gws(url, `agent${owner}`))).find((c) => c.id === callId);
  assert.equal(seen?.participants.length, 1, 'the owner is still connected, with one other party');
};

describe('compliance lanes on SQLite', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ directory: directory() });
  });
  after(async () => server.dispose());

  it('has the orchestrator users it was started with: conclave-compliance and conclave-compliance-2..4, none of whom can log in', async () => {
    for (const name of ['conclave-compliance', 'conclave-compliance-2', 'conclave-compliance-3', 'conclave-compliance-4']) {
      const user = server.directory.byUserName(name);
      assert.ok(user?.phoneNumber && user.deviceId && user.roles.includes('ROLE_SUPERVISOR'), name);
      assert.equal((await gws(server.url, name).get('/api/v2/me')).status, 401, `${name} cannot log in`);
    }
    assert.equal(server.directory.byUserName('conclave-compliance-5'), undefined);
  });

  it('two flags whose users share a conference (SQLite: one after the other anyway): one is removed, the other then finds a two-party call and it is left alone', () =>
    sharedConference(server.url, ['15100', '15101', '15102']));

  it("one user's flags stay in order: the second starts only after the first is done, on the same lane", async () => {
    await conference(server.url, '15103', ['15104', '15105']);
    const [first, second] = await Promise.all([raise(server.url, 'agent15104', 'first reason'), raise(server.url, 'agent15104', 'second reason')]);
    await Promise.all([settled(server.url, first as string), settled(server.url, second as string)]);
    const order = (await wholeAudit(server.url)).filter((e) => e.flagId === first || e.flagId === second);
    const lastOfFirst = order.map((e) => e.flagId).lastIndexOf(first);
    const firstOfSecond = order.findIndex((e) => e.flagId === second && e.step !== 'flagged');
    assert.ok(lastOfFirst < firstOfSecond, `the second flag's work follows the first's: ${JSON.stringify(order.map((e) => [e.flagId === first ? 1 : 2, e.step]))}`);
    const actors = new Set(order.filter((e) => e.step !== 'flagged').map((e) => e.actor));
    assert.equal(actors.size, 1, `one lane: ${[...actors].join(', ')}`);
  });
});

describe('compliance lanes on PostgreSQL: flags on different users run at the same time', async () => {
  const pg = await sharedPostgres();
  if ('reason' in pg) {
    it(`skipped: no PostgreSQL: ${pg.reason}`, { skip: pg.reason });
    return;
  }
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ directory: directory(), data: await pg.createDatabase() });
  });
  after(async () => server.dispose());

  it('two flags whose users share a conference, raised at once: one is removed, the other then finds a two-party call and it is left alone', () =>
    sharedConference(server.url, ['15106', '15107', '15108']));

  it('four flags on four users in four conferences, raised at once: more than one lane works, overlapping, and each flag reads as if alone', async () => {
    const groups = [
      ['15110', '15111', '15112'],
      ['15113', '15114', '15115'],
      ['15116', '15117', '15118'],
      ['15119', '15120', '15121'],
    ] as const;
    const calls = [];
    for (const [owner, ...guests] of groups) calls.push(await conference(server.url, owner, [...guests]));
    // The lease (a single node still takes it) decides when flags are carried out: wait until this node holds it.
    assert.equal((await settled(server.url, await raise(server.url, 'agent15123', 'warm-up'))).step, 'done');
    const flags = await Promise.all(groups.map(([, flagged]) => raise(server.url, `agent${flagged}`, 'concurrent')));
    for (const id of flags) assert.equal((await settled(server.url, id)).step, 'done');
    for (const id of flags) assert.deepEqual(steps(await auditOf(server.url, id)), ONE_REMOVAL, 'each flag: the same steps as one at a time');
    const order = (await wholeAudit(server.url)).filter((e) => flags.includes(e.flagId) && e.step !== 'flagged');
    const actors = new Set(order.map((e) => e.actor));
    assert.ok(actors.size > 1, `several lanes worked: ${[...actors].join(', ')}`);
    // Overlap: some flag found its conference before another one was done.
    const overlapped = flags.some((a) => flags.some((b) => a !== b && order.findIndex((e) => e.flagId === b && e.step === 'found') < order.findIndex((e) => e.flagId === a && e.step === 'done') && order.findIndex((e) => e.flagId === a && e.step === 'found') < order.findIndex((e) => e.flagId === b && e.step === 'found')));
    assert.ok(overlapped, `flags overlapped: ${JSON.stringify(order.map((e) => [flags.indexOf(e.flagId), e.step, e.actor]))}`);
    for (const [i, callId] of calls.entries()) {
      const owner = (await liveCalls(gws(server.url, `agent${groups[i]?.[0]}`))).find((c) => c.id === callId);
      assert.equal(owner?.participants.length, 1, `conference ${i}: the owner and one other party stay`);
    }
  });
});
