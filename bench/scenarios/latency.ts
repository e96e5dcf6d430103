/**
 * Scenario 2, notification latency at rising load with many CometD sessions connected: every
 * session belongs to a conference party (sessions / 3 conferences), every owner is watched.
 */
import { startCometdPool } from '../cometd/pool.js';
import type { BenchConfig } from '../config.js';
import { trios } from '../lib/directory.js';
import { deviceIds } from '../lib/gws.js';
import { createHttpClient } from '../lib/http-client.js';
import type { ProbeStats } from '../lib/server-process.js';
import { startBaseline, startConclave } from '../lib/servers.js';
import { cometdBaselineDriver, conclaveDriver, measureRates, type LatencyStep } from './notify-latency.js';
import { trioUsers } from './throughput.js';

export interface LatencyResult {
  readonly sessions: number;
  readonly conferences: number;
  readonly steps: readonly LatencyStep[];
  readonly server: { readonly rssBytes: number; readonly probe: ProbeStats };
}

export const runLatency = async (config: BenchConfig, directoryFile: string): Promise<LatencyResult> => {
  const server = await startConclave(directoryFile);
  // Enough sockets for the rates measured; a bounded pool queues in the client when the server
  // stalls instead of opening a burst of connections that overflows its accept queue.
  const http = createHttpClient(server.url, 64);
  try {
    const list = trios(Math.ceil(config.latency.sessions / 3));
    const devices = await deviceIds(http, list.map((t) => t.a.user));
    const cometd = await startCometdPool({ baseUrl: server.url, users: trioUsers(list), watch: list.map((t) => t.a.user), workers: config.cometdWorkers });
    process.stdout.write(`    ${cometd.connected} CometD sessions connected in ${cometd.connectMs} ms\n`);
    try {
      const driver = conclaveDriver(http, cometd, list, devices);
      await server.resetProbe();
      const steps = await measureRates(driver, config.latency.rates, config.latency.durationS * 1000, config.latency.warmupS * 1000, server.pid);
      return { sessions: cometd.connected, conferences: list.length, steps, server: { rssBytes: server.rssBytes(), probe: await server.probe() } };
    } finally {
      await cometd.close();
    }
  } finally {
    http.close();
    await server.dispose();
  }
};

/** The same measurement against a bare cometd-nodejs-server delivering the seed payload. */
export const runCometdBaseline = async (config: BenchConfig): Promise<LatencyResult> => {
  const server = await startBaseline('cometd');
  const http = createHttpClient(server.url, 64);
  try {
    const list = trios(Math.ceil(config.latency.sessions / 3));
    const cometd = await startCometdPool({ baseUrl: server.url, users: trioUsers(list), watch: list.map((t) => t.a.user), workers: config.cometdWorkers });
    process.stdout.write(`    ${cometd.connected} CometD sessions connected in ${cometd.connectMs} ms\n`);
    try {
      const driver = cometdBaselineDriver(http, cometd, list);
      await server.resetProbe();
      const steps = await measureRates(driver, config.latency.rates, config.baselines.latencyDurationS * 1000, config.latency.warmupS * 1000, server.pid);
      return { sessions: cometd.connected, conferences: list.length, steps, server: { rssBytes: server.rssBytes(), probe: await server.probe() } };
    } finally {
      await cometd.close();
    }
  } finally {
    http.close();
    await server.stop();
  }
};
