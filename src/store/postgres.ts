/**
 * The PostgreSQL store (`--data postgres://…`), for several Conclave nodes on one database. The
 * same design as the SQLite file: entities are JSON documents with a version column, side tables
 * index what the engine looks up (present parties by DN, chat agents), and each commit is one
 * transaction. The versions are enforced by the database, not by this process: an update is
 * `UPDATE … WHERE id = $1 AND version = $2` (another node's commit moves the version, and row
 * locks make the second writer re-check the condition after the first commits), and a new entity
 * is a plain INSERT that the primary key refuses when another node inserted the same id first.
 * Either way nothing of the batch is written and VersionConflict is thrown.
 *
 * The schema is created and migrated on start under an advisory lock (nodes starting together
 * migrate once); `schema_version` records how far, and a database a newer Conclave migrated is
 * refused untouched.
 */
import pg from 'pg';
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

export const POSTGRES_SCHEMA_VERSION = 2;

/** Taken while migrating, so that nodes starting at once do not migrate twice. */
const MIGRATION_LOCK = 0x636f6e63; // "conc"

const MIGRATIONS: readonly string[] = [
  // 1: everything SQLite schema 6 keeps.
  `CREATE TABLE calls (
     id TEXT PRIMARY KEY,
     version INTEGER NOT NULL,
     ended_at BIGINT,
     parent_call_id TEXT,
     body TEXT NOT NULL
   );
   CREATE INDEX calls_live_by_parent ON calls (parent_call_id) WHERE parent_call_id IS NOT NULL AND ended_at IS NULL;
   CREATE TABLE call_presence (
     dn TEXT NOT NULL,
     call_id TEXT NOT NULL,
     PRIMARY KEY (dn, call_id)
   );
   CREATE INDEX call_presence_by_call ON call_presence (call_id);
   CREATE TABLE agent_sessions (
     user_id TEXT PRIMARY KEY,
     version INTEGER NOT NULL,
     chat_ready_since BIGINT,
     monitors_dn TEXT,
     chat_on BOOLEAN NOT NULL DEFAULT false,
     body TEXT NOT NULL
   );
   CREATE INDEX agent_sessions_chat_ready ON agent_sessions (chat_ready_since) WHERE chat_ready_since IS NOT NULL;
   CREATE INDEX agent_sessions_monitors ON agent_sessions (monitors_dn) WHERE monitors_dn IS NOT NULL;
   CREATE INDEX agent_sessions_chat_on ON agent_sessions (user_id) WHERE chat_on;
   CREATE TABLE chats (
     id TEXT PRIMARY KEY,
     version INTEGER NOT NULL,
     waiting_since BIGINT,
     body TEXT NOT NULL
   );
   CREATE INDEX chats_waiting ON chats (waiting_since) WHERE waiting_since IS NOT NULL;
   CREATE TABLE chat_agents (
     user_id TEXT NOT NULL,
     chat_id TEXT NOT NULL,
     PRIMARY KEY (user_id, chat_id)
   );
   CREATE INDEX chat_agents_by_chat ON chat_agents (chat_id);
   CREATE TABLE compliance_flags (
     id TEXT PRIMARY KEY,
     status TEXT NOT NULL,
     created_at BIGINT NOT NULL,
     body TEXT NOT NULL
   );
   CREATE INDEX compliance_flags_pending ON compliance_flags (created_at) WHERE status = 'pending';
   CREATE TABLE compliance_audit (
     seq BIGSERIAL PRIMARY KEY,
     time BIGINT NOT NULL,
     flag_id TEXT NOT NULL,
     user_id TEXT NOT NULL,
     outcome TEXT NOT NULL,
     body TEXT NOT NULL
   );
   CREATE INDEX compliance_audit_user_time ON compliance_audit (user_id, time);
   CREATE INDEX compliance_audit_time ON compliance_audit (time);`,
  // 2: the cluster's outbox of committed events (src/store/postgres-cluster.ts). A row is
  // appended by conclave_publish under a transaction-scoped advisory lock, so the order of seq is
  // the order of commit: a follower reading "seq > last seen" can never skip a row that commits
  // later with a smaller seq.
  `CREATE TABLE cluster_events (
     seq BIGSERIAL PRIMARY KEY,
     origin TEXT NOT NULL,
     created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
     body TEXT NOT NULL
   );
   CREATE INDEX cluster_events_created ON cluster_events (created_at);
   CREATE FUNCTION conclave_publish(origin TEXT, body TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $$
   DECLARE
     n BIGINT;
   BEGIN
     PERFORM pg_advisory_xact_lock(1668247395, 1);
     INSERT INTO cluster_events (origin, body) VALUES (origin, body) RETURNING seq INTO n;
     PERFORM pg_notify('conclave_events', n::text);
     RETURN n;
   END $$;`,
];

export interface PostgresStore {
  /** The port, and nothing else (the conformance suite checks its exact methods). */
  readonly store: Store;
  /** The pool the store uses (the cluster's outbox and lease share the server, not the pool). */
  readonly pool: pg.Pool;
  readonly url: string;
}

export const isPostgresUrl = (data: string): boolean => /^postgres(ql)?:\/\//i.test(data);

/** Connection errors, not SQL ones: the pool keeps quiet about a server that went away. */
const onPoolError = (): void => undefined;

export const openPostgresStore = async (url: string, options: { readonly max?: number } = {}): Promise<PostgresStore> => {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    // A dead server must fail requests quickly (and /healthz answer 503), not hold them.
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 10_000,
  });
  pool.on('error', onPoolError);
  try {
    await migrate(pool, url);
  } catch (error) {
    await pool.end();
    throw error;
  }

  const rows = async <T>(text: string, values: unknown[] = []): Promise<T[]> => (await pool.query(text, values)).rows as T[];
  const bodies = async <T>(text: string, values: unknown[] = []): Promise<T[]> => (await rows<{ body: string }>(text, values)).map((r) => JSON.parse(r.body) as T);
  const one = async <T>(text: string, values: unknown[]): Promise<T | undefined> => (await bodies<T>(text, values))[0];

  /** Runs `write` in one transaction; an exception rolls everything back. */
  const transaction = async <T>(write: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await write(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };

  /** An INSERT of a new entity or an UPDATE of the version loaded: anything but one row changed is a lost race. */
  const write = async (client: pg.PoolClient, kind: string, id: string, isNew: boolean, insert: [string, unknown[]], update: [string, unknown[]]): Promise<void> => {
    let changed: number | null;
    if (isNew) {
      // The duplicate key aborts the transaction; `transaction` rolls it back, as for a stale update.
      try {
        changed = (await client.query(...insert)).rowCount;
      } catch (error) {
        if ((error as { code?: string }).code === '23505') throw new VersionConflict(kind, id);
        throw error;
      }
    } else changed = (await client.query(...update)).rowCount;
    if (changed !== 1) throw new VersionConflict(kind, id);
  };

  const writeCall = async (client: pg.PoolClient, call: Call): Promise<Call> => {
    const next = bumped(call);
    const body = JSON.stringify(next);
    await write(
      client,
      'call',
      call.id,
      call.version === 0,
      ['INSERT INTO calls (id, version, ended_at, parent_call_id, body) VALUES ($1, $2, $3, $4, $5)', [call.id, next.version, next.endedAt, next.parentCallId, body]],
      ['UPDATE calls SET version = $2, ended_at = $3, parent_call_id = $4, body = $5 WHERE id = $1 AND version = $6', [call.id, next.version, next.endedAt, next.parentCallId, body, call.version]],
    );
    await client.query('DELETE FROM call_presence WHERE call_id = $1', [call.id]);
    const dns = presentDns(next);
    if (dns.length > 0) await client.query('INSERT INTO call_presence (dn, call_id) SELECT unnest($1::text[]), $2', [dns, call.id]);
    return next;
  };

  const writeSession = async (client: pg.PoolClient, s: AgentSession): Promise<AgentSession> => {
    const next = bumped(s);
    const values = [s.userId, next.version, JSON.stringify(next), chatReadySince(next), next.monitoring?.targetDn ?? null, next.channels?.chat !== undefined];
    await write(
      client,
      'agent session',
      s.userId,
      s.version === 0,
      ['INSERT INTO agent_sessions (user_id, version, body, chat_ready_since, monitors_dn, chat_on) VALUES ($1, $2, $3, $4, $5, $6)', values],
      [
        'UPDATE agent_sessions SET version = $2, body = $3, chat_ready_since = $4, monitors_dn = $5, chat_on = $6 WHERE user_id = $1 AND version = $7',
        [...values, s.version],
      ],
    );
    return next;
  };

  const writeChat = async (client: pg.PoolClient, chat: Chat): Promise<Chat> => {
    const next = bumped(chat);
    const body = JSON.stringify(next);
    const waitingSince = chatIsWaiting(next) ? next.createdAt : null;
    await write(
      client,
      'chat',
      chat.id,
      chat.version === 0,
      ['INSERT INTO chats (id, version, waiting_since, body) VALUES ($1, $2, $3, $4)', [chat.id, next.version, waitingSince, body]],
      ['UPDATE chats SET version = $2, waiting_since = $3, body = $4 WHERE id = $1 AND version = $5', [chat.id, next.version, waitingSince, body, chat.version]],
    );
    await client.query('DELETE FROM chat_agents WHERE chat_id = $1', [chat.id]);
    const agents = activeAgentIds(next);
    if (agents.length > 0) await client.query('INSERT INTO chat_agents (user_id, chat_id) SELECT unnest($1::text[]), $2', [agents, chat.id]);
    return next;
  };

  const sequentially = async <T>(client: pg.PoolClient, items: readonly T[] | undefined, each: (client: pg.PoolClient, item: T) => Promise<T>): Promise<T[]> => {
    const out: T[] = [];
    for (const item of items ?? []) out.push(await each(client, item));
    return out;
  };

  let closed = false;
  const store: Store = {
    getCall: (id) => one<Call>('SELECT body FROM calls WHERE id = $1', [id]),
    presentCallsOf: (dn) => bodies<Call>('SELECT c.body FROM call_presence p JOIN calls c ON c.id = p.call_id WHERE p.dn = $1', [dn]),
    consultationsOf: (id) => bodies<Call>('SELECT body FROM calls WHERE parent_call_id = $1 AND ended_at IS NULL', [id]),
    liveCallIds: async () => (await rows<{ call_id: string }>('SELECT DISTINCT call_id FROM call_presence')).map((r) => r.call_id),
    getAgentSession: (userId) => one<AgentSession>('SELECT body FROM agent_sessions WHERE user_id = $1', [userId]),
    monitoringSessions: () => bodies<AgentSession>('SELECT body FROM agent_sessions WHERE monitors_dn IS NOT NULL'),
    chatSessionUserIds: async () => (await rows<{ user_id: string }>('SELECT user_id FROM agent_sessions WHERE chat_on')).map((r) => r.user_id),
    readyChatAgents: async () =>
      (await rows<{ user_id: string; since: string }>('SELECT user_id, chat_ready_since AS since FROM agent_sessions WHERE chat_ready_since IS NOT NULL')).map((r) => ({
        userId: r.user_id,
        // BIGINT arrives as a string: epoch milliseconds are safe integers.
        since: Number(r.since),
      })),
    getChat: (id) => one<Chat>('SELECT body FROM chats WHERE id = $1', [id]),
    chatsOfAgent: (userId) => bodies<Chat>('SELECT c.body FROM chat_agents a JOIN chats c ON c.id = a.chat_id WHERE a.user_id = $1', [userId]),
    waitingChats: () => bodies<Chat>('SELECT body FROM chats WHERE waiting_since IS NOT NULL ORDER BY waiting_since, id'),
    commit: (batch: CommitBatch): Promise<Committed> =>
      transaction(async (client) => ({
        calls: await sequentially(client, batch.calls, writeCall),
        agentSessions: await sequentially(client, batch.agentSessions, writeSession),
        chats: await sequentially(client, batch.chats, writeChat),
      })),
    saveFlag: async (flag) =>
      void (await pool.query(
        `INSERT INTO compliance_flags (id, status, created_at, body) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, body = EXCLUDED.body`,
        [flag.id, flag.status, flag.createdAt, JSON.stringify(flag)],
      )),
    getFlag: (id) => one<Flag>('SELECT body FROM compliance_flags WHERE id = $1', [id]),
    pendingFlags: () => bodies<Flag>(`SELECT body FROM compliance_flags WHERE status = 'pending' ORDER BY created_at, id`),
    appendAudit: async (e) =>
      void (await pool.query('INSERT INTO compliance_audit (time, flag_id, user_id, outcome, body) VALUES ($1, $2, $3, $4, $5)', [
        e.time,
        e.flagId,
        e.userId,
        e.outcome,
        JSON.stringify(e),
      ])),
    queryAudit: (query) =>
      bodies<AuditEntry>(
        `SELECT body FROM compliance_audit
         WHERE ($1::text IS NULL OR user_id = $1) AND ($2::bigint IS NULL OR time >= $2) AND ($3::bigint IS NULL OR time <= $3)
           AND ($4::text IS NULL OR outcome = $4) AND ($5::text IS NULL OR flag_id = $5)
         ORDER BY seq`,
        [query.userId ?? null, query.from ?? null, query.to ?? null, query.outcome ?? null, query.flagId ?? null],
      ),
    // Retention, as the SQLite adapter does it: ended calls and chats with their index rows,
    // never flags or the audit. Chats keep their end time in the document only.
    pruneEnded: (time) =>
      transaction(async (client) => {
        await client.query('DELETE FROM call_presence WHERE call_id IN (SELECT id FROM calls WHERE ended_at IS NOT NULL AND ended_at < $1)', [time]);
        const calls = (await client.query('DELETE FROM calls WHERE ended_at IS NOT NULL AND ended_at < $1', [time])).rowCount ?? 0;
        const ended = `(body::jsonb ->> 'endedAt') IS NOT NULL AND (body::jsonb ->> 'endedAt')::bigint < $1`;
        await client.query(`DELETE FROM chat_agents WHERE chat_id IN (SELECT id FROM chats WHERE ${ended})`, [time]);
        const chats = (await client.query(`DELETE FROM chats WHERE ${ended}`, [time])).rowCount ?? 0;
        return { calls, chats };
      }),
    ping: async () => {
      if (closed) return false;
      try {
        return (await pool.query('SELECT 1 AS ok')).rows.length === 1;
      } catch {
        return false;
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
  return { store, pool, url };
};

const migrate = async (pool: pg.Pool, url: string): Promise<void> => {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const found = (await client.query<{ version: number }>('SELECT version FROM schema_version')).rows[0];
    const current = found?.version ?? 0;
    if (current > POSTGRES_SCHEMA_VERSION)
      throw new Error(`the database ${redacted(url)} was migrated by a newer Conclave (schema ${current}; this one knows ${POSTGRES_SCHEMA_VERSION})`);
    for (let v = current; v < POSTGRES_SCHEMA_VERSION; v++) await client.query(MIGRATIONS[v] as string);
    if (found === undefined) await client.query('INSERT INTO schema_version (version) VALUES ($1)', [POSTGRES_SCHEMA_VERSION]);
    else await client.query('UPDATE schema_version SET version = $1', [POSTGRES_SCHEMA_VERSION]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
};

/** The URL without its password, for messages. */
export const redacted = (url: string): string => url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
