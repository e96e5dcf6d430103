/**
 * Connection hygiene: how long a client may take to send its headers and its request, how long
 * an idle socket is kept, and how many sockets one client address may hold at once. An idle or
 * slow socket costs a file descriptor and memory and nothing else, so without these a few
 * thousand of them (slowloris) would make the server unreachable for everyone else.
 *
 * CometD long polls are long by design: a held /meta/connect is a request fully received, then a
 * response withheld for pollTimeout. Node's request and headers timeouts only time the receiving
 * of a request, so they never cut a held poll; the socket idle timeout would, so it is kept above
 * pollTimeout whatever it is configured to.
 */
import type { Server, Socket } from 'node:net';

export interface ConnectionLimits {
  /** The whole header block must arrive within this (ms); else 408 and the socket is closed. */
  readonly headersTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this (ms). */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive socket between two requests is closed after this (ms). */
  readonly keepAliveTimeoutMs: number;
  /** A socket with no traffic at all (in or out) is closed after this (ms); kept above pollTimeout. */
  readonly idleTimeoutMs: number;
  /** The most sockets one client address may hold open; beyond it a new one gets 429 and is closed. */
  readonly maxConnectionsPerAddress: number;
  /** How often Node checks headers/request timeouts (ms); tests shorten it. */
  readonly checkIntervalMs: number;
}

/**
 * Production defaults. 8192 sockets per address: the benchmark runs 2,000 CometD sessions (a held
 * poll and a request socket each) and its load generators from 127.0.0.1, and an office behind
 * one NAT address is a single client too; a flood from one address still stops far below the
 * process's file descriptor limit.
 */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 30_000,
  // Above the 60 s idle timeout of common load balancers, so they close first (no reset race).
  keepAliveTimeoutMs: 72_000,
  idleTimeoutMs: 120_000,
  maxConnectionsPerAddress: 8192,
  checkIntervalMs: 5_000,
};

/** A held poll is silent for pollTimeout, then answered: this much more is room for a slow answer. */
const HELD_POLL_MARGIN_MS = 5_000;

/** The effective limits: the idle timeout never below a held poll plus a margin. */
export const connectionLimits = (given: Partial<ConnectionLimits> = {}, pollTimeoutMs = 30_000): ConnectionLimits => {
  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...given };
  const headersTimeoutMs = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return { ...limits, headersTimeoutMs, idleTimeoutMs: Math.max(limits.idleTimeoutMs, pollTimeoutMs + HELD_POLL_MARGIN_MS) };
};

/** Fastify's own options for the timeouts (connectionTimeout = the socket idle timeout). */
export const fastifyTimeoutOptions = (limits: ConnectionLimits) => ({
  connectionTimeout: limits.idleTimeoutMs,
  keepAliveTimeout: limits.keepAliveTimeoutMs,
  requestTimeout: limits.requestTimeoutMs,
  http: { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: limits.checkIntervalMs },
});

/** ::ffff:127.0.0.1 and 127.0.0.1 are one client. */
const addressOf = (socket: Socket): string => (socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');

const REFUSAL_BODY = (max: number) =>
  JSON.stringify({ statusCode: 1, statusMessage: `too many connections from this address (at most ${max} at once): close some and retry` });

/**
 * Counts each address's open sockets. A socket over the limit never reaches the HTTP parser: the
 * server's own connection listeners are moved behind this gate, so a refused socket is answered a
 * 429 with its reason and closed, and no request on it is ever read.
 */
export const limitConnectionsPerAddress = (server: Server, max: number): { open(address: string): number } => {
  const open = new Map<string, number>();
  const inner = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const address = addressOf(socket);
    const count = open.get(address) ?? 0;
    if (count >= max) {
      const body = REFUSAL_BODY(max);
      socket.on('error', () => {});
      socket.end(
        `HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 1\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      // A client that never reads must not keep even a refused socket.
      setTimeout(() => socket.destroy(), 2_000).unref();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
    for (const listener of inner) listener.call(server, socket);
  });
  return { open: (address) => open.get(address) ?? 0 };
};
