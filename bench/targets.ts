/**
 * The targets, judged from one run's figures. Pure: the same results always give the
 * same verdicts, so the doc regenerated from a results file says what that run said.
 */
import type { BenchResults } from './results.js';

export interface Verdict {
  readonly id: 'throughput' | 'notification-latency' | 'memory' | 'flat-cost' | 'compliance' | 'floor' | 'overload' | 'cluster';
  readonly target: string;
  readonly measured: string;
  /** null when this run could not judge it (quick mode sizes, or a scenario failed). */
  readonly met: boolean | null;
  /** How far from the target, when missed (or why it was not judged). */
  readonly gap?: string;
}

const MB = 2 ** 20;
/** Issue 15's memory bound (issue 6's was 300 MB). */
const MEMORY_LIMIT_MB = 250;

const cpuUsPerRequest = (level: { flow: { requestsPerSec: number }; flowCpu: { server: number } }) => (level.flowCpu.server * 1e6) / level.flow.requestsPerSec;
const pct = (x: number) => `${Math.round(x * 100)}%`;

export const judge = (r: BenchResults): Verdict[] => {
  const verdicts: Verdict[] = [];

  const node = r.baselines.node;
  const flow = r.throughput?.flow;
  if (node && flow) {
    const ratio = flow.requestsPerSec / node.requestsPerSec;
    verdicts.push({
      id: 'throughput',
      target: 'throughput ≥ 40% of bare node:http',
      measured: `${Math.round(flow.requestsPerSec)} req/s vs ${Math.round(node.requestsPerSec)} req/s = ${pct(ratio)}`,
      met: ratio >= 0.4,
      ...(ratio < 0.4 ? { gap: `${pct(0.4 - ratio)} points short (needs ${Math.round(0.4 * node.requestsPerSec)} req/s, ${(0.4 / ratio).toFixed(2)}× the measured rate)` } : {}),
    });
  } else verdicts.push({ id: 'throughput', target: 'throughput ≥ 40% of bare node:http', measured: 'not measured', met: null, gap: 'a scenario failed' });

  // Issue 15: at every step up to 1,000 ops/s, Conclave's p99 within 3× the bare CometD
  // server's at the same step; and at 500 ops/s, p99 ≤ 10 ms when the machine had CPU to spare.
  const LATENCY_TARGET = 'notification p99 ≤ 3× the bare CometD server\'s at every step up to 1,000 ops/s (1,000 sessions), and ≤ 10 ms at 500 ops/s when CPU pressure is low';
  const latency = r.latency;
  const bare = r.baselines.cometd;
  if (latency && bare && latency.steps.length > 0) {
    const full = latency.sessions >= 1000;
    const rows = latency.steps
      .filter((s) => s.targetRate <= 1000)
      .map((s) => {
        const base = bare.steps.find((b) => b.targetRate === s.targetRate);
        return { s, base, ratio: base ? s.notificationMs.p99 / Math.max(base.notificationMs.p99, 0.001) : undefined };
      });
    const worst = rows.reduce<(typeof rows)[number] | undefined>((w, x) => (x.ratio !== undefined && (w?.ratio === undefined || x.ratio > w.ratio) ? x : w), undefined);
    const ratiosOk = rows.every((x) => x.ratio !== undefined && x.ratio <= 3 && x.s.missing === 0 && x.s.achievedRate >= 0.95 * x.s.targetRate);
    const at500 = latency.steps.find((s) => s.targetRate === 500);
    // "Low" CPU pressure: runnable tasks waited for a core less than 10% of the step.
    const lowPressure = at500 !== undefined && (at500.cpu.cpuPressurePct ?? 100) < 10;
    const absoluteOk = at500 === undefined || !lowPressure || at500.notificationMs.p99 <= 10;
    const ok = ratiosOk && absoluteOk;
    const steps = rows.map((x) => `${x.s.targetRate}: ${x.s.notificationMs.p99} vs ${x.base?.notificationMs.p99 ?? '–'} ms (×${x.ratio?.toFixed(1) ?? '–'})`).join(', ');
    verdicts.push({
      id: 'notification-latency',
      target: LATENCY_TARGET,
      measured:
        `p99 Conclave vs bare CometD per step (ops/s): ${steps}; at 500 ops/s p99 ${at500?.notificationMs.p99 ?? '–'} ms with CPU pressure ${at500?.cpu.cpuPressurePct ?? '?'}%` +
        ` (${latency.sessions} sessions, ${rows.reduce((n, x) => n + x.s.missing, 0)} missing)`,
      met: full ? ok : null,
      ...(!full
        ? { gap: `not judged: only ${latency.sessions} sessions in ${r.mode} mode` }
        : !ok
          ? {
              gap: [
                !ratiosOk && worst ? `worst step ${worst.s.targetRate} ops/s at ×${worst.ratio?.toFixed(1)} the bare server's p99 (${worst.s.missing} missing, ${worst.s.achievedRate} ops/s achieved)` : '',
                !absoluteOk && at500 ? `p99 ${at500.notificationMs.p99} ms at 500 ops/s (${(at500.notificationMs.p99 - 10).toFixed(1)} ms over 10)` : '',
              ]
                .filter((x) => x !== '')
                .join('; '),
            }
          : at500 && !lowPressure
            ? { gap: `the 10 ms bound at 500 ops/s not judged: CPU pressure ${at500.cpu.cpuPressurePct ?? '?'}% (the driver shares the cores)` }
            : {}),
    });
  } else verdicts.push({ id: 'notification-latency', target: LATENCY_TARGET, measured: 'not measured', met: null });

  const scale = r.scale;
  const top = scale?.levels.at(-1);
  const first = scale?.levels[0];
  if (scale && top && first) {
    const full = top.liveCalls >= 10_000 && scale.sessions >= 2000;
    // RSS moves with garbage collection: judge the larger of the two readings at this level
    // (idle after set-up, and after the level's load), not a lucky one.
    const rssMb = Math.max(top.rssBytes, top.rssAfterLoadBytes ?? 0) / MB;
    verdicts.push({
      id: 'memory',
      target: '10k live calls + 2k CometD sessions in ≤ 250 MB RSS',
      measured: `${rssMb.toFixed(1)} MB RSS (the larger of ${(top.rssBytes / MB).toFixed(1)} idle and ${((top.rssAfterLoadBytes ?? 0) / MB).toFixed(1)} after load) with ${top.liveCalls} live calls and ${scale.sessions} sessions; ${(top.retainedHeapBytes / MB).toFixed(1)} MB of heap retained`,
      met: full ? rssMb <= MEMORY_LIMIT_MB : null,
      ...(!full ? { gap: `not judged: ${top.liveCalls} calls and ${scale.sessions} sessions in ${r.mode} mode` } : rssMb > MEMORY_LIMIT_MB ? { gap: `${(rssMb - MEMORY_LIMIT_MB).toFixed(1)} MB over` } : {}),
    });
    // The cost of an operation is the server CPU time it takes (server cores ÷ requests/s in the
    // level's closed-loop run): unlike requests/s or latency, it does not move when another
    // process takes a core. Flat: the largest level within 15% of the smallest.
    const op = 'RemoveParticipantFromConference';
    const usA = cpuUsPerRequest(first);
    const usB = cpuUsPerRequest(top);
    const flat = usB <= usA * 1.15;
    verdicts.push({
      id: 'flat-cost',
      target: `per-operation cost flat from ${first.liveCalls.toLocaleString('en')} to ${top.liveCalls.toLocaleString('en')} live calls (server CPU per request within 15%)`,
      measured:
        `${Math.round(usA)} → ${Math.round(usB)} µs of server CPU per request (×${(usB / usA).toFixed(2)}); ` +
        `flow ${Math.round(first.flow.requestsPerSec)} → ${Math.round(top.flow.requestsPerSec)} req/s, ${op} p50 ${first.flow.perOp[op]?.latencyMs.p50} → ${top.flow.perOp[op]?.latencyMs.p50} ms ` +
        `(other processes: ${first.flowCpu.other} → ${top.flowCpu.other} cores)`,
      met: full ? flat : null,
      ...(!full ? { gap: `not judged: only up to ${top.liveCalls} calls in ${r.mode} mode` } : !flat ? { gap: `${pct(usB / usA - 1)} more CPU per request at ${top.liveCalls} calls` } : {}),
    });
  }

  // The compliance issue's target, judged on the all-at-once burst (the steady rate is reported).
  const COMPLIANCE_TARGET = 'flag → participant removed and every remaining party notified: p99 under 50 ms with 100 concurrent conferences';
  const c = r.compliance;
  if (c && c.burst.flags > 0) {
    const b = c.burst;
    const s = c.steady;
    const full = c.conferences >= 100;
    const complete = b.ejected === b.flags && b.failed === 0 && b.missing === 0 && b.otherOutcomes === 0;
    const ok = b.endToEndMs.p99 < 50 && complete;
    verdicts.push({
      id: 'compliance',
      target: COMPLIANCE_TARGET,
      measured:
        `${c.conferences} flags at once (${b.rounds} round${b.rounds === 1 ? '' : 's'}): end to end (POST → owner's ParticipantsUpdated) p99 ${b.endToEndMs.p99} ms (p50 ${b.endToEndMs.p50}, max ${b.endToEndMs.max}; every remaining party: p99 ${b.allPartiesMs.p99}), ` +
        `server side (audit) p99 ${b.serverMs.p99} ms; ${b.ejected} ejected, ${b.failed} failed, ${b.missing} missing. ` +
        `At ${c.steadyRate} flags/s: end to end p99 ${s.endToEndMs.p99} ms (p50 ${s.endToEndMs.p50}), server side p99 ${s.serverMs.p99} ms; ${s.ejected} ejected, ${s.failed} failed`,
      met: full ? ok : null,
      ...(!full
        ? { gap: `not judged: ${c.conferences} conferences (quick mode), the target is for 100` }
        : !ok
          ? {
              gap:
                b.endToEndMs.p99 >= 50
                  ? `p99 ${(b.endToEndMs.p99 - 50).toFixed(1)} ms over (${(b.endToEndMs.p99 / 50).toFixed(1)}× the target): on SQLite no step of a flag waits, so even on separate lanes the flags leave one event loop ${b.serviceMsP50} ms apart (service time p50; mean ${b.serviceMsMean} ms), and the last of ${c.conferences} is done about ${Math.round(b.serviceMsMean * (c.conferences - 1))} ms after the first, while each flag's own handling (server side p99) takes ${b.serverMs.p99} ms`
                  : `not every flag ejected and notified (${b.ejected} of ${b.flags} ejected, ${b.failed} failed, ${b.missing} missing)`,
            }
          : {}),
    });
  } else verdicts.push({ id: 'compliance', target: COMPLIANCE_TARGET, measured: 'not measured', met: null });

  // The transport floor: judged only on a full run (quick windows are too short for CPU ticks).
  const FLOOR_TARGET = 'server CPU per flow request ≤ 1.25× the transport floor (bare Fastify routing + bare CometD delivering the same notifications)';
  const f = r.floor;
  if (f) {
    const ok = f.ratio <= 1.25;
    verdicts.push({
      id: 'floor',
      target: FLOOR_TARGET,
      measured: `${f.conclaveUsPerRequest} µs vs floor ${f.floorUsPerRequest} µs (Fastify ${f.fastifyUsPerRequest} + ${f.notificationsPerRequest} notifications × ${f.cometdUsPerDelivery} µs) = ×${f.ratio.toFixed(2)}`,
      met: r.mode === 'full' ? ok : null,
      ...(r.mode !== 'full' ? { gap: 'not judged: quick mode' } : !ok ? { gap: `×${(f.ratio - 1.25).toFixed(2)} over: ${Math.round(f.conclaveUsPerRequest - 1.25 * f.floorUsPerRequest)} µs per request to shed` } : {}),
    });
  } else verdicts.push({ id: 'floor', target: FLOOR_TARGET, measured: 'not measured', met: null, gap: 'needs the baselines and the throughput scenario' });

  const OVERLOAD_TARGET = 'flat out beyond capacity: /healthz and a light operation p99 ≤ 50 ms, nothing acknowledged lost';
  const o = r.overload?.shedding;
  if (o) {
    const lost = o.lost.dials + o.lost.hangups;
    const ok = o.healthzMs.p99 <= 50 && o.lightMs.p99 <= 50 && lost === 0;
    const overloaded = o.load.shed > 0;
    verdicts.push({
      id: 'overload',
      target: OVERLOAD_TARGET,
      measured:
        `${o.workers} loops for ${o.durationS} s: /healthz p99 ${o.healthzMs.p99} ms, light operation p99 ${o.lightMs.p99} ms (served ones ${o.lightServedMs.p99} ms, ${o.lightShed} of ${o.lightMs.count} shed); ` +
        `${o.load.ok} requests served (${o.load.okPerSec}/s), ${o.load.shed} shed with 503; ${o.acknowledged.dials} Dials and ${o.acknowledged.hangups} Hangups acknowledged, ${lost} lost`,
      met: r.mode === 'full' && overloaded ? ok : null,
      ...(r.mode !== 'full' ? { gap: 'not judged: quick mode' } : !overloaded ? { gap: 'not judged: the load never made the server shed (not overloaded)' } : !ok ? { gap: lost > 0 ? `${lost} acknowledged operations lost` : `p99 over 50 ms (/healthz ${o.healthzMs.p99}, light ${o.lightMs.p99})` } : {}),
    });
  } else verdicts.push({ id: 'overload', target: OVERLOAD_TARGET, measured: 'not measured', met: null });

  const k = r.cluster;
  const CLUSTER_TARGET = 'two nodes on one PostgreSQL: cross-node notification latency and one node vs two (reported)';
  verdicts.push(
    k
      ? {
          id: 'cluster',
          target: CLUSTER_TARGET,
          measured: `cross-node Dial → Ringing p50 ${k.crossNodeNotificationMs.p50} ms, p99 ${k.crossNodeNotificationMs.p99} ms (${k.missing} missing); ${k.oneNode.requestsPerSec} req/s on one node, ${k.twoNodes.requestsPerSec} on two (×${k.scaling})`,
          // The issue sets no number for the cluster: every notification arriving is the check.
          met: k.missing === 0,
        }
      : { id: 'cluster', target: CLUSTER_TARGET, measured: 'not measured', met: null, gap: r.mode === 'quick' ? 'not run in quick mode (starts PostgreSQL and two nodes)' : r.failures.some((f) => f.scenario.includes('PostgreSQL')) ? 'the scenario failed' : 'not run' },
  );
  return verdicts;
};
