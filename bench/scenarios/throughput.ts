/**
 * Scenario 1, operation throughput: many conferences in parallel (one autocannon connection
 * each) running the full flow, with every party's CometD session connected and receiving.
 * Reports requests/s, conferences/s, p50/p99 per operation, and checks that every notification
 * the successful operations caused reached its CometD client.
 */
import { startCometdPool } from '../cometd/pool.js';
import type { BenchConfig } from '../config.js';
import { trios, type Trio } from '../lib/directory.js';
import { deviceIds, hangUpAll } from '../lib/gws.js';
import { createHttpClient } from '../lib/http-client.js';
import { cpuMeter, type CpuUse } from '../lib/cpu.js';
import type { ProbeStats } from '../lib/server-process.js';
import { startConclave } from '../lib/servers.js';
import { round } from '../lib/stats.js';
import { runFlow, type FlowResult } from './flow.js';

export interface ThroughputResult {
  readonly sessions: number;
  readonly flow: FlowResult;
  readonly notifications: { readonly expected: number; readonly received: number; readonly perSec: number; readonly byType: Record<string, number> };
  readonly server: { readonly rssBytes: number; readonly probe: ProbeStats };
  readonly cpu: CpuUse;
  /** The measured run on the machine's monotonic clock (µs), to cut a CPU profile to it. */
  readonly window: { readonly startUs: number; readonly endUs: number };
}

/**
 * CLOCK_MONOTONIC in µs: the clock V8 stamps CPU profile samples with, shared by every process
 * on the machine, so the server's profile can be cut to the window the driver measured.
 */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Spare trios replace any retired after a failed step, so a failure never stalls a connection. */
export const withSpares = (conferences: number) => conferences + Math.max(5, Math.ceil(conferences / 10));

export const trioUsers = (list: readonly Trio[]) => list.flatMap((t) => [t.a.user, t.b.user, t.c.user]);

export const runThroughput = async (config: BenchConfig, directoryFile: string, nodeArgs: readonly string[] = [], durationS = config.throughput.durationS): Promise<ThroughputResult> => {
  const server = await startConclave(directoryFile, nodeArgs);
  const http = createHttpClient(server.url, 32);
  try {
    const list = trios(withSpares(config.throughput.conferences));
    const devices = await deviceIds(http, list.map((t) => t.a.user));
    const cometd = await startCometdPool({ baseUrl: server.url, users: trioUsers(list), workers: config.cometdWorkers });
    process.stdout.write(`    ${cometd.connected} CometD sessions connected in ${cometd.connectMs} ms\n`);
    try {
      // Warm-up (JIT, SQLite page cache, socket pools), then clear the half-done conferences.
      if (config.throughput.warmupS > 0) {
        await runFlow({ url: server.url, connections: config.throughput.conferences, durationS: config.throughput.warmupS, trios: list, devices });
        await hangUpAll(http, list);
      }
      await cometd.settle(Number.MAX_SAFE_INTEGER, 500, 5000);
      const before = await cometd.counts();
      await server.resetProbe();
      const meter = cpuMeter(server.pid);
      const startUs = monotonicUs();
      const flow = await runFlow({ url: server.url, connections: config.throughput.conferences, durationS, trios: list, devices });
      const endUs = monotonicUs();
      const cpu = meter.stop();
      const probe = await server.probe();
      const rssBytes = server.rssBytes();
      // Operations still in flight when autocannon stopped were never counted as answered, but
      // the server ran them: a few more notifications than expected may arrive, never fewer.
      await cometd.settle(before.received + flow.expectedNotifications);
      const after = await cometd.counts();
      const received = after.received - before.received;
      const byType = Object.fromEntries(Object.entries(after.byType).map(([k, v]) => [k, v - (before.byType[k] ?? 0)]));
      return {
        sessions: cometd.connected,
        flow,
        notifications: { expected: flow.expectedNotifications, received, perSec: round(received / flow.durationS, 1), byType },
        server: { rssBytes, probe },
        cpu,
        window: { startUs, endUs },
      };
    } finally {
      await cometd.close();
    }
  } finally {
    http.close();
    await server.dispose();
  }
};

export interface BareFlowResult {
  readonly flow: FlowResult;
  readonly cpu: CpuUse;
}

/**
 * The same flow with no CometD session connected (notifications are rendered, find no
 * session and are dropped): what HTTP, the engine and SQLite cost without the fan-out, to
 * split the throughput scenario's cost in two. Not a target figure, an explanation of one.
 */
export const runThroughputWithoutSessions = async (config: BenchConfig, directoryFile: string): Promise<BareFlowResult> => {
  const server = await startConclave(directoryFile);
  const http = createHttpClient(server.url, 32);
  try {
    const list = trios(withSpares(config.throughput.conferences));
    const devices = await deviceIds(http, list.map((t) => t.a.user));
    if (config.throughput.warmupS > 0) {
      await runFlow({ url: server.url, connections: config.throughput.conferences, durationS: config.throughput.warmupS, trios: list, devices });
      await hangUpAll(http, list);
    }
    const meter = cpuMeter(server.pid);
    const flow = await runFlow({ url: server.url, connections: config.throughput.conferences, durationS: config.throughput.withoutSessionsS, trios: list, devices });
    return { flow, cpu: meter.stop() };
  } finally {
    http.close();
    await server.dispose();
  }
};
