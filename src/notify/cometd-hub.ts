/**
 * The CometD side of notifications, on the CometD project's own Node server (long-polling, with
 * the acknowledged-messages extension so nothing is lost across reconnects). Every user shares
 * the channel names (`/v2/me/calls`, ...), as in GWS, and each receives only their own view:
 * delivery is per server session, never a broadcast, so subscribing to a name grants nothing.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import cometd from 'cometd-nodejs-server';
import ackExtension from 'cometd-nodejs-server/ack-extension.js';
import type { ServerSession } from 'cometd-nodejs-server';
import { browserIdOf, releaseHeldPoll } from './cometd-internals.js';

/** The notification channels a client may subscribe to. */
export const GWS_CHANNELS = ['/v2/me/calls', '/v2/me/chats', '/v2/me/devices', '/v2/me/channels', '/v2/me'] as const;
export type GwsChannel = (typeof GWS_CHANNELS)[number];

export interface CometdHub {
  /** Handles one Bayeux HTTP request whose JSON body has already been parsed (size-limited). */
  handle(request: IncomingMessage & { body?: unknown }, response: ServerResponse): void;
  deliver(userId: string, channel: GwsChannel, data: unknown): void;
  /** How many live CometD sessions a user has. */
  sessionCount(userId: string): number;
  close(): void;
}

export interface CometdHubOptions {
  /** The user these request headers authenticate, or undefined (the handshake is then denied). */
  authenticate(headers: IncomingHttpHeaders, address: string): { id: string } | undefined;
  /** How long a /meta/connect is held, in ms (CometD's `timeout`). */
  pollTimeout?: number;
  /** The most CometD sessions one user may hold at once; beyond it the handshake is denied. */
  maxSessionsPerUser?: number;
}

export const createCometdHub = (options: CometdHubOptions): CometdHub => {
  const server = cometd.createCometDServer({
    // One browser (cookie jar) may carry several users' sessions, as integration tests and
    // desktop containers do; the default of 1 would slow every extra session to 2 s polls.
    maxSessionsPerBrowser: -1,
    timeout: options.pollTimeout ?? 30_000,
  });
  server.addExtension(new ackExtension.AcknowledgedMessagesExtension());
  const maxPerUser = options.maxSessionsPerUser ?? 64;

  const sessionsByUser = new Map<string, Set<ServerSession>>();
  const sessionsById = new Map<string, ServerSession>();
  const ownerOf = new Map<string, string>();

  /**
   * A clientId is not a credential: every Bayeux request is authenticated like any /api/v2
   * request, and a message naming a session that belongs to someone else (or sent with no valid
   * credentials) is made to name no session, so the server answers 402::session_unknown and
   * delivers nothing of the owner's.
   */
  /**
   * Each Bayeux request is authenticated once (a wrong password is one failed login for the
   * throttle, not one per check); the handshake policy reads the same answer.
   */
  const userOf = new WeakMap<IncomingMessage, { id: string } | null>();
  const authenticated = (request: IncomingMessage) => {
    let user = userOf.get(request);
    if (user === undefined) {
      user = options.authenticate(request.headers, (request.socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '')) ?? null;
      userOf.set(request, user);
    }
    return user ?? undefined;
  };

  const guardSessions = (request: IncomingMessage, messages: BayeuxMessage[]) => {
    const user = authenticated(request);
    for (const message of messages) {
      if (typeof message.clientId !== 'string') continue;
      const owner = ownerOf.get(message.clientId);
      if (owner !== undefined && owner !== user?.id) message.clientId = 'not-yours';
    }
  };

  /**
   * cometd-nodejs-server 1.2.1 finds a session only through its browser cookie, so two clients
   * sharing a cookie jar (one process, several users) lose their sessions when their handshakes
   * overlap, and clients without cookies cannot connect at all. Bayeux identifies a session by
   * its clientId: restore that by presenting the session's own browser cookie with its messages.
   */
  const routeByClientId = (request: IncomingMessage & { body?: unknown }) => {
    const first = Array.isArray(request.body) ? request.body[0] : request.body;
    const clientId = typeof first === 'object' && first !== null ? (first as { clientId?: unknown }).clientId : undefined;
    const session = typeof clientId === 'string' ? sessionsById.get(clientId) : undefined;
    const browserId = session ? browserIdOf(session) : undefined;
    if (!browserId) return;
    const others = (request.headers.cookie ?? '')
      .split(';')
      .map((c) => c.trim())
      .filter((c) => c !== '' && !c.startsWith(`${BROWSER_COOKIE}=`));
    request.headers.cookie = [...others, `${BROWSER_COOKIE}=${browserId}`].join('; ');
  };

  server.policy = {
    canHandshake(session, _message, callback) {
      // server.context holds this request only while it is being processed: read it now.
      const request = (server.context as { request?: IncomingMessage }).request;
      const user = request ? authenticated(request) : undefined;
      if (!user) return callback(undefined, false);
      const sessions = sessionsByUser.get(user.id) ?? new Set<ServerSession>();
      if (sessions.size >= maxPerUser) return callback(undefined, false);
      sessions.add(session);
      sessionsByUser.set(user.id, sessions);
      sessionsById.set(session.id, session);
      ownerOf.set(session.id, user.id);
      session.addListener('removed', () => {
        sessionsById.delete(session.id);
        ownerOf.delete(session.id);
        sessions.delete(session);
        if (sessions.size === 0) sessionsByUser.delete(user.id);
      });
      callback(undefined, true);
    },
    canCreate: (_session, _message, channelName, callback) => callback(undefined, isAllowedChannel(channelName)),
    canSubscribe: (_session, _message, channel, callback) => callback(undefined, isAllowedChannel(channel.name)),
    // Notifications flow from the server only.
    canPublish: (_session, _message, _channel, callback) => callback(undefined, false),
  };

  return {
    handle(request, response) {
      const messages = bayeuxMessages(request.body);
      if (typeof messages === 'string') return refuseBody(response, messages);
      request.body = messages;
      guardSessions(request, messages);
      routeByClientId(request);
      try {
        server.handle(request, response);
      } catch (error) {
        // The CometD server assumes well-formed input; whatever still trips it is the client's.
        if (!response.headersSent) refuseBody(response, `the Bayeux message could not be processed: ${(error as Error).message}`);
      }
    },
    deliver(userId, channel, data) {
      for (const session of sessionsByUser.get(userId) ?? []) session.deliver(null, channel, data);
    },
    sessionCount: (userId) => sessionsByUser.get(userId)?.size ?? 0,
    close() {
      // Answer every held /meta/connect now, as its timeout would, so that clients re-poll (and
      // reach the next process) instead of seeing a dropped connection. The server's own close()
      // only stops its sweeper (see cometd-internals.ts).
      for (const session of sessionsById.values()) releaseHeldPoll(session);
      server.close();
    },
  };
};

interface BayeuxMessage {
  channel: string;
  clientId?: unknown;
  [key: string]: unknown;
}

/** Deepest nesting a Bayeux message may have (the CometD server serializes it recursively). */
const MAX_DEPTH = 32;

const depthOf = (value: unknown): number => {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node !== 'object' || node === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_DEPTH) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
};

/**
 * A Bayeux request body as the CometD server expects it: one message object or an array of them,
 * each with a string channel, nesting bounded, a handshake alone in its request. Anything else is
 * the reason to refuse it (a string), rather than a request left unanswered.
 */
const bayeuxMessages = (body: unknown): BayeuxMessage[] | string => {
  const list = Array.isArray(body) ? body : [body];
  if (list.length === 0) return 'a Bayeux request needs at least one message';
  for (const m of list)
    if (typeof m !== 'object' || m === null || Array.isArray(m) || typeof (m as { channel?: unknown }).channel !== 'string')
      return 'every Bayeux message must be an object with a string channel';
  if (depthOf(list) > MAX_DEPTH) return `a Bayeux message may be nested at most ${MAX_DEPTH} levels deep`;
  if (list.length > 1 && list.some((m) => (m as BayeuxMessage).channel === '/meta/handshake')) return 'a handshake must be sent alone';
  return list as BayeuxMessage[];
};

const refuseBody = (response: ServerResponse, why: string) => {
  response.statusCode = 400;
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify({ statusCode: 10, statusMessage: why }));
};

/** The CometD server's default browser cookie name. */
const BROWSER_COOKIE = 'BAYEUX_BROWSER';

const isAllowedChannel = (name: string): boolean => (GWS_CHANNELS as readonly string[]).includes(name);
