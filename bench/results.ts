/** The shape of bench/results/<timestamp>.json: the machine and every figure of one run. */
import type { Machine } from './lib/machine.js';
import type { HttpBaselineResult } from './scenarios/baselines.js';
import type { LatencyResult } from './scenarios/latency.js';
import type { ProfileResult } from './scenarios/profile.js';
import type { ScaleResult } from './scenarios/scale.js';
import type { BareFlowResult, ThroughputResult } from './scenarios/throughput.js';
import type { BenchConfig } from './config.js';
import type { Verdict } from './targets.js';

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
