/**
 * docs/performance.md and its SVG plot, generated from one run's results. Everything but the
 * analysis section is regenerated on every full run; the analysis (the "why", written by a
 * person from the profile and the figures) is kept between its markers.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { BenchResults } from './results.js';
import type { ComplianceFigures } from './scenarios/compliance.js';
import type { LatencyStep } from './scenarios/notify-latency.js';
import { lineChart } from './svg.js';

const ANALYSIS_START = '<!-- analysis:start -->';
const ANALYSIS_END = '<!-- analysis:end -->';
const DEFAULT_ANALYSIS = `${ANALYSIS_START}\n_No analysis written yet for this run._\n${ANALYSIS_END}`;

const MB = 2 ** 20;
const mb = (bytes: number) => (bytes / MB).toFixed(1);
const n = (x: number | undefined, digits = 1) => (x === undefined ? '–' : x.toFixed(digits));
const int = (x: number | undefined) => (x === undefined ? '–' : Math.round(x).toLocaleString('en'));
/** A Markdown table; columns are right-aligned (figures) unless `textColumns` says otherwise. */
const table = (head: readonly string[], rows: readonly (readonly string[])[], textColumns = 1) =>
  [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i < textColumns ? '---' : '---:')).join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

export const writeReport = (r: BenchResults, docPath: string, svgPath: string): void => {
  mkdirSync(dirname(docPath), { recursive: true });
  writeFileSync(svgPath, latencyChart(r));
  const previous = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '';
  const start = previous.indexOf(ANALYSIS_START);
  const end = previous.indexOf(ANALYSIS_END);
  const analysis = start >= 0 && end > start ? previous.slice(start, end + ANALYSIS_END.length) : DEFAULT_ANALYSIS;
  writeFileSync(docPath, render(r, analysis, basename(svgPath)));
};

/** Mean of "other" cores and CPU pressure over every measured window of the run. */
const machineContention = (r: BenchResults) => {
  const windows = [
    r.baselines.node?.cpu,
    r.baselines.fastify?.cpu,
    r.throughput?.cpu,
    r.throughputWithoutSessions?.cpu,
    ...(r.baselines.cometd?.steps ?? []).map((s) => s.cpu),
    ...(r.latency?.steps ?? []).map((s) => s.cpu),
    ...(r.scale?.levels ?? []).flatMap((l) => [l.flowCpu, l.latency.cpu]),
    ...(r.compliance?.rounds ?? []).map((x) => x.cpu),
  ].filter((c): c is NonNullable<typeof c> => c !== undefined);
  if (windows.length === 0) return undefined;
  const mean = (f: (c: (typeof windows)[number]) => number) => windows.reduce((sum, c) => sum + f(c), 0) / windows.length;
  return { other: mean((c) => c.other), pressure: mean((c) => c.cpuPressurePct ?? 0) };
};

/** CPU µs per request of each server, from its cores and rate in this run. */
const costBudget = (r: BenchResults) => {
  const t = r.throughput;
  const node = r.baselines.node;
  const fastify = r.baselines.fastify;
  const cometd = r.baselines.cometd?.steps.filter((s) => s.skipped === 0).at(-1);
  if (!t || !node || !fastify || !cometd) return undefined;
  const us = (cores: number, rate: number) => (cores * 1e6) / rate;
  const nodeUs = us(node.cpu.server, node.requestsPerSec);
  const perTrigger = us(cometd.cpu.server, cometd.achievedRate);
  return {
    conclave: us(t.cpu.server, t.flow.requestsPerSec),
    withoutSessions: r.throughputWithoutSessions ? us(r.throughputWithoutSessions.cpu.server, r.throughputWithoutSessions.flow.requestsPerSec) : undefined,
    node: nodeUs,
    nodeRps: node.requestsPerSec,
    nodeCores: node.cpu.server,
    fastify: us(fastify.cpu.server, fastify.requestsPerSec),
    cometdPerDelivery: Math.max(0, (perTrigger - nodeUs) / 3),
    cometdRate: cometd.targetRate,
    notificationsPerRequest: t.notifications.received / t.flow.requests,
  };
};

export const latencyChart = (r: BenchResults): string => {
  const pts = (steps: readonly LatencyStep[] | undefined, key: 'p50' | 'p99') => (steps ?? []).map((s) => ({ x: s.targetRate, y: s.notificationMs[key] }));
  return lineChart({
    title: `Notification latency against load (${r.latency?.sessions ?? '?'} CometD sessions)`,
    xLabel: 'operations per second (open loop)',
    yLabel: 'send → CometD arrival (ms, log scale)',
    series: [
      { name: 'Conclave p99', color: '#d62728', points: pts(r.latency?.steps, 'p99') },
      { name: 'Conclave p50', color: '#1f77b4', points: pts(r.latency?.steps, 'p50') },
      { name: 'bare CometD p99', color: '#ff9896', dashed: true, points: pts(r.baselines.cometd?.steps, 'p99') },
      { name: 'bare CometD p50', color: '#9ecae1', dashed: true, points: pts(r.baselines.cometd?.steps, 'p50') },
    ],
    target: { y: 10, label: 'target: p99 ≤ 10 ms at 500 ops/s' },
  });
};

const render = (r: BenchResults, analysis: string, svgName: string): string => {
  const m = r.machine;
  const out: string[] = [];
  const resultsFile = `bench/results/${r.startedAt.replace(/[:.]/g, '-')}${r.mode === 'quick' ? '-quick' : ''}.json`;
  out.push('# Conclave performance');
  out.push('');
  out.push(`<!-- Generated by \`npm run bench\` (bench/report.ts) from ${resultsFile}. Edit only the analysis section: the rest is rewritten by every full run. -->`);
  out.push('');
  out.push(
    `Run of ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC, **${r.mode}** mode, ${Math.round(r.durationS)} s. Machine: ${m.cpuCount} × ${m.cpuModel}, ${(m.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, ${m.os}, Node ${m.node}. ` +
      `Packages: ${Object.entries(m.packages).map(([k, v]) => `${k} ${v}`).join(', ')}. All figures: [${resultsFile}](../${resultsFile}).`,
  );
  out.push('');
  out.push(
    'Every server runs in its own process (Conclave exactly as users start it: `node dist/src/cli.js serve --port 0 --data <tmp>/conclave.db --directory <generated> --log-level warn --shed-delay-ms 0`, SQLite in WAL mode on a temp file; load shedding off, as these scenarios measure capacity — the overload scenario turns it on); ' +
      'the driver is a second process on the same machine (autocannon for HTTP, the official `cometd` client with `cometd-nodejs-client`, ack extension, long polling, in worker threads). ' +
      'Server and driver share the same cores; "other" is what the rest of the machine took during each measurement (in cores), and "CPU pressure" the share of the time some runnable task waited for a core (Linux PSI): near 0% means the measurement had the machine to itself.',
  );
  out.push('');
  for (const m of r.mergedFrom ?? [])
    out.push(`> Merged in from a separate ${m.mode} run of ${m.startedAt.slice(0, 16).replace('T', ' ')} UTC on the same machine: ${m.scenarios.join(', ')} ([${m.file}](../${m.file})).\n`);
  const contention = machineContention(r);
  if (contention && (contention.other > 0.2 || contention.pressure > 50))
    out.push(
      `> **This run shared the machine**: other processes used ${n(contention.other, 2)} cores on average during the measurements and some task was waiting for a CPU ${Math.round(contention.pressure)}% of the time. ` +
        'Throughput and tail latency are then lower bounds of what Conclave does on a quiet 2-core machine; CPU time per request (server cores ÷ rate) and memory are the figures least affected.\n',
    );

  out.push('## Targets');
  out.push('');
  out.push(
    table(
      ['Target', 'Measured', 'Verdict'],
      r.verdicts.map((v) => [v.target, v.measured, v.met === null ? (v.gap ?? 'not judged') : v.met ? '**met**' : `**missed**: ${v.gap ?? ''}`]),
      3,
    ),
  );
  out.push('');
  out.push('Why, for each one: see [Analysis](#analysis).');
  out.push('');

  const t = r.throughput;
  out.push('## 1. Operation throughput');
  out.push('');
  if (t) {
    const f = t.flow;
    out.push(
      `${f.connections} conferences in parallel (one autocannon connection each, closed loop, ${f.durationS} s), each running Dial → GET /me/calls (to learn the call id) → Answer → SingleStepConference → Answer → RemoveParticipantFromConference → Hangup, ` +
        `with all ${t.sessions} parties' CometD sessions connected and receiving. **${int(f.requestsPerSec)} requests/s, ${n(f.conferencesPerSec)} conferences/s**; ` +
        `${int(t.notifications.received)} notifications delivered (${int(t.notifications.perSec)}/s; ${int(t.notifications.expected)} expected from the answered operations${t.notifications.received >= t.notifications.expected ? ', all arrived' : `, **${int(t.notifications.expected - t.notifications.received)} missing**`}); ` +
        `${f.non2xx} non-2xx, ${f.errors} errors. Server: ${n(t.cpu.server, 2)} cores (${n((t.cpu.server * 1e6) / f.requestsPerSec, 0)} µs of CPU per request), RSS ${mb(t.server.rssBytes)} MB, event-loop delay p99 ${n(t.server.probe.eventLoopDelayMs.p99)} ms; driver ${n(t.cpu.driver, 2)} cores; other processes ${n(t.cpu.other, 2)} cores; CPU pressure ${t.cpu.cpuPressurePct ?? '?'}%.`,
    );
    out.push('');
    out.push(
      table(
        ['Operation', 'count', 'per s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors'],
        Object.entries(f.perOp).map(([op, s]) => [op, int(s.count), int(s.perSec), n(s.latencyMs.p50, 2), n(s.latencyMs.p90, 2), n(s.latencyMs.p99, 2), n(s.latencyMs.max, 1), String(s.errors)]),
      ),
    );
    out.push('');
  } else out.push('_Not measured in this run._\n');

  out.push('### Against the baselines (same load: same connections and duration)');
  out.push('');
  const base = [r.baselines.node, r.baselines.fastify].filter((b): b is NonNullable<typeof b> => b !== undefined);
  out.push(
    table(
      ['Server', 'req/s', 'p50 ms', 'p99 ms', 'server cores', 'CPU µs/request', 'RSS MB', 'Conclave ÷ it'],
      [
        ...(t ? [['Conclave, conference flow', int(t.flow.requestsPerSec), n(t.flow.latencyMs.p50, 0), n(t.flow.latencyMs.p99, 0), n(t.cpu.server, 2), n((t.cpu.server * 1e6) / t.flow.requestsPerSec, 0), mb(t.server.rssBytes), '1']] : []),
        ...(r.throughputWithoutSessions
          ? [[
              'Conclave, same flow, no CometD session connected',
              int(r.throughputWithoutSessions.flow.requestsPerSec),
              n(r.throughputWithoutSessions.flow.latencyMs.p50, 0),
              n(r.throughputWithoutSessions.flow.latencyMs.p99, 0),
              n(r.throughputWithoutSessions.cpu.server, 2),
              n((r.throughputWithoutSessions.cpu.server * 1e6) / r.throughputWithoutSessions.flow.requestsPerSec, 0),
              '–',
              t ? `${((100 * t.flow.requestsPerSec) / r.throughputWithoutSessions.flow.requestsPerSec).toFixed(1)}%` : '–',
            ]]
          : []),
        ...base.map((b) => [
          b.kind === 'node' ? 'bare node:http, same POST' : 'bare Fastify, same route',
          int(b.requestsPerSec),
          n(b.latencyMs.p50, 0),
          n(b.latencyMs.p99, 0),
          n(b.cpu.server, 2),
          n((b.cpu.server * 1e6) / b.requestsPerSec, 0),
          mb(b.rssBytes),
          t ? `${((100 * t.flow.requestsPerSec) / b.requestsPerSec).toFixed(1)}%` : '–',
        ]),
      ],
    ),
  );
  out.push('');
  out.push('(autocannon reports whole milliseconds here; the per-operation table above is timed by the bench itself to the microsecond.)');
  out.push('');
  const budget = costBudget(r);
  if (budget) {
    out.push(
      `Where a request's CPU goes (server CPU time per request = server cores ÷ requests/s): Conclave spends **${n(budget.conclave, 0)} µs** per flow request with the sessions connected` +
        (budget.withoutSessions !== undefined ? ` and ${n(budget.withoutSessions, 0)} µs without them` : '') +
        `. Each flow request causes ${n(budget.notificationsPerRequest, 2)} notifications on average, each one a held long poll answered and a new /meta/connect received; ` +
        `the bare CometD server spends ${n(budget.cometdPerDelivery, 0)} µs per delivery (its CPU per trigger, minus a bare HTTP request, over the three deliveries, at ${budget.cometdRate} triggers/s), ` +
        `so the fan-out alone costs about ${n(budget.notificationsPerRequest * budget.cometdPerDelivery, 0)} µs per flow request before Conclave does anything, against ${n(budget.node, 0)} µs for a whole bare node:http request. ` +
        `A server that did nothing but Fastify routing plus that fan-out would reach about ${int(1e6 / (budget.fastify + budget.notificationsPerRequest * budget.cometdPerDelivery))} req/s per core; ` +
        `40% of bare node:http at ${int(budget.nodeRps)} req/s (${n(budget.nodeCores, 2)} cores) needs ${int(0.4 * budget.nodeRps)} req/s.`,
    );
    out.push('');
  }

  out.push('## 2. Notification latency');
  out.push('');
  const l = r.latency;
  const c = r.baselines.cometd;
  if (l) {
    out.push(
      `Time from sending RemoveParticipantFromConference to the owner's ParticipantsUpdated arriving through the official CometD client, with ${l.sessions} CometD sessions connected ` +
        `(${l.conferences} conferences, every party subscribed). Open loop: operations are due at the rate whatever the server does; every operation of the flow (Dial, Answer, SingleStepConference, Answer, Remove, Hangup) counts towards it, one in six is measured. ` +
        `The bare CometD baseline is a cometd-nodejs-server (same options, same ack extension) whose every operation is an HTTP trigger delivering the seed's ParticipantsUpdated payload to the three parties, each one measured.`,
    );
    out.push('');
    out.push(`![Notification latency against load](${svgName})`);
    out.push('');
    out.push(
      table(
        ['ops/s target', 'achieved', 'p50 ms', 'p99 ms', 'max ms', 'samples', 'missing', 'HTTP p50/p99 ms', 'bare CometD p50 / p99 ms', 'Conclave ÷ bare (p50, p99)', 'cores: server / driver / other', 'CPU pressure'],
        l.steps.map((s) => {
          const b = c?.steps.find((x) => x.targetRate === s.targetRate);
          return [
            int(s.targetRate),
            int(s.achievedRate),
            n(s.notificationMs.p50, 2),
            n(s.notificationMs.p99, 2),
            n(s.notificationMs.max, 1),
            int(s.notificationMs.count),
            String(s.missing),
            `${n(s.httpMs.p50, 2)} / ${n(s.httpMs.p99, 1)}`,
            b ? `${n(b.notificationMs.p50, 2)} / ${n(b.notificationMs.p99, 2)}` : '–',
            b ? `×${n(s.notificationMs.p50 / b.notificationMs.p50, 1)}, ×${n(s.notificationMs.p99 / b.notificationMs.p99, 1)}` : '–',
            `${n(s.cpu.server, 2)} / ${n(s.cpu.driver, 2)} / ${n(s.cpu.other, 2)}`,
            `${s.cpu.cpuPressurePct ?? '–'}%`,
          ];
        }),
      ),
    );
    out.push('');
    out.push(`Server after the run: RSS ${mb(l.server.rssBytes)} MB, event-loop delay p99 ${n(l.server.probe.eventLoopDelayMs.p99)} ms, max ${n(l.server.probe.eventLoopDelayMs.max)} ms.${c ? ` Bare CometD with the same sessions: RSS ${mb(c.server.rssBytes)} MB.` : ''}`);
    out.push('');
  } else out.push('_Not measured in this run._\n');

  out.push('## 3. Scale and memory');
  out.push('');
  const s = r.scale;
  if (s) {
    const first = s.levels[0];
    const top = s.levels.at(-1);
    out.push(
      `Live calls grow step by step (each a distinct pair of agents, dialled and answered: two Established parties) with ${s.sessions} CometD sessions connected throughout. ` +
        `At each level: RSS from /proc/<pid>/status (VmRSS), heap and event-loop delay from inside the server (a preloaded probe; idle = ${r.config.scale.idleWindowS} s with nothing but held long polls, load = during the flow run), ` +
        `then ${r.config.scale.flowConferences} conferences of the throughput flow (closed loop, ${r.config.scale.flowDurationS} s) and ${r.config.scale.latencyRate} ops/s of the latency flow (open loop, ${r.config.scale.latencyDurationS} s). ` +
        `With the sessions connected and no call: RSS ${mb(s.baseline.rssBytes)} MB, retained heap ${mb(s.baseline.probe.memory.heapUsed)} MB. ` +
        `RSS (VmRSS, the target's measure) is read idle after the calls are set up and again after the level's load; peak is VmHWM; "retained heap" is the heap left after a full collection forced through the probe (RSS right after that collection: ${s.levels.map((x) => mb(x.rssAfterGcBytes)).join(', ')} MB: V8 keeps the freed pages).`,
    );
    out.push('');
    out.push(
      table(
        ['live calls', 'RSS idle MB', 'RSS after load MB', 'peak RSS so far MB', 'retained heap MB', 'idle server cores', 'ELD p99 idle / load ms', 'flow req/s', 'server cores', 'CPU µs/request', 'Remove p50 / p99 ms', 'Dial p50 / p99 ms', 'notification p50 / p99 ms', 'other cores', 'CPU pressure'],
        s.levels.map((x) => [
          int(x.liveCalls),
          mb(x.rssBytes),
          mb(x.rssAfterLoadBytes),
          mb(x.peakRssBytes),
          mb(x.retainedHeapBytes),
          n(x.idleCpu?.server, 3),
          `${n(x.idle.eventLoopDelayMs.p99)} / ${n(x.underLoad.eventLoopDelayMs.p99)}`,
          int(x.flow.requestsPerSec),
          n(x.flowCpu.server, 2),
          n((x.flowCpu.server * 1e6) / x.flow.requestsPerSec, 0),
          `${n(x.flow.perOp['RemoveParticipantFromConference']?.latencyMs.p50, 2)} / ${n(x.flow.perOp['RemoveParticipantFromConference']?.latencyMs.p99, 1)}`,
          `${n(x.flow.perOp['Dial']?.latencyMs.p50, 2)} / ${n(x.flow.perOp['Dial']?.latencyMs.p99, 1)}`,
          `${n(x.latency.notificationMs.p50, 2)} / ${n(x.latency.notificationMs.p99, 1)}`,
          `${n(x.flowCpu.other, 2)}`,
          `${x.flowCpu.cpuPressurePct ?? '–'}%`,
        ]),
      ),
    );
    out.push('');
    if (first && top && top.liveCalls > first.liveCalls)
      out.push(
        `Memory per live call between ${int(first.liveCalls)} and ${int(top.liveCalls)} calls: ${n((top.rssBytes - first.rssBytes) / (top.liveCalls - first.liveCalls) / 1024, 1)} KiB of RSS, ` +
          `${n((top.retainedHeapBytes - first.retainedHeapBytes) / (top.liveCalls - first.liveCalls) / 1024, 2)} KiB of retained heap. ` +
          `Set-up of the calls: ${s.levels.map((x) => `${int(x.liveCalls)} in ${x.setupSeconds} s${x.setupErrors ? ` (${x.setupErrors} failed)` : ''}`).join(', ')}.`,
      );
    out.push('');
  } else out.push('_Not measured in this run._\n');

  out.push(...complianceSection(r));

  out.push('## 5. Baselines');
  out.push('');
  out.push(
    'Measured in the same run on the same machine, each in its own process: a bare `node:http` server reading and parsing the same POST body and answering `{"statusCode":0}`; the same route on a bare Fastify app (Conclave\'s framework, no plugins, no logger); ' +
      'a bare `cometd-nodejs-server` (Conclave\'s CometD server, with the same `maxSessionsPerBrowser: -1`, ack extension and clientId session routing) delivering the seed\'s ParticipantsUpdated payload on an HTTP trigger. Their figures are in the tables above, as ratios.',
  );
  out.push('');

  out.push(...newScenarioSections(r));

  const p = r.profile;
  out.push('## CPU profile of the server during the throughput scenario');
  out.push('');
  if (p) {
    out.push(
      `\`node --cpu-prof\` on the Conclave process during a separate ${p.durationS} s throughput run (${int(p.requestsPerSec)} req/s and ${n(p.serverCores, 2)} server cores while profiled; ` +
        `${n(p.totalMs / 1000, 1)} s of CPU sampled${p.windowed ? ' inside the measured run (start-up, connection and warm-up cut out by timestamp)' : ' over the whole process lifetime'}, idle time excluded). Self time by origin:`,
    );
    out.push('');
    out.push(table(['Origin', 'self ms', 'share'], p.byOrigin.slice(0, 12).map((o) => [o.origin, n(o.selfMs, 0), `${n(o.selfPercent, 1)}%`])));
    out.push('');
    out.push('Top functions by self time:');
    out.push('');
    out.push(table(['Function', 'Where (compiled JS)', 'Origin', 'self ms', 'share'], p.top.slice(0, 20).map((e) => [`\`${e.function}\``, e.location ? `\`${e.location}\`` : '', e.origin, n(e.selfMs, 0), `${n(e.selfPercent, 1)}%`]), 3));
    out.push('');
  } else out.push('_No profile in this run (`--profile` to take one)._\n');

  if (r.failures.length > 0) {
    out.push('## Failures in this run');
    out.push('');
    for (const f of r.failures) out.push(`- ${f.scenario}: \`${f.error.split('\n')[0]}\``);
    out.push('');
  }

  out.push('## Analysis');
  out.push('');
  out.push(analysis);
  out.push('');
  out.push('## Running it');
  out.push('');
  out.push(
    '`npm run bench` builds and runs the full suite (about 7 minutes; it rewrites this file and `docs/' +
      svgName +
      '`); `node dist/bench/run.js --quick` proves every scenario but the cluster end to end in about a minute and only writes a results file. Options: `--only baselines,throughput,latency,scale,compliance,overload,cluster,profile`, `--profile`/`--no-profile`, `--docs`/`--no-docs`; ' +
      '`--report FILE` regenerates this file from a results file, and `--report FILE --merge OTHER` first takes the scenarios a separate run (e.g. `--only compliance`) measured into FILE. ' +
      `Sizes are in \`bench/config.ts\`. Results: \`bench/results/<timestamp>.json\` (machine, configuration, every figure, verdicts). Source: \`bench/\`.`,
  );
  out.push('');
  return out.join('\n');
};

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** Section 4: compliance flags, all at once and at a steady rate. */
const complianceSection = (r: BenchResults): string[] => {
  const out: string[] = ['## 4. Compliance ejection', ''];
  const c = r.compliance;
  if (!c) return [...out, '_Not measured in this run._', ''];
  const merged = r.mergedFrom?.find((m) => m.scenarios.includes('compliance'));
  const b = c.burst;
  const s = c.steady;
  out.push(
    `${c.conferences} three-party conferences up at once (each its own three agents, all ${c.sessions} parties' CometD sessions connected); an admin raises one compliance flag per conference ` +
      '(`POST /conclave/v1/compliance/flags`) for its second party, whom the orchestrator removes as a monitoring supervisor while the owner and the third party stay. ' +
      `The flags are sent all at once (${plural(b.rounds, 'round')}) or at ${c.steadyRate} flags/s (open loop, ${plural(s.rounds, 'round')}), each round in fresh conferences after an unmeasured warm-up burst. ` +
      "**End to end**: from sending the POST to the owner's ParticipantsUpdated without the flagged party arriving through the official CometD client (\"every remaining party\": to the later of the owner's and the third party's). " +
      "**Server side**: the audit's `latencyMs` of the flag's 'removed' entry, from the flag being recorded to the removal committed and its notifications handed to CometD (whole milliseconds). " +
      '**Service time**: the p50 of the gaps between consecutive removals of a burst; the orchestrator carries flags out one at a time (one supervisor, one queue in `src/engine/compliance.ts`), so in a burst removals leave the queue one service time apart.' +
      (merged ? ` (Measured in the separate run of ${merged.startedAt.slice(0, 16).replace('T', ' ')} UTC, [${merged.file}](../${merged.file}).)` : ''),
  );
  out.push('');
  const row = (label: string, f: ComplianceFigures) => [
    label,
    int(f.flags),
    `${n(f.endToEndMs.p50, 2)} / ${n(f.endToEndMs.p99, 2)} / ${n(f.endToEndMs.max, 1)}`,
    `${n(f.allPartiesMs.p50, 2)} / ${n(f.allPartiesMs.p99, 2)} / ${n(f.allPartiesMs.max, 1)}`,
    `${n(f.serverMs.p50, 0)} / ${n(f.serverMs.p99, 0)} / ${n(f.serverMs.max, 0)}`,
    `${n(f.postMs.p50, 2)} / ${n(f.postMs.p99, 1)}`,
    String(f.ejected),
    String(f.failed + f.otherOutcomes),
    String(f.missing),
  ];
  out.push(
    table(
      ['Flags sent', 'flags', 'end to end p50 / p99 / max ms', 'every remaining party p50 / p99 / max ms', 'server side p50 / p99 / max ms', 'POST (202) p50 / p99 ms', 'ejected', 'failed', 'missing'],
      [row(`${int(c.conferences)} at once`, b), row(`${c.steadyRate} per second`, s)],
    ),
  );
  out.push('');
  out.push('Each round:');
  out.push('');
  out.push(
    table(
      ['Round', 'flags', 'sent in ms', 'recorded in ms', 'end to end p50 / p99 ms', 'server side p50 / p99 ms', 'service time p50 / mean ms', 'server CPU ms per flag', 'notifications per flag', 'cores: server / driver / other', 'CPU pressure'],
      c.rounds.map((x, i) => [
        x.kind === 'burst' ? `${i + 1}: all at once` : `${i + 1}: ${x.achievedRate ?? '?'} per second`,
        int(x.figures.flags),
        n(x.figures.sendSpanMs, 1),
        int(x.figures.intakeSpanMs),
        `${n(x.figures.endToEndMs.p50, 2)} / ${n(x.figures.endToEndMs.p99, 2)}`,
        `${n(x.figures.serverMs.p50, 0)} / ${n(x.figures.serverMs.p99, 0)}`,
        x.kind === 'burst' ? `${n(x.figures.serviceMsP50, 1)} / ${n(x.figures.serviceMsMean, 2)}` : '–',
        n(x.figures.cpuMsPerFlag, 2),
        n(x.figures.notificationsPerFlag, 1),
        `${n(x.cpu.server, 2)} / ${n(x.cpu.driver, 2)} / ${n(x.cpu.other, 2)}`,
        `${x.cpu.cpuPressurePct ?? '–'}%`,
      ]),
    ),
  );
  out.push('');
  out.push(
    '"sent in" is how long the driver took to send the round\'s POSTs; "recorded in" is from the first to the last flag recorded by the server (the audit\'s \'flagged\' times); ' +
      'server CPU per flag is the server\'s CPU time over the round (from the first POST to the last notification; 10 ms ticks) divided by its flags; notifications per flag are the CometD messages all sessions received during the round, divided by its flags.' +
      (b.firstError || s.firstError ? ` First error: \`${b.firstError ?? s.firstError}\`.` : ''),
  );
  out.push('');
  return out;
};

/** The scenario descriptions, also quoted by hand in docs/performance.md until a full run rewrites it. */
export const FLOOR_TEXT =
  'The transport floor (`floor` in the results file) is the CPU a flow request would cost if Conclave were nothing but bare Fastify routing plus the bare CometD server delivering the same notifications: ' +
  'bare Fastify\'s server CPU per request, plus the notifications per flow request (counted in the throughput scenario) times the bare CometD server\'s CPU per delivery (its CPU per trigger minus a bare node:http request, over three deliveries, at the highest rate it kept up with), all from the baselines of the same run. ' +
  'Conclave\'s ratio is its own server CPU per flow request (throughput scenario) divided by the floor; the target is ≤ 1.25×, judged on full runs only.';
export const OVERLOAD_TEXT =
  'Overload (`overload`): Conclave with its default load shedding (`--shed-delay-ms 100`) driven flat out — hundreds of closed loops at once, each on its own pair of users looping Dial → GET /me/calls → Hangup and retrying a refused (503) step at once — ' +
  'while a probe on its own sockets sends GET /healthz and a light operation (GET /api/v2/me/devices) every 20 ms. Reported: both p99s (the light operation\'s over every answer, a 503 included, and over the served ones), what was served and shed, and what was lost: ' +
  'an acknowledged Dial whose call the next GET does not show, or an acknowledged Hangup whose call is still listed once the load stops. Target: both p99 ≤ 50 ms and nothing lost, judged on full runs where the server did shed. The full run repeats the load with `--shed-delay-ms 0` (`overload.withoutShedding`).';
export const CLUSTER_TEXT =
  'Cluster (`cluster`, full runs only: it starts a PostgreSQL server and two nodes): two `conclave serve --data postgres://…` nodes on one database. Cross-node latency: a user with a CometD session on node B is dialled through node A, one Dial at a time; the time from sending the Dial to B\'s Ringing arriving. ' +
  'Throughput: the conference flow (closed loop, no CometD sessions) on node A alone, then the same number of conferences split over both nodes at once; `scaling` is two nodes\' requests/s over one node\'s.';

const newScenarioSections = (r: BenchResults): string[] => {
  const out: string[] = [];
  out.push('## 6. The transport floor');
  out.push('');
  out.push(FLOOR_TEXT);
  out.push('');
  const f = r.floor;
  if (f)
    out.push(
      table(
        ['Fastify µs/request', 'notifications/request', 'bare CometD µs/delivery', 'floor µs/request', 'Conclave µs/request', 'Conclave ÷ floor'],
        [[n(f.fastifyUsPerRequest, 1), n(f.notificationsPerRequest, 2), n(f.cometdUsPerDelivery, 1), n(f.floorUsPerRequest, 1), n(f.conclaveUsPerRequest, 1), `×${n(f.ratio, 2)}`]],
        0,
      ),
      '',
    );
  else out.push('_Not measured in this run._\n');
  out.push('## 7. Overload');
  out.push('');
  out.push(OVERLOAD_TEXT);
  out.push('');
  const o = r.overload;
  if (o) {
    const runs = [o.shedding, ...(o.withoutShedding ? [o.withoutShedding] : [])];
    out.push(
      table(
        ['Shedding', 'loops', 's', '/healthz p50 / p99 ms', 'light p50 / p99 ms', 'light served p99 ms', 'light shed', 'served/s', 'shed (503)', 'Dials / Hangups acknowledged', 'lost', 'server event-loop delay p99 ms'],
        runs.map((x) => [
          x.shedDelayMs > 0 ? `on (${x.shedDelayMs} ms)` : 'off',
          int(x.workers),
          n(x.durationS, 1),
          `${n(x.healthzMs.p50, 1)} / ${n(x.healthzMs.p99, 1)}`,
          `${n(x.lightMs.p50, 1)} / ${n(x.lightMs.p99, 1)}`,
          n(x.lightServedMs.p99, 1),
          `${x.lightShed} of ${x.lightMs.count}`,
          int(x.load.okPerSec),
          int(x.load.shed),
          `${int(x.acknowledged.dials)} / ${int(x.acknowledged.hangups)}`,
          String(x.lost.dials + x.lost.hangups),
          n(x.server.probe.eventLoopDelayMs.p99, 1),
        ]),
      ),
      '',
    );
  } else out.push('_Not measured in this run._\n');
  out.push('## 8. Cluster');
  out.push('');
  out.push(CLUSTER_TEXT);
  out.push('');
  const k = r.cluster;
  if (k)
    out.push(
      table(
        ['cross-node p50 ms', 'p99 ms', 'max ms', 'samples', 'missing', 'one node req/s', 'two nodes req/s', 'two ÷ one'],
        [[n(k.crossNodeNotificationMs.p50, 2), n(k.crossNodeNotificationMs.p99, 2), n(k.crossNodeNotificationMs.max, 1), int(k.crossNodeNotificationMs.count), String(k.missing), int(k.oneNode.requestsPerSec), int(k.twoNodes.requestsPerSec), `×${n(k.scaling, 2)}`]],
        0,
      ),
      '',
    );
  else out.push(r.mode === 'quick' ? '_Not run in quick mode._\n' : '_Not measured in this run._\n');
  out.push('## The results file');
  out.push('');
  out.push(RESULTS_FILE_TEXT);
  out.push('');
  return out;
};

export const RESULTS_FILE_TEXT =
  '`bench/results/<start time>.json` (`-quick` before `.json` for a quick run): `schema`, `mode`, start and end, `machine`, `config` (the sizes of `bench/config.ts`), one key per scenario ' +
  '(`baselines` {node, fastify, cometd}, `throughput`, `throughputWithoutSessions`, `latency`, `scale`, `compliance`, `floor`, `overload`, `cluster`, `profile`; a scenario not run or failed is absent), `ratios`, `failures` ({scenario, error}), ' +
  'and `verdicts`: one entry per target, `{id, target, measured, met, gap?}`, `id` one of throughput, notification-latency, memory, flat-cost, compliance, floor, overload, cluster; `met` is true, false, or null when that run could not judge it (quick mode judges little), and `gap` says how far or why not.';
