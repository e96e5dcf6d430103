/**
 * The conference flow as a closed loop under autocannon. Each autocannon connection plays one
 * conference after another: the owner A dials B, B answers, A conferences C in (single step),
 * C answers, A removes B, A hangs up. Calls get their id only by notification or GET in GWS (a
 * Dial answers just {"statusCode":0}); autocannon cannot wait for a CometD message between two
 * requests, so A learns the id the other GWS way, GET /api/v2/me/calls, right after dialling.
 * Each connection takes a free trio of users per conference from a shared pool, so no user is
 * ever in two conferences at once.
 */
import autocannon from 'autocannon';
import { basic, type Trio } from '../lib/directory.js';
import { callIdFromUri } from '../lib/gws.js';
import { round, Samples, type Summary } from '../lib/stats.js';

interface FlowContext {
  trio?: Trio;
  callId?: string;
  /** When the step's request was built (it is written to the socket right after). */
  t0?: number;
  /**
   * The first conference of each connection: its Dial was built when autocannon created the
   * connection, before the socket even connected, so its time is not a Dial's and is not kept.
   */
  untimedDial?: boolean;
  failed?: boolean;
}

interface Step {
  /** The name results are reported under (the GWS operationName, or the GET). */
  readonly op: string;
  /** How many CometD notifications a successful step causes (to A, B and C together). */
  readonly notifications: number;
  readonly build: (trio: Trio, ctx: FlowContext, devices: ReadonlyMap<string, string>) => { method: 'GET' | 'POST'; path: string; user: string; body?: unknown };
  readonly onOk?: (body: string, ctx: FlowContext) => boolean;
}

/**
 * The steps. Notification counts follow from Conclave's rule (a party hears StatusChange when
 * its own state changes, ParticipantsUpdated when the others it sees change): the bench checks
 * that every one of them arrived.
 */
export const FLOW: readonly Step[] = [
  {
    op: 'Dial',
    notifications: 2, // A Dialing, B Ringing
    build: (t, _c, devices) => ({ method: 'POST', path: `/api/v2/me/devices/${devices.get(t.a.user)}/calls`, user: t.a.user, body: { operationName: 'Dial', destination: { phoneNumber: t.b.dn } } }),
  },
  {
    op: 'GET /me/calls',
    notifications: 0,
    build: (t) => ({ method: 'GET', path: '/api/v2/me/calls', user: t.a.user }),
    onOk: (body, ctx) => {
      const uris = (JSON.parse(body) as { uris?: string[] }).uris ?? [];
      if (uris.length !== 1) return false;
      ctx.callId = callIdFromUri(uris[0] as string);
      return true;
    },
  },
  { op: 'Answer', notifications: 2, build: (t, c) => ({ method: 'POST', path: `/api/v2/me/calls/${c.callId}`, user: t.b.user, body: { operationName: 'Answer' } }) }, // A, B Established
  {
    op: 'SingleStepConference',
    notifications: 3, // A, B ParticipantsUpdated; C Ringing
    build: (t, c) => ({ method: 'POST', path: `/api/v2/me/calls/${c.callId}`, user: t.a.user, body: { operationName: 'SingleStepConference', destination: { phoneNumber: t.c.dn } } }),
  },
  { op: 'Answer', notifications: 3, build: (t, c) => ({ method: 'POST', path: `/api/v2/me/calls/${c.callId}`, user: t.c.user, body: { operationName: 'Answer' } }) }, // C Established; A, B ParticipantsUpdated
  {
    op: 'RemoveParticipantFromConference',
    notifications: 3, // B Released; A, C ParticipantsUpdated
    build: (t, c) => ({ method: 'POST', path: `/api/v2/me/calls/${c.callId}`, user: t.a.user, body: { operationName: 'RemoveParticipantFromConference', participant: t.b.dn } }),
  },
  { op: 'Hangup', notifications: 2, build: (t, c) => ({ method: 'POST', path: `/api/v2/me/calls/${c.callId}`, user: t.a.user, body: { operationName: 'Hangup' } }) }, // A, C Released
];

export const NOTIFICATIONS_PER_CONFERENCE = FLOW.reduce((n, s) => n + s.notifications, 0);

export interface OpResult {
  readonly count: number;
  readonly errors: number;
  readonly perSec: number;
  readonly latencyMs: Summary;
}

export interface FlowResult {
  readonly connections: number;
  readonly durationS: number;
  readonly requests: number;
  readonly requestsPerSec: number;
  readonly conferencesCompleted: number;
  readonly conferencesPerSec: number;
  /** Requests answered with a non-2xx status, and connection errors/timeouts. */
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  /** Trios taken out of rotation after a failed step (their state is no longer known). */
  readonly retiredTrios: number;
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  readonly perOp: Readonly<Record<string, OpResult>>;
  /** How many notifications the successful steps should have caused. */
  readonly expectedNotifications: number;
  /** The first failure of each operation, if any: user trio, status and body. */
  readonly firstErrors: Readonly<Record<string, string>>;
}

export interface FlowOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  /** At least `connections` trios; spares replace trios retired after a failure. */
  readonly trios: readonly Trio[];
  readonly devices: ReadonlyMap<string, string>;
}

export const runFlow = async (options: FlowOptions): Promise<FlowResult> => {
  if (options.trios.length < options.connections) throw new Error(`runFlow needs ${options.connections} trios, got ${options.trios.length}`);
  const free: Trio[] = [...options.trios];
  let retired = 0;
  let exhausted = false;
  // autocannon builds every connection's first request up front, all before any response.
  let firstBuilds = 0;
  const firstErrors: Record<string, string> = {};
  let completed = 0;
  let expectedNotifications = 0;
  const samples = new Map<string, Samples>();
  const errorsByOp = new Map<string, number>();
  for (const step of FLOW) samples.set(step.op, new Samples());

  const requests: autocannon.Request[] = FLOW.map((step, index) => ({
    setupRequest: (request: autocannon.Request, context: object) => {
      const ctx = context as FlowContext;
      if (index === 0) {
        // A new conference: take a trio (autocannon has just reset the context).
        const trio = free.shift();
        if (!trio) {
          // Every spare has been retired after failures: keep the connection busy with a
          // harmless read (autocannon cannot idle a connection) and fail the run afterwards.
          exhausted = true;
          ctx.trio = undefined;
          ctx.t0 = performance.now();
          return { ...request, method: 'GET', path: '/healthz', headers: {}, body: '' };
        }
        ctx.trio = trio;
        if (firstBuilds < options.connections) {
          firstBuilds++;
          ctx.untimedDial = true;
        }
      } else if (ctx.failed || !ctx.trio) {
        // A step failed: this trio's calls are in an unknown state; retire it and start over.
        if (ctx.trio) retired++;
        ctx.trio = undefined;
        return null as unknown as autocannon.Request;
      }
      const spec = step.build(ctx.trio as Trio, ctx, options.devices);
      ctx.t0 = performance.now();
      return {
        ...request,
        method: spec.method,
        path: spec.path,
        headers: spec.body === undefined ? { authorization: basic(spec.user) } : { authorization: basic(spec.user), 'content-type': 'application/json' },
        body: spec.body === undefined ? '' : JSON.stringify(spec.body),
      };
    },
    onResponse: (status: number, body: string, context: object) => {
      const ctx = context as FlowContext;
      if (!ctx.trio) return; // the /healthz filler of an exhausted pool
      if (!(index === 0 && ctx.untimedDial)) samples.get(step.op)?.add(performance.now() - (ctx.t0 ?? 0));
      const ok = status === 200 && (step.onOk ? step.onOk(body, ctx) : true);
      if (!ok) {
        ctx.failed = true;
        errorsByOp.set(step.op, (errorsByOp.get(step.op) ?? 0) + 1);
        firstErrors[step.op] ??= `${ctx.trio.a.user}/${ctx.trio.b.user}/${ctx.trio.c.user}: HTTP ${status} ${body.slice(0, 300)}`;
        return;
      }
      expectedNotifications += step.notifications;
      if (index === FLOW.length - 1 && ctx.trio) {
        completed++;
        free.push(ctx.trio);
      }
    },
  }));

  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationS,
    pipelining: 1,
    timeout: 10,
    requests,
  });

  if (exhausted) throw new Error(`every trio was retired after failed steps; first errors: ${JSON.stringify(firstErrors)}`);
  const durationS = result.duration;
  const perOp: Record<string, OpResult> = {};
  for (const [op, s] of samples) {
    perOp[op] = { count: s.count, errors: errorsByOp.get(op) ?? 0, perSec: round(s.count / durationS, 1), latencyMs: s.summary() };
  }
  return {
    connections: options.connections,
    durationS: round(durationS, 2),
    requests: result.requests.total,
    requestsPerSec: round(result.requests.total / durationS, 1),
    conferencesCompleted: completed,
    conferencesPerSec: round(completed / durationS, 1),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    retiredTrios: retired,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
    perOp,
    expectedNotifications,
    firstErrors,
  };
};

/** A fixed request under autocannon: the baselines' measure, with the same connection count. */
export const runFixed = async (options: { url: string; path: string; body: unknown; connections: number; durationS: number }) => {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationS,
    pipelining: 1,
    timeout: 10,
    method: 'POST',
    headers: { authorization: basic('agent20000'), 'content-type': 'application/json' },
    body: JSON.stringify(options.body),
    path: options.path,
  } as autocannon.Options);
  return {
    connections: options.connections,
    durationS: round(result.duration, 2),
    requests: result.requests.total,
    requestsPerSec: round(result.requests.total / result.duration, 1),
    non2xx: result.non2xx,
    errors: result.errors,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
  };
};
export type FixedResult = Awaited<ReturnType<typeof runFixed>>;
