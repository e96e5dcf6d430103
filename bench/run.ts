/**
 * `npm run bench` (full) or `node dist/bench/run.js --quick`.
 *
 * Starts each server under test in its own process (Conclave as `cli.js serve` on a temp SQLite
 * file; the bare baselines), drives it from this process with autocannon and the official
 * CometD client, and writes bench/results/<timestamp>.json. A full run also regenerates
 * docs/performance.md and its SVG plot; a quick run only does with --docs.
 *
 * Flags: --quick, --profile / --no-profile (default: on in full mode), --docs / --no-docs,
 *        --only a,b (scenarios: baselines, throughput, latency, scale, profile),
 *        --report FILE (no run: re-judge a results file and regenerate the docs from it).
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
import { writeReport } from './report.js';
import type { BenchResults } from './results.js';
import { runHttpBaseline } from './scenarios/baselines.js';
import { runCometdBaseline, runLatency } from './scenarios/latency.js';
import { runProfile } from './scenarios/profile.js';
import { runScale, scaleUserCount } from './scenarios/scale.js';
import { runThroughput, runThroughputWithoutSessions, withSpares } from './scenarios/throughput.js';
import { judge } from './targets.js';

const SCENARIOS = ['baselines', 'throughput', 'latency', 'scale', 'profile'] as const;
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
  },
  strict: true,
});

if (values.report) {
  // Regenerate the docs from a results file (e.g. after editing the analysis or the report's
  // layout); the verdicts are judged again so they follow the current rules.
  const saved = JSON.parse(readFileSync(values.report, 'utf8')) as BenchResults;
  const rejudged: BenchResults = { ...saved, verdicts: judge(saved) };
  writeFileSync(values.report, `${JSON.stringify(rejudged, null, 2)}\n`);
  writeReport(rejudged, PERFORMANCE_DOC, PLOT_SVG);
  process.stdout.write(`report: ${PERFORMANCE_DOC} from ${values.report}\n`);
  process.exit(0);
}

const config: BenchConfig = values.quick ? QUICK : FULL;
const profile = values['no-profile'] ? false : (values.profile ?? config.mode === 'full');
const docs = values['no-docs'] ? false : (values.docs ?? config.mode === 'full');
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : undefined;
for (const name of only ?? []) if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`--only: unknown scenario '${name}' (${SCENARIOS.join(', ')})`);
const wanted = (s: Scenario) => (only ? only.has(s) : s !== 'profile' || profile);

const started = new Date();
const t0 = performance.now();
const log = (line: string) => process.stdout.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);

// One generated directory serves every scenario (each starts its own server from it).
const users = Math.max(3 * withSpares(config.throughput.conferences), 3 * Math.ceil(config.latency.sessions / 3), scaleUserCount(config));
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
  if (wanted('profile')) results.profile = await scenario('CPU profile of the throughput scenario', () => runProfile(config, directoryFile));
} finally {
  rmSync(work, { recursive: true, force: true });
}

const flow = results.throughput?.flow;
const ratios: BenchResults['ratios'] = {
  ...(flow && results.baselines.node ? { throughputVsNode: round(flow.requestsPerSec / results.baselines.node.requestsPerSec, 3) } : {}),
  ...(flow && results.baselines.fastify ? { throughputVsFastify: round(flow.requestsPerSec / results.baselines.fastify.requestsPerSec, 3) } : {}),
  ...(results.latency && results.baselines.cometd
    ? {
        notification: results.latency.steps.flatMap((s) => {
          const base = results.baselines.cometd?.steps.find((b) => b.targetRate === s.targetRate);
          return base ? [{ rate: s.targetRate, p50: round(s.notificationMs.p50 / base.notificationMs.p50, 2), p99: round(s.notificationMs.p99 / base.notificationMs.p99, 2) }] : [];
        }),
      }
    : {}),
};

const finished = new Date();
const partial = { ...results, ratios, verdicts: [] };
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
for (const v of final.verdicts) log(`${v.met === null ? 'n/a ' : v.met ? 'MET ' : 'MISS'} ${v.target}: ${v.measured}${v.gap ? ` — ${v.gap}` : ''}`);
if (results.failures.length > 0) {
  log(`${results.failures.length} scenario(s) failed: ${results.failures.map((f) => f.scenario).join(', ')}`);
  process.exitCode = 1;
}
