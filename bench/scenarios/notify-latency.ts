/**
 * Notification latency: the time from sending RemoveParticipantFromConference to the owner's
 * ParticipantsUpdated arriving through the official CometD client, while every party's session
 * is connected and the conferences run at a given operation rate (open loop).
 *
 * Each conference (trio) runs Dial → Answer → SingleStepConference → Answer → Remove → Hangup
 * as a real client does: the owner learns the call id from its own Dialing notification, each
 * step waits for the previous reply. Every session stays connected; conferences not needed
 * for the rate simply sit idle, as most agents do. Every operation counts towards the rate; one in six is the
 * measured Remove. The same driver runs against the bare CometD baseline, where each operation
 * is a trigger that delivers the seed's ParticipantsUpdated to the trio and every one is measured.
 */
import type { Note } from '../cometd/protocol.js';
import type { CometdPool } from '../cometd/pool.js';
import { basic, type Trio } from '../lib/directory.js';
import { cpuMeter, type CpuUse } from '../lib/cpu.js';
import type { HttpClient } from '../lib/http-client.js';
import { nowMs, Samples, sleep, type Summary } from '../lib/stats.js';
import { drain, runOpenLoop, type OpenLoopRun, type OpenLoopTarget } from './open-loop.js';

export interface LatencyStep extends OpenLoopRun {
  /** Send → owner's notification, in ms. */
  readonly notificationMs: Summary;
  /** Measured operations whose notification never came (within the settle time). */
  readonly missing: number;
  /** HTTP round trip of every operation, in ms. */
  readonly httpMs: Summary;
  readonly httpErrors: number;
  readonly firstError?: string;
  /** Cores used by the server, the driver and the rest of the machine during the step. */
  readonly cpu: CpuUse;
}

interface Driver extends OpenLoopTarget {
  /** Starts a fresh measurement window; returns the previous window's figures. */
  take(): { notification: Samples; http: Samples; missing: number; errors: number; firstError?: string };
  /** Measured operations still waiting for their notification. */
  awaiting(): number;
}

/** Runs each rate in turn for `durationMs` after a short unmeasured warm-up at the first rate. */
export const measureRates = async (driver: Driver, rates: readonly number[], durationMs: number, warmupMs: number, serverPid: number): Promise<LatencyStep[]> => {
  if (warmupMs > 0 && rates[0] !== undefined) {
    await runOpenLoop(driver, rates[0], warmupMs);
    await drain(driver);
    await settleNotes(driver);
    driver.take();
  }
  const steps: LatencyStep[] = [];
  for (const rate of rates) {
    const meter = cpuMeter(serverPid);
    const run = await runOpenLoop(driver, rate, durationMs);
    const cpu = meter.stop();
    await drain(driver);
    await settleNotes(driver);
    const window = driver.take();
    steps.push({
      ...run,
      notificationMs: window.notification.summary(),
      missing: window.missing,
      httpMs: window.http.summary(),
      httpErrors: window.errors,
      cpu,
      ...(window.firstError ? { firstError: window.firstError } : {}),
    });
    process.stdout.write(
      `    ${rate} ops/s → achieved ${run.achievedRate}/s, notification p50 ${steps.at(-1)?.notificationMs.p50} ms p99 ${steps.at(-1)?.notificationMs.p99} ms max ${steps.at(-1)?.notificationMs.max} ms (n=${window.notification.count}, cores server ${cpu.server} driver ${cpu.driver} other ${cpu.other}, CPU pressure ${cpu.cpuPressurePct ?? '?'}%, missing ${window.missing}, skipped ${run.skipped}, http errors ${window.errors}${window.firstError ? `: ${window.firstError}` : ''})\n`,
    );
  }
  return steps;
};

const settleNotes = async (driver: Driver, maxMs = 5000) => {
  const deadline = performance.now() + maxMs;
  while (driver.awaiting() > 0 && performance.now() < deadline) await sleep(10);
};

type Phase = 'Dial' | 'Answer B' | 'SingleStepConference' | 'Answer C' | 'RemoveParticipantFromConference' | 'Hangup';
const PHASES: readonly Phase[] = ['Dial', 'Answer B', 'SingleStepConference', 'Answer C', 'RemoveParticipantFromConference', 'Hangup'];

interface Conference {
  readonly trio: Trio;
  phase: number;
  callId?: string;
  dialAnswered: boolean;
  /** Set while the Remove's notification is awaited: its send time, and the call it removes from. */
  removeSentAt?: number;
  removeCallId?: string;
  busy: boolean;
  dead: boolean;
}

/** Conclave: conferences cycling through the flow. */
export const conclaveDriver = (http: HttpClient, cometd: CometdPool, trioList: readonly Trio[], devices: ReadonlyMap<string, string>, order: 'lifo' | 'fifo' = 'lifo'): Driver => {
  const conferences = trioList.map((trio): Conference => ({ trio, phase: 0, dialAnswered: false, busy: false, dead: false }));
  const byOwner = new Map(conferences.map((c) => [c.trio.a.user, c]));
  const ready: Conference[] = [...conferences];
  let inFlight = 0;
  let window = { notification: new Samples(), http: new Samples(), missing: 0, errors: 0, firstError: undefined as string | undefined };

  const makeReady = (c: Conference) => {
    c.busy = false;
    if (!c.dead) ready.push(c);
  };

  cometd.onNote((note: Note) => {
    const c = byOwner.get(note.user);
    if (!c) return;
    // The Dialing notification may overtake the Dial reply: accept it while the Dial is in flight too.
    const dialing = (PHASES[c.phase] === 'Dial' && c.busy) || PHASES[c.phase] === 'Answer B';
    if (dialing && c.callId === undefined && note.notificationType === 'StatusChange' && note.state === 'Dialing') {
      // The owner's own Dialing notification carries the new call's id, as GWS clients expect.
      c.callId = note.callId;
      if (c.dialAnswered) makeReady(c);
      return;
    }
    // Matched on the Remove's own call: a late notification may arrive after the Hangup.
    if (c.removeSentAt !== undefined && note.notificationType === 'ParticipantsUpdated' && note.callId === c.removeCallId && !note.participants.includes(c.trio.b.dn)) {
      window.notification.add(note.t - c.removeSentAt);
      c.removeSentAt = undefined;
    }
  });

  const request = (c: Conference): { path: string; user: string; body: unknown } => {
    const { a, b, c: third } = c.trio;
    const call = `/api/v2/me/calls/${c.callId}`;
    switch (PHASES[c.phase]) {
      case 'Dial':
        return { path: `/api/v2/me/devices/${devices.get(a.user)}/calls`, user: a.user, body: { operationName: 'Dial', destination: { phoneNumber: b.dn } } };
      case 'Answer B':
        return { path: call, user: b.user, body: { operationName: 'Answer' } };
      case 'SingleStepConference':
        return { path: call, user: a.user, body: { operationName: 'SingleStepConference', destination: { phoneNumber: third.dn } } };
      case 'Answer C':
        return { path: call, user: third.user, body: { operationName: 'Answer' } };
      case 'RemoveParticipantFromConference':
        return { path: call, user: a.user, body: { operationName: 'RemoveParticipantFromConference', participant: b.dn } };
      default:
        return { path: call, user: a.user, body: { operationName: 'Hangup' } };
    }
  };

  return {
    issue() {
      // Last ready, first served: only as many conferences are active as the rate needs, each
      // runs its flow without queueing behind all the others, so a rate's steady state starts
      // at once (round robin over hundreds of conferences would take minutes to reach a Remove
      // at 100 ops/s).
      const c = order === 'lifo' ? ready.pop() : ready.shift();
      if (!c) return false;
      c.busy = true;
      const phase = PHASES[c.phase];
      const { path, user, body } = request(c);
      if (phase === 'RemoveParticipantFromConference') {
        if (c.removeSentAt !== undefined) window.missing++;
        c.removeSentAt = nowMs();
        c.removeCallId = c.callId;
      }
      const sent = performance.now();
      inFlight++;
      http.request('POST', path, basic(user), body).then(
        (reply) => {
          inFlight--;
          window.http.add(performance.now() - sent);
          if (reply.status !== 200) {
            window.errors++;
            window.firstError ??= `${phase}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`;
            c.dead = true; // its calls are in an unknown state: leave it out from now on
            c.removeSentAt = undefined;
            return;
          }
          c.phase = (c.phase + 1) % PHASES.length;
          if (phase === 'Hangup') c.callId = undefined;
          if (phase === 'Dial') {
            // Ready once both the reply and the Dialing notification (with the id) are in.
            c.dialAnswered = true;
            if (c.callId !== undefined) makeReady(c);
            return;
          }
          if (phase === 'Answer B') c.dialAnswered = false;
          makeReady(c);
        },
        (error: Error) => {
          inFlight--;
          window.errors++;
          window.firstError ??= `${phase}: ${error.message}`;
          c.dead = true;
        },
      );
      return true;
    },
    inFlight: () => inFlight,
    awaiting: () => conferences.filter((c) => c.removeSentAt !== undefined && !c.dead).length,
    take() {
      const taken = window;
      // Anything still awaited now is lost for this window.
      for (const c of conferences) if (c.removeSentAt !== undefined) {
        taken.missing++;
        c.removeSentAt = undefined;
      }
      window = { notification: new Samples(), http: new Samples(), missing: 0, errors: 0, firstError: undefined };
      return { ...taken, ...(taken.firstError ? { firstError: taken.firstError } : {}) } as ReturnType<Driver['take']>;
    },
  };
};

/** The bare CometD baseline: each operation triggers the seed payload to a trio; every one is measured. */
export const cometdBaselineDriver = (http: HttpClient, cometd: CometdPool, trioList: readonly Trio[]): Driver => {
  const ready: Trio[] = [...trioList];
  const sentAt = new Map<string, number>();
  let seq = 0;
  let inFlight = 0;
  let window = { notification: new Samples(), http: new Samples(), missing: 0, errors: 0, firstError: undefined as string | undefined };
  cometd.onNote((note) => {
    const t0 = sentAt.get(note.callId);
    if (t0 === undefined) return;
    sentAt.delete(note.callId);
    window.notification.add(note.t - t0);
  });
  return {
    issue() {
      const trio = ready.pop();
      if (!trio) return false;
      const id = `op${++seq}`;
      sentAt.set(id, nowMs());
      const sent = performance.now();
      inFlight++;
      http.request('POST', '/trigger', basic(trio.a.user), { to: [trio.a.user, trio.b.user, trio.c.user], id }).then(
        (reply) => {
          inFlight--;
          window.http.add(performance.now() - sent);
          if (reply.status !== 200) {
            window.errors++;
            window.firstError ??= `trigger: HTTP ${reply.status}`;
          }
          ready.push(trio);
        },
        (error: Error) => {
          inFlight--;
          window.errors++;
          window.firstError ??= `trigger: ${error.message}`;
          ready.push(trio);
        },
      );
      return true;
    },
    inFlight: () => inFlight,
    awaiting: () => sentAt.size,
    take() {
      const taken = window;
      taken.missing += sentAt.size;
      sentAt.clear();
      window = { notification: new Samples(), http: new Samples(), missing: 0, errors: 0, firstError: undefined };
      return { ...taken, ...(taken.firstError ? { firstError: taken.firstError } : {}) } as ReturnType<Driver['take']>;
    },
  };
};
