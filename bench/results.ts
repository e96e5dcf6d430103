/** The shape of bench/results/<timestamp>.json: the machine and every figure of one run (plus any merged in). */
import type { Machine } from './lib/machine.js';
import { round } from './lib/stats.js';
import type { HttpBaselineResult } from './scenarios/baselines.js';
import type { LatencyResult } from './scenarios/latency.js';
import type { ProfileResult } from './scenarios/profile.js';
import type { ScaleResult } from './scenarios/scale.js';
import type { BareFlowResult, ThroughputResult } from './scenarios/throughput.js';
import type { BenchConfig } from './config.js';
import type { CompliancePostgresResult, ComplianceResult } from './scenarios/compliance.js';
import type { Verdict } from './targets.js';
import type { OverloadResult } from './scenarios/overload.js';
import type { ClusterResult } from './scenarios/cluster.js';

/**
 * The transport floor: what bare Fastify routing plus the bare CometD server delivering the same
 * notifications cost in CPU per flow request, measured in the same run (bench/baselines/), and
 * Conclave's CPU per flow request against it.
 */
export interface Floor {
  readonly fastifyUsPerRequest: number;
  readonly cometdUsPerDelivery: number;
  readonly notificationsPerRequest: number;
  /** Fastify + the request's share of CometD deliveries. */
  readonly floorUsPerRequest: number;
  readonly conclaveUsPerRequest: number;
  /** Conclave ÷ floor (target ≤ 1.25). */
  readonly ratio: number;
}

export interface BenchResults {
  readonly schema: 1;
  readonly mode: 'quick' | 'full';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationS: number;
  readonly machine: Machine;
  readonly config: BenchConfig;
  readonly baselines: { node?: HttpBaselineResult; fastify?: HttpBaselineResult; cometd?: LatencyResult };
  readonly throughput?: ThroughputResult;
  readonly throughputWithoutSessions?: BareFlowResult;
  readonly latency?: LatencyResult;
  readonly scale?: ScaleResult;
  readonly profile?: ProfileResult;
  readonly compliance?: ComplianceResult;
  /** The compliance scenario on PostgreSQL, one lane and four (full runs). */
  readonly compliancePostgres?: CompliancePostgresResult;
  readonly floor?: Floor;
  readonly overload?: OverloadResult;
  readonly cluster?: ClusterResult;
  /**
   * Scenarios taken from other results files (`--report FILE --merge OTHER`): which ones, from
   * which file and run. Their figures above are that run's, not this one's.
   */
  readonly mergedFrom?: readonly { readonly file: string; readonly startedAt: string; readonly mode: 'quick' | 'full'; readonly scenarios: readonly string[] }[];
  /** Conclave's figures divided by the baselines' (same run, same machine). */
  readonly ratios: {
    throughputVsNode?: number;
    throughputVsFastify?: number;
    notification?: readonly { rate: number; p50: number; p99: number }[];
  };
  readonly verdicts: readonly Verdict[];
  /** Scenarios that failed, with the reason: their figures are missing above. */
  readonly failures: readonly { scenario: string; error: string }[];
}

/** Conclave's figures divided by the baselines' measured in the same results. */
export const ratiosOf = (r: Pick<BenchResults, 'baselines' | 'throughput' | 'latency'>): BenchResults['ratios'] => {
  const flow = r.throughput?.flow;
  return {
    ...(flow && r.baselines.node ? { throughputVsNode: round(flow.requestsPerSec / r.baselines.node.requestsPerSec, 3) } : {}),
    ...(flow && r.baselines.fastify ? { throughputVsFastify: round(flow.requestsPerSec / r.baselines.fastify.requestsPerSec, 3) } : {}),
    ...(r.latency && r.baselines.cometd
      ? {
          notification: r.latency.steps.flatMap((s) => {
            const base = r.baselines.cometd?.steps.find((b) => b.targetRate === s.targetRate);
            return base ? [{ rate: s.targetRate, p50: round(s.notificationMs.p50 / base.notificationMs.p50, 2), p99: round(s.notificationMs.p99 / base.notificationMs.p99, 2) }] : [];
          }),
        }
      : {}),
  };
};

/**
 * CPU µs per request of each server in this run, from its cores and rate: what the floor and the
 * report's cost budget both read (undefined if a figure is missing).
 */
export const transportCosts = (r: Pick<BenchResults, 'baselines' | 'throughput'>) => {
  const t = r.throughput;
  const node = r.baselines.node;
  const fastify = r.baselines.fastify;
  // The highest bare-CometD step that kept up (no trigger skipped).
  const cometd = r.baselines.cometd?.steps.filter((s) => s.skipped === 0).at(-1);
  if (!t || !node || !fastify || !cometd) return undefined;
  const us = (cores: number, rate: number) => (cores * 1e6) / rate;
  const nodeUs = us(node.cpu.server, node.requestsPerSec);
  return {
    us,
    node,
    cometd,
    nodeUs,
    fastifyUs: us(fastify.cpu.server, fastify.requestsPerSec),
    // A trigger is one bare HTTP request plus three deliveries: take the request away.
    cometdUsPerDelivery: Math.max(0, (us(cometd.cpu.server, cometd.achievedRate) - nodeUs) / 3),
    notificationsPerRequest: t.notifications.received / t.flow.requests,
    conclaveUs: us(t.cpu.server, t.flow.requestsPerSec),
  };
};

/** The transport floor from the same run's baselines and throughput (undefined if one is missing). */
export const floorOf = (r: Pick<BenchResults, 'baselines' | 'throughput'>): Floor | undefined => {
  const c = transportCosts(r);
  if (!c) return undefined;
  const fastifyUsPerRequest = c.fastifyUs;
  const cometdUsPerDelivery = c.cometdUsPerDelivery;
  const notificationsPerRequest = c.notificationsPerRequest;
  const floorUsPerRequest = fastifyUsPerRequest + notificationsPerRequest * cometdUsPerDelivery;
  const conclaveUsPerRequest = c.conclaveUs;
  return {
    fastifyUsPerRequest: round(fastifyUsPerRequest, 1),
    cometdUsPerDelivery: round(cometdUsPerDelivery, 1),
    notificationsPerRequest: round(notificationsPerRequest, 3),
    floorUsPerRequest: round(floorUsPerRequest, 1),
    conclaveUsPerRequest: round(conclaveUsPerRequest, 1),
    ratio: round(conclaveUsPerRequest / floorUsPerRequest, 3),
  };
};
