/**
 * Load shedding: while the event loop is overloaded, new requests are answered 503 with
 * Retry-After at once, in the shape of the dialect the URL belongs to, instead of queueing behind
 * work the server cannot finish in time. Refusing early keeps what is already accepted (and
 * acknowledged) moving and keeps the answers that say whether the server is alive fast.
 *
 * Exempt: /healthz (a load balancer must see "alive but busy" as alive) and CometD's Bayeux
 * endpoint (held /meta/connect polls carry the notifications of work already acknowledged;
 * refusing them would lose nothing but delay everything). The Cloud notification WebSocket is an
 * upgrade, which never goes through these hooks.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { App } from './app.js';
import { errorBody as cloudErrorBody } from '../api/cloud/errors.js';

/** Whether the server is overloaded now; the event-loop monitor in production, a switch in tests. */
export interface PressureSignal {
  overloaded(): boolean;
  close(): void;
}

/** Seconds a refused client is asked to wait (Retry-After). */
export const RETRY_AFTER_S = 1;
/** The default threshold: the event loop delay's p99 over one window (`--shed-delay-ms`). */
export const DEFAULT_SHED_DELAY_MS = 100;
const WINDOW_MS = 250;
/** Overloaded after this many windows in a row above the threshold: one slow GC is not overload. */
const WINDOWS_ABOVE = 2;

/**
 * Overloaded while the event-loop delay's p99 has stayed above `thresholdMs` for the last
 * WINDOWS_ABOVE windows of WINDOW_MS; back to normal after the first window below it.
 */
export const eventLoopPressure = (thresholdMs: number): PressureSignal => {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let above = 0;
  const timer = setInterval(() => {
    above = histogram.percentile(99) / 1e6 > thresholdMs ? above + 1 : 0;
    histogram.reset();
  }, WINDOW_MS);
  timer.unref();
  return {
    overloaded: () => above >= WINDOWS_ABOVE,
    close: () => {
      clearInterval(timer);
      histogram.disable();
    },
  };
};

const EXEMPT = (url: string) => url === '/healthz' || url.startsWith('/healthz?') || url === '/api/v2/notifications' || url.startsWith('/api/v2/notifications/') || url.startsWith('/api/v2/notifications?');

const MESSAGE = 'the server is overloaded: retry later';

/** Refuses new non-exempt requests with 503 + Retry-After while `signal` says overloaded. */
export const installLoadShedding = (app: App, signal: PressureSignal): void => {
  app.addHook('onRequest', (request, reply, done) => {
    if (!signal.overloaded() || EXEMPT(request.url)) return done();
    reply
      .code(503)
      .header('retry-after', String(RETRY_AFTER_S))
      // GWS's catalogue has no "busy": statusCode 4 is its server-side failure (docs/decisions.md).
      .send(request.url.startsWith('/cloud/') ? cloudErrorBody(503, 'service.unavailable', MESSAGE) : { statusCode: 4, statusMessage: MESSAGE });
  });
};
