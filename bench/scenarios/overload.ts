/**
 * Overload: Conclave driven flat out, beyond what it can serve, while a probe measures what a
 * load balancer and a light client see meanwhile, and the bench checks that nothing the server
 * acknowledged was lost.
 *
 * The load: `workers` closed loops at once (far more requests in flight than one event loop
 * serves in time), each on its own pair of users, each looping Dial → GET /me/calls → Hangup and
 * retrying a step at once when it is refused (503: load shedding), so the pressure never lets up.
 * The probe, on its own sockets, every `probeEveryMs`: GET /healthz, and a light operation
 * (GET /api/v2/me/devices), which after a 503 it sends again only once Retry-After has passed. Lost: an acknowledged Dial (200) whose call the next GET /me/calls
 * does not show, or an acknowledged Hangup whose call is still listed at the end.
 */
import type { BenchConfig } from '../config.js';
import { cpuMeter, type CpuUse } from '../lib/cpu.js';
import { basic, trios } from '../lib/directory.js';
import { callIdFromUri, deviceIds } from '../lib/gws.js';
import { createHttpClient, pool, type HttpClient } from '../lib/http-client.js';
import type { ProbeStats } from '../lib/server-process.js';
import { startConclave } from '../lib/servers.js';
import { Worker } from 'node:worker_threads';
import { OVERLOAD_PROBE } from '../paths.js';
import { round, sleep, summarize, type Summary } from '../lib/stats.js';
import type { ProbeInit, ProbeSamples } from './overload-probe.js';

export interface OverloadRun {
  /** The `--shed-delay-ms` the server ran with (0: no load shedding). */
  readonly shedDelayMs: number;
  readonly workers: number;
  readonly durationS: number;
  /** Requests the load sent, answered 200, and refused with 503. */
  readonly load: { readonly sent: number; readonly ok: number; readonly shed: number; readonly otherErrors: number; readonly okPerSec: number; readonly firstError?: string };
  readonly healthzMs: Summary;
  /** Every answer of the light operation (a 503 is an answer too), and the ones served (200). */
  readonly lightMs: Summary;
  readonly lightServedMs: Summary;
  readonly lightShed: number;
  readonly acknowledged: { readonly dials: number; readonly hangups: number };
  readonly lost: { readonly dials: number; readonly hangups: number };
  readonly server: { readonly probe: ProbeStats };
  readonly cpu: CpuUse;
}

export interface OverloadResult {
  /** With the load shedding a control plane runs (`--shed-delay-ms` CONTROL_PLANE_SHED_MS): the run the target judges. */
  readonly shedding: OverloadRun;
  /** The same load with the default `--shed-delay-ms` (full mode only). */
  readonly defaultShedding?: OverloadRun;
  /** The same load with `--shed-delay-ms 0` (full mode only): what shedding changes. */
  readonly withoutShedding?: OverloadRun;
}

/** The threshold docs/performance.md recommends to a control plane that must stay responsive under overload. */
export const CONTROL_PLANE_SHED_MS = 20;
/** The CLI's default (src/http/shedding.ts DEFAULT_SHED_DELAY_MS). */
const DEFAULT_SHED_MS = 100;

export const overloadUserCount = (config: BenchConfig) => 3 * config.overload.workers + 3;

const DIAL = (to: string) => ({ operationName: 'Dial', destination: { phoneNumber: to } });

export const runOverload = async (config: BenchConfig, directoryFile: string): Promise<OverloadResult> => {
  const shedding = await runOnce(config, directoryFile, CONTROL_PLANE_SHED_MS);
  const compare = config.overload.compareWithoutShedding;
  const defaultShedding = compare ? await runOnce(config, directoryFile, DEFAULT_SHED_MS) : undefined;
  const withoutShedding = compare ? await runOnce(config, directoryFile, 0) : undefined;
  return { shedding, ...(defaultShedding ? { defaultShedding } : {}), ...(withoutShedding ? { withoutShedding } : {}) };
};

const runOnce = async (config: BenchConfig, directoryFile: string, shedDelayMs: number): Promise<OverloadRun> => {
  const { workers, durationS, probeEveryMs } = config.overload;
  const server = await startConclave(directoryFile, [], ['--shed-delay-ms', String(shedDelayMs)]);
  const setup = createHttpClient(server.url, 32, { retryShed: true });
  // The load's sockets: one per worker, so every worker always has a request in flight.
  const load = createHttpClient(server.url, workers);
  try {
    const list = trios(workers + 1);
    const prober = list[workers]?.a.user as string;
    const devices = await deviceIds(setup, list.map((t) => t.a.user));
    let sent = 0;
    let ok = 0;
    let shed = 0;
    let otherErrors = 0;
    let firstError: string | undefined;
    const ackDials = { n: 0 };
    const ackHangups = { n: 0 };
    let lostDials = 0;
    const hungUp: { user: string; id: string }[] = [];
    const deadline = performance.now() + durationS * 1000;
    /** Sends until answered 200 (a 503 is retried at once) or the run is over; undefined then. */
    const until200 = async (send: () => Promise<{ status: number; body: any }>) => {
      while (performance.now() < deadline) {
        sent++;
        const reply = await send().catch((error: Error) => ({ status: 0, body: error.message }));
        if (reply.status === 200) {
          ok++;
          return reply;
        }
        if (reply.status === 503) shed++;
        else {
          otherErrors++;
          firstError ??= `HTTP ${reply.status} ${JSON.stringify(reply.body).slice(0, 200)}`;
          return undefined;
        }
      }
      return undefined;
    };
    const worker = async (i: number) => {
      const t = list[i];
      if (!t) return;
      const auth = basic(t.a.user);
      while (performance.now() < deadline) {
        const dial = await until200(() => load.request('POST', `/api/v2/me/devices/${devices.get(t.a.user)}/calls`, auth, DIAL(t.b.dn)));
        if (!dial) return;
        ackDials.n++;
        const calls = await until200(() => load.request('GET', '/api/v2/me/calls', auth));
        if (!calls) return;
        const uris: string[] = calls.body?.uris ?? [];
        if (uris.length !== 1) {
          lostDials++;
          return;
        }
        const id = callIdFromUri(uris[0] as string);
        const hangup = await until200(() => load.request('POST', `/api/v2/me/calls/${id}`, auth, { operationName: 'Hangup' }));
        if (!hangup) return;
        ackHangups.n++;
        hungUp.push({ user: t.a.user, id });
      }
    };
    // The probe runs on its own thread (overload-probe.ts), started with the load.
    const startProbe = () =>
      new Promise<ProbeSamples>((resolve, reject) => {
        const init: ProbeInit = { baseUrl: server.url, authorization: basic(prober), durationMs: durationS * 1000, everyMs: probeEveryMs };
        const worker = new Worker(OVERLOAD_PROBE, { workerData: init });
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    await server.resetProbe();
    const meter = cpuMeter(server.pid);
    const started = performance.now();
    const probing = startProbe();
    await Promise.all(Array.from({ length: workers }, (_, i) => worker(i)));
    const probed = await probing;
    const elapsedS = (performance.now() - started) / 1000;
    const cpu = meter.stop();
    const serverProbe = await server.probe();
    // After the load: every acknowledged Hangup's call must be gone (pressure is off now).
    const stillThere = await pool(hungUp, 16, async (h) => (await callIdsOfRetrying(setup, h.user)).includes(h.id));
    return {
      shedDelayMs,
      workers,
      durationS: round(elapsedS, 2),
      load: { sent, ok, shed, otherErrors, okPerSec: round(ok / elapsedS, 1), ...(firstError ? { firstError } : {}) },
      healthzMs: summarize(probed.healthz),
      lightMs: summarize(probed.light),
      lightServedMs: summarize(probed.lightServed),
      lightShed: probed.lightShed,
      acknowledged: { dials: ackDials.n, hangups: ackHangups.n },
      lost: { dials: lostDials, hangups: stillThere.filter(Boolean).length },
      server: { probe: serverProbe },
      cpu,
    };
  } finally {
    setup.close();
    load.close();
    await server.dispose();
  }
};

/** A user's call ids, retrying while the server is still shedding the tail of the load. */
const callIdsOfRetrying = async (http: HttpClient, user: string): Promise<string[]> => {
  for (let attempt = 0; attempt < 50; attempt++) {
    const reply = await http.request('GET', '/api/v2/me/calls', basic(user));
    if (reply.status === 200) return ((reply.body?.uris ?? []) as string[]).map(callIdFromUri);
    await sleep(100);
  }
  throw new Error(`GET /api/v2/me/calls for ${user} kept failing after the overload`);
};
