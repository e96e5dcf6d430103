/**
 * Store conformance: the same suite against every adapter of the storage port (memory, SQLite on
 * a temp file), then what only a file store can show — two connections racing on one file,
 * durability across close + reopen, and refusing a file written by a newer schema.
 */
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { AgentSession } from '../../src/domain/agent/model.js';
import type { Call, Party, PartyState } from '../../src/domain/voice/model.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { VersionConflict, type Store } from '../../src/store/port.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { tempDataFile } from '../helpers/server.js';

// ---- Fixtures ------------------------------------------------------------------------------------
const T0 = 1_700_000_000_000;

/** A call as the domain would hand it to the store: version 0 when new. */
const newCall = (id: string, parties: Record<string, PartyState>, patch: Partial<Call> = {}): Call => {
  const list: Party[] = Object.entries(parties).map(([dn, state]) => ({ dn, state, mute: 'Off' }));
  return {
    id,
    connId: `CONN-${id}`,
    version: 0,
    callType: 'Internal',
    ani: list[0]?.dn ?? '',
    dnis: list[1]?.dn ?? '',
    parties: list,
    ownerDn: null,
    parentCallId: null,
    userData: {},
    createdAt: T0,
    establishedAt: null,
    endedAt: null,
    ...patch,
  };
};

const withStates = (call: Call, states: Record<string, PartyState>): Call => ({
  ...call,
  parties: call.parties.map((p) => (states[p.dn] ? { ...p, state: states[p.dn] as PartyState } : p)),
});

const ended = (call: Call): Call => ({
  ...call,
  parties: call.parties.map((p) => ({ ...p, state: 'Released' as const })),
  endedAt: T0 + 60_000,
});

const newSession = (userId: string): AgentSession => ({ userId, version: 0, channels: null, startedAt: null });

const commitCall = (store: Store, call: Call): Call => store.commit({ calls: [call] }).calls[0] as Call;

const idsOf = (calls: readonly Call[]): string[] => calls.map((c) => c.id).sort();

const assertConflict = (run: () => unknown, kind: string, id: string): void =>
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof VersionConflict, `expected a VersionConflict, got ${String(error)}`);
    assert.equal(error.kind, kind);
    assert.equal(error.id, id);
    return true;
  });

// ---- The conformance suite -------------------------------------------------------------------
interface Adapter {
  readonly name: string;
  open(): Store;
  /** Removes whatever the adapter left behind (the temp folder). */
  cleanUp(): void;
}

const memoryAdapter = (): Adapter => ({ name: 'memory', open: createMemoryStore, cleanUp: () => undefined });

const sqliteAdapter = (): Adapter => {
  let temp: ReturnType<typeof tempDataFile> | undefined;
  return {
    name: 'sqlite (temp file)',
    open: () => {
      temp = tempDataFile();
      return openSqliteStore(temp.file);
    },
    cleanUp: () => temp?.remove(),
  };
};

for (const adapter of [memoryAdapter(), sqliteAdapter()]) {
  describe(`store conformance: ${adapter.name}`, () => {
    let store: Store;
    beforeEach(() => {
      store = adapter.open();
    });
    afterEach(() => {
      store.close();
      adapter.cleanUp();
    });

    it('commits a new call at version 0 and stores it at version 1', () => {
      const call = newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' }, { userData: { k: 'v', n: 7 } });
      const committed = store.commit({ calls: [call] });
      assert.equal(committed.calls.length, 1);
      assert.deepEqual(committed.calls[0], { ...call, version: 1 });
      assert.deepEqual(committed.agentSessions, []);
      assert.deepEqual(store.getCall('C1'), { ...call, version: 1 });
    });

    it('answers undefined for an unknown call or session', () => {
      assert.equal(store.getCall('nope'), undefined);
      assert.equal(store.getAgentSession('nobody'), undefined);
      assert.deepEqual(store.presentCallsOf('15000'), []);
    });

    it('bumps the version on every commit and returns the stored entity', () => {
      const v1 = commitCall(store, newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' }));
      const v2 = commitCall(store, withStates(v1, { '15000': 'Established', '15001': 'Established' }));
      assert.equal(v2.version, 2);
      assert.deepEqual(store.getCall('C1'), v2);
      const v3 = commitCall(store, { ...v2, userData: { k: 'v' } });
      assert.equal(v3.version, 3);
      assert.deepEqual(store.getCall('C1')?.userData, { k: 'v' });
    });

    it('lists a call under each DN while that DN is present, and not after it is released', () => {
      const v1 = commitCall(store, newCall('C1', { '15000': 'Established', '15001': 'Established', '15002': 'Ringing' }));
      commitCall(store, newCall('C2', { '15000': 'Held', '15003': 'Established' }));
      assert.deepEqual(idsOf(store.presentCallsOf('15000')), ['C1', 'C2']);
      assert.deepEqual(idsOf(store.presentCallsOf('15001')), ['C1']);
      assert.deepEqual(idsOf(store.presentCallsOf('15002')), ['C1'], 'a ringing party is present');
      assert.deepEqual(idsOf(store.presentCallsOf('15010')), []);

      const v2 = commitCall(store, withStates(v1, { '15001': 'Released' }));
      assert.deepEqual(idsOf(store.presentCallsOf('15001')), [], 'released: no longer listed');
      assert.deepEqual(idsOf(store.presentCallsOf('15000')), ['C1', 'C2']);
      assert.equal(store.presentCallsOf('15002')[0]?.version, 2, 'the index answers the latest version');
      assert.equal(store.getCall('C1')?.parties.find((p) => p.dn === '15001')?.state, 'Released', 'the call itself keeps the released party');

      commitCall(store, ended(v2));
      for (const dn of ['15000', '15001', '15002']) assert.ok(!idsOf(store.presentCallsOf(dn)).includes('C1'), `${dn} after the call ended`);
      assert.deepEqual(idsOf(store.presentCallsOf('15000')), ['C2']);
      assert.notEqual(store.getCall('C1'), undefined, 'an ended call can still be read');
    });

    it('does not list a call that has ended even if a party was left unreleased in it', () => {
      // presentDns says: nothing is indexed once endedAt is set.
      commitCall(store, newCall('C1', { '15000': 'Established', '15001': 'Established' }, { endedAt: T0 }));
      assert.deepEqual(store.presentCallsOf('15000'), []);
    });

    it('refuses a stale commit with VersionConflict and keeps the newer version', () => {
      const v1 = commitCall(store, newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' }));
      const v2 = commitCall(store, withStates(v1, { '15000': 'Established', '15001': 'Established' }));
      assertConflict(() => store.commit({ calls: [withStates(v1, { '15000': 'Released' })] }), 'call', 'C1');
      assert.deepEqual(store.getCall('C1'), v2);
      assert.deepEqual(idsOf(store.presentCallsOf('15000')), ['C1'], 'the index is untouched');
    });

    it('refuses a "new" call whose id already exists, and an update of a call never stored', () => {
      const v1 = commitCall(store, newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' }));
      assertConflict(() => store.commit({ calls: [newCall('C1', { '15002': 'Dialing', '15003': 'Ringing' })] }), 'call', 'C1');
      assert.deepEqual(store.getCall('C1'), v1);
      assert.deepEqual(store.presentCallsOf('15002'), []);
      assertConflict(() => store.commit({ calls: [{ ...newCall('GHOST', { '15000': 'Held', '15001': 'Established' }), version: 3 }] }), 'call', 'GHOST');
      assert.equal(store.getCall('GHOST'), undefined);
    });

    for (const staleFirst of [true, false]) {
      it(`writes nothing of a batch with one stale call (stale call ${staleFirst ? 'first' : 'last'})`, () => {
        const v1 = commitCall(store, newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' }));
        const v2 = commitCall(store, withStates(v1, { '15000': 'Established', '15001': 'Established' }));
        const fresh = newCall('C2', { '15002': 'Dialing', '15003': 'Ringing' });
        const stale = withStates(v1, { '15000': 'Held' });
        const session = newSession('U1');
        const batch = staleFirst
          ? { calls: [stale, fresh], agentSessions: [session] }
          : { calls: [fresh, stale], agentSessions: [session] };
        assertConflict(() => store.commit(batch), 'call', 'C1');
        assert.deepEqual(store.getCall('C1'), v2, 'the stale call is not written');
        assert.equal(store.getCall('C2'), undefined, 'the new call of the same batch is not written');
        assert.deepEqual(store.presentCallsOf('15002'), [], 'nor indexed');
        assert.equal(store.getAgentSession('U1'), undefined, 'the session of the same batch is not written');
      });
    }

    it('writes nothing of a batch whose agent session is stale, calls included', () => {
      store.commit({ agentSessions: [newSession('U1')] });
      const fresh = newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' });
      assertConflict(() => store.commit({ calls: [fresh], agentSessions: [newSession('U1')] }), 'agent session', 'U1');
      assert.equal(store.getCall('C1'), undefined);
      assert.deepEqual(store.presentCallsOf('15000'), []);
      assert.equal(store.getAgentSession('U1')?.version, 1);
    });

    it('commits a batch of several entities together', () => {
      const parent = commitCall(store, newCall('P', { '15000': 'Established', '15001': 'Established' }));
      const consult = newCall('K', { '15000': 'Dialing', '15002': 'Ringing' }, { callType: 'Consult', parentCallId: 'P' });
      const committed = store.commit({ calls: [withStates(parent, { '15000': 'Held' }), consult], agentSessions: [newSession('U1')] });
      assert.deepEqual(committed.calls.map((c) => [c.id, c.version]), [['P', 2], ['K', 1]]);
      assert.deepEqual(committed.agentSessions.map((s) => [s.userId, s.version]), [['U1', 1]]);
      assert.deepEqual(idsOf(store.presentCallsOf('15000')), ['K', 'P']);
      assert.equal(store.getCall('K')?.parentCallId, 'P');
    });

    it('inserts, updates and refuses stale agent sessions', () => {
      const inserted = store.commit({ agentSessions: [newSession('U1')] }).agentSessions[0] as AgentSession;
      assert.equal(inserted.version, 1);
      assert.deepEqual(store.getAgentSession('U1'), inserted);

      const started: AgentSession = { ...inserted, channels: { voice: { state: 'NotReady', since: T0 } }, startedAt: T0 };
      const v2 = store.commit({ agentSessions: [started] }).agentSessions[0] as AgentSession;
      assert.equal(v2.version, 2);
      assert.deepEqual(store.getAgentSession('U1'), { ...started, version: 2 });

      // Stale update (loaded at 1, stored is 2) and a second "insert" (version 0) both lose.
      assertConflict(() => store.commit({ agentSessions: [{ ...inserted, channels: null }] }), 'agent session', 'U1');
      assertConflict(() => store.commit({ agentSessions: [newSession('U1')] }), 'agent session', 'U1');
      assert.deepEqual(store.getAgentSession('U1'), { ...started, version: 2 });

      // Sessions are per user.
      store.commit({ agentSessions: [newSession('U2')] });
      assert.equal(store.getAgentSession('U2')?.version, 1);
      assert.equal(store.getAgentSession('U1')?.version, 2);
    });

    it('answers ping while open', () => {
      assert.equal(store.ping(), true);
    });
  });
}

// ---- SQLite only ---------------------------------------------------------------------------------
describe('store: SQLite file behaviour', () => {
  const temps: ReturnType<typeof tempDataFile>[] = [];
  const opened: Store[] = [];
  const freshFile = (): string => {
    const temp = tempDataFile();
    temps.push(temp);
    return temp.file;
  };
  const open = (file: string): Store => {
    const store = openSqliteStore(file);
    opened.push(store);
    return store;
  };
  after(() => {
    for (const store of opened) store.close();
    for (const temp of temps) temp.remove();
  });

  it('two connections on the same file: both load version 1, the first commit wins, the second gets VersionConflict', () => {
    const file = freshFile();
    const one = open(file);
    const two = open(file);
    one.commit({ calls: [newCall('C1', { '15000': 'Established', '15001': 'Established', '15002': 'Established' })] });

    const loadedByOne = one.getCall('C1') as Call;
    const loadedByTwo = two.getCall('C1') as Call;
    assert.equal(loadedByOne.version, 1);
    assert.equal(loadedByTwo.version, 1, 'the second connection sees the first one\'s commit');

    // Both remove a different participant from what they loaded; only one may win.
    one.commit({ calls: [withStates(loadedByOne, { '15001': 'Released' })] });
    assertConflict(() => two.commit({ calls: [withStates(loadedByTwo, { '15002': 'Released' })] }), 'call', 'C1');

    for (const store of [one, two]) {
      const seen = store.getCall('C1') as Call;
      assert.equal(seen.version, 2);
      assert.deepEqual(
        seen.parties.map((p) => [p.dn, p.state]),
        [['15000', 'Established'], ['15001', 'Released'], ['15002', 'Established']],
      );
      assert.deepEqual(idsOf(store.presentCallsOf('15002')), ['C1'], 'the loser\'s change is not indexed either');
      assert.deepEqual(idsOf(store.presentCallsOf('15001')), []);
    }

    // The loser retries on fresh state and wins.
    const retried = two.commit({ calls: [withStates(two.getCall('C1') as Call, { '15002': 'Released' })] }).calls[0] as Call;
    assert.equal(retried.version, 3);
    assert.equal((one.getCall('C1') as Call).version, 3);
  });

  it('two connections racing to insert the same new call: one wins', () => {
    const file = freshFile();
    const one = open(file);
    const two = open(file);
    one.commit({ calls: [newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' })] });
    assertConflict(() => two.commit({ calls: [newCall('C1', { '15002': 'Dialing', '15003': 'Ringing' })] }), 'call', 'C1');
    assert.equal(two.getCall('C1')?.dnis, '15001');
  });

  it('two connections on the same file: agent session conflicts too', () => {
    const file = freshFile();
    const one = open(file);
    const two = open(file);
    one.commit({ agentSessions: [newSession('U1')] });
    const a = one.getAgentSession('U1') as AgentSession;
    const b = two.getAgentSession('U1') as AgentSession;
    one.commit({ agentSessions: [{ ...a, startedAt: T0 }] });
    assertConflict(() => two.commit({ agentSessions: [{ ...b, startedAt: T0 + 1 }] }), 'agent session', 'U1');
    assert.equal(two.getAgentSession('U1')?.startedAt, T0);
  });

  it('keeps calls, the presence index and agent sessions across close and reopen', () => {
    const file = freshFile();
    const first = openSqliteStore(file);
    const v1 = commitCall(first, newCall('C1', { '15000': 'Established', '15001': 'Established', '15002': 'Ringing' }, { userData: { k: 'v' }, ownerDn: '15000' }));
    const v2 = commitCall(first, withStates(v1, { '15002': 'Released' }));
    const gone = commitCall(first, ended(newCall('C2', { '15000': 'Established', '15003': 'Established' })));
    const session = first.commit({ agentSessions: [{ ...newSession('U1'), startedAt: T0, channels: { voice: { state: 'Ready', since: T0 } } }] })
      .agentSessions[0] as AgentSession;
    first.close();

    const reopened = open(file);
    assert.deepEqual(reopened.getCall('C1'), v2);
    assert.deepEqual(reopened.getCall('C2'), gone);
    assert.deepEqual(idsOf(reopened.presentCallsOf('15000')), ['C1']);
    assert.deepEqual(idsOf(reopened.presentCallsOf('15002')), []);
    assert.deepEqual(reopened.presentCallsOf('15003'), []);
    assert.deepEqual(reopened.getAgentSession('U1'), session);
    // And it goes on from the stored versions.
    assert.equal(commitCall(reopened, withStates(v2, { '15001': 'Held' })).version, 3);
    assertConflict(() => reopened.commit({ calls: [v1] }), 'call', 'C1');
  });

  it('refuses a file written by a newer schema with a clear error, leaving its schema version and data alone', () => {
    const file = freshFile();
    const seeded = openSqliteStore(file);
    commitCall(seeded, newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' }));
    seeded.close();
    const raw = new Database(file);
    raw.pragma('user_version = 99');
    raw.close();

    assert.throws(
      () => open(file),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, /newer/i);
        assert.match(error.message, /99/, 'names the schema version it found');
        return true;
      },
    );
    const check = new Database(file, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), 99, 'the schema version is not downgraded');
    assert.equal((check.prepare('SELECT COUNT(*) AS n FROM calls').get() as { n: number }).n, 1, 'the data is untouched');
    check.close();
  });

  it('answers ping false after close', () => {
    const store = openSqliteStore(freshFile());
    store.close();
    assert.equal(store.ping(), false);
  });
});
