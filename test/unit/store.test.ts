/**
 * Store conformance: one table of cases (CASES) run against every adapter of the storage port
 * (ADAPTERS: memory, SQLite on a temp file, PostgreSQL on a real server started by the test —
 * test/helpers/postgres.ts; another adapter joins by adding one line there), then what only a
 * shared store can show — two connections (nodes) racing on one file or database, durability
 * across close + reopen, and refusing data written by a newer schema.
 *
 * The suite cannot pass vacuously: PORT_METHODS must name exactly the methods of `Store` (the
 * compiler checks it), each adapter must expose exactly those, and after its cases each adapter's
 * run must have called every one of them (the cases see the store through a recording wrapper).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { AgentSession, ChannelName, ChannelState, MonitoringState } from '../../src/domain/agent/model.js';
import type { Chat, ChatAgentState } from '../../src/domain/chat/model.js';
import type { AuditEntry, AuditOutcome, AuditStep, Flag } from '../../src/domain/compliance/model.js';
import type { Call, Party, PartyState } from '../../src/domain/voice/model.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { VersionConflict, type Store } from '../../src/store/port.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { tempDataFile } from '../helpers/server.js';
import pg from 'pg';
import { openPostgresStore, POSTGRES_SCHEMA_VERSION, redacted } from '../../src/store/postgres.js';
import { postgresStoreAdapter as postgresAdapter, sharedPostgres } from '../helpers/postgres.js';

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

const newSession = (userId: string, patch: Partial<AgentSession> = {}): AgentSession => ({ userId, version: 0, channels: null, startedAt: null, ...patch });

const channels = (states: Partial<Record<ChannelName, ChannelState['state']>>, since = T0): AgentSession['channels'] =>
  Object.fromEntries(Object.entries(states).map(([name, state]) => [name, { state, since }]));

const monitoring = (supervisorDn: string, targetDn: string): MonitoringState => ({
  supervisorDn,
  targetDn,
  targetDeviceId: `device-${targetDn}`,
  mode: 'ListenIn',
  scope: 'Agent',
  callMode: 'AllCalls',
  since: T0,
});

/** A chat with these agents (user id → state), the customer connected unless patched. */
const newChat = (id: string, agents: Record<string, ChatAgentState>, patch: Partial<Chat> = {}): Chat => ({
  id,
  version: 0,
  serviceName: 'svc',
  customer: {
    participantId: `${id}-P0`,
    seq: 0,
    nickname: 'pat',
    firstName: 'Pat',
    lastName: 'Customer',
    emailAddress: '',
    subject: '',
    userId: `${id}-CU`,
    secureKey: `${id}-K`,
    alias: '1',
    connected: true,
  },
  agents: Object.entries(agents).map(([userId, state], i) => ({
    userId,
    participantId: `${id}-P${i + 1}`,
    seq: i + 1,
    nickname: `nick-${userId}`,
    state,
    visibility: 'All',
    via: 'routing',
  })),
  messages: [{ index: 1, type: 'ParticipantJoined', from: `${id}-P0`, visibility: 'All', time: T0 }],
  userData: {},
  rejectedBy: [],
  createdAt: T0,
  endedAt: null,
  ...patch,
});

const withAgentStates = (chat: Chat, states: Record<string, ChatAgentState>): Chat => ({
  ...chat,
  agents: chat.agents.map((a) => (states[a.userId] ? { ...a, state: states[a.userId] as ChatAgentState } : a)),
});

const newFlag = (id: string, patch: Partial<Flag> = {}): Flag => ({
  id,
  userId: 'U1',
  userName: 'agent15001',
  dn: '15001',
  reason: 'test',
  source: 'unit',
  raisedBy: 'admin',
  createdAt: T0,
  status: 'pending',
  ...patch,
});

const auditEntry = (flagId: string, userId: string, time: number, step: AuditStep, outcome: AuditOutcome): AuditEntry => ({
  time,
  flagId,
  interaction: step === 'flagged' ? null : `CALL-${flagId}`,
  interactionType: step === 'flagged' ? null : 'call',
  participant: `dn-${userId}`,
  userId,
  actor: 'conclave-compliance',
  step,
  outcome,
  latencyMs: step === 'removed' ? 42 : null,
  detail: null,
});

const commitCall = async (store: Store, call: Call): Promise<Call> => (await store.commit({ calls: [call] })).calls[0] as Call;
const commitSession = async (store: Store, session: AgentSession): Promise<AgentSession> =>
  (await store.commit({ agentSessions: [session] })).agentSessions[0] as AgentSession;
const commitChat = async (store: Store, chat: Chat): Promise<Chat> => (await store.commit({ chats: [chat] })).chats[0] as Chat;

const idsOf = (calls: readonly Call[]): string[] => calls.map((c) => c.id).sort();
const chatIdsOf = (chats: readonly Chat[]): string[] => chats.map((c) => c.id).sort();
const userIdsOf = (sessions: readonly { userId: string }[]): string[] => sessions.map((s) => s.userId).sort();
const sorted = (ids: readonly string[]): string[] => [...ids].sort();

const assertConflict = async (run: () => Promise<unknown>, kind: string, id: string): Promise<void> =>
  assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof VersionConflict, `expected a VersionConflict, got ${String(error)}`);
    assert.equal(error.kind, kind);
    assert.equal(error.id, id);
    return true;
  });

// ---- The port ------------------------------------------------------------------------------------
type PortMethod = keyof Store;

/** Every method of the port: `satisfies` fails to compile if one is missing or one is not a method. */
const PORT_METHODS = {
  getCall: true,
  presentCallsOf: true,
  consultationsOf: true,
  liveCallIds: true,
  getAgentSession: true,
  monitoringSessions: true,
  chatSessionUserIds: true,
  readyChatAgents: true,
  getChat: true,
  chatsOfAgent: true,
  waitingChats: true,
  commit: true,
  saveFlag: true,
  getFlag: true,
  pendingFlags: true,
  appendAudit: true,
  queryAudit: true,
  pruneEnded: true,
  ping: true,
  close: true,
} as const satisfies Record<PortMethod, true>;
const PORT_METHOD_NAMES = Object.keys(PORT_METHODS).sort() as PortMethod[];

/** The store as the cases see it: every call is recorded in `exercised`. */
const recording = (store: Store, exercised: Set<PortMethod>): Store =>
  Object.fromEntries(
    PORT_METHOD_NAMES.map((name) => [
      name,
      (...args: unknown[]) => {
        exercised.add(name);
        return (store[name] as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as Store;

// ---- The adapters ------------------------------------------------------------------------------
export interface Adapter {
  readonly name: string;
  /** Why this adapter cannot run here (its cases skip with this diagnostic), if it cannot. */
  readonly unavailable?: () => Promise<string | undefined>;
  /** A fresh, empty store, and how to remove whatever it leaves behind once closed. */
  open(): Promise<{ readonly store: Store; readonly dispose: () => Promise<void> | void }>;
}

const memoryAdapter: Adapter = { name: 'memory', open: async () => ({ store: createMemoryStore(), dispose: () => undefined }) };

const sqliteAdapter: Adapter = {
  name: 'sqlite (temp file)',
  open: async () => {
    const temp = tempDataFile();
    return { store: openSqliteStore(temp.file), dispose: temp.remove };
  },
};

/** Every adapter the conformance cases run against: a new adapter joins with one line here. */
const ADAPTERS: readonly Adapter[] = [memoryAdapter, sqliteAdapter, postgresAdapter];

// ---- The conformance cases -------------------------------------------------------------------
interface Case {
  readonly name: string;
  run(store: Store): Promise<void>;
}

const CASES: readonly Case[] = [
  // -- Empty store ---------------------------------------------------------------------------
  {
    name: 'an empty store answers undefined for every lookup and an empty list for every query',
    async run(store) {
      assert.equal(await store.getCall('nope'), undefined);
      assert.equal(await store.getAgentSession('nobody'), undefined);
      assert.equal(await store.getChat('nope'), undefined);
      assert.equal(await store.getFlag('nope'), undefined);
      assert.deepEqual(await store.presentCallsOf('15000'), []);
      assert.deepEqual(await store.consultationsOf('nope'), []);
      assert.deepEqual(await store.liveCallIds(), []);
      assert.deepEqual(await store.monitoringSessions(), []);
      assert.deepEqual(await store.chatSessionUserIds(), []);
      assert.deepEqual(await store.readyChatAgents(), []);
      assert.deepEqual(await store.chatsOfAgent('nobody'), []);
      assert.deepEqual(await store.waitingChats(), []);
      assert.deepEqual(await store.pendingFlags(), []);
      assert.deepEqual(await store.queryAudit({}), []);
    },
  },

  // -- Calls: commit, getCall, presentCallsOf, consultationsOf, liveCallIds -----------------
  {
    name: 'commits a new call at version 0 and stores it at version 1',
    async run(store) {
      const call = newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' }, { userData: { k: 'v', n: 7 } });
      const committed = await store.commit({ calls: [call] });
      assert.equal(committed.calls.length, 1);
      assert.deepEqual(committed.calls[0], { ...call, version: 1 });
      assert.deepEqual(committed.agentSessions, []);
      assert.deepEqual(committed.chats, []);
      assert.deepEqual(await store.getCall('C1'), { ...call, version: 1 });
    },
  },
  {
    name: 'bumps the version on every commit and returns the stored entity',
    async run(store) {
      const v1 = await commitCall(store, newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' }));
      const v2 = await commitCall(store, withStates(v1, { '15000': 'Established', '15001': 'Established' }));
      assert.equal(v2.version, 2);
      assert.deepEqual(await store.getCall('C1'), v2);
      const v3 = await commitCall(store, { ...v2, userData: { k: 'v' } });
      assert.equal(v3.version, 3);
      assert.deepEqual((await store.getCall('C1'))?.userData, { k: 'v' });
    },
  },
  {
    name: 'lists a call under each DN while that DN is present, and not after it is released',
    async run(store) {
      const v1 = await commitCall(store, newCall('C1', { '15000': 'Established', '15001': 'Established', '15002': 'Ringing' }));
      await commitCall(store, newCall('C2', { '15000': 'Held', '15003': 'Established' }));
      assert.deepEqual(idsOf(await store.presentCallsOf('15000')), ['C1', 'C2']);
      assert.deepEqual(idsOf(await store.presentCallsOf('15001')), ['C1']);
      assert.deepEqual(idsOf(await store.presentCallsOf('15002')), ['C1'], 'a ringing party is present');
      assert.deepEqual(idsOf(await store.presentCallsOf('15010')), []);

      const v2 = await commitCall(store, withStates(v1, { '15001': 'Released' }));
      assert.deepEqual(idsOf(await store.presentCallsOf('15001')), [], 'released: no longer listed');
      assert.deepEqual(idsOf(await store.presentCallsOf('15000')), ['C1', 'C2']);
      assert.equal((await store.presentCallsOf('15002'))[0]?.version, 2, 'the index answers the latest version');
      assert.equal((await store.getCall('C1'))?.parties.find((p) => p.dn === '15001')?.state, 'Released', 'the call itself keeps the released party');

      await commitCall(store, ended(v2));
      for (const dn of ['15000', '15001', '15002']) assert.ok(!idsOf(await store.presentCallsOf(dn)).includes('C1'), `${dn} after the call ended`);
      assert.deepEqual(idsOf(await store.presentCallsOf('15000')), ['C2']);
      assert.notEqual(await store.getCall('C1'), undefined, 'an ended call can still be read');
    },
  },
  {
    name: 'does not list a call that has ended even if a party was left unreleased in it',
    async run(store) {
      // presentDns says: nothing is indexed once endedAt is set.
      await commitCall(store, newCall('C1', { '15000': 'Established', '15001': 'Established' }, { endedAt: T0 }));
      assert.deepEqual(await store.presentCallsOf('15000'), []);
      assert.deepEqual(await store.liveCallIds(), []);
    },
  },
  {
    name: 'lists the live consultations of a call (latest version), not ended ones nor those of other calls',
    async run(store) {
      await commitCall(store, newCall('P', { '15000': 'Held', '15001': 'Established' }));
      await commitCall(store, newCall('Q', { '15002': 'Established', '15003': 'Established' }));
      const k1 = await commitCall(store, newCall('K1', { '15000': 'Dialing', '15002': 'Ringing' }, { callType: 'Consult', parentCallId: 'P' }));
      await commitCall(store, newCall('K2', { '15001': 'Dialing', '15003': 'Ringing' }, { callType: 'Consult', parentCallId: 'P' }));
      await commitCall(store, newCall('KQ', { '15002': 'Dialing', '15000': 'Ringing' }, { callType: 'Consult', parentCallId: 'Q' }));
      assert.deepEqual(idsOf(await store.consultationsOf('P')), ['K1', 'K2']);
      assert.deepEqual(idsOf(await store.consultationsOf('Q')), ['KQ']);
      assert.deepEqual(await store.consultationsOf('K1'), [], 'a consultation has no consultations of its own');

      const k1v2 = await commitCall(store, withStates(k1, { '15000': 'Established', '15002': 'Established' }));
      assert.deepEqual(
        (await store.consultationsOf('P')).find((c) => c.id === 'K1'),
        k1v2,
        'the index answers the latest version',
      );
      await commitCall(store, ended(k1v2));
      assert.deepEqual(idsOf(await store.consultationsOf('P')), ['K2'], 'an ended consultation is no longer listed');
      assert.equal((await store.getCall('K1'))?.parentCallId, 'P', 'the ended consultation keeps its parent');
    },
  },
  {
    name: 'answers the ids of every call that has not ended',
    async run(store) {
      const c1 = await commitCall(store, newCall('C1', { '15000': 'Established', '15001': 'Established' }));
      await commitCall(store, newCall('C2', { '15002': 'Dialing', '15003': 'Ringing' }));
      await commitCall(store, ended(newCall('C3', { '15000': 'Established', '15003': 'Established' })));
      assert.deepEqual(sorted(await store.liveCallIds()), ['C1', 'C2'], 'each live call once, the ended one not');
      await commitCall(store, ended(c1));
      assert.deepEqual(sorted(await store.liveCallIds()), ['C2']);
    },
  },

  // -- commit: optimistic concurrency, all or nothing ----------------------------------------
  {
    name: 'refuses a stale commit with VersionConflict and keeps the newer version',
    async run(store) {
      const v1 = await commitCall(store, newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' }));
      const v2 = await commitCall(store, withStates(v1, { '15000': 'Established', '15001': 'Established' }));
      await assertConflict(() => store.commit({ calls: [withStates(v1, { '15000': 'Released' })] }), 'call', 'C1');
      assert.deepEqual(await store.getCall('C1'), v2);
      assert.deepEqual(idsOf(await store.presentCallsOf('15000')), ['C1'], 'the index is untouched');
    },
  },
  {
    name: 'refuses a "new" call whose id already exists, and an update of a call never stored',
    async run(store) {
      const v1 = await commitCall(store, newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' }));
      await assertConflict(() => store.commit({ calls: [newCall('C1', { '15002': 'Dialing', '15003': 'Ringing' })] }), 'call', 'C1');
      assert.deepEqual(await store.getCall('C1'), v1);
      assert.deepEqual(await store.presentCallsOf('15002'), []);
      await assertConflict(() => store.commit({ calls: [{ ...newCall('GHOST', { '15000': 'Held', '15001': 'Established' }), version: 3 }] }), 'call', 'GHOST');
      assert.equal(await store.getCall('GHOST'), undefined);
      assert.deepEqual(sorted(await store.liveCallIds()), ['C1']);
    },
  },
  {
    name: 'refuses a "new" chat whose id already exists, and an update of a chat never stored',
    async run(store) {
      const v1 = await commitChat(store, newChat('H1', {}));
      await assertConflict(() => store.commit({ chats: [newChat('H1', { A: 'Invited' })] }), 'chat', 'H1');
      assert.deepEqual(await store.getChat('H1'), v1);
      assert.deepEqual(await store.chatsOfAgent('A'), []);
      await assertConflict(() => store.commit({ chats: [{ ...newChat('GHOST', {}), version: 3 }] }), 'chat', 'GHOST');
      assert.equal(await store.getChat('GHOST'), undefined);
      assert.deepEqual(chatIdsOf(await store.waitingChats()), ['H1']);
    },
  },
  {
    // (A "new" session over a stored one is refused: see 'inserts, updates and refuses stale agent sessions'.)
    name: 'refuses an update of an agent session never stored',
    async run(store) {
      await assertConflict(() => store.commit({ agentSessions: [newSession('GHOST', { version: 3 })] }), 'agent session', 'GHOST');
      assert.equal(await store.getAgentSession('GHOST'), undefined);
    },
  },
  ...[true, false].map(
    (staleFirst): Case => ({
      name: `writes nothing of a batch with one stale call (stale call ${staleFirst ? 'first' : 'last'}), sessions and chats included`,
      async run(store) {
        const v1 = await commitCall(store, newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' }));
        const v2 = await commitCall(store, withStates(v1, { '15000': 'Established', '15001': 'Established' }));
        const fresh = newCall('C2', { '15002': 'Dialing', '15003': 'Ringing' });
        const stale = withStates(v1, { '15000': 'Held' });
        const session = newSession('U1', { channels: channels({ chat: 'Ready' }), startedAt: T0 });
        const chat = newChat('H1', { U1: 'Invited' });
        const batch = { calls: staleFirst ? [stale, fresh] : [fresh, stale], agentSessions: [session], chats: [chat] };
        await assertConflict(() => store.commit(batch), 'call', 'C1');
        assert.deepEqual(await store.getCall('C1'), v2, 'the stale call is not written');
        assert.equal(await store.getCall('C2'), undefined, 'the new call of the same batch is not written');
        assert.deepEqual(await store.presentCallsOf('15002'), [], 'nor indexed');
        assert.deepEqual(sorted(await store.liveCallIds()), ['C1']);
        assert.equal(await store.getAgentSession('U1'), undefined, 'the session of the same batch is not written');
        assert.deepEqual(await store.chatSessionUserIds(), [], 'nor indexed');
        assert.deepEqual(await store.readyChatAgents(), []);
        assert.equal(await store.getChat('H1'), undefined, 'the chat of the same batch is not written');
        assert.deepEqual(await store.chatsOfAgent('U1'), [], 'nor indexed');
      },
    }),
  ),
  {
    name: 'writes nothing of a batch whose agent session is stale, calls and chats included',
    async run(store) {
      await commitSession(store, newSession('U1'));
      const fresh = newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' });
      const chat = newChat('H1', {});
      await assertConflict(() => store.commit({ calls: [fresh], agentSessions: [newSession('U1')], chats: [chat] }), 'agent session', 'U1');
      assert.equal(await store.getCall('C1'), undefined);
      assert.deepEqual(await store.presentCallsOf('15000'), []);
      assert.equal((await store.getAgentSession('U1'))?.version, 1);
      assert.equal(await store.getChat('H1'), undefined);
      assert.deepEqual(await store.waitingChats(), []);
    },
  },
  {
    name: 'writes nothing of a batch whose chat is stale, calls and sessions included',
    async run(store) {
      const h1 = await commitChat(store, newChat('H1', {}));
      const h2 = await commitChat(store, { ...h1, agents: newChat('H1', { A: 'Invited' }).agents });
      const call = newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' });
      const session = newSession('A', { channels: channels({ chat: 'Ready' }), startedAt: T0 });
      await assertConflict(() => store.commit({ calls: [call], agentSessions: [session], chats: [{ ...h1, userData: { k: 'v' } }] }), 'chat', 'H1');
      assert.deepEqual(await store.getChat('H1'), h2, 'the stale chat is not written');
      assert.deepEqual(chatIdsOf(await store.chatsOfAgent('A')), ['H1'], 'its index is untouched');
      assert.equal(await store.getCall('C1'), undefined);
      assert.deepEqual(await store.liveCallIds(), []);
      assert.equal(await store.getAgentSession('A'), undefined);
      assert.deepEqual(await store.readyChatAgents(), []);
    },
  },
  {
    name: 'commits a batch of several entities together',
    async run(store) {
      const parent = await commitCall(store, newCall('P', { '15000': 'Established', '15001': 'Established' }));
      const consult = newCall('K', { '15000': 'Dialing', '15002': 'Ringing' }, { callType: 'Consult', parentCallId: 'P' });
      const committed = await store.commit({
        calls: [withStates(parent, { '15000': 'Held' }), consult],
        agentSessions: [newSession('U1')],
        chats: [newChat('H1', { U1: 'Invited' })],
      });
      assert.deepEqual(committed.calls.map((c) => [c.id, c.version]), [['P', 2], ['K', 1]]);
      assert.deepEqual(committed.agentSessions.map((s) => [s.userId, s.version]), [['U1', 1]]);
      assert.deepEqual(committed.chats.map((c) => [c.id, c.version]), [['H1', 1]]);
      assert.deepEqual(idsOf(await store.presentCallsOf('15000')), ['K', 'P']);
      assert.equal((await store.getCall('K'))?.parentCallId, 'P');
      assert.deepEqual(idsOf(await store.consultationsOf('P')), ['K']);
      assert.deepEqual(await store.getAgentSession('U1'), committed.agentSessions[0]);
      assert.deepEqual(await store.getChat('H1'), committed.chats[0]);
    },
  },

  // -- Agent sessions: getAgentSession, monitoringSessions, chatSessionUserIds, readyChatAgents
  {
    name: 'inserts, updates and refuses stale agent sessions',
    async run(store) {
      const inserted = await commitSession(store, newSession('U1'));
      assert.equal(inserted.version, 1);
      assert.deepEqual(await store.getAgentSession('U1'), inserted);

      const started: AgentSession = { ...inserted, channels: { voice: { state: 'NotReady', since: T0 } }, startedAt: T0 };
      const v2 = await commitSession(store, started);
      assert.equal(v2.version, 2);
      assert.deepEqual(await store.getAgentSession('U1'), { ...started, version: 2 });

      // Stale update (loaded at 1, stored is 2) and a second "insert" (version 0) both lose.
      await assertConflict(() => store.commit({ agentSessions: [{ ...inserted, channels: null }] }), 'agent session', 'U1');
      await assertConflict(() => store.commit({ agentSessions: [newSession('U1')] }), 'agent session', 'U1');
      assert.deepEqual(await store.getAgentSession('U1'), { ...started, version: 2 });

      // Sessions are per user.
      await commitSession(store, newSession('U2'));
      assert.equal((await store.getAgentSession('U2'))?.version, 1);
      assert.equal((await store.getAgentSession('U1'))?.version, 2);
    },
  },
  {
    name: 'lists the sessions whose supervisor monitors someone, at their latest version',
    async run(store) {
      const s1 = await commitSession(store, newSession('S1', { monitoring: monitoring('15010', '15000') }));
      await commitSession(store, newSession('S2', { monitoring: monitoring('15011', '15001') }));
      await commitSession(store, newSession('A1', { channels: channels({ voice: 'Ready' }), startedAt: T0 }));
      await commitSession(store, newSession('A2', { monitoring: null }));
      assert.deepEqual(userIdsOf(await store.monitoringSessions()), ['S1', 'S2'], 'only the monitoring ones');

      const retargeted = await commitSession(store, { ...s1, monitoring: { ...monitoring('15010', '15002'), mode: 'Coach' } });
      assert.deepEqual((await store.monitoringSessions()).find((s) => s.userId === 'S1'), retargeted, 'the latest version');
      await commitSession(store, { ...retargeted, monitoring: null });
      assert.deepEqual(userIdsOf(await store.monitoringSessions()), ['S2'], 'monitoring ended: no longer listed');
    },
  },
  {
    name: 'lists the users whose session has the chat channel, Ready or not',
    async run(store) {
      const a = await commitSession(store, newSession('A', { channels: channels({ chat: 'Ready' }), startedAt: T0 }));
      await commitSession(store, newSession('B', { channels: channels({ chat: 'NotReady', voice: 'Ready' }), startedAt: T0 }));
      await commitSession(store, newSession('C', { channels: channels({ voice: 'Ready' }), startedAt: T0 }));
      await commitSession(store, newSession('D'));
      assert.deepEqual(sorted(await store.chatSessionUserIds()), ['A', 'B']);
      await commitSession(store, { ...a, channels: channels({ voice: 'NotReady' }) });
      assert.deepEqual(sorted(await store.chatSessionUserIds()), ['B'], 'logged out of chat: no longer listed');
    },
  },
  {
    name: 'lists the agents Ready on chat with since when',
    async run(store) {
      const a = await commitSession(store, newSession('A', { channels: channels({ chat: 'Ready' }, T0 + 5), startedAt: T0 }));
      await commitSession(store, newSession('B', { channels: { chat: { state: 'Ready', since: T0 + 9 }, voice: { state: 'NotReady', since: T0 } }, startedAt: T0 }));
      await commitSession(store, newSession('C', { channels: channels({ chat: 'NotReady', voice: 'Ready' }), startedAt: T0 }));
      const byUser = async () => [...(await store.readyChatAgents())].sort((x, y) => x.userId.localeCompare(y.userId));
      assert.deepEqual(await byUser(), [
        { userId: 'A', since: T0 + 5 },
        { userId: 'B', since: T0 + 9 },
      ]);
      const again = await commitSession(store, { ...a, channels: channels({ chat: 'Ready' }, T0 + 20) });
      assert.deepEqual(await byUser(), [
        { userId: 'A', since: T0 + 20 },
        { userId: 'B', since: T0 + 9 },
      ], 'the latest since');
      await commitSession(store, { ...again, channels: channels({ chat: 'NotReady' }, T0 + 30) });
      assert.deepEqual(await byUser(), [{ userId: 'B', since: T0 + 9 }], 'NotReady: no longer listed');
    },
  },

  // -- Chats: getChat, chatsOfAgent, waitingChats --------------------------------------------
  {
    name: 'commits chats with versions and refuses a stale one',
    async run(store) {
      const chat = newChat('H1', { A: 'Invited' }, { userData: { k: 'v', n: 3 } });
      const v1 = await commitChat(store, chat);
      assert.deepEqual(v1, { ...chat, version: 1 });
      assert.deepEqual(await store.getChat('H1'), v1);
      const v2 = await commitChat(store, withAgentStates(v1, { A: 'Chatting' }));
      assert.equal(v2.version, 2);
      assert.deepEqual(await store.getChat('H1'), v2);
      await assertConflict(() => store.commit({ chats: [withAgentStates(v1, { A: 'Completed' })] }), 'chat', 'H1');
      assert.deepEqual(await store.getChat('H1'), v2);
    },
  },
  {
    name: "lists an agent's chats while they are offered it, chat in it or have left it, not once they completed it",
    async run(store) {
      const h1 = await commitChat(store, newChat('H1', { A: 'Invited', B: 'Chatting', C: 'LeftChat', D: 'Completed' }));
      await commitChat(store, newChat('H2', { A: 'Chatting' }));
      assert.deepEqual(chatIdsOf(await store.chatsOfAgent('A')), ['H1', 'H2']);
      assert.deepEqual(chatIdsOf(await store.chatsOfAgent('B')), ['H1']);
      assert.deepEqual(chatIdsOf(await store.chatsOfAgent('C')), ['H1'], 'LeftChat still has the chat (to complete it)');
      assert.deepEqual(await store.chatsOfAgent('D'), [], 'Completed: not listed');
      assert.deepEqual(await store.chatsOfAgent('E'), []);

      const h1v2 = await commitChat(store, withAgentStates(h1, { A: 'Completed', C: 'Completed' }));
      assert.deepEqual(chatIdsOf(await store.chatsOfAgent('A')), ['H2']);
      assert.deepEqual(await store.chatsOfAgent('C'), []);
      assert.deepEqual(await store.chatsOfAgent('B'), [h1v2], 'the latest version');
    },
  },
  {
    name: 'lists the chats waiting for an agent, oldest first, until one is offered it or it ends',
    async run(store) {
      const newest = await commitChat(store, newChat('W3', {}, { createdAt: T0 + 30 }));
      const oldest = await commitChat(store, newChat('W1', {}, { createdAt: T0 + 10 }));
      await commitChat(store, newChat('W2', { A: 'Completed' }, { createdAt: T0 + 20 }));
      await commitChat(store, newChat('N1', { A: 'Invited' }, { createdAt: T0 }));
      await commitChat(store, newChat('N2', { A: 'Chatting' }, { createdAt: T0 }));
      await commitChat(store, newChat('N3', {}, { createdAt: T0, endedAt: T0 + 1 }));
      await commitChat(store, newChat('N4', {}, { createdAt: T0, customer: { ...newChat('N4', {}).customer, connected: false } }));
      assert.deepEqual((await store.waitingChats()).map((c) => c.id), ['W1', 'W2', 'W3'], 'oldest first; engaged, ended and abandoned ones not');

      await commitChat(store, { ...oldest, agents: newChat('W1', { B: 'Invited' }).agents });
      assert.deepEqual((await store.waitingChats()).map((c) => c.id), ['W2', 'W3'], 'offered: no longer waiting');
      await commitChat(store, { ...newest, endedAt: T0 + 40 });
      assert.deepEqual((await store.waitingChats()).map((c) => c.id), ['W2'], 'ended: no longer waiting');
    },
  },

  // -- Compliance: saveFlag, getFlag, pendingFlags, appendAudit, queryAudit -----------------
  {
    name: 'saves flags, reads them back, and lists the pending ones oldest first',
    async run(store) {
      const late = newFlag('F2', { createdAt: T0 + 20, userId: 'U2' });
      const early = newFlag('F1', { createdAt: T0 + 10 });
      await store.saveFlag(late);
      await store.saveFlag(early);
      await store.saveFlag(newFlag('F3', { createdAt: T0, status: 'done' }));
      assert.deepEqual(await store.getFlag('F1'), early);
      assert.deepEqual(await store.getFlag('F2'), late);
      assert.deepEqual(await store.pendingFlags(), [early, late], 'pending only, oldest first');

      const done: Flag = { ...early, status: 'done' };
      await store.saveFlag(done);
      assert.deepEqual(await store.getFlag('F1'), done, 'saving again replaces the flag');
      assert.deepEqual(await store.pendingFlags(), [late]);
    },
  },
  {
    name: 'appends audit entries and answers them in order, filtered by user, flag, outcome and time (bounds included)',
    async run(store) {
      const entries = [
        auditEntry('F1', 'U1', T0, 'flagged', 'accepted'),
        auditEntry('F1', 'U1', T0 + 10, 'removed', 'ejected'),
        auditEntry('F2', 'U2', T0 + 20, 'flagged', 'accepted'),
        auditEntry('F2', 'U2', T0 + 30, 'skipped', 'two-party'),
        auditEntry('F1', 'U1', T0 + 40, 'done', 'completed'),
      ];
      for (const e of entries) await store.appendAudit(e);
      const [e0, e1, e2, e3, e4] = entries as [AuditEntry, AuditEntry, AuditEntry, AuditEntry, AuditEntry];
      assert.deepEqual(await store.queryAudit({}), entries, 'everything, in the order appended');
      assert.deepEqual(await store.queryAudit({ userId: 'U2' }), [e2, e3]);
      assert.deepEqual(await store.queryAudit({ flagId: 'F1' }), [e0, e1, e4]);
      assert.deepEqual(await store.queryAudit({ outcome: 'accepted' }), [e0, e2]);
      assert.deepEqual(await store.queryAudit({ from: T0 + 10 }), [e1, e2, e3, e4], 'from is inclusive');
      assert.deepEqual(await store.queryAudit({ to: T0 + 20 }), [e0, e1, e2], 'to is inclusive');
      assert.deepEqual(await store.queryAudit({ from: T0 + 10, to: T0 + 30 }), [e1, e2, e3]);
      assert.deepEqual(await store.queryAudit({ userId: 'U1', from: T0 + 5, outcome: 'completed' }), [e4], 'filters combine');
      assert.deepEqual(await store.queryAudit({ userId: 'U1', flagId: 'F2' }), []);
      assert.deepEqual(await store.queryAudit({ outcome: 'error' }), []);
      assert.deepEqual(await store.queryAudit({ from: T0 + 41 }), []);
    },
  },

  // -- Retention -------------------------------------------------------------------------------
  {
    name: 'pruneEnded deletes calls and chats that ended before the time, with their indexes; live ones, later ones and the audit trail stay',
    async run(store) {
      await commitCall(store, ended(newCall('OLD', { '15000': 'Established', '15001': 'Established' })));
      await commitCall(store, { ...ended(newCall('LATER', { '15000': 'Established', '15001': 'Established' })), endedAt: T0 + 120_000 });
      const live = await commitCall(store, newCall('LIVE', { '15002': 'Established', '15003': 'Established' }));
      await store.commit({ chats: [newChat('OLDCHAT', { U1: 'LeftChat' }, { endedAt: T0 + 60_000, customer: { ...newChat('x', {}).customer, connected: false } })] });
      await store.commit({ chats: [newChat('LIVECHAT', { U1: 'Chatting' })] });
      const entry = auditEntry('F1', 'U1', T0, 'flagged', 'accepted');
      await store.appendAudit(entry);

      assert.deepEqual(await store.pruneEnded(T0 + 90_000), { calls: 1, chats: 1 });
      assert.equal(await store.getCall('OLD'), undefined);
      assert.equal((await store.getCall('LATER'))?.id, 'LATER', 'ended after the time: kept');
      assert.deepEqual(await store.getCall('LIVE'), live);
      assert.deepEqual(idsOf(await store.presentCallsOf('15002')), ['LIVE']);
      assert.equal(await store.getChat('OLDCHAT'), undefined);
      assert.deepEqual((await store.chatsOfAgent('U1')).map((c) => c.id), ['LIVECHAT'], 'the pruned chat is gone from the agent index');
      assert.deepEqual(await store.queryAudit({}), [entry], 'the audit trail is never pruned');
      assert.deepEqual(await store.pruneEnded(T0 + 90_000), { calls: 0, chats: 0 }, 'pruning again finds nothing');
    },
  },

  // -- Lifecycle: ping, close ------------------------------------------------------------------
  {
    name: 'answers ping true while open',
    async run(store) {
      assert.equal(await store.ping(), true);
      await commitCall(store, newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' }));
      assert.equal(await store.ping(), true);
    },
  },
  {
    name: 'closes, and closing again is harmless',
    async run(store) {
      assert.equal(await store.close(), undefined);
      assert.equal(await store.close(), undefined);
    },
  },
];

for (const adapter of ADAPTERS) {
  describe(`store conformance: ${adapter.name}`, async () => {
    const exercised = new Set<PortMethod>();
    let started = 0;
    const skip = (await adapter.unavailable?.()) ?? false;
    if (skip) {
      it(`skipped: ${skip}`, { skip });
      return;
    }

    it('implements exactly the methods of the port', async () => {
      const { store, dispose } = await adapter.open();
      try {
        assert.deepEqual(Object.keys(store).sort(), PORT_METHOD_NAMES);
        for (const name of PORT_METHOD_NAMES) assert.equal(typeof store[name], 'function', name);
      } finally {
        await store.close();
        await dispose();
      }
    });

    for (const c of CASES)
      it(c.name, async () => {
        started++;
        const { store, dispose } = await adapter.open();
        try {
          await c.run(recording(store, exercised));
        } finally {
          await store.close();
          await dispose();
        }
      });

    it('ran every case, and the cases called every method of the port', () => {
      assert.equal(started, CASES.length, 'every case ran');
      assert.deepEqual([...exercised].sort(), PORT_METHOD_NAMES, 'methods of the port no case called are missing here');
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
  after(async () => {
    for (const store of opened) await store.close();
    for (const temp of temps) temp.remove();
  });

  it('two connections on the same file: both load version 1, the first commit wins, the second gets VersionConflict', async () => {
    const file = freshFile();
    const one = open(file);
    const two = open(file);
    await one.commit({ calls: [newCall('C1', { '15000': 'Established', '15001': 'Established', '15002': 'Established' })] });

    const loadedByOne = (await one.getCall('C1')) as Call;
    const loadedByTwo = (await two.getCall('C1')) as Call;
    assert.equal(loadedByOne.version, 1);
    assert.equal(loadedByTwo.version, 1, "the second connection sees the first one's commit");

    // Both remove a different participant from what they loaded; only one may win.
    await one.commit({ calls: [withStates(loadedByOne, { '15001': 'Released' })] });
    await assertConflict(() => two.commit({ calls: [withStates(loadedByTwo, { '15002': 'Released' })] }), 'call', 'C1');

    for (const store of [one, two]) {
      const seen = (await store.getCall('C1')) as Call;
      assert.equal(seen.version, 2);
      assert.deepEqual(
        seen.parties.map((p) => [p.dn, p.state]),
        [['15000', 'Established'], ['15001', 'Released'], ['15002', 'Established']],
      );
      assert.deepEqual(idsOf(await store.presentCallsOf('15002')), ['C1'], "the loser's change is not indexed either");
      assert.deepEqual(idsOf(await store.presentCallsOf('15001')), []);
    }

    // The loser retries on fresh state and wins.
    const retried = await commitCall(two, withStates((await two.getCall('C1')) as Call, { '15002': 'Released' }));
    assert.equal(retried.version, 3);
    assert.equal(((await one.getCall('C1')) as Call).version, 3);
  });

  it('two connections racing to insert the same new call: one wins', async () => {
    const file = freshFile();
    const one = open(file);
    const two = open(file);
    await one.commit({ calls: [newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' })] });
    await assertConflict(() => two.commit({ calls: [newCall('C1', { '15002': 'Dialing', '15003': 'Ringing' })] }), 'call', 'C1');
    assert.equal((await two.getCall('C1'))?.dnis, '15001');
  });

  it('two connections on the same file: agent session conflicts too', async () => {
    const file = freshFile();
    const one = open(file);
    const two = open(file);
    await one.commit({ agentSessions: [newSession('U1')] });
    const a = (await one.getAgentSession('U1')) as AgentSession;
    const b = (await two.getAgentSession('U1')) as AgentSession;
    await one.commit({ agentSessions: [{ ...a, startedAt: T0 }] });
    await assertConflict(() => two.commit({ agentSessions: [{ ...b, startedAt: T0 + 1 }] }), 'agent session', 'U1');
    assert.equal((await two.getAgentSession('U1'))?.startedAt, T0);
  });

  it('keeps calls, the presence index and agent sessions across close and reopen', async () => {
    const file = freshFile();
    const first = openSqliteStore(file);
    const v1 = await commitCall(first, newCall('C1', { '15000': 'Established', '15001': 'Established', '15002': 'Ringing' }, { userData: { k: 'v' }, ownerDn: '15000' }));
    const v2 = await commitCall(first, withStates(v1, { '15002': 'Released' }));
    const gone = await commitCall(first, ended(newCall('C2', { '15000': 'Established', '15003': 'Established' })));
    const session = await commitSession(first, { ...newSession('U1'), startedAt: T0, channels: { voice: { state: 'Ready', since: T0 } } });
    await first.close();

    const reopened = open(file);
    assert.deepEqual(await reopened.getCall('C1'), v2);
    assert.deepEqual(await reopened.getCall('C2'), gone);
    assert.deepEqual(idsOf(await reopened.presentCallsOf('15000')), ['C1']);
    assert.deepEqual(idsOf(await reopened.presentCallsOf('15002')), []);
    assert.deepEqual(await reopened.presentCallsOf('15003'), []);
    assert.deepEqual(await reopened.getAgentSession('U1'), session);
    // And it goes on from the stored versions.
    assert.equal((await commitCall(reopened, withStates(v2, { '15001': 'Held' }))).version, 3);
    await assertConflict(() => reopened.commit({ calls: [v1] }), 'call', 'C1');
  });

  it('refuses a file written by a newer schema with a clear error, leaving its schema version and data alone', async () => {
    const file = freshFile();
    const seeded = openSqliteStore(file);
    await commitCall(seeded, newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' }));
    await seeded.close();
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

  it('answers ping false after close', async () => {
    const store = openSqliteStore(freshFile());
    await store.close();
    assert.equal(await store.ping(), false);
  });
});

// ---- PostgreSQL only -----------------------------------------------------------------------------
describe('store: PostgreSQL behaviour (two nodes on one database)', async () => {
  const server = await sharedPostgres();
  if ('reason' in server) {
    it(`skipped: no PostgreSQL: ${server.reason}`, { skip: server.reason });
    return;
  }
  const opened: Store[] = [];
  const open = async (url: string): Promise<Store> => {
    const { store } = await openPostgresStore(url, { max: 4 });
    opened.push(store);
    return store;
  };
  after(async () => {
    for (const store of opened) await store.close();
  });

  it('two nodes starting at once on an empty database migrate it once, and both work', async () => {
    const url = await server.createDatabase();
    const [one, two] = await Promise.all([open(url), open(url)]);
    await one.commit({ calls: [newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' })] });
    assert.equal((await two.getCall('C1'))?.version, 1);
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    try {
      assert.deepEqual((await raw.query('SELECT version FROM schema_version')).rows, [{ version: POSTGRES_SCHEMA_VERSION }], 'one row, the current schema');
    } finally {
      await raw.end();
    }
  });

  it('two nodes racing on one call: both load version 1, the first commit wins, the second gets VersionConflict', async () => {
    const url = await server.createDatabase();
    const one = await open(url);
    const two = await open(url);
    await one.commit({ calls: [newCall('C1', { '15000': 'Established', '15001': 'Established', '15002': 'Established' })] });
    const a = (await one.getCall('C1')) as Call;
    const b = (await two.getCall('C1')) as Call;
    // Both at once: the row lock makes the second UPDATE re-check `version = 1` after the first commits.
    const results = await Promise.allSettled([
      one.commit({ calls: [withStates(a, { '15001': 'Released' })] }),
      two.commit({ calls: [withStates(b, { '15002': 'Released' })] }),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one wins');
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(lost.reason instanceof VersionConflict, String(lost.reason));
    const seen = (await two.getCall('C1')) as Call;
    assert.equal(seen.version, 2);
    assert.equal(seen.parties.filter((p) => p.state === 'Released').length, 1, "only the winner's removal");
    assert.deepEqual(sorted(seen.parties.filter((p) => p.state !== 'Released').map((p) => p.dn)).length, 2);
  });

  it('two nodes racing to insert the same new call, chat and session: one wins each', async () => {
    const url = await server.createDatabase();
    const one = await open(url);
    const two = await open(url);
    const results = await Promise.allSettled([
      one.commit({ calls: [newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' })], chats: [newChat('H1', {})], agentSessions: [newSession('U1')] }),
      two.commit({ calls: [newCall('C1', { '15002': 'Dialing', '15003': 'Ringing' })], chats: [newChat('H1', {})], agentSessions: [newSession('U1')] }),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.ok((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason instanceof VersionConflict);
    assert.equal((await one.getCall('C1'))?.version, 1);
    assert.equal((await one.liveCallIds()).length, 1);
  });

  it('refuses a database migrated by a newer Conclave with a clear error, leaving it alone', async () => {
    const url = await server.createDatabase();
    const seeded = await open(url);
    await commitCall(seeded, newCall('C1', { '15000': 'Dialing', '15001': 'Ringing' }));
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    try {
      await raw.query('UPDATE schema_version SET version = 99');
      await assert.rejects(openPostgresStore(url), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, /newer/i);
        assert.match(error.message, /99/, 'names the schema version it found');
        return true;
      });
      assert.deepEqual((await raw.query('SELECT version FROM schema_version')).rows, [{ version: 99 }], 'not downgraded');
      assert.equal((await raw.query('SELECT count(*)::int AS n FROM calls')).rows[0].n, 1, 'the data is untouched');
    } finally {
      await raw.end();
    }
  });

  it('answers ping false after close, and names no password in errors', async () => {
    const store = await open(await server.createDatabase());
    await store.close();
    assert.equal(await store.ping(), false);
    assert.equal(redacted('postgres://u:secret@h:5432/d'), 'postgres://u:***@h:5432/d');
  });
});
