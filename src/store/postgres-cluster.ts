/**
 * Cross-node notifications for a cluster on PostgreSQL: an outbox table the nodes follow, with
 * NOTIFY only to wake them (docs/cluster.md says why: NOTIFY payloads stop at 8000 bytes while
 * events carry whole call and chat snapshots, and a NOTIFY sent while a node is disconnected is
 * lost for it, where an outbox row waits).
 *
 * After a commit the engine publishes its events locally (each node renders its own sessions
 * first, as a single node does); this node's `sink` then appends the same events, serialised, to
 * `cluster_events` through `conclave_publish`, which takes a transaction-scoped advisory lock so
 * that the order of seq is the order of commit. Every node follows the table from the last seq it
 * saw — woken by NOTIFY, and by a poll in case a NOTIFY was missed — and hands the rows of other
 * nodes to its remote sinks (the GWS and Cloud notifiers); its own rows it skips, so nobody hears
 * an event twice. A node that loses the database reconnects by itself and reads on from its last
 * seq: a brief disconnection delays notifications, in order, but loses none (rows are kept for
 * RETENTION). A new node starts from the end of the table: it has no sessions that missed anything.
 */
import pg from 'pg';
import type { DomainEvent, EventSink } from '../engine/ports.js';

export interface ClusterBusOptions {
  readonly url: string;
  /** Unique per node process: rows it wrote itself are not delivered to it again. */
  readonly nodeId: string;
  /** Where other nodes' events go (the sinks that render to this node's sessions). */
  readonly deliver: (events: readonly DomainEvent[]) => void;
  readonly onError: (error: unknown, what: string) => void;
  /** Safety poll when no NOTIFY arrives (a missed wake-up costs at most this), in ms. */
  readonly pollMs?: number;
}

export interface ClusterBus {
  /** The local sink: appends each published batch to the outbox. */
  readonly sink: EventSink;
  /** Resolves once everything published so far is in the outbox (tests, shutdown). */
  flushed(): Promise<void>;
  close(): Promise<void>;
}

/** How long outbox rows are kept: a node disconnected for longer misses what it did not read. */
const RETENTION = '10 minutes';
const BATCH_ROWS = 500;

/** Events as JSON: the snapshots are plain JSON but for ChatEvent.chatSessions, a Set. */
export const serialiseEvents = (events: readonly DomainEvent[]): string =>
  JSON.stringify(events, (_key, value: unknown) => (value instanceof Set ? { $set: [...(value as Set<unknown>)] } : value));

export const deserialiseEvents = (text: string): DomainEvent[] =>
  JSON.parse(text, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1 && Array.isArray((value as { $set?: unknown }).$set)
      ? new Set((value as { $set: unknown[] }).$set)
      : value,
  ) as DomainEvent[];

export const startClusterBus = async (options: ClusterBusOptions): Promise<ClusterBus> => {
  const { nodeId, deliver, onError } = options;
  const pollMs = options.pollMs ?? 1000;
  // Its own small pool: publishing must not queue behind request traffic on the store's pool.
  const pool = new pg.Pool({ connectionString: options.url, max: 2, connectionTimeoutMillis: 3000 });
  pool.on('error', () => undefined);
  let closed = false;
  let last = Number((await pool.query<{ n: string }>('SELECT coalesce(max(seq), 0) AS n FROM cluster_events')).rows[0]?.n ?? 0);

  // ---- Publishing: one append at a time, in publish order, batching what queued meanwhile.
  let pending: (readonly DomainEvent[])[] = [];
  let flushing: Promise<void> = Promise.resolve();
  let running = false;
  const flush = async (): Promise<void> => {
    running = true;
    try {
      while (pending.length > 0 && !closed) {
        const batch = pending;
        pending = [];
        const events = batch.flat();
        try {
          await pool.query('SELECT conclave_publish($1, $2)', [nodeId, serialiseEvents(events)]);
        } catch (error) {
          // The commit stands; other nodes' sessions miss this change's notification (their
          // clients see the state on their next read). Said in docs/cluster.md.
          onError(error, 'could not append events to the cluster outbox');
        }
      }
    } finally {
      running = false;
    }
  };
  const sink: EventSink = {
    publish(events) {
      if (events.length === 0 || closed) return;
      pending.push(events);
      if (!running) flushing = flush();
    },
  };

  // ---- Following: a dedicated LISTEN connection, re-opened after any failure.
  let listener: pg.Client | undefined;
  let reading: Promise<void> | undefined;
  let again = false;
  const read = async (): Promise<void> => {
    try {
      for (;;) {
        const { rows } = await pool.query<{ seq: string; origin: string; body: string }>(
          'SELECT seq, origin, body FROM cluster_events WHERE seq > $1 ORDER BY seq LIMIT $2',
          [last, BATCH_ROWS],
        );
        for (const row of rows) {
          last = Number(row.seq);
          if (row.origin === nodeId) continue;
          try {
            deliver(deserialiseEvents(row.body));
          } catch (error) {
            onError(error, 'a remote event could not be delivered');
          }
        }
        if (rows.length < BATCH_ROWS) return;
      }
    } catch (error) {
      if (!closed) onError(error, 'could not read the cluster outbox');
    }
  };
  /** One read at a time; a wake-up during a read asks for one more. */
  const wake = (): void => {
    if (closed) return;
    if (reading) {
      again = true;
      return;
    }
    reading = read().finally(() => {
      reading = undefined;
      if (again) {
        again = false;
        wake();
      }
    });
  };

  let retry: NodeJS.Timeout | undefined;
  let backoff = 100;
  const connect = async (): Promise<void> => {
    if (closed) return;
    const client = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: 3000 });
    const lost = () => {
      if (listener !== client) return;
      listener = undefined;
      client.end().catch(() => undefined);
      schedule();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', wake);
    try {
      await client.connect();
      await client.query('LISTEN conclave_events');
      listener = client;
      backoff = 100;
      // Whatever was appended while we were away.
      wake();
    } catch {
      client.end().catch(() => undefined);
      schedule();
    }
  };
  const schedule = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, backoff);
    backoff = Math.min(backoff * 2, 2000);
  };
  await connect();

  const poll = setInterval(wake, pollMs);
  poll.unref();
  // Any node may prune; the DELETE is idempotent.
  const prune = setInterval(() => {
    pool.query(`DELETE FROM cluster_events WHERE created_at < now() - interval '${RETENTION}'`).catch(() => undefined);
  }, 60_000);
  prune.unref();

  return {
    sink,
    flushed: async () => {
      while (running || pending.length > 0) await flushing;
    },
    close: async () => {
      await flushing;
      closed = true;
      clearInterval(poll);
      clearInterval(prune);
      if (retry) clearTimeout(retry);
      const client = listener;
      listener = undefined;
      await client?.end().catch(() => undefined);
      await reading;
      await pool.end();
    },
  };
};

// ---- The compliance lease ----------------------------------------------------------------------

export interface LeaseOptions {
  readonly url: string;
  /** Called each time this node becomes the holder. */
  readonly onAcquired: () => void;
  readonly onLost?: () => void;
  readonly onError: (error: unknown, what: string) => void;
  /** How often a node without the lease tries to take it, in ms. */
  readonly tryEveryMs?: number;
}

export interface Lease {
  held(): boolean;
  close(): Promise<void>;
}

/** The advisory lock key of the compliance orchestrator's lease ("conc", 2). */
const LEASE_KEY = [1668247395, 2] as const;

/**
 * One node at a time holds a session-level advisory lock on a connection of its own. The lock
 * lives as long as that connection: when the node dies (SIGKILL included) the kernel closes its
 * socket, PostgreSQL ends the backend and releases the lock, and the next node to try (every
 * `tryEveryMs`) takes it. A holder that loses its connection (the database restarted) has lost
 * the lease too, and tries again like everyone else.
 */
export const startLease = async (options: LeaseOptions): Promise<Lease> => {
  const every = options.tryEveryMs ?? 1000;
  let closed = false;
  let client: pg.Client | undefined;
  let holding = false;
  let timer: NodeJS.Timeout | undefined;

  const drop = (c: pg.Client) => {
    if (client !== c) return;
    client = undefined;
    c.end().catch(() => undefined);
    if (holding) {
      holding = false;
      options.onLost?.();
    }
  };
  const attempt = async (): Promise<void> => {
    if (closed || holding) return;
    try {
      if (!client) {
        const c = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: 3000, keepAlive: true });
        c.on('error', () => drop(c));
        c.on('end', () => drop(c));
        await c.connect();
        client = c;
      }
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [...LEASE_KEY]);
      if (rows[0]?.ok && !closed) {
        holding = true;
        options.onAcquired();
      }
    } catch (error) {
      if (client) drop(client);
      if (!closed) options.onError(error, 'could not try the compliance lease');
    }
  };
  const loop = () => {
    timer = setTimeout(() => void attempt().finally(() => !closed && loop()), every);
    timer.unref();
  };
  await attempt();
  loop();
  return {
    held: () => holding,
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      holding = false;
      // Ending the session releases the lock at once: the next node need not wait for a timeout.
      await c?.end().catch(() => undefined);
    },
  };
};
