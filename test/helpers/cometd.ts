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
  /** Waits until `ms` pass with nothing new, then returns what arrived since `from`. */
  settle(from?: number, ms?: number): Promise<Notification[]>;
  disconnect(): Promise<void>;
}

export const CHANNELS = ['/v2/me/calls', '/v2/me/devices', '/v2/me/channels', '/v2/me/chats'];

export const listen = async (baseUrl: string, user: string, password = user, channels = CHANNELS): Promise<Listener> => {
  const cometd = new CometD();
  cometd.unregisterTransport('websocket');
  cometd.registerExtension('ack', new AckExtension());
  cometd.configure({ url: `${baseUrl}/api/v2/notifications`, requestHeaders: { Authorization: basic(user, password) }, logLevel: 'warn' });
  const received: Notification[] = [];
  const waiters: { match: (n: Notification) => boolean; resolve: (n: Notification) => void }[] = [];
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
    settle: async (from = 0, ms = 300) => {
      let count = -1;
      while (count !== received.length) {
        count = received.length;
        await new Promise((r) => setTimeout(r, ms));
      }
      return received.slice(from);
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
