/**
 * Every use of cometd-nodejs-server's private state, in one place.
 *
 * Written against cometd-nodejs-server 1.2.1 (pinned exactly in package.json), and pinned by
 * test/unit/cometd-internals.test.ts, which runs the real library and fails if these change.
 * Review both functions whenever the library is upgraded.
 *
 * They rely on two private fields of the server session object that the long-polling transport
 * (HTTPTransport in cometd-nodejs-server.js) manages:
 *
 * - `session._browserId`: set by the transport after a successful /meta/handshake to the value of
 *   the browser cookie (`BAYEUX_BROWSER` by default) it found on the request or just set with
 *   Set-Cookie. The transport finds a session only through that cookie; the public ServerSession
 *   API (cometd-nodejs-server.d.ts) exposes no browser id, and there is no option to look
 *   sessions up by clientId instead.
 *
 * - `session._scheduler`: while a /meta/connect is held (suspended) the transport keeps its
 *   scheduler here (null otherwise); its `_expired()` answers the held poll exactly as its timeout
 *   would (a successful reply; the session is kept). The public API can only
 *   answer a held poll by delivering a message to the session (which would reach the client) or
 *   end it with `disconnect()` (which ends the session as well), and `CometDServer.close()` only
 *   stops the sweeper, so there is no public way to release a held poll and leave the session as
 *   it was.
 */
import type { ServerSession } from 'cometd-nodejs-server';

/** The private parts of a 1.2.1 server session used here; all optional, as nothing guarantees them. */
interface SessionInternals {
  _browserId?: unknown;
  _scheduler?: { _expired?: unknown } | null;
}

const internalsOf = (session: ServerSession): SessionInternals => session as unknown as SessionInternals;

/**
 * The browser id (the value of the transport's browser cookie) a handshaken session was bound to,
 * or undefined if the session has none (not handshaken over HTTP, or the library changed).
 */
export const browserIdOf = (session: ServerSession): string | undefined => {
  const browserId = internalsOf(session)._browserId;
  return typeof browserId === 'string' && browserId !== '' ? browserId : undefined;
};

/**
 * Answers the session's held /meta/connect now, as its timeout would, so that the client re-polls;
 * the session stays. Returns whether a held poll was found and released (false if none is held).
 */
export const releaseHeldPoll = (session: ServerSession): boolean => {
  const scheduler = internalsOf(session)._scheduler;
  if (typeof scheduler !== 'object' || scheduler === null || typeof scheduler._expired !== 'function') return false;
  scheduler._expired.call(scheduler);
  return true;
};
