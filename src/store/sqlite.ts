/**
 * The embedded SQLite store (better-sqlite3, WAL). Entities are stored as JSON documents with a
 * version column; a side table indexes present parties by DN so that "my calls" is an index
 * lookup, never a scan. Each commit is one transaction, so a crash never leaves half a change.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { AgentSession } from '../domain/agent/model.js';
import type { Chat } from '../domain/chat/model.js';
import type { AuditEntry, Flag } from '../domain/compliance/model.js';
import type { Call } from '../domain/voice/model.js';
import {
  activeAgentIds,
  bumped,
  chatIsWaiting,
  chatReadySince,
  presentDns,
  VersionConflict,
  type CommitBatch,
  type Committed,
  type Store,
} from './port.js';

const SCHEMA_VERSION = 6;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE calls (
     id TEXT PRIMARY KEY,
     version INTEGER NOT NULL,
     ended_at INTEGER,
     body TEXT NOT NULL
   );
   CREATE TABLE call_presence (
     dn TEXT NOT NULL,
     call_id TEXT NOT NULL,
     PRIMARY KEY (dn, call_id)
   ) WITHOUT ROWID;
   CREATE INDEX call_presence_by_call ON call_presence (call_id);
   CREATE TABLE agent_sessions (
     user_id TEXT PRIMARY KEY,
     version INTEGER NOT NULL,
     body TEXT NOT NULL
   );`,
  // 2: chats with their transcripts; routing's indexes.
  `CREATE TABLE chats (
     id TEXT PRIMARY KEY,
     version INTEGER NOT NULL,
     waiting_since INTEGER,
     body TEXT NOT NULL
   );
   CREATE INDEX chats_waiting ON chats (waiting_since) WHERE waiting_since IS NOT NULL;
   CREATE TABLE chat_agents (
     user_id TEXT NOT NULL,
     chat_id TEXT NOT NULL,
     PRIMARY KEY (user_id, chat_id)
   ) WITHOUT ROWID;
   CREATE INDEX chat_agents_by_chat ON chat_agents (chat_id);
   ALTER TABLE agent_sessions ADD COLUMN chat_ready_since INTEGER;
   CREATE INDEX agent_sessions_chat_ready ON agent_sessions (chat_ready_since) WHERE chat_ready_since IS NOT NULL;`,
  // 3: supervisors' monitoring, indexed by the DN they monitor.
  `ALTER TABLE agent_sessions ADD COLUMN monitors_dn TEXT;
   CREATE INDEX agent_sessions_monitors ON agent_sessions (monitors_dn) WHERE monitors_dn IS NOT NULL;`,
  // 4: compliance flags and the audit trail.
  `CREATE TABLE compliance_flags (
     id TEXT PRIMARY KEY,
     status TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     body TEXT NOT NULL
   );
   CREATE INDEX compliance_flags_pending ON compliance_flags (created_at) WHERE status = 'pending';
   CREATE TABLE compliance_audit (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     time INTEGER NOT NULL,
     flag_id TEXT NOT NULL,
     user_id TEXT NOT NULL,
     outcome TEXT NOT NULL,
     body TEXT NOT NULL
   );
   CREATE INDEX compliance_audit_user_time ON compliance_audit (user_id, time);
   CREATE INDEX compliance_audit_time ON compliance_audit (time);`,
  // 5: who is logged in on the chat channel (whom Invite, Consult and Transfer can reach).
  `ALTER TABLE agent_sessions ADD COLUMN chat_on INTEGER NOT NULL DEFAULT 0;
   UPDATE agent_sessions SET chat_on = 1 WHERE json_extract(body, '$.channels.chat') IS NOT NULL;
   CREATE INDEX agent_sessions_chat_on ON agent_sessions (chat_on) WHERE chat_on = 1;`,
  // 6: consultations by their parent call, while they last.
  `ALTER TABLE calls ADD COLUMN parent_call_id TEXT;
   UPDATE calls SET parent_call_id = json_extract(body, '$.parentCallId') WHERE ended_at IS NULL;
   CREATE INDEX calls_live_by_parent ON calls (parent_call_id) WHERE parent_call_id IS NOT NULL AND ended_at IS NULL;`,
];

export const openSqliteStore = (path: string): Store => {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    // Refuse a newer file before touching it (switching it to WAL would already change it).
    migrate(db, path);
    db.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last
    // commits), and it keeps commits off the fsync path.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
  } catch (error) {
    db.close();
    throw error;
  }

  const parsedCalls = parsedCallCache();
  const q = {
    getCall: db.prepare<[string], CallRow>('SELECT id, version, body FROM calls WHERE id = ?'),
    callsOf: db.prepare<[string], CallRow>(
      'SELECT c.id, c.version, c.body FROM call_presence p JOIN calls c ON c.id = p.call_id WHERE p.dn = ?',
    ),
    insertCall: db.prepare('INSERT INTO calls (id, version, ended_at, parent_call_id, body) VALUES (?, ?, ?, ?, ?)'),
    updateCall: db.prepare('UPDATE calls SET version = ?, ended_at = ?, parent_call_id = ?, body = ? WHERE id = ? AND version = ?'),
    consultationsOf: db.prepare<[string], CallRow>('SELECT id, version, body FROM calls WHERE parent_call_id = ? AND ended_at IS NULL'),
    clearPresence: db.prepare('DELETE FROM call_presence WHERE call_id = ?'),
    presenceOf: db.prepare<[string], { dn: string }>('SELECT dn FROM call_presence WHERE call_id = ?'),
    addPresence: db.prepare('INSERT INTO call_presence (dn, call_id) VALUES (?, ?)'),
    liveCallIds: db.prepare<[], { call_id: string }>('SELECT DISTINCT call_id FROM call_presence'),
    getSession: db.prepare<[string], { body: string }>('SELECT body FROM agent_sessions WHERE user_id = ?'),
    insertSession: db.prepare(
      `INSERT INTO agent_sessions (user_id, version, body, chat_ready_since, monitors_dn, chat_on) VALUES (@id, @next, @body, @ready, @monitors, @chatOn)`,
    ),
    updateSession: db.prepare(
      `UPDATE agent_sessions SET version = @next, body = @body, chat_ready_since = @ready, monitors_dn = @monitors, chat_on = @chatOn
       WHERE user_id = @id AND version = @expected`,
    ),
    chatOn: db.prepare<[], { user_id: string }>('SELECT user_id FROM agent_sessions WHERE chat_on = 1'),
    readyChat: db.prepare<[], { user_id: string; chat_ready_since: number }>(
      'SELECT user_id, chat_ready_since FROM agent_sessions WHERE chat_ready_since IS NOT NULL',
    ),
    getChat: db.prepare<[string], { body: string }>('SELECT body FROM chats WHERE id = ?'),
    monitoring: db.prepare<[], { body: string }>('SELECT body FROM agent_sessions WHERE monitors_dn IS NOT NULL'),
    chatsOf: db.prepare<[string], { body: string }>(
      'SELECT c.body FROM chat_agents a JOIN chats c ON c.id = a.chat_id WHERE a.user_id = ?',
    ),
    waiting: db.prepare<[], { body: string }>('SELECT body FROM chats WHERE waiting_since IS NOT NULL ORDER BY waiting_since'),
    insertChat: db.prepare('INSERT INTO chats (id, version, waiting_since, body) VALUES (?, ?, ?, ?)'),
    updateChat: db.prepare('UPDATE chats SET version = ?, waiting_since = ?, body = ? WHERE id = ? AND version = ?'),
    clearChatAgents: db.prepare('DELETE FROM chat_agents WHERE chat_id = ?'),
    saveFlag: db.prepare(
      `INSERT INTO compliance_flags (id, status, created_at, body) VALUES (@id, @status, @createdAt, @body)
       ON CONFLICT (id) DO UPDATE SET status = @status, body = @body`,
    ),
    getFlag: db.prepare<[string], { body: string }>('SELECT body FROM compliance_flags WHERE id = ?'),
    pendingFlags: db.prepare<[], { body: string }>(`SELECT body FROM compliance_flags WHERE status = 'pending' ORDER BY created_at`),
    appendAudit: db.prepare('INSERT INTO compliance_audit (time, flag_id, user_id, outcome, body) VALUES (?, ?, ?, ?, ?)'),
    queryAudit: db.prepare<{ userId: string | null; from: number | null; to: number | null; outcome: string | null; flagId: string | null }, { body: string }>(
      `SELECT body FROM compliance_audit
       WHERE (@userId IS NULL OR user_id = @userId) AND (@from IS NULL OR time >= @from) AND (@to IS NULL OR time <= @to)
         AND (@outcome IS NULL OR outcome = @outcome) AND (@flagId IS NULL OR flag_id = @flagId)
       ORDER BY seq`,
    ),
    addChatAgent: db.prepare('INSERT INTO chat_agents (user_id, chat_id) VALUES (?, ?)'),
    // Ended calls have no presence rows; the delete is for a call ended by an older version.
    pruneCallPresence: db.prepare('DELETE FROM call_presence WHERE call_id IN (SELECT id FROM calls WHERE ended_at IS NOT NULL AND ended_at < ?)'),
    pruneCalls: db.prepare('DELETE FROM calls WHERE ended_at IS NOT NULL AND ended_at < ?'),
    // Chats keep their end inside the document: a scan, run rarely (retention), rather than a migration.
    pruneChatAgents: db.prepare(
      `DELETE FROM chat_agents WHERE chat_id IN (SELECT id FROM chats WHERE json_extract(body, '$.endedAt') IS NOT NULL AND json_extract(body, '$.endedAt') < ?)`,
    ),
    pruneChats: db.prepare(`DELETE FROM chats WHERE json_extract(body, '$.endedAt') IS NOT NULL AND json_extract(body, '$.endedAt') < ?`),
  };

  const prune = db.transaction((time: number) => {
    q.pruneCallPresence.run(time);
    const calls = q.pruneCalls.run(time).changes;
    q.pruneChatAgents.run(time);
    return { calls, chats: q.pruneChats.run(time).changes };
  });

  const writeCall = (call: Call): Call => {
    const next = bumped(call);
    const body = JSON.stringify(next);
    const result =
      call.version === 0
        ? tryInsert(() => q.insertCall.run(call.id, next.version, next.endedAt, next.parentCallId, body))
        : q.updateCall.run(next.version, next.endedAt, next.parentCallId, body, call.id, call.version);
    if (result === null || result.changes !== 1) throw new VersionConflict('call', call.id);
    // Most changes (an Answer, a Hold, user data) leave the same DNs present: reading the index
    // rows is cheaper than deleting and re-inserting them, which writes B-tree and WAL pages.
    const dns = presentDns(next);
    const stored = call.version === 0 ? [] : q.presenceOf.all(call.id).map((r) => r.dn);
    if (stored.length !== dns.length || dns.some((dn) => !stored.includes(dn))) {
      q.clearPresence.run(call.id);
      for (const dn of dns) q.addPresence.run(dn, call.id);
    }
    return next;
  };

  const writeSession = (s: AgentSession): AgentSession => {
    const next = bumped(s);
    const row = {
      id: s.userId,
      next: next.version,
      expected: s.version,
      body: JSON.stringify(next),
      ready: chatReadySince(next),
      monitors: next.monitoring?.targetDn ?? null,
      chatOn: next.channels?.chat !== undefined ? 1 : 0,
    };
    // A new session (version 0) is an insert, which an existing row refuses; any other is an
    // update of exactly the version loaded. Either way, no change means someone else won.
    const result = s.version === 0 ? tryInsert(() => q.insertSession.run(row)) : q.updateSession.run(row);
    if (result === null || result.changes !== 1) throw new VersionConflict('agent session', s.userId);
    return next;
  };

  const writeChat = (chat: Chat): Chat => {
    const next = bumped(chat);
    const body = JSON.stringify(next);
    const waitingSince = chatIsWaiting(next) ? next.createdAt : null;
    const result =
      chat.version === 0
        ? tryInsert(() => q.insertChat.run(chat.id, next.version, waitingSince, body))
        : q.updateChat.run(next.version, waitingSince, body, chat.id, chat.version);
    if (result === null || result.changes !== 1) throw new VersionConflict('chat', chat.id);
    q.clearChatAgents.run(chat.id);
    for (const userId of activeAgentIds(next)) q.addChatAgent.run(userId, chat.id);
    return next;
  };

  const writeBatch = db.transaction(
    (batch: CommitBatch): Committed => ({
      calls: (batch.calls ?? []).map(writeCall),
      agentSessions: (batch.agentSessions ?? []).map(writeSession),
      chats: (batch.chats ?? []).map(writeChat),
    }),
  );
  /** Once the transaction has committed (never before: a rolled-back version must not be remembered). */
  const commit = (batch: CommitBatch): Committed => {
    const committed = writeBatch(batch);
    for (const call of committed.calls) parsedCalls.remember(call);
    return committed;
  };

  return {
    getCall: async (id) => {
      const row = q.getCall.get(id);
      return row ? parsedCalls.of(row) : undefined;
    },
    presentCallsOf: async (dn) => q.callsOf.all(dn).map(parsedCalls.of),
    consultationsOf: async (id) => q.consultationsOf.all(id).map(parsedCalls.of),
    liveCallIds: async () => q.liveCallIds.all().map((r) => r.call_id),
    getAgentSession: async (userId) => parse<AgentSession>(q.getSession.get(userId)),
    monitoringSessions: async () => q.monitoring.all().map((row) => JSON.parse(row.body) as AgentSession),
    chatSessionUserIds: async () => q.chatOn.all().map((r) => r.user_id),
    readyChatAgents: async () => q.readyChat.all().map((r) => ({ userId: r.user_id, since: r.chat_ready_since })),
    getChat: async (id) => parse<Chat>(q.getChat.get(id)),
    chatsOfAgent: async (userId) => q.chatsOf.all(userId).map((row) => JSON.parse(row.body) as Chat),
    waitingChats: async () => q.waiting.all().map((row) => JSON.parse(row.body) as Chat),
    commit: async (batch) => commit(batch),
    saveFlag: async (flag) => void q.saveFlag.run({ id: flag.id, status: flag.status, createdAt: flag.createdAt, body: JSON.stringify(flag) }),
    getFlag: async (id) => parse<Flag>(q.getFlag.get(id)),
    pendingFlags: async () => q.pendingFlags.all().map((row) => JSON.parse(row.body) as Flag),
    appendAudit: async (e) => void q.appendAudit.run(e.time, e.flagId, e.userId, e.outcome, JSON.stringify(e)),
    queryAudit: async (query) =>
      q.queryAudit
        .all({ userId: query.userId ?? null, from: query.from ?? null, to: query.to ?? null, outcome: query.outcome ?? null, flagId: query.flagId ?? null })
        .map((row) => JSON.parse(row.body) as AuditEntry),
    pruneEnded: async (time) => prune(time),
    ping: async () => {
      try {
        return db.prepare('SELECT 1 AS ok').get() !== undefined;
      } catch {
        return false;
      }
    },
    close: async () => {
      if (db.open) db.close();
    },
  };
};

const parse = <T>(row: { body: string } | undefined): T | undefined => (row ? (JSON.parse(row.body) as T) : undefined);

interface CallRow {
  readonly id: string;
  readonly version: number;
  readonly body: string;
}

/** How many parsed call documents are kept: the calls being worked on now, not every live call. */
const PARSED_CALLS = 2048;

/**
 * Parsed call documents by id, each at the version it was parsed or committed at. A row is read
 * from the database every time, as before; only when its version is the one remembered is its
 * JSON not parsed again (the profile's getCall and presentCallsOf were mostly JSON.parse). A
 * version is written once and never changes, so the remembered document is exactly the row's,
 * never a stale one; documents are never mutated (the domain makes new ones; the memory store
 * shares them the same way).
 */
const parsedCallCache = () => {
  const byId = new Map<string, Call>();
  const remember = (call: Call) => {
    byId.delete(call.id);
    byId.set(call.id, call);
    if (byId.size > PARSED_CALLS) byId.delete(byId.keys().next().value as string);
  };
  return {
    remember,
    of: (row: CallRow): Call => {
      const known = byId.get(row.id);
      if (known !== undefined && known.version === row.version) return known;
      const call = JSON.parse(row.body) as Call;
      remember(call);
      return call;
    },
  };
};

const tryInsert = (run: () => Database.RunResult): Database.RunResult | null => {
  try {
    return run();
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return null;
    throw error;
  }
};

const migrate = (db: Database.Database, path: string): void => {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION)
    throw new Error(`the data file ${path} was written by a newer Conclave (schema ${current}; this one knows ${SCHEMA_VERSION})`);
  db.transaction(() => {
    for (let v = current; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] as string);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
};
