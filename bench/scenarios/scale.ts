/**
 * Scenario 3, scale and memory: live calls grow step by step to the largest level (each call a
 * distinct pair of agents, Dialed and Answered, so every call holds two Established parties)
 * while a fixed number of CometD sessions stays connected. At each level: the server's RSS
 * (/proc VmRSS) and heap, its event-loop delay idle and under load, the price of an operation
 * (a short closed-loop flow run) and the notification latency (a short open-loop run).
 */
import { startCometdPool } from '../cometd/pool.js';
import type { BenchConfig } from '../config.js';
import { basic, FIRST_DN, trios, userOf } from '../lib/directory.js';
import { callIdsOf, deviceIds, hangUpAll } from '../lib/gws.js';
import { createHttpClient, pool, type HttpClient } from '../lib/http-client.js';
import { cpuMeter, type CpuUse } from '../lib/cpu.js';
import type { ProbeStats } from '../lib/server-process.js';
import { startConclave } from '../lib/servers.js';
import { sleep } from '../lib/stats.js';
import { runFlow, type FlowResult } from './flow.js';
import { conclaveDriver, measureRates, type LatencyStep } from './notify-latency.js';
import { trioUsers, withSpares } from './throughput.js';

export interface ScaleLevel {
  readonly liveCalls: number;
  /** Calls whose set-up failed (should be 0). */
  readonly setupErrors: number;
  readonly setupSeconds: number;
  /** CPU while nothing happens but the held long polls (what the sessions and calls cost at rest). */
  readonly idleCpu: CpuUse;
  /** VmRSS as it is (the target's measure), then right after a full GC. */
  readonly rssBytes: number;
  readonly rssAfterGcBytes: number;
  /** VmRSS again at the end of the level (after its flow and latency runs). */
  readonly rssAfterLoadBytes: number;
  /** VmHWM: the highest RSS since the server started (so far, over every level). */
  readonly peakRssBytes: number;
  /** Heap used after a full GC: what the live calls and sessions really hold. */
  readonly retainedHeapBytes: number;
  readonly idle: ProbeStats;
  readonly underLoad: ProbeStats;
  readonly flow: FlowResult;
  readonly flowCpu: CpuUse;
  readonly latency: LatencyStep;
}

export interface ScaleResult {
  readonly sessions: number;
  readonly baseline: { readonly rssBytes: number; readonly probe: ProbeStats };
  readonly levels: readonly ScaleLevel[];
}

/** The users the scale scenario needs: two per call, then its probe trios. */
export const scaleUserCount = (config: BenchConfig) =>
  2 * Math.max(...config.scale.levels) + 3 * (withSpares(config.scale.flowConferences) + config.scale.latencyConferences);

export const runScale = async (config: BenchConfig, directoryFile: string, nodeArgs: readonly string[] = []): Promise<ScaleResult> => {
  const maxCalls = Math.max(...config.scale.levels);
  const server = await startConclave(directoryFile, nodeArgs);
  const http = createHttpClient(server.url, 64);
  try {
    const probeBase = FIRST_DN + 2 * maxCalls;
    const flowTrios = trios(withSpares(config.scale.flowConferences), probeBase);
    const latencyTrios = trios(config.scale.latencyConferences, probeBase + 3 * flowTrios.length);
    const probeUsers = [...trioUsers(flowTrios), ...trioUsers(latencyTrios)];
    // The other sessions belong to the parties of the first calls, so call set-up notifies them.
    const callUsers = Array.from({ length: Math.max(0, config.scale.sessions - probeUsers.length) }, (_, i) => userOf(FIRST_DN + i));
    const devices = await deviceIds(http, [...flowTrios, ...latencyTrios].map((t) => t.a.user));
    const cometd = await startCometdPool({
      baseUrl: server.url,
      users: [...probeUsers, ...callUsers],
      watch: latencyTrios.map((t) => t.a.user),
      workers: config.cometdWorkers,
    });
    process.stdout.write(`    ${cometd.connected} CometD sessions connected in ${cometd.connectMs} ms\n`);
    try {
      await sleep(1000);
      const baseline = { rssBytes: server.rssBytes(), probe: await server.probe({ gc: true }) };
      const driver = conclaveDriver(http, cometd, latencyTrios, devices);
      const levels: ScaleLevel[] = [];
      let live = 0;
      for (const [index, level] of config.scale.levels.entries()) {
        const started = performance.now();
        const setupErrors = await createCalls(http, live, level);
        const setupSeconds = Math.round((performance.now() - started) / 100) / 10;
        live = level;
        await sleep(500);
        // Idle: the live calls and sessions just sit there (long polls are held, nothing else).
        await server.resetProbe();
        const idleMeter = cpuMeter(server.pid);
        await sleep(config.scale.idleWindowS * 1000);
        const idleCpu = idleMeter.stop();
        const idle = await server.probe();
        const rssBytes = server.rssBytes();
        // Then the heap that is really retained, after a full GC (and RSS after it).
        const retained = await server.probe({ gc: true });
        const rssAfterGcBytes = server.rssBytes();
        await server.resetProbe();
        const meter = cpuMeter(server.pid);
        const flow = await runFlow({ url: server.url, connections: config.scale.flowConferences, durationS: config.scale.flowDurationS, trios: flowTrios, devices });
        const flowCpu = meter.stop();
        const underLoad = await server.probe();
        await hangUpAll(http, flowTrios);
        const [latency] = await measureRates(driver, [config.scale.latencyRate], config.scale.latencyDurationS * 1000, index === 0 ? 1000 : 0, server.pid);
        // RSS moves with garbage collection: read it again after the level's load, and the peak.
        const rssAfterLoadBytes = server.rssBytes();
        const peakRssBytes = server.peakRssBytes();
        levels.push({ liveCalls: level, setupErrors, setupSeconds, idleCpu, rssBytes, rssAfterGcBytes, rssAfterLoadBytes, peakRssBytes, retainedHeapBytes: retained.memory.heapUsed, idle, underLoad, flow, flowCpu, latency: latency as LatencyStep });
        process.stdout.write(
          `    ${level} live calls: RSS ${(rssBytes / 2 ** 20).toFixed(1)} MB (after GC ${(rssAfterGcBytes / 2 ** 20).toFixed(1)} MB, heap ${(retained.memory.heapUsed / 2 ** 20).toFixed(1)} MB), flow ${flow.requestsPerSec} req/s, Remove p50 ${flow.perOp['RemoveParticipantFromConference']?.latencyMs.p50} ms, ELD p99 idle ${idle.eventLoopDelayMs.p99} / load ${underLoad.eventLoopDelayMs.p99} ms (set-up ${setupSeconds} s, ${setupErrors} errors)\n`,
        );
      }
      return { sessions: cometd.connected, baseline, levels };
    } finally {
      await cometd.close();
    }
  } finally {
    http.close();
    await server.dispose();
  }
};

/**
 * Creates calls `from`..`to`-1: call i is agent(2i) dialling agent(2i+1), who finds it with
 * GET /me/calls and answers. Returns how many failed.
 */
const createCalls = async (http: HttpClient, from: number, to: number): Promise<number> => {
  const indexes = Array.from({ length: to - from }, (_, k) => from + k);
  const callers = indexes.map((i) => userOf(FIRST_DN + 2 * i));
  const devices = await deviceIds(http, callers, 32);
  const outcomes = await pool(indexes, 32, async (i) => {
    const a = userOf(FIRST_DN + 2 * i);
    const bDn = FIRST_DN + 2 * i + 1;
    const dial = await http.request('POST', `/api/v2/me/devices/${devices.get(a)}/calls`, basic(a), { operationName: 'Dial', destination: { phoneNumber: String(bDn) } });
    if (dial.status !== 200) return false;
    const [callId] = await callIdsOf(http, userOf(bDn));
    if (!callId) return false;
    const answer = await http.request('POST', `/api/v2/me/calls/${callId}`, basic(userOf(bDn)), { operationName: 'Answer' });
    return answer.status === 200;
  });
  return outcomes.filter((ok) => !ok).length;
};
