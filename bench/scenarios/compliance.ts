/**
 * Scenario 4, compliance ejection: N three-party conferences are up at once (each its own three
 * agents, every party's CometD session connected), and an admin raises one compliance flag per
 * conference (POST /conclave/v1/compliance/flags) for its second party, B. The orchestrator
 * ejects B from the conference as a monitoring supervisor; the owner A and the third party C
 * stay and are told with ParticipantsUpdated.
 *
 * Two ways of sending the flags, each in fresh conferences: all at once (a burst, the target's
 * case) and at a steady rate (open loop). Two latencies per flag:
 *  - end to end: from sending the POST to the owner's ParticipantsUpdated without B arriving
 *    through the official CometD client (and, as a cross-check, to the later of A's and C's);
 *  - server side: the audit's latencyMs of the 'removed' entry (from the flag being recorded to
 *    the removal committed and its notifications handed to CometD; whole milliseconds).
 * The audit also gives each flag's outcome (ejected, failed, anything else) and the orchestrator's
 * per-flag service time: the p50 of the differences between consecutive removals in a burst
 * (the orchestrator carries flags out one at a time, so removals leave its queue one service
 * time apart).
 */
import { startCometdPool } from '../cometd/pool.js';
import type { Note } from '../cometd/protocol.js';
import type { BenchConfig } from '../config.js';
import { cpuMeter, type CpuUse } from '../lib/cpu.js';
import { ADMIN, basic, trios, type Trio } from '../lib/directory.js';
import { callIdsOf, deviceIds, hangUpAll } from '../lib/gws.js';
import { createHttpClient, pool, type HttpClient } from '../lib/http-client.js';
import type { ProbeStats } from '../lib/server-process.js';
import { startConclave } from '../lib/servers.js';
import { nowMs, round, sleep, summarize, type Summary } from '../lib/stats.js';
import { trioUsers } from './throughput.js';

const FLAGS = '/conclave/v1/compliance/flags';
const AUDIT = '/conclave/v1/compliance/audit';

export interface ComplianceFigures {
  readonly rounds: number;
  /** Flags answered 202. */
  readonly flags: number;
  /** Flags whose audit has a 'removed' (ejected) entry. */
  readonly ejected: number;
  /** Flags that failed: a 'failed' audit entry, a POST not answered 202, or no end in the audit. */
  readonly failed: number;
  /** Flags that ended another way (e.g. 'skipped: two-party', 'done: already-gone'). */
  readonly otherOutcomes: number;
  /** Ejected flags whose owner's ParticipantsUpdated never arrived. */
  readonly missing: number;
  /** POST → the owner's ParticipantsUpdated without the flagged party, in ms. */
  readonly endToEndMs: Summary;
  /** POST → the later of the owner's and the third party's ParticipantsUpdated, in ms. */
  readonly allPartiesMs: Summary;
  /** The audit's latencyMs of each 'removed' entry (flag recorded → removal committed and handed to CometD). */
  readonly serverMs: Summary;
  /** HTTP round trip of the flag POST (202), in ms. */
  readonly postMs: Summary;
  /** Per-flag service time: p50 of the differences between consecutive removals (sorted), in ms. */
  readonly serviceMsP50: number;
  /** The same as a mean: (last removal − first removal) ÷ (removals − 1), per round, averaged. */
  readonly serviceMsMean: number;
  /** From the first flag recorded to the last one recorded (audit 'flagged' times), per round, mean. */
  readonly intakeSpanMs: number;
  /** From the first POST sent to the last one sent, per round, mean. */
  readonly sendSpanMs: number;
  /** Server CPU time per flag (server cores × window ÷ flags), in ms. */
  readonly cpuMsPerFlag: number;
  /** CometD messages received by all sessions per flag (the flagged party's, the owner's, the third party's). */
  readonly notificationsPerFlag: number;
  readonly firstError?: string;
}

export interface ComplianceRound {
  readonly kind: 'burst' | 'steady';
  readonly conferences: number;
  readonly setupErrors: number;
  readonly figures: ComplianceFigures;
  /** From the first POST to the last notification. */
  readonly windowMs: number;
  readonly cpu: CpuUse;
  readonly eventLoopDelayMs: ProbeStats['eventLoopDelayMs'];
  /** Steady rounds: the rate the flags were sent at. */
  readonly achievedRate?: number;
}

export interface ComplianceResult {
  readonly conferences: number;
  readonly sessions: number;
  readonly steadyRate: number;
  /** Every burst round pooled (percentiles over all their flags). */
  readonly burst: ComplianceFigures;
  /** Every steady-rate round pooled. */
  readonly steady: ComplianceFigures;
  readonly rounds: readonly ComplianceRound[];
  readonly server: { readonly rssBytes: number; readonly probe: ProbeStats };
}

interface Conference {
  readonly trio: Trio;
  readonly callId: string;
}

/** One flag's raw figures. */
interface FlagRun {
  readonly conference: Conference;
  sentAt: number;
  postMs?: number;
  flagId?: string;
  error?: string;
  ownerAt?: number;
  thirdAt?: number;
  /** From the audit. */
  serverMs?: number;
  flaggedAt?: number;
  removedAt?: number;
  outcome?: 'ejected' | 'failed' | 'other';
  detail?: string;
}

export const complianceUserCount = (config: BenchConfig) => 3 * Math.max(config.compliance.conferences, config.compliance.warmupConferences);

/**
 * The same scenario on a PostgreSQL store, with one orchestrator lane and with the default four
 * (full runs only): there every step of a flag waits for the database, so flags on different
 * users overlap on different lanes. (On SQLite a step never waits, and lanes cannot overlap.)
 */
export interface CompliancePostgresResult {
  readonly oneLane: ComplianceResult;
  readonly lanes: ComplianceResult;
  readonly laneCount: number;
}

export const runCompliancePostgres = async (config: BenchConfig, directoryFile: string): Promise<CompliancePostgresResult> => {
  // The test suite's helper, as the cluster scenario uses it.
  const { startPostgres } = (await import(new URL('../../test/helpers/postgres.js', import.meta.url).href)) as typeof import('../../test/helpers/postgres.js');
  const pg = await startPostgres();
  if ('reason' in pg) throw new Error(`no PostgreSQL server: ${pg.reason}`);
  try {
    const oneLane = await runCompliance(config, directoryFile, ['--data', await pg.createDatabase(), '--compliance-lanes', '1']);
    const lanes = await runCompliance(config, directoryFile, ['--data', await pg.createDatabase(), '--compliance-lanes', '4']);
    return { oneLane, lanes, laneCount: 4 };
  } finally {
    await pg.dispose();
  }
};

/** `extraArgs` go to `conclave serve` after the bench's own (a later `--data` wins). */
export const runCompliance = async (config: BenchConfig, directoryFile: string, extraArgs: readonly string[] = []): Promise<ComplianceResult> => {
  const c = config.compliance;
  const server = await startConclave(directoryFile, [], extraArgs);
  // As many sockets as flags, so that a burst's POSTs are all in flight at once.
  const http = createHttpClient(server.url, Math.max(64, c.conferences));
  try {
    const list = trios(Math.max(c.conferences, c.warmupConferences));
    const devices = await deviceIds(http, list.map((t) => t.a.user));
    const cometd = await startCometdPool({
      baseUrl: server.url,
      users: trioUsers(list),
      // The owner and the third party both stay: watch both.
      watch: list.flatMap((t) => [t.a.user, t.c.user]),
      workers: config.cometdWorkers,
    });
    process.stdout.write(`    ${cometd.connected} CometD sessions connected in ${cometd.connectMs} ms\n`);
    const awaited = new Map<string, FlagRun>();
    cometd.onNote((note: Note) => {
      const run = awaited.get(note.callId);
      if (!run || note.notificationType !== 'ParticipantsUpdated' || note.participants.includes(run.conference.trio.b.dn)) return;
      if (note.user === run.conference.trio.a.user) run.ownerAt ??= note.t;
      else if (note.user === run.conference.trio.c.user) run.thirdAt ??= note.t;
    });
    try {
      const runRound = async (kind: 'burst' | 'steady', count: number, label: string): Promise<{ round: ComplianceRound; runs: FlagRun[]; notifications: number }> => {
        const { conferences, errors, firstError } = await setUp(http, list.slice(0, count), devices);
        await cometd.settle(Number.MAX_SAFE_INTEGER, 300, 10_000);
        await warmSockets(http, conferences.length);
        const runs = conferences.map((conference): FlagRun => ({ conference, sentAt: 0 }));
        for (const run of runs) awaited.set(run.conference.callId, run);
        const before = await cometd.counts();
        await server.resetProbe();
        const meter = cpuMeter(server.pid);
        const started = performance.now();
        const posts: Promise<void>[] = [];
        if (kind === 'burst') for (const run of runs) posts.push(raise(http, run, label));
        else {
          const periodMs = 1000 / c.steadyRate;
          for (const [i, run] of runs.entries()) {
            while (performance.now() - started < i * periodMs) await sleep(1);
            posts.push(raise(http, run, label));
          }
        }
        const sendSpanMs = performance.now() - started;
        await Promise.all(posts);
        // Every accepted flag's notifications (or a deadline: the queue of a whole burst and more).
        const deadline = performance.now() + 10_000 + 50 * runs.length;
        while (runs.some((r) => r.flagId && (r.ownerAt === undefined || r.thirdAt === undefined)) && performance.now() < deadline) await sleep(5);
        const windowMs = performance.now() - started;
        const cpu = meter.stop();
        const eventLoopDelayMs = (await server.probe()).eventLoopDelayMs;
        for (const run of runs) awaited.delete(run.conference.callId);
        await readAudits(http, runs);
        await cometd.settle(Number.MAX_SAFE_INTEGER, 300, 10_000);
        const notifications = (await cometd.counts()).received - before.received;
        const figures = figuresOf([runs], [sendSpanMs], cpu.server * windowMs, notifications);
        const achievedRate = kind === 'steady' && sendSpanMs > 0 ? round((runs.length - 1) / (sendSpanMs / 1000), 1) : undefined;
        process.stdout.write(
          `    ${label}: ${runs.length} flags${achievedRate !== undefined ? ` at ${achievedRate}/s` : ' at once'}: end-to-end p50 ${figures.endToEndMs.p50} p99 ${figures.endToEndMs.p99} max ${figures.endToEndMs.max} ms; ` +
            `server-side p50 ${figures.serverMs.p50} p99 ${figures.serverMs.p99} max ${figures.serverMs.max} ms; ${kind === 'burst' ? `service time p50 ${figures.serviceMsP50} ms (mean ${figures.serviceMsMean}), ` : ''}CPU ${figures.cpuMsPerFlag} ms and ${figures.notificationsPerFlag} notifications per flag; ` +
            `${figures.ejected} ejected, ${figures.failed} failed, ${figures.otherOutcomes} other, ${figures.missing} missing; ` +
            `cores server ${cpu.server} driver ${cpu.driver} other ${cpu.other}, CPU pressure ${cpu.cpuPressurePct ?? '?'}%${errors ? `; ${errors} set-up errors: ${firstError}` : ''}${figures.firstError ? `; first error: ${figures.firstError}` : ''}\n`,
        );
        // The flagged parties are gone; end the remaining two-party calls before the next round.
        await hangUpAll(http, list.slice(0, count));
        await cometd.settle(Number.MAX_SAFE_INTEGER, 300, 10_000);
        return {
          round: { kind, conferences: conferences.length, setupErrors: errors, figures, windowMs: round(windowMs, 1), cpu, eventLoopDelayMs, ...(achievedRate !== undefined ? { achievedRate } : {}) },
          runs,
          notifications,
        };
      };

      if (c.warmupConferences > 0) await runRound('burst', c.warmupConferences, 'warm-up');
      const rounds: { round: ComplianceRound; runs: FlagRun[]; notifications: number }[] = [];
      for (let i = 0; i < c.burstRounds; i++) rounds.push(await runRound('burst', c.conferences, `burst ${i + 1}/${c.burstRounds}`));
      for (let i = 0; i < c.steadyRounds; i++) rounds.push(await runRound('steady', c.conferences, `${c.steadyRate} flags/s ${i + 1}/${c.steadyRounds}`));
      const pooled = (kind: 'burst' | 'steady') => {
        const of = rounds.filter((r) => r.round.kind === kind);
        return figuresOf(
          of.map((r) => r.runs),
          of.map((r) => r.round.figures.sendSpanMs),
          of.reduce((sum, r) => sum + r.round.cpu.server * r.round.windowMs, 0),
          of.reduce((sum, r) => sum + r.notifications, 0),
        );
      };
      return {
        conferences: c.conferences,
        sessions: cometd.connected,
        steadyRate: c.steadyRate,
        burst: pooled('burst'),
        steady: pooled('steady'),
        rounds: rounds.map((r) => r.round),
        server: { rssBytes: server.rssBytes(), probe: await server.probe() },
      };
    } finally {
      await cometd.close();
    }
  } finally {
    http.close();
    await server.dispose();
  }
};

/** Sets up each trio's conference as a client would: A dials B, B answers, A conferences C in, C answers. */
const setUp = async (http: HttpClient, list: readonly Trio[], devices: ReadonlyMap<string, string>) => {
  let firstError: string | undefined;
  const step = async (what: string, user: string, path: string, body: unknown) => {
    const reply = await http.request('POST', path, basic(user), body);
    if (reply.status !== 200) throw new Error(`${what} (${user}): HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
  };
  const made = await pool(list, 32, async (trio): Promise<Conference | undefined> => {
    try {
      await step('Dial', trio.a.user, `/api/v2/me/devices/${devices.get(trio.a.user)}/calls`, { operationName: 'Dial', destination: { phoneNumber: trio.b.dn } });
      const [callId] = await callIdsOf(http, trio.b.user);
      if (!callId) throw new Error(`${trio.b.user} has no call after the Dial`);
      const call = `/api/v2/me/calls/${callId}`;
      await step('Answer', trio.b.user, call, { operationName: 'Answer' });
      await step('SingleStepConference', trio.a.user, call, { operationName: 'SingleStepConference', destination: { phoneNumber: trio.c.dn } });
      await step('Answer', trio.c.user, call, { operationName: 'Answer' });
      return { trio, callId };
    } catch (error) {
      firstError ??= (error as Error).message;
      return undefined;
    }
  });
  const conferences = made.filter((m): m is Conference => m !== undefined);
  return { conferences, errors: list.length - conferences.length, firstError };
};

/** Opens `count` keep-alive sockets, so that a burst's POSTs do not wait for TCP handshakes. */
const warmSockets = async (http: HttpClient, count: number) => {
  await Promise.all(Array.from({ length: count }, () => http.request('GET', '/healthz', basic(ADMIN))));
};

const raise = (http: HttpClient, run: FlagRun, label: string): Promise<void> => {
  const body = { user: run.conference.trio.b.user, reason: `bench ${label}`, source: 'conclave-bench' };
  run.sentAt = nowMs();
  const sent = performance.now();
  return http.request('POST', FLAGS, basic(ADMIN), body).then(
    (reply) => {
      run.postMs = performance.now() - sent;
      if (reply.status === 202 && typeof reply.body?.flagId === 'string') run.flagId = reply.body.flagId;
      else run.error = `POST flag: HTTP ${reply.status} ${JSON.stringify(reply.body)}`;
    },
    (error: Error) => {
      run.error = `POST flag: ${error.message}`;
    },
  );
};

interface AuditView {
  time: string;
  interaction: string | null;
  step: string;
  outcome: string;
  latencyMs?: number;
  detail?: string;
}

/** Reads each flag's audit once the orchestrator has finished it (its last entry is in). */
const readAudits = async (http: HttpClient, runs: readonly FlagRun[]) => {
  const deadline = performance.now() + 20_000;
  await pool(runs, 16, async (run) => {
    if (!run.flagId) {
      run.outcome = 'failed';
      return;
    }
    for (;;) {
      const reply = await http.request('GET', `${AUDIT}?flagId=${encodeURIComponent(run.flagId)}`, basic(ADMIN));
      const entries: AuditView[] = reply.status === 200 && Array.isArray(reply.body?.entries) ? reply.body.entries : [];
      const finished = entries.some((e) => e.interaction === null && (e.step === 'done' || e.step === 'failed'));
      if (finished || performance.now() > deadline) {
        const flagged = entries.find((e) => e.step === 'flagged');
        const removed = entries.find((e) => e.step === 'removed' && e.outcome === 'ejected');
        const failed = entries.find((e) => e.step === 'failed');
        if (flagged) run.flaggedAt = Date.parse(flagged.time);
        if (removed) {
          run.removedAt = Date.parse(removed.time);
          if (typeof removed.latencyMs === 'number') run.serverMs = removed.latencyMs;
        }
        if (failed || !finished) {
          run.outcome = 'failed';
          run.error = failed ? `audit: ${failed.step} ${failed.outcome}${failed.detail ? ` (${failed.detail})` : ''}` : `audit: no end after 20 s (${entries.map((e) => e.step).join(', ')})`;
        } else if (removed) run.outcome = 'ejected';
        else {
          run.outcome = 'other';
          run.detail = entries.filter((e) => e.step !== 'flagged').map((e) => `${e.step}: ${e.outcome}`).join(', ');
        }
        return;
      }
      await sleep(50);
    }
  });
};

const median = (values: readonly number[]) => summarize(values).p50;

/** Figures over one or more rounds (each round's runs kept apart for the per-round spans). */
const figuresOf = (rounds: readonly (readonly FlagRun[])[], sendSpans: readonly number[], serverCpuMs: number, notifications: number): ComplianceFigures => {
  const all = rounds.flat();
  const ejected = all.filter((r) => r.outcome === 'ejected');
  const diffs: number[] = [];
  const means: number[] = [];
  const intakes: number[] = [];
  for (const runs of rounds) {
    const removals = runs.flatMap((r) => (r.removedAt !== undefined ? [r.removedAt] : [])).sort((a, b) => a - b);
    for (let i = 1; i < removals.length; i++) diffs.push((removals[i] as number) - (removals[i - 1] as number));
    if (removals.length > 1) means.push(((removals.at(-1) as number) - (removals[0] as number)) / (removals.length - 1));
    const flagged = runs.flatMap((r) => (r.flaggedAt !== undefined ? [r.flaggedAt] : []));
    if (flagged.length > 0) intakes.push(Math.max(...flagged) - Math.min(...flagged));
  }
  const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : round(xs.reduce((a, b) => a + b, 0) / xs.length, 2));
  const firstError = all.find((r) => r.error)?.error ?? all.find((r) => r.outcome === 'other')?.detail;
  return {
    rounds: rounds.length,
    flags: all.filter((r) => r.flagId).length,
    ejected: ejected.length,
    failed: all.filter((r) => r.outcome === 'failed').length,
    otherOutcomes: all.filter((r) => r.outcome === 'other').length,
    missing: ejected.filter((r) => r.ownerAt === undefined).length,
    endToEndMs: summarize(ejected.flatMap((r) => (r.ownerAt !== undefined ? [r.ownerAt - r.sentAt] : []))),
    allPartiesMs: summarize(ejected.flatMap((r) => (r.ownerAt !== undefined && r.thirdAt !== undefined ? [Math.max(r.ownerAt, r.thirdAt) - r.sentAt] : []))),
    serverMs: summarize(ejected.flatMap((r) => (r.serverMs !== undefined ? [r.serverMs] : []))),
    postMs: summarize(all.flatMap((r) => (r.postMs !== undefined ? [r.postMs] : []))),
    serviceMsP50: diffs.length > 0 ? median(diffs) : 0,
    serviceMsMean: mean(means),
    intakeSpanMs: mean(intakes),
    sendSpanMs: mean(sendSpans),
    cpuMsPerFlag: all.length > 0 ? round(serverCpuMs / all.length, 2) : 0,
    notificationsPerFlag: all.length > 0 ? round(notifications / all.length, 2) : 0,
    ...(firstError ? { firstError } : {}),
  };
};
