/**
 * Notifications received exactly as an integrator receives them: the official CometD JavaScript
 * client (`cometd`) on Node through `cometd-nodejs-client`, long-polling, with the ack extension.
 */
import { AckExtension, CometD, type Message } from 'cometd';
import { adapt } from 'cometd-nodejs-client';
import { basic } from './gws.js';

adapt();

export interface Notification {
  readonly channel: string;
  readonly data: any;
}

export interface Listener {
  readonly user: string;
  /** Everything received so far, in order. */
  readonly received: Notification[];
  /** Resolves with the first notification (already received or future) that matches. */
  next(match: (n: Notification) => boolean, timeoutMs?: number, what?: string): Promise<Notification>;
  /**
   * Resolves, with everything received so far, once this client has received whatever the server
   * had queued for it when `caughtUp` was called (see connectBarrier). Conclave queues a request's
   * notifications before it answers the request, so after a reply `caughtUp` shows every
   * notification that request sent this user — and that it sent none, if none came. This is the
   * barrier to use before taking a mark, or before asserting that nothing was sent; it takes up to
   * two poll timeouts (a held connect, then the next one), not a guessed quiet period.
   */
  caughtUp(timeoutMs?: number): Promise<Notification[]>;
  disconnect(): Promise<void>;
}

export const CHANNELS = ['/v2/me/calls', '/v2/me/devices', '/v2/me/channels', '/v2/me/chats'];

/**
 * A barrier on a CometD client's own long poll: call it before the handshake; the function it
 * returns resolves once a /meta/connect that the client sent after that call has been answered
 * successfully. The server answers a connect with every message it holds for the session, ahead
 * of the connect reply, and the client dispatches them before it tells /meta/connect listeners;
 * so by then the client has received whatever the server had queued for it when the function was
 * called. (Connects are sequential: the messages of earlier replies were dispatched before.)
 */
export const connectBarrier = (cometd: CometD, user: string): ((timeoutMs?: number) => Promise<void>) => {
  let sent = 0;
  const seqOf = new Map<string, number>();
  const barriers: { after: number; resolve: () => void }[] = [];
  cometd.registerExtension('caught-up', {
    outgoing: (message: Message) => {
      if (message.channel === '/meta/connect' && message.id !== undefined) seqOf.set(String(message.id), ++sent);
      return message;
    },
  });
  cometd.addListener('/meta/connect', (reply: Message) => {
    const seq = seqOf.get(String(reply.id));
    seqOf.delete(String(reply.id));
    if (!reply.successful || seq === undefined) return;
    for (const b of [...barriers])
      if (seq > b.after) {
        barriers.splice(barriers.indexOf(b), 1);
        b.resolve();
      }
  });
  return (timeoutMs = 15_000) =>
    new Promise<void>((resolve, reject) => {
      const barrier = { after: sent, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        barriers.splice(barriers.indexOf(barrier), 1);
        reject(new Error(`${user}: no /meta/connect sent after the barrier was answered within ${timeoutMs} ms`));
      }, timeoutMs);
      barriers.push(barrier);
    });
};

export const listen = async (baseUrl: string, user: string, password = user, channels = CHANNELS): Promise<Listener> => {
  const cometd = new CometD();
  cometd.unregisterTransport('websocket');
  cometd.registerExtension('ack', new AckExtension());
  cometd.configure({ url: `${baseUrl}/api/v2/notifications`, requestHeaders: { Authorization: basic(user, password) }, logLevel: 'warn' });
  const received: Notification[] = [];
  const waiters: { match: (n: Notification) => boolean; resolve: (n: Notification) => void }[] = [];
  const caughtUp = connectBarrier(cometd, user);
  const onMessage = (message: Message) => {
    const n = { channel: message.channel, data: message.data };
    received.push(n);
    for (const w of [...waiters]) if (w.match(n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(n);
    }
  };
  await new Promise<void>((resolve, reject) => {
    // Every (re-)handshake clears subscriptions: subscribe inside the handshake callback.
    cometd.handshake((reply) => {
      if (!reply.successful) return reject(new Error(`handshake failed for ${user}: ${reply.error ?? JSON.stringify(reply)}`));
      let pending = channels.length;
      for (const channel of channels)
        cometd.subscribe(channel, onMessage, (sub) => {
          if (!sub.successful) reject(new Error(`subscribe ${channel} failed: ${sub.error}`));
          else if (--pending === 0) resolve();
        });
    });
  });
  return {
    user,
    received,
    next: (match, timeoutMs = 5000, what = 'a matching notification') => {
      const found = received.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve: (n: Notification) => (clearTimeout(timer), resolve(n)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`${user} did not receive ${what} within ${timeoutMs} ms; received: ${JSON.stringify(received.map((r) => [r.channel, r.data.notificationType ?? r.data.messageType, r.data.call?.state]))}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    caughtUp: async (timeoutMs) => {
      await caughtUp(timeoutMs);
      return received;
    },
    disconnect: () => new Promise<void>((resolve) => cometd.disconnect(() => resolve())),
  };
};

/** Matches a call notification by type, call id and state. */
export const callNote =
  (notificationType: string, where: { id?: string; state?: string; callType?: string } = {}) =>
  (n: Notification) =>
    n.channel === '/v2/me/calls' &&
    n.data.notificationType === notificationType &&
    (where.id === undefined || n.data.call.id === where.id) &&
    (where.state === undefined || n.data.call.state === where.state) &&
    (where.callType === undefined || n.data.call.callType === where.callType);
