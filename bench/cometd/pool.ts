/**
 * The main thread's handle on the CometD sessions, spread over worker threads: one Node event
 * loop cannot hold thousands of long-polling clients and still time an HTTP driver fairly, so
 * the sessions live in workers and the driver stays alone on the main thread.
 */
import { Worker } from 'node:worker_threads';
import { COMETD_WORKER } from '../paths.js';
import type { Counts, FromWorker, Note, WorkerInit } from './protocol.js';

export const ALL_CHANNELS = ['/v2/me/calls', '/v2/me/devices', '/v2/me/channels', '/v2/me/chats'];

export interface CometdPool {
  readonly connected: number;
  readonly failed: number;
  readonly connectMs: number;
  /** Called for every forwarded (watched) call notification. */
  onNote(listener: (note: Note) => void): void;
  /** Notifications received so far, over all sessions. */
  counts(): Promise<{ received: number; byType: Record<string, number> }>;
  /** Waits until `expected` notifications have arrived, or nothing new came for `quietMs`. */
  settle(expected: number, quietMs?: number, maxMs?: number): Promise<number>;
  close(): Promise<void>;
}

export interface PoolOptions {
  readonly baseUrl: string;
  readonly users: readonly string[];
  readonly watch?: readonly string[];
  readonly workers: number;
  readonly channels?: readonly string[];
  readonly concurrencyPerWorker?: number;
}

export const startCometdPool = async (options: PoolOptions): Promise<CometdPool> => {
  const started = performance.now();
  const count = Math.max(1, Math.min(options.workers, options.users.length));
  const shares: string[][] = Array.from({ length: count }, () => []);
  options.users.forEach((user, i) => shares[i % count]?.push(user));
  const listeners: ((note: Note) => void)[] = [];
  const countWaiters = new Map<Worker, (counts: Counts) => void>();
  const watch = options.watch ?? [];

  const workers = await Promise.all(
    shares.map(
      (users) =>
        new Promise<{ worker: Worker; connected: number; failed: number; firstError?: string }>((resolve, reject) => {
          const init: WorkerInit = {
            baseUrl: options.baseUrl,
            users,
            watch: watch.filter((u) => users.includes(u)),
            channels: options.channels ?? ALL_CHANNELS,
            concurrency: options.concurrencyPerWorker ?? 20,
          };
          const worker = new Worker(COMETD_WORKER, { workerData: init });
          worker.on('error', reject);
          worker.on('message', (message: FromWorker) => {
            if (message.kind === 'note') for (const l of listeners) l(message);
            else if (message.kind === 'ready') resolve({ worker, connected: message.connected, failed: message.failed, ...(message.firstError ? { firstError: message.firstError } : {}) });
            else if (message.kind === 'counts') {
              const waiter = countWaiters.get(worker);
              countWaiters.delete(worker);
              waiter?.(message);
            }
          });
        }),
    ),
  );
  const connected = workers.reduce((n, w) => n + w.connected, 0);
  const failed = workers.reduce((n, w) => n + w.failed, 0);
  const firstError = workers.find((w) => w.firstError)?.firstError;
  if (failed > 0) process.stderr.write(`  ! ${failed} CometD session(s) failed to connect: ${firstError}\n`);

  const counts = async () => {
    const all = await Promise.all(
      workers.map(({ worker }) => new Promise<Counts>((resolve) => {
        countWaiters.set(worker, resolve);
        worker.postMessage({ cmd: 'counts' });
      })),
    );
    const byType: Record<string, number> = {};
    for (const c of all) for (const [k, v] of Object.entries(c.byType)) byType[k] = (byType[k] ?? 0) + v;
    return { received: all.reduce((n, c) => n + c.received, 0), byType };
  };

  return {
    connected,
    failed,
    connectMs: Math.round(performance.now() - started),
    onNote: (listener) => listeners.push(listener),
    counts,
    settle: async (expected, quietMs = 1500, maxMs = 15_000) => {
      const deadline = performance.now() + maxMs;
      let last = -1;
      let lastChange = performance.now();
      for (;;) {
        const { received } = await counts();
        if (received >= expected) return received;
        if (received !== last) {
          last = received;
          lastChange = performance.now();
        }
        if (performance.now() - lastChange > quietMs || performance.now() > deadline) return received;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: async () => {
      await Promise.all(workers.map(({ worker }) => worker.terminate()));
    },
  };
};
