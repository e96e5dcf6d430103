/**
 * Scenario 4's HTTP half: a bare node:http server and a bare Fastify app answering
 * {"statusCode":0} to the same POST a conference operation sends, under the same autocannon
 * load (same connection count and duration) as the Conclave throughput run.
 * (The CometD half is `runCometdBaseline` in latency.ts.)
 */
import type { BenchConfig } from '../config.js';
import { cpuMeter, type CpuUse } from '../lib/cpu.js';
import { startBaseline, type BaselineKind } from '../lib/servers.js';
import { runFixed, type FixedResult } from './flow.js';

export interface HttpBaselineResult extends FixedResult {
  readonly kind: BaselineKind;
  readonly rssBytes: number;
  readonly cpu: CpuUse;
}

export const runHttpBaseline = async (config: BenchConfig, kind: 'node' | 'fastify'): Promise<HttpBaselineResult> => {
  const server = await startBaseline(kind);
  try {
    const run = () =>
      runFixed({
        url: server.url,
        path: '/api/v2/me/calls/01RCC3N118B1V0SL8O7GK2LAES00000O',
        body: { operationName: 'RemoveParticipantFromConference', participant: '15001' },
        connections: config.throughput.conferences,
        durationS: config.baselines.durationS,
      });
    if (config.throughput.warmupS > 0) await runFixed({ url: server.url, path: '/api/v2/me/calls/x', body: { operationName: 'Hangup' }, connections: config.throughput.conferences, durationS: config.throughput.warmupS });
    const meter = cpuMeter(server.pid);
    const result = await run();
    const cpu = meter.stop();
    return { kind, ...result, rssBytes: server.rssBytes(), cpu };
  } finally {
    await server.stop();
  }
};
