/**
 * CORS for browser desktops served from another origin (`--cors-origin`). A small onRequest hook
 * rather than @fastify/cors, which is not installed (docs/decisions.md): exact origins only, with
 * credentials (GWS desktops send Basic or the session cookie), preflights answered before
 * authentication (a browser sends a preflight without credentials), and the CSRF headers exposed
 * so a desktop can read the token GWS hands out on GETs.
 *
 * An origin not on the list gets no CORS header at all, so the browser refuses the response; its
 * preflight goes on to the route like any request (and is refused by authentication).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

const ALLOWED_METHODS = 'GET, POST, PUT, DELETE, OPTIONS';
/** What a GWS desktop sends besides the CORS-safelisted headers. */
const DEFAULT_ALLOWED_HEADERS = 'Authorization, Content-Type, X-CSRF-TOKEN';
const EXPOSED_HEADERS = 'X-CSRF-HEADER, X-CSRF-TOKEN';
/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = '600';

export type CorsHook = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * The hook for a list of allowed origins (empty: CORS off, the hook does nothing). Headers go on
 * the raw response so that routes which hijack the reply (CometD) carry them too.
 */
export const corsHook = (origins: readonly string[]): CorsHook => {
  const allowed = new Set(origins);
  return async (request, reply) => {
    const origin = request.headers.origin;
    const raw = reply.raw;
    if (allowed.size === 0) return;
    raw.setHeader('Vary', 'Origin');
    if (typeof origin !== 'string' || !allowed.has(origin)) return;
    raw.setHeader('Access-Control-Allow-Origin', origin);
    raw.setHeader('Access-Control-Allow-Credentials', 'true');
    const preflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
    if (!preflight) {
      raw.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
      return;
    }
    const requested = request.headers['access-control-request-headers'];
    raw.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
    raw.setHeader('Access-Control-Allow-Headers', typeof requested === 'string' && requested.length > 0 ? requested : DEFAULT_ALLOWED_HEADERS);
    raw.setHeader('Access-Control-Max-Age', PREFLIGHT_MAX_AGE);
    return reply.code(204).send();
  };
};

/** Parses `--cors-origin` / CONCLAVE_CORS_ORIGIN: comma-separated origins, each scheme://host[:port]. */
export const parseCorsOrigins = (text: string | undefined): { ok: true; origins: string[] } | { ok: false; error: string } => {
  if (text === undefined || text.trim() === '') return { ok: true, origins: [] };
  const origins: string[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    let url: URL;
    try {
      url = new URL(part);
    } catch {
      return { ok: false, error: `--cors-origin: '${part}' is not an origin (scheme://host[:port])` };
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== part.replace(/\/$/, ''))
      return { ok: false, error: `--cors-origin: '${part}' is not an origin (scheme://host[:port], no path); did you mean '${url.origin}'?` };
    origins.push(url.origin);
  }
  return { ok: true, origins };
};
