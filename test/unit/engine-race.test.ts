/**
 * The engine under a real race: two engines (two processes' worth of `createEngine`, each with
 * its own in-process keyed queue) over two SQLite connections to the same file. Both remove the
 * same participant of one conference at the same time; SQLite's version check lets exactly one
 * commit win, and the loser's engine retries on fresh state, where the participant has gone
 * (statusCode 2). Each engine's sink hears only what that engine committed.
 *
 * Then the retry budget: an engine whose store always reports a conflict retries, re-reading the
 * call each time, and finally answers statusCode 19 (concurrentChange) having written nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gwsRefs } from '../../src/api/gws/resource-ids.js';
import { demoDirectory, toActor } from '../../src/directory/directory.js';
import type { Actor } from '../../src/domain/actor.js';
import { isRefusal, type Refusal } from '../../src/domain/refusals.js';
import { parseDialOperation, parseVoiceOperation } from '../../src/domain/voice/commands.js';
import type { Call } from '../../src/domain/voice/model.js';
import type { Outcome } from '../../src/engine/commands.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { randomIds } from '../../src/engine/ids.js';
import type { DomainEvent, EventSink } from '../../src/engine/ports.js';
import { VersionConflict, type CommitBatch, type Committed, type Store } from '../../src/store/port.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { tempDataFile } from '../helpers/server.js';
import { domainDirectoryOf } from '../../src/directory/domain-view.js';

const T0 = 1_700_000_000_000;
const directory = demoDirectory();


/** The demo user on this DN as an actor (as the GWS routes build one: toActor). */
const agent = (dn: string): Actor & { dn: string } => {
  const user = directory.byDn(dn);
  assert.ok(user, `the demo directory has a user on ${dn}`);
  return { ...toActor(user), dn };
};

// ---- Test doubles ------------------------------------------------------------------------------
/** A sink that keeps every event it is handed. */
const recordingSink = (): EventSink & { readonly events: DomainEvent[] } => {
  const events: DomainEvent[] = [];
  return { events, publish: (batch) => void events.push(...batch) };
};

type CommitRecord = { readonly outcome: 'committed'; readonly committed: Committed } | { readonly outcome: 'conflict'; readonly batch: CommitBatch };

/**
 * A real store, observed: how often the engine loaded a call, and what became of each commit.
 * `gate`, when set, is awaited before a commit reaches the store (the race below uses it so that
 * both engines have loaded the same version before either commits).
 */
const observed = (store: Store) => {
  const stats = { callLoads: 0, commits: [] as CommitRecord[] };
  let gate: (() => Promise<void>) | undefined;
  const wrapped: Store = {
    ...store,
    getCall: (id) => {
      stats.callLoads++;
      return store.getCall(id);
    },
    commit: async (batch) => {
      if (gate) await gate();
      try {
        const committed = await store.commit(batch);
        stats.commits.push({ outcome: 'committed', committed });
        return committed;
      } catch (error) {
        if (error instanceof VersionConflict) stats.commits.push({ outcome: 'conflict', batch });
        throw error;
      }
    },
  };
  return {
    store: wrapped,
    stats,
    setGate: (g: (() => Promise<void>) | undefined) => void (gate = g),
    /** What happened from now on: the commits and call loads after this point. */
    mark: () => {
      const commits = stats.commits.length;
      const loads = stats.callLoads;
      return { commits: () => stats.commits.slice(commits), callLoads: () => stats.callLoads - loads };
    },
  };
};

/**
 * A barrier for `parties` arrivals: each arrival waits until all have arrived; once they have,
 * later arrivals (a retry's commit, if there were one) pass straight through.
 */
const barrier = (parties: number) => {
  let arrived = 0;
  let open!: () => void;
  const allHere = new Promise<void>((resolve) => (open = resolve));
  return () => {
    if (++arrived === parties) open();
    return allHere;
  };
};

/**
 * Forces the conflict deterministically: every commit is refused with VersionConflict, as if
 * another writer always got there first, and nothing reaches the underlying store.
 */
const alwaysConflicting = (store: Store) => {
  const stats = { callLoads: 0, commits: 0 };
  const wrapped: Store = {
    ...store,
    getCall: (id) => {
      stats.callLoads++;
      return store.getCall(id);
    },
    commit: async (batch) => {
      stats.commits++;
      const first = batch.calls?.[0] ?? { id: '?' };
      throw new VersionConflict('call', first.id);
    },
  };
  return { store: wrapped, stats };
};

const engineOver = (store: Store, sink: EventSink): Engine =>
  createEngine({ store, directory: domainDirectoryOf(directory), sink, clock: { now: () => T0 }, ids: randomIds, refs: gwsRefs });

const accepted = <T>(outcome: Outcome<T>, what: string): T => {
  assert.ok(!isRefusal(outcome), `${what}: refused ${isRefusal(outcome) ? `${outcome.statusCode} ${outcome.message}` : ''}`);
  return outcome;
};

const callOp = (by: string, callId: string, body: Record<string, unknown>) =>
  ({ type: 'CallOperation', actor: agent(by), callId, operation: parseVoiceOperation(body) }) as const;

/** Builds a four-party conference owned by 15000 through the engine, as clients would. */
const buildConference = async (engine: Engine): Promise<string> => {
  const { callId } = accepted(
    await engine.execute({ type: 'Dial', actor: agent('15000'), operation: parseDialOperation({ operationName: 'Dial', destination: { phoneNumber: '15001' } }) }),
    'Dial',
  );
  accepted(await engine.execute(callOp('15001', callId, { operationName: 'Answer' })), '15001 Answer');
  for (const dn of ['15002', '15003']) {
    accepted(await engine.execute(callOp('15000', callId, { operationName: 'SingleStepConference', destination: { phoneNumber: dn } })), `SingleStepConference ${dn}`);
    accepted(await engine.execute(callOp(dn, callId, { operationName: 'Answer' })), `${dn} Answer`);
  }
  return callId;
};

const partyStates = (call: Call | undefined) => Object.fromEntries((call?.parties ?? []).map((p) => [p.dn, p.state]));
const snapshotKey = (call: Call) => `${call.id}@${call.version}`;

/** Every call snapshot a sink's events carry, and every call an engine's store committed. */
const eventSnapshots = (events: readonly DomainEvent[]) => new Set(events.flatMap((e) => (e.kind === 'call' ? [snapshotKey(e.call)] : [])));
const committedSnapshots = (commits: readonly CommitRecord[]) =>
  new Set(commits.flatMap((c) => (c.outcome === 'committed' ? c.committed.calls.map(snapshotKey) : [])));

describe('engine: two engines racing over two SQLite connections to one file', () => {
  const temp = tempDataFile();
  const connections: Store[] = [];
  const connect = () => {
    const store = openSqliteStore(temp.file);
    connections.push(store);
    return store;
  };
  const one = observed(connect());
  const two = observed(connect());
  const sinkOne = recordingSink();
  const sinkTwo = recordingSink();
  const engineOne = engineOver(one.store, sinkOne);
  const engineTwo = engineOver(two.store, sinkTwo);
  let callId: string;

  before(async () => {
    callId = await buildConference(engineOne);
  });
  after(async () => {
    for (const store of connections) await store.close();
    temp.remove();
  });

  it('the conference is built: four established parties, owned by 15000, seen alike by both connections', async () => {
    const seenByOne = await one.store.getCall(callId);
    assert.deepEqual(partyStates(seenByOne), { '15000': 'Established', '15001': 'Established', '15002': 'Established', '15003': 'Established' });
    assert.equal(seenByOne?.ownerDn, '15000');
    assert.deepEqual(await two.store.getCall(callId), seenByOne);
    assert.equal(sinkTwo.events.length, 0, 'engine two committed nothing, so its sink heard nothing');
    assert.ok(sinkOne.events.length > 0);
  });

  it('both remove 15003 at once: exactly one wins, the other retries on fresh state and is told 15003 is not a live party', { timeout: 30_000 }, async () => {
    const loaded = (await one.store.getCall(callId)) as Call;
    const since = [one.mark(), two.mark()] as const;
    const heardBefore = [sinkOne.events.length, sinkTwo.events.length] as const;
    // Both commits wait here until both engines have loaded the call and decided: the two
    // decisions are made on the same version, so the store, not the scheduler, picks the winner.
    const bothDecided = barrier(2);
    one.setGate(bothDecided);
    two.setGate(bothDecided);
    const remove = callOp('15000', callId, { operationName: 'RemoveParticipantFromConference', participant: '15003' });
    const outcomes = await Promise.all([engineOne.execute(remove), engineTwo.execute(remove)]);
    one.setGate(undefined);
    two.setGate(undefined);

    const winners = outcomes.filter((o) => !isRefusal(o));
    assert.equal(winners.length, 1, `exactly one removal wins: ${JSON.stringify(outcomes)}`);
    const w = outcomes.findIndex((o) => !isRefusal(o));
    const l = 1 - w;
    const refusal = outcomes[l] as Refusal;
    assert.ok(isRefusal(refusal));
    assert.equal(refusal.statusCode, 2);
    assert.match(refusal.message, /participant 15003 is not a live party of call .* \(state Released\)/);

    const [winner, loser] = [since[w] as ReturnType<typeof one.mark>, since[l] as ReturnType<typeof one.mark>];
    const [winnerSink, loserSink] = w === 0 ? [sinkOne, sinkTwo] : [sinkTwo, sinkOne];
    assert.deepEqual(winner.commits().map((c) => c.outcome), ['committed'], 'the winner committed once');
    assert.deepEqual(loser.commits().map((c) => c.outcome), ['conflict'], 'the loser committed once and lost the race');
    const lost = loser.commits()[0] as Extract<CommitRecord, { outcome: 'conflict' }>;
    assert.equal(lost.batch.calls?.[0]?.version, loaded.version, 'the losing commit was decided on the same version as the winning one');
    assert.equal(winner.callLoads(), 1);
    assert.equal(loser.callLoads(), 2, 'the loser read the call again before refusing: a retry on fresh state');

    // The winner's change is stored once, and both connections see it.
    const stored = (await one.store.getCall(callId)) as Call;
    assert.equal(stored.version, loaded.version + 1, 'one change, not two');
    assert.deepEqual(partyStates(stored), { '15000': 'Established', '15001': 'Established', '15002': 'Established', '15003': 'Released' });
    assert.deepEqual(await two.store.getCall(callId), stored);

    // Only the winner's sink heard of it, and what it heard carries the committed call.
    const winnerHeard = winnerSink.events.slice(heardBefore[w]);
    assert.equal(loserSink.events.length, heardBefore[l], "the loser's sink heard nothing");
    assert.ok(winnerHeard.length > 0, "the winner's sink heard the removal");
    for (const e of winnerHeard) {
      assert.equal(e.kind, 'call');
      if (e.kind === 'call') assert.deepEqual(e.call, stored, `${e.dn}'s ${e.notificationType} carries the committed call`);
    }
    assert.deepEqual(
      [...new Set(winnerHeard.map((e) => (e.kind === 'call' ? e.dn : '')))].sort(),
      ['15000', '15001', '15002', '15003'],
      'every party is told',
    );
  });

  it("each engine's sink got events only for what that engine committed", () => {
    // Over the whole run (the conference build and the race): every call snapshot an event
    // carries was committed by the same engine, and every call it committed was published.
    for (const [name, store, sink] of [['one', one, sinkOne], ['two', two, sinkTwo]] as const) {
      const committed = committedSnapshots(store.stats.commits);
      const heard = eventSnapshots(sink.events);
      for (const key of heard) assert.ok(committed.has(key), `engine ${name}'s sink heard ${key}, which engine ${name} did not commit`);
      for (const key of committed) assert.ok(heard.has(key), `engine ${name} committed ${key} but its sink did not hear it`);
    }
  });

  it('a store that always conflicts: the engine retries on fresh state, then answers 19 and writes nothing', async () => {
    const conflicting = alwaysConflicting(connect());
    const sink = recordingSink();
    const engine = engineOver(conflicting.store, sink);
    const before = await one.store.getCall(callId);
    const heardBefore = [sinkOne.events.length, sinkTwo.events.length];

    // 15002 is a live party of a four-party conference owned by 15000: the decision accepts it.
    const outcome = await engine.execute(callOp('15000', callId, { operationName: 'RemoveParticipantFromConference', participant: '15002' }));

    assert.ok(isRefusal(outcome), `refused: ${JSON.stringify(outcome)}`);
    assert.equal(outcome.statusCode, 19);
    assert.equal(outcome.code, 'concurrentChange');
    assert.match(outcome.message, new RegExp(`${callId}.*changed concurrently`));
    assert.ok(conflicting.stats.commits > 1, `the engine retried: ${conflicting.stats.commits} commits`);
    assert.equal(conflicting.stats.callLoads, conflicting.stats.commits, 'each attempt loaded the call afresh before committing');

    assert.deepEqual(await one.store.getCall(callId), before, 'nothing was written');
    assert.deepEqual(await two.store.getCall(callId), before);
    assert.equal(partyStates(before)['15002'], 'Established');
    assert.equal(sink.events.length, 0, 'nothing was published');
    assert.deepEqual([sinkOne.events.length, sinkTwo.events.length], heardBefore, 'nor by the other engines');
  });
});
