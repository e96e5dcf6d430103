/**
 * The overload scenario's probe, on its own worker thread: the load's hundreds of loops keep the
 * driver's main event loop busy, and a probe timed there would measure that queue as well as the
 * server's. Here it has an event loop to itself. Every `everyMs`: GET /healthz, then the light
 * operation (GET /api/v2/me/devices), which after a 503 it sends again only once Retry-After has
 * passed, as a well-behaved client does. Posts back every time it measured, in ms.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createHttpClient } from '../lib/http-client.js';
import { sleep } from '../lib/stats.js';

export interface ProbeInit {
  readonly baseUrl: string;
  readonly authorization: string;
  readonly durationMs: number;
  readonly everyMs: number;
}

export interface ProbeSamples {
  readonly healthz: number[];
  readonly light: number[];
  readonly lightServed: number[];
  readonly lightShed: number;
}

const init = workerData as ProbeInit;
const probe = createHttpClient(init.baseUrl, 4);
const out: { healthz: number[]; light: number[]; lightServed: number[]; lightShed: number } = { healthz: [], light: [], lightServed: [], lightShed: 0 };
const deadline = performance.now() + init.durationMs;
let lightAgainAt = 0;
while (performance.now() < deadline) {
  const t0 = performance.now();
  await probe.request('GET', '/healthz', '').catch(() => undefined);
  out.healthz.push(performance.now() - t0);
  if (performance.now() >= lightAgainAt) {
    const t1 = performance.now();
    const reply = await probe.request('GET', '/api/v2/me/devices', init.authorization).catch(() => undefined);
    const ms = performance.now() - t1;
    out.light.push(ms);
    if (reply?.status === 200) out.lightServed.push(ms);
    else if (reply?.status === 503) {
      out.lightShed++;
      lightAgainAt = performance.now() + 1000 * Number(reply.headers?.['retry-after'] ?? 1);
    }
  }
  await sleep(init.everyMs);
}
probe.close();
parentPort?.postMessage(out satisfies ProbeSamples);
