/**
 * Two `conclave serve` nodes on one PostgreSQL (docs/cluster.md), in the full bench only: a real
 * PostgreSQL server is started for it (test/helpers/postgres.ts, as test/e2e/cluster.test.ts does)
 * and both nodes run exactly as users start them.
 *  - Cross-node notification latency: a user connected (CometD) to node B is dialled by a user
 *    whose request goes to node A; the time from sending the Dial to B's Ringing arriving. One at
 *    a time, `samples` of them.
 *  - Throughput of one node against two: the conference flow (closed loop, no CometD sessions)
 *    on node A alone, then the same number of conferences split over both nodes at once.
 */
import type { BenchConfig } from '../config.js';
import { basic, trios } from '../lib/directory.js';
import { callIdsOf, deviceIds, hangUpAll } from '../lib/gws.js';
import { createHttpClient } from '../lib/http-client.js';
import { spawnServer, type ServerProcess } from '../lib/server-process.js';
import { CLI } from '../paths.js';
import { round, Samples, type Summary } from '../lib/stats.js';
import { runFlow, type FlowResult } from './flow.js';

export interface ClusterResult {
  readonly nodes: 2;
  readonly crossNodeNotificationMs: Summary;
  readonly missing: number;
  readonly oneNode: FlowResult;
  readonly twoNodes: { readonly a: FlowResult; readonly b: FlowResult; readonly requestsPerSec: number };
  /** Two nodes' requests/s ÷ one node's. */
  readonly scaling: number;
}

export const clusterUserCount = (config: BenchConfig) => (config.cluster ? 3 * (config.cluster.conferences + 10) + 6 : 0);

const startNode = (data: string, directoryFile: string): Promise<ServerProcess> =>
  spawnServer({ script: CLI, args: ['serve', '--port', '0', '--data', data, '--directory', directoryFile, '--log-level', 'warn', '--shed-delay-ms', '0'], ready: /conclave listening on (\S+)/, timeoutMs: 60_000 });

export const runCluster = async (config: BenchConfig, directoryFile: string): Promise<ClusterResult> => {
  const sizes = config.cluster;
  if (!sizes) throw new Error('the cluster scenario is not configured in this mode');
  // The test suite's helper: the same way the cluster tests get a real server (it needs the
  // PostgreSQL binaries; without them this scenario fails, and the run goes on).
  const { startPostgres } = (await import(new URL('../../test/helpers/postgres.js', import.meta.url).href)) as typeof import('../../test/helpers/postgres.js');
  const { listen } = (await import(new URL('../../test/helpers/cometd.js', import.meta.url).href)) as typeof import('../../test/helpers/cometd.js');
  const pg = await startPostgres();
  if ('reason' in pg) throw new Error(`no PostgreSQL server: ${pg.reason}`);
  try {
    const data = await pg.createDatabase();
    const a = await startNode(data, directoryFile);
    const b = await startNode(data, directoryFile);
    const httpA = createHttpClient(a.url, 32);
    const httpB = createHttpClient(b.url, 32);
    try {
      const list = trios(2 * sizes.conferences + 12);
      const devices = await deviceIds(httpA, list.map((t) => t.a.user));

      // Cross-node latency, one Dial at a time.
      const [probe] = list.slice(-1);
      if (!probe) throw new Error('no trio');
      const listener = await listen(b.url, probe.b.user);
      const latency = new Samples();
      let missing = 0;
      try {
        const seen = new Set<string>();
        for (let i = 0; i < sizes.samples; i++) {
          const t0 = performance.now();
          const dial = httpA.request('POST', `/api/v2/me/devices/${devices.get(probe.a.user)}/calls`, basic(probe.a.user), { operationName: 'Dial', destination: { phoneNumber: probe.b.dn } });
          try {
            const note = await listener.next((n) => n.data?.call?.state === 'Ringing' && !seen.has(n.data.call.id), 5000, 'Ringing on node B');
            latency.add(performance.now() - t0);
            seen.add(note.data.call.id);
          } catch {
            missing++;
          }
          await dial;
          for (const id of await callIdsOf(httpA, probe.a.user)) await httpA.request('POST', `/api/v2/me/calls/${id}`, basic(probe.a.user), { operationName: 'Hangup' });
        }
      } finally {
        await listener.disconnect();
      }

      // One node, then two at once, the same number of conferences in all.
      const half = Math.max(1, Math.floor(sizes.conferences / 2));
      const one = list.slice(0, sizes.conferences + 5);
      const oneNode = await runFlow({ url: a.url, connections: sizes.conferences, durationS: sizes.flowDurationS, trios: one, devices });
      await hangUpAll(httpA, one);
      const onA = list.slice(0, half + 3);
      const onB = list.slice(half + 3, 2 * half + 6);
      const [flowA, flowB] = await Promise.all([
        runFlow({ url: a.url, connections: half, durationS: sizes.flowDurationS, trios: onA, devices }),
        runFlow({ url: b.url, connections: half, durationS: sizes.flowDurationS, trios: onB, devices }),
      ]);
      await hangUpAll(httpA, onA);
      await hangUpAll(httpB, onB);
      const twoRps = round(flowA.requestsPerSec + flowB.requestsPerSec, 1);
      return {
        nodes: 2,
        crossNodeNotificationMs: latency.summary(),
        missing,
        oneNode,
        twoNodes: { a: flowA, b: flowB, requestsPerSec: twoRps },
        scaling: round(twoRps / oneNode.requestsPerSec, 2),
      };
    } finally {
      httpA.close();
      httpB.close();
      await a.stop();
      await b.stop();
    }
  } finally {
    await pg.dispose();
  }
};
