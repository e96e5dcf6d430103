/**
 * `npm run bench` (full) or `node dist/bench/run.js --quick`.
 *
 * Starts each server under test in its own process (Conclave as `cli.js serve` on a temp SQLite
 * file; the bare baselines), drives it from this process with autocannon and the official
 * CometD client, and writes bench/results/<timestamp>.json. A full run also regenerates
 * docs/performance.md and its SVG plot (unless --only); a quick run only does with --docs.
 *
 * Flags: --quick, --profile / --no-profile (default: on in full mode), --docs / --no-docs,
 *        --only a,b (scenarios: baselines, throughput, latency, scale, compliance, overload, cluster, profile;
 *        cluster only in full mode),
 *        --report FILE (no run: re-judge a results file and regenerate the docs from it),
 *        --report FILE --merge OTHER[,OTHER] (first take the scenarios OTHER measured into FILE).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FULL, QUICK, type BenchConfig } from './config.js';
import { writeDirectory } from './lib/directory.js';
import { describeMachine } from './lib/machine.js';
import { round } from './lib/stats.js';
import { PERFORMANCE_DOC, PLOT_SVG, RESULTS_DIR } from './paths.js';
import { mergeResults } from './merge.js';
import { writeReport } from './report.js';
import { floorOf, ratiosOf, type BenchResults } from './results.js';
import { overloadUserCount, runOverload } from './scenarios/overload.js';
import { clusterUserCount, runCluster } from './scenarios/cluster.js';
import { runHttpBaseline } from './scenarios/baselines.js';
import { complianceUserCount, runCompliance, runCompliancePostgres } from './scenarios/compliance.js';
import { runCometdBaseline, runLatency } from './scenarios/latency.js';
import { runProfile } from './scenarios/profile.js';
import { runScale, scaleUserCount } from './scenarios/scale.js';
import { runThroughput, runThroughputWithoutSessions, withSpares } from './scenarios/throughput.js';
import { judge } from './targets.js';

const SCENARIOS = ['baselines', 'throughput', 'latency', 'scale', 'compliance', 'overload', 'cluster', 'profile'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean' },
    'no-profile': { type: 'boolean' },
    docs: { type: 'boolean' },
    'no-docs': { type: 'boolean' },
    only: { type: 'string' },
    report: { type: 'string' },
    merge: { type: 'string' },
  },
  strict: true,
});

if (values.merge && !values.report) throw new Error('--merge goes with --report FILE (the results file to merge into)');
if (values.report) {
  // Regenerate the docs from a results file (e.g. after editing the analysis or the report's
  // layout); the verdicts are judged again so they follow the current rules. With --merge, the
  // scenarios measured by the other files are taken into it first (and saved in it).
  const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  let saved = read(values.report);
  for (const other of values.merge?.split(',').map((f) => f.trim()).filter(Boolean) ?? []) {
    saved = mergeResults(saved, read(other), other);
    process.stdout.write(`merged ${saved.mergedFrom?.at(-1)?.scenarios.join(', ')} from ${other} into ${values.report}\n`);
  }
  const rejudged: BenchResults = { ...saved, verdicts: judge(saved) };
  writeFileSync(values.report, `${JSON.stringify(rejudged, null, 2)}\n`);
  writeReport(rejudged, PERFORMANCE_DOC, PLOT_SVG);
  process.stdout.write(`report: ${PERFORMANCE_DOC} from ${values.report}\n`);
  process.exit(0);
}

const config: BenchConfig = values.quick ? QUICK : FULL;
const profile = values['no-profile'] ? false : (values.profile ?? config.mode === 'full');
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : undefined;
// A partial run (--only) does not rewrite the full report unless asked: merge it with --report FILE --merge.
const docs = values['no-docs'] ? false : (values.docs ?? (config.mode === 'full' && !only));
for (const name of only ?? []) if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`--only: unknown scenario '${name}' (${SCENARIOS.join(', ')})`);
const wanted = (s: Scenario) => (s === 'cluster' && !config.cluster ? false : only ? only.has(s) : s !== 'profile' || profile);

const started = new Date();
const t0 = performance.now();
const log = (line: string) => process.stdout.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);

// One generated directory serves every scenario (each starts its own server from it).
const users = Math.max(3 * withSpares(config.throughput.conferences), 3 * Math.ceil(config.latency.sessions / 3), scaleUserCount(config), complianceUserCount(config), overloadUserCount(config), clusterUserCount(config));
const work = mkdtempSync(join(tmpdir(), 'conclave-bench-dir-'));
const directoryFile = join(work, 'directory.json');
writeDirectory(directoryFile, users);

const machine = describeMachine();
log(`Conclave bench, ${config.mode} mode: ${machine.cpuCount} × ${machine.cpuModel}, ${(machine.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, Node ${machine.node}; ${users} users in the directory`);

const results: { -readonly [K in keyof BenchResults]?: BenchResults[K] } & { baselines: BenchResults['baselines']; failures: { scenario: string; error: string }[] } = {
  baselines: {},
  failures: [],
};

/** Runs one scenario; a failure is recorded and the run goes on with the others. */
const scenario = async <T>(name: string, run: () => Promise<T>): Promise<T | undefined> => {
  log(`${name} …`);
  const start = performance.now();
  try {
    const value = await run();
    log(`${name} done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
    return value;
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`${name} FAILED: ${message}`);
    results.failures.push({ scenario: name, error: message.split('\n').slice(0, 6).join('\n') });
    return undefined;
  }
};

try {
  if (wanted('baselines')) {
    results.baselines.node = await scenario('baseline: bare node:http', () => runHttpBaseline(config, 'node'));
    results.baselines.fastify = await scenario('baseline: bare Fastify', () => runHttpBaseline(config, 'fastify'));
  }
  if (wanted('throughput')) {
    results.throughput = await scenario('scenario 1: operation throughput', () => runThroughput(config, directoryFile));
    if (config.throughput.withoutSessionsS > 0)
      results.throughputWithoutSessions = await scenario('scenario 1b: the same flow without CometD sessions', () => runThroughputWithoutSessions(config, directoryFile));
  }
  if (wanted('baselines')) results.baselines.cometd = await scenario('baseline: bare cometd-nodejs-server', () => runCometdBaseline(config));
  if (wanted('latency')) results.latency = await scenario('scenario 2: notification latency', () => runLatency(config, directoryFile));
  if (wanted('scale')) results.scale = await scenario('scenario 3: scale and memory', () => runScale(config, directoryFile));
  if (wanted('compliance')) results.compliance = await scenario('scenario 4: compliance ejection', () => runCompliance(config, directoryFile));
  // On PostgreSQL, one lane against four (full runs: it starts a PostgreSQL server, like the cluster scenario).
  if (wanted('compliance') && config.cluster)
    results.compliancePostgres = await scenario('scenario 4b: compliance ejection on PostgreSQL, 1 lane vs 4', () => runCompliancePostgres(config, directoryFile));
  if (wanted('overload')) results.overload = await scenario('scenario 5: overload (flat out beyond capacity)', () => runOverload(config, directoryFile));
  if (wanted('cluster')) results.cluster = await scenario('scenario 6: two nodes on one PostgreSQL', () => runCluster(config, directoryFile));
  if (wanted('profile')) results.profile = await scenario('CPU profile of the throughput scenario', () => runProfile(config, directoryFile));
} finally {
  rmSync(work, { recursive: true, force: true });
}

const flow = results.throughput?.flow;
const ratios = ratiosOf(results);

const finished = new Date();
const floor = floorOf(results);
const partial = { ...results, ...(floor ? { floor } : {}), ratios, verdicts: [] };
const final: BenchResults = {
  schema: 1,
  mode: config.mode,
  startedAt: started.toISOString(),
  finishedAt: finished.toISOString(),
  durationS: round((performance.now() - t0) / 1000, 1),
  machine,
  config,
  ...partial,
  verdicts: judge({ ...partial, mode: config.mode } as unknown as BenchResults),
};

mkdirSync(RESULTS_DIR, { recursive: true });
const resultsFile = join(RESULTS_DIR, `${started.toISOString().replace(/[:.]/g, '-')}${config.mode === 'quick' ? '-quick' : ''}.json`);
writeFileSync(resultsFile, `${JSON.stringify(final, null, 2)}\n`);
log(`results: ${resultsFile}`);
if (docs) {
  writeReport(final, PERFORMANCE_DOC, PLOT_SVG);
  log(`report: ${PERFORMANCE_DOC}`);
}

// The console summary: the figures that matter, and the verdicts.
if (flow) log(`throughput: ${flow.requestsPerSec} req/s (${flow.conferencesPerSec} conferences/s); vs node:http ×${ratios.throughputVsNode ?? '?'}, vs Fastify ×${ratios.throughputVsFastify ?? '?'}`);
for (const s of results.latency?.steps ?? []) log(`notification @${s.targetRate} ops/s: p50 ${s.notificationMs.p50} p99 ${s.notificationMs.p99} max ${s.notificationMs.max} ms`);
const compliance = results.compliance;
if (compliance)
  for (const [what, f] of [[`${compliance.conferences} flags at once`, compliance.burst], [`${compliance.steadyRate} flags/s`, compliance.steady]] as const)
    log(`compliance, ${what}: end-to-end p50 ${f.endToEndMs.p50} p99 ${f.endToEndMs.p99} max ${f.endToEndMs.max} ms, server-side p50 ${f.serverMs.p50} p99 ${f.serverMs.p99} max ${f.serverMs.max} ms; ${f.ejected} ejected, ${f.failed} failed`);
for (const v of final.verdicts) log(`${v.met === null ? 'n/a ' : v.met ? 'MET ' : 'MISS'} ${v.target}: ${v.measured}${v.gap ? ` — ${v.gap}` : ''}`);
if (results.failures.length > 0) {
  log(`${results.failures.length} scenario(s) failed: ${results.failures.map((f) => f.scenario).join(', ')}`);
  process.exitCode = 1;
}
