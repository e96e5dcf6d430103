/**
 * Sizes of the two modes. Quick proves every scenario but the cluster end to end in about a minute (small
 * numbers, short windows); full is the run docs/performance.md reports (about 6–8 minutes on a
 * 2-core machine). All counts are bounded here and nowhere else.
 */
export interface BenchConfig {
  readonly mode: 'quick' | 'full';
  /** Worker threads holding the CometD sessions in the driver process. */
  readonly cometdWorkers: number;
  readonly throughput: {
    readonly conferences: number;
    readonly durationS: number;
    readonly warmupS: number;
    /** The same flow with no CometD session connected (0: skipped). */
    readonly withoutSessionsS: number;
  };
  readonly latency: { readonly sessions: number; readonly rates: readonly number[]; readonly durationS: number; readonly warmupS: number };
  readonly scale: {
    readonly levels: readonly number[];
    readonly sessions: number;
    /** Closed-loop conferences run at each level to price an operation there. */
    readonly flowConferences: number;
    readonly flowDurationS: number;
    /** Open-loop notification latency probe at each level. */
    readonly latencyConferences: number;
    readonly latencyRate: number;
    readonly latencyDurationS: number;
    /** How long the server is left idle before its idle event-loop delay is read. */
    readonly idleWindowS: number;
  };
  readonly baselines: { readonly durationS: number; readonly latencyDurationS: number };
  readonly profile: { readonly durationS: number };
  readonly compliance: {
    /** Three-party conferences up at once, one flag each per round. */
    readonly conferences: number;
    /** Rounds whose flags are all sent at once. */
    readonly burstRounds: number;
    /** Rounds whose flags are sent at `steadyRate` flags/s (open loop). */
    readonly steadyRounds: number;
    readonly steadyRate: number;
    /** Conferences flagged (all at once) before the measured rounds, unmeasured. */
    readonly warmupConferences: number;
  };
  /** Flat-out load beyond capacity (scenarios/overload.ts). */
  readonly overload: { readonly workers: number; readonly durationS: number; readonly probeEveryMs: number; readonly compareWithoutShedding: boolean };
  /** Two nodes on one PostgreSQL (scenarios/cluster.ts); null: not run (quick mode: too slow). */
  readonly cluster: { readonly samples: number; readonly conferences: number; readonly flowDurationS: number } | null;
}

export const QUICK: BenchConfig = {
  mode: 'quick',
  cometdWorkers: 1,
  throughput: { conferences: 50, durationS: 4, warmupS: 1, withoutSessionsS: 0 },
  latency: { sessions: 200, rates: [100, 500], durationS: 3, warmupS: 1 },
  scale: { levels: [250, 1000], sessions: 200, flowConferences: 20, flowDurationS: 2, latencyConferences: 20, latencyRate: 200, latencyDurationS: 2, idleWindowS: 1 },
  baselines: { durationS: 2, latencyDurationS: 2 },
  profile: { durationS: 4 },
  compliance: { conferences: 20, burstRounds: 1, steadyRounds: 1, steadyRate: 20, warmupConferences: 5 },
  overload: { workers: 300, durationS: 4, probeEveryMs: 20, compareWithoutShedding: false },
  cluster: null,
};

export const FULL: BenchConfig = {
  mode: 'full',
  cometdWorkers: 2,
  throughput: { conferences: 200, durationS: 20, warmupS: 3, withoutSessionsS: 10 },
  latency: { sessions: 1000, rates: [100, 250, 500, 750, 1000, 1500], durationS: 15, warmupS: 3 },
  scale: { levels: [1000, 2500, 5000, 10000], sessions: 2000, flowConferences: 50, flowDurationS: 8, latencyConferences: 50, latencyRate: 300, latencyDurationS: 6, idleWindowS: 3 },
  baselines: { durationS: 15, latencyDurationS: 10 },
  profile: { durationS: 15 },
  compliance: { conferences: 100, burstRounds: 3, steadyRounds: 2, steadyRate: 20, warmupConferences: 20 },
  overload: { workers: 600, durationS: 15, probeEveryMs: 20, compareWithoutShedding: true },
  cluster: { samples: 300, conferences: 50, flowDurationS: 10 },
};
