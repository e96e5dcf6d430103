/**
 * A worker thread holding many CometD sessions with the official client (`cometd` +
 * `cometd-nodejs-client`), long-polling with the ack extension, as the test helper and an
 * integrator's agent desktop do. It counts what every session receives and forwards the
 * watched users' call notifications, stamped on arrival, to the main thread.
 *
 * All sessions of a worker share the adapter's one cookie jar (it stores server cookies
 * globally, whatever the transport context says), so they all present the same BAYEUX_BROWSER
 * cookie: the server must find a session by its clientId, which Conclave's hub does.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AckExtension, CometD, type Message } from 'cometd';
import { adapt } from 'cometd-nodejs-client';
import { basic } from '../lib/directory.js';
import { nowMs } from '../lib/stats.js';
import type { Counts, FromWorker, Note, Ready, ToWorker, WorkerInit } from './protocol.js';

adapt();

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('cometd/worker.js must run in a worker thread');
const post = (message: FromWorker) => port.postMessage(message);

let received = 0;
const byType: Record<string, number> = {};
const watched = new Set(init.watch);
const sessions: CometD[] = [];

const connect = (user: string): Promise<CometD> =>
  new Promise((resolve, reject) => {
    const cometd = new CometD();
    // Conclave (like GWS 8.5) serves long-polling only: skip the WebSocket attempt.
    cometd.unregisterTransport('websocket');
    cometd.registerExtension('ack', new AckExtension());
    cometd.configure({ url: `${init.baseUrl}/api/v2/notifications`, requestHeaders: { Authorization: basic(user) }, logLevel: 'warn' });
    const watch = watched.has(user);
    const onMessage = (message: Message) => {
      received++;
      const data = message.data as { notificationType?: string; messageType?: string; call?: { id?: string; state?: string; participants?: { phoneNumber: string }[] } };
      const type = data?.notificationType ?? data?.messageType ?? 'other';
      byType[type] = (byType[type] ?? 0) + 1;
      if (watch && message.channel === '/v2/me/calls') {
        const note: Note = {
          kind: 'note',
          user,
          t: nowMs(),
          notificationType: type,
          callId: data.call?.id ?? '',
          state: data.call?.state ?? '',
          participants: data.call?.participants?.map((p) => p.phoneNumber) ?? [],
        };
        post(note);
      }
    };
    let first = true;
    const timer = setTimeout(() => reject(new Error(`${user}: no handshake within 30 s`)), 30_000);
    // Every (re-)handshake clears subscriptions, so subscribe inside the handshake callback;
    // one batch carries all the subscriptions in one request.
    cometd.handshake((reply) => {
      if (!reply.successful) {
        if (first) {
          first = false;
          clearTimeout(timer);
          cometd.disconnect();
          reject(new Error(`${user}: handshake failed: ${reply.error ?? JSON.stringify(reply)}`));
        }
        return;
      }
      let pending = init.channels.length;
      cometd.batch(() => {
        for (const channel of init.channels)
          cometd.subscribe(channel, onMessage, (sub) => {
            if (!first) return;
            if (!sub.successful) {
              first = false;
              clearTimeout(timer);
              reject(new Error(`${user}: subscribe ${channel} failed: ${sub.error}`));
            } else if (--pending === 0) {
              first = false;
              clearTimeout(timer);
              resolve(cometd);
            }
          });
      });
    });
  });

const connectAll = async () => {
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const lane = async () => {
    while (next < init.users.length) {
      const user = init.users[next++] as string;
      try {
        sessions.push(await connect(user));
      } catch (error) {
        failed++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(init.concurrency, init.users.length) }, lane));
  const ready: Ready = { kind: 'ready', connected: sessions.length, failed, ...(firstError ? { firstError } : {}) };
  post(ready);
};

port.on('message', (message: ToWorker) => {
  if (message.cmd === 'counts') {
    const counts: Counts = { kind: 'counts', received, byType: { ...byType } };
    post(counts);
  }
});

void connectAll();
