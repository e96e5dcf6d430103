/**
 * Load shedding: a request that finds the event loop busy, without a pause, for longer than the
 * threshold is answered 503 with Retry-After at once, in the shape of the dialect its URL belongs
 * to, instead of queueing behind work the server cannot finish in time. Refusing early keeps what
 * is already accepted (and acknowledged) moving and keeps the answers that say whether the server
 * is alive fast.
 *
 * Why "busy without a pause" and not an average: one event loop serves every request, and a
 * request read in a long turn of the loop waits for all the work read before it in that turn. The
 * loop's own idle time (libuv's, through `performance.eventLoopUtilization()`) says when it last
 * waited for I/O; a request that arrives more than `thresholdMs` after that has already waited
 * that long, so serving it too only makes the turn longer. The check is made for each request as
 * it arrives, so within an overloaded turn it refuses exactly the requests that would wait too
 * long; the first requests of every turn are still served, so the server keeps working at its
 * capacity. It is armed only once the loop has been slow for a while (`nextGate`), so a slow
 * start or one burst of parallel requests is queued, not refused; unarmed, only a request that
 * waited 10× the threshold (at least 500 ms) in one turn is (a flood arriving all at once).
 *
 * A client that ignores Retry-After and sends its next request on the same connection before it
 * has passed is answered only once it has (a tarpit): its 503 still comes, but a flat-out client
 * costs the server one refusal per Retry-After, not one per round trip.
 *
 * Shedding runs in front of Fastify (the raw 'request' listener), so a refusal costs no routing,
 * hooks or serialization. Exempt: /healthz (a load balancer must see "alive but busy" as alive)
 * and CometD's Bayeux endpoint (held /meta/connect polls carry the notifications of work already
 * acknowledged; refusing them would lose nothing but delay everything). The Cloud notification
 * WebSocket is an upgrade, which never goes through the 'request' listener.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { errorBody as cloudErrorBody } from '../api/cloud/errors.js';

/** Whether a request arriving now should be shed; the event loop's busy time in production, a switch in tests. */
export interface PressureSignal {
  overloaded(): boolean;
  close(): void;
}

/** Seconds a refused client is asked to wait (Retry-After). */
export const RETRY_AFTER_S = 1;
/**
 * The default threshold (`--shed-delay-ms`): lax enough that a burst of parallel requests from a
 * test suite on a busy CI machine is queued, not refused; a control plane that must stay
 * responsive under overload sets it lower (docs/performance.md measures 20 ms).
 */
export const DEFAULT_SHED_DELAY_MS = 100;

/**
 * How long the loop has been busy without waiting for I/O, read when a request arrives. libuv's
 * idle time only grows while the loop waits, so an unchanged idle time since the previous read
 * means no wait since then; when it has changed, the busy stretch began at most now.
 */
export const busyClock = (
  readIdle: () => number = () => performance.eventLoopUtilization().idle,
  clock: () => number = () => performance.now(),
): (() => number) => {
  let lastIdle = readIdle();
  let busySince = clock();
  return () => {
    const idle = readIdle();
    const now = clock();
    if (idle !== lastIdle) {
      lastIdle = idle;
      busySince = now;
    }
    return now - busySince;
  };
};

/**
 * The gate: shedding is armed only once the loop has been slow for a while, so a slow start (cold
 * code) or one burst of parallel requests is queued, never refused. Armed after two windows in a
 * row whose event-loop delay p99 is above the threshold (or one far above it); disarmed only after
 * `calmWindows` windows in a row in which no request had to be shed and the delay stayed under it:
 * long enough (DISARM_AFTER_MS) for the clients told to come back after Retry-After to have come
 * back, so that their return does not find the gate open again. Pure, so the rule is a table test.
 */
export interface Gate {
  readonly armed: boolean;
  /** Unarmed: windows in a row above the threshold. Armed: calm windows in a row. */
  readonly count: number;
}

/** How long the loop must stay calm before shedding is disarmed: past Retry-After and its jitter. */
export const DISARM_AFTER_MS = 2000;

export const nextGate = (gate: Gate, window: { readonly delayP99Ms: number; readonly shed: number }, thresholdMs: number, calmWindows: number): Gate => {
  if (!gate.armed) {
    const above = window.delayP99Ms > thresholdMs ? gate.count + 1 : 0;
    // Far above (5×) is overload at once: a slow start never delays the loop that much.
    return above >= 2 || window.delayP99Ms > 5 * thresholdMs ? { armed: true, count: 0 } : { armed: false, count: above };
  }
  const calm = window.shed === 0 && window.delayP99Ms <= thresholdMs ? gate.count + 1 : 0;
  return calm >= calmWindows ? { armed: false, count: 0 } : { armed: true, count: calm };
};

/**
 * Overloaded when the gate is armed and the loop has run for more than `thresholdMs` since it
 * last waited for I/O. The windows scale with the threshold (2.5×, at least 50 ms), so a tight
 * setting also reacts fast: 20 ms arms within about 100 ms of sustained overload, 100 within 500.
 */
export const eventLoopPressure = (thresholdMs: number): PressureSignal => {
  const busyFor = busyClock();
  const windowMs = Math.max(50, thresholdMs * 2.5);
  /** Unarmed, a request is shed only after this long a turn: 10× the threshold, at least 500 ms. */
  const unarmedMs = Math.max(500, thresholdMs * 10);
  const histogram = monitorEventLoopDelay({ resolution: thresholdMs < 40 ? 5 : 10 });
  histogram.enable();
  let gate: Gate = { armed: false, count: 0 };
  const calmWindows = Math.ceil(DISARM_AFTER_MS / windowMs);
  let shed = 0;
  const timer = setInterval(() => {
    gate = nextGate(gate, { delayP99Ms: histogram.percentile(99) / 1e6, shed }, thresholdMs, calmWindows);
    shed = 0;
    histogram.reset();
  }, windowMs);
  timer.unref();
  return {
    overloaded() {
      // Read on every request, armed or not, so the busy stretch is always measured from its start.
      const busy = busyFor();
      // Armed, a request that waited longer than the threshold is shed; unarmed, only one that
      // waited far longer (the gate's timer cannot run inside the very turn a flood arrives in).
      if (busy <= (gate.armed ? thresholdMs : unarmedMs)) return false;
      shed++;
      return true;
    },
    close: () => {
      clearInterval(timer);
      histogram.disable();
    },
  };
};

const EXEMPT = (url: string) => url === '/healthz' || url.startsWith('/healthz?') || url === '/api/v2/notifications' || url.startsWith('/api/v2/notifications/') || url.startsWith('/api/v2/notifications?');

const MESSAGE = 'the server is overloaded: retry later';
const TARPIT_JITTER_MS = 500;
// GWS's catalogue has no "busy": statusCode 4 is its server-side failure (docs/decisions.md).
const GWS_BODY = Buffer.from(JSON.stringify({ statusCode: 4, statusMessage: MESSAGE }));

const refuse = (request: IncomingMessage, response: ServerResponse) => {
  // The Cloud ErrorBody carries a fresh contextId, as every Cloud error does.
  const body = (request.url ?? '').startsWith('/cloud/') ? Buffer.from(JSON.stringify(cloudErrorBody(503, 'service.unavailable', MESSAGE))) : GWS_BODY;
  response.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length, 'retry-after': String(RETRY_AFTER_S) });
  response.end(body);
};

/**
 * Puts the shedding gate in front of the server's own request listener (Fastify's): while
 * `signal` says overloaded, new non-exempt requests get 503 + Retry-After and never reach it.
 */
export const installLoadShedding = (server: Server, signal: PressureSignal): void => {
  const inner = server.listeners('request') as ((request: IncomingMessage, response: ServerResponse) => void)[];
  server.removeAllListeners('request');
  /** When each connection was last refused: a request on it sooner than Retry-After waits out the rest. */
  const refusedAt = new WeakMap<Socket, number>();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (EXEMPT(request.url ?? '') || !signal.overloaded()) {
      for (const listener of inner) listener.call(server, request, response);
      return;
    }
    const socket = request.socket;
    const send = () => {
      refusedAt.set(socket, performance.now());
      refuse(request, response);
    };
    const last = refusedAt.get(socket);
    // Up to TARPIT_JITTER_MS more, at random: clients refused in the same turn would otherwise
    // all come back in the same later turn, and find the server just as busy.
    const early = last === undefined ? 0 : last + RETRY_AFTER_S * 1000 - performance.now();
    if (early <= 0) return send();
    const wait = early + Math.random() * TARPIT_JITTER_MS;
    const timer = setTimeout(send, wait);
    timer.unref();
    response.on('close', () => clearTimeout(timer));
  });
};
