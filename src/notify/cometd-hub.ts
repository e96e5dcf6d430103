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
  authenticate(headers: IncomingHttpHeaders): { id: string } | undefined;
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
    const browserId = (session as { _browserId?: string } | undefined)?._browserId;
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
      const user = request ? options.authenticate(request.headers) : undefined;
      if (!user) return callback(undefined, false);
      const sessions = sessionsByUser.get(user.id) ?? new Set<ServerSession>();
      if (sessions.size >= maxPerUser) return callback(undefined, false);
      sessions.add(session);
      sessionsByUser.set(user.id, sessions);
      sessionsById.set(session.id, session);
      session.addListener('removed', () => {
        sessionsById.delete(session.id);
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
      routeByClientId(request);
      server.handle(request, response);
    },
    deliver(userId, channel, data) {
      for (const session of sessionsByUser.get(userId) ?? []) session.deliver(null, channel, data);
    },
    sessionCount: (userId) => sessionsByUser.get(userId)?.size ?? 0,
    close() {
      // Answer every held /meta/connect now, as its timeout would, so that clients re-poll (and
      // reach the next process) instead of seeing a dropped connection. The server's own close()
      // only stops its sweeper; the session scheduler is internal to 1.2.1 (pinned).
      for (const session of sessionsById.values()) {
        const scheduler = (session as { _scheduler?: { _expired?: () => void } | null })._scheduler;
        scheduler?._expired?.call(scheduler);
      }
      server.close();
    },
  };
};

/** The CometD server's default browser cookie name. */
const BROWSER_COOKIE = 'BAYEUX_BROWSER';

const isAllowedChannel = (name: string): boolean => (GWS_CHANNELS as readonly string[]).includes(name);
