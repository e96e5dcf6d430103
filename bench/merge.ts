/**
 * `--report FILE --merge OTHER[,OTHER...]`: takes the scenarios OTHER measured (e.g. a later
 * `--only compliance` run) into FILE, so that one report covers a full run plus scenarios run on
 * their own afterwards. FILE keeps everything else; the merged scenarios' figures, their
 * configuration and failures come from OTHER, which is named in `mergedFrom` (and in the report).
 */
import { basename } from 'node:path';
import { floorOf, ratiosOf, type BenchResults } from './results.js';

/** The results keys (and the config section) each scenario writes; baselines are per server. */
const SCENARIO_KEYS = {
  throughput: ['throughput', 'throughputWithoutSessions'],
  latency: ['latency'],
  scale: ['scale'],
  profile: ['profile'],
  compliance: ['compliance'],
  overload: ['overload'],
  cluster: ['cluster'],
} as const satisfies Record<string, readonly (keyof BenchResults)[]>;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export const mergeResults = (base: BenchResults, other: BenchResults, otherFile: string): BenchResults => {
  const merged = { ...base, baselines: { ...base.baselines }, config: { ...base.config } } as Mutable<BenchResults> & Record<string, unknown>;
  const config = merged.config as Mutable<BenchResults['config']> & Record<string, unknown>;
  const scenarios: string[] = [];
  for (const [scenario, keys] of Object.entries(SCENARIO_KEYS)) {
    if (!keys.some((k) => other[k] !== undefined)) continue;
    scenarios.push(scenario);
    for (const k of keys) (merged as Record<string, unknown>)[k] = other[k];
    config[scenario] = (other.config as unknown as Record<string, unknown>)[scenario];
  }
  const servers = (['node', 'fastify', 'cometd'] as const).filter((k) => other.baselines[k] !== undefined);
  if (servers.length > 0) {
    scenarios.push(`baselines (${servers.join(', ')})`);
    for (const k of servers) (merged.baselines as Record<string, unknown>)[k] = other.baselines[k];
    config.baselines = other.config.baselines;
  }
  if (scenarios.length === 0) throw new Error(`--merge ${otherFile}: it has no scenario results`);
  const file = `bench/results/${basename(otherFile)}`;
  merged.failures = [...base.failures, ...other.failures.map((f) => ({ ...f, scenario: `${f.scenario} (${file})` }))];
  // A later merge of the same scenario replaces the earlier one's provenance.
  merged.mergedFrom = [
    ...(base.mergedFrom ?? []).map((m) => ({ ...m, scenarios: m.scenarios.filter((s) => !scenarios.includes(s)) })).filter((m) => m.scenarios.length > 0),
    { file, startedAt: other.startedAt, mode: other.mode, scenarios },
  ];
  merged.ratios = ratiosOf(merged);
  // The floor follows the baselines and throughput it is derived from.
  const floor = floorOf(merged);
  if (floor) merged.floor = floor;
  else delete merged.floor;
  return merged;
};
