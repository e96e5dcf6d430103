/**
 * Pins what src/notify/cometd-internals.ts relies on in cometd-nodejs-server's private state,
 * against the real library: a real CometD server on a real HTTP server, and the official CometD
 * client (`cometd` through `cometd-nodejs-client`, long-polling). If an upgrade renames or changes
 * `_browserId` or `_scheduler._expired`, these tests fail.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { CometD, type Message } from 'cometd';
import { adapt } from 'cometd-nodejs-client';
import cometdServer, { type CometDServer, type ServerSession } from 'cometd-nodejs-server';
import { browserIdOf, releaseHeldPoll } from '../../src/notify/cometd-internals.js';

adapt();

/** Far longer than any wait below, so only a release can answer a held poll in time. */
const POLL_TIMEOUT = 20_000;
/** "Promptly": a released poll must be answered within this, a tenth of its timeout. */
const PROMPT_MS = 2_000;
const BROWSER_COOKIE = 'BAYEUX_BROWSER';

/** A growing record of events, with a wait for a condition on it (the timeout only fails the wait). */
class Record<T> {
  readonly items: T[] = [];
  private readonly checks = new Set<() => void>();

  push(item: T): void {
    this.items.push(item);
    for (const check of [...this.checks]) check();
  }

  until(condition: (items: T[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition(this.items)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition(this.items)) return;
        clearTimeout(timer);
        this.checks.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.checks.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.items)}`));
      }, timeoutMs);
      this.checks.add(check);
    });
  }
}

describe('cometd-nodejs-server 1.2.1 internals (cometd-internals.ts)', () => {
  let http: Server;
  let server: CometDServer;
  let client: CometD;
  let session: ServerSession;
  let clientId: string;
  /** Every Set-Cookie value the CometD server set, and every Cookie header it received. */
  const setCookies: string[] = [];
  const requestCookies: string[] = [];
  /** Server side: each held /meta/connect (with its hold time), and each resume (expired or woken). */
  const suspended = new Record<{ session: string; timeout: number }>();
  const resumed = new Record<{ session: string; expired: boolean }>();
  /** Client side: each /meta/connect and /meta/handshake reply. */
  const connects = new Record<{ successful: boolean; at: number }>();
  const handshakes = new Record<{ successful: boolean }>();

  before(async () => {
    // As the hub configures it (src/notify/cometd-hub.ts).
    server = cometdServer.createCometDServer({ timeout: POLL_TIMEOUT, maxSessionsPerBrowser: -1 });
    server.addListener('sessionAdded', (added: ServerSession) => {
      added.addListener('suspended', (s: ServerSession, _m: unknown, timeout: number) => suspended.push({ session: s.id, timeout }));
      added.addListener('resumed', (s: ServerSession, _m: unknown, expired: boolean) => resumed.push({ session: s.id, expired }));
    });
    http = createServer((request, response) => {
      if (request.headers.cookie) requestCookies.push(request.headers.cookie);
      const setHeader = response.setHeader;
      response.setHeader = (name, value) => {
        if (name.toLowerCase() === 'set-cookie') setCookies.push(...[value].flat().map(String));
        return setHeader.call(response, name, value);
      };
      server.handle(request, response);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;

    client = new CometD();
    client.unregisterTransport('websocket');
    client.configure({ url: `http://127.0.0.1:${port}/cometd`, logLevel: 'warn' });
    client.addListener('/meta/connect', (m: Message) => connects.push({ successful: m.successful === true, at: performance.now() }));
    client.addListener('/meta/handshake', (m: Message) => handshakes.push({ successful: m.successful === true }));
    await new Promise<void>((resolve, reject) =>
      client.handshake((reply) => (reply.successful ? resolve() : reject(new Error(`handshake failed: ${JSON.stringify(reply)}`)))),
    );
    const id = client.getClientId();
    assert.ok(id, 'the client has a clientId after its handshake');
    clientId = id;
    session = server.getServerSession(clientId);
    assert.ok(session, 'the server knows the handshaken session');
  });

  after(async () => {
    await new Promise<void>((resolve) => client.disconnect(() => resolve()));
    server.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  it('browserIdOf gives the BAYEUX_BROWSER cookie value the server set at the handshake', async () => {
    const browserId = browserIdOf(session);
    assert.equal(typeof browserId, 'string', 'session._browserId is a string once handshaken');
    assert.notEqual(browserId, '');

    const browserCookies = setCookies.filter((c) => c.startsWith(`${BROWSER_COOKIE}=`));
    assert.equal(browserCookies.length, 1, `one browser cookie set; Set-Cookie values: ${JSON.stringify(setCookies)}`);
    const cookieValue = browserCookies[0]!.split(';')[0]!.slice(BROWSER_COOKIE.length + 1);
    assert.equal(browserId, cookieValue);

    // And it is the id the transport finds the session by: the client's next poll carries that
    // cookie and is held on this very session.
    await suspended.until((s) => s.some((e) => e.session === clientId), 5_000, 'the first held /meta/connect');
    assert.ok(
      requestCookies.some((c) => c.split(';').some((part) => part.trim() === `${BROWSER_COOKIE}=${browserId}`)),
      `the client sent the cookie back; Cookie headers: ${JSON.stringify(requestCookies)}`,
    );
  });

  it('releaseHeldPoll answers a held /meta/connect promptly, and the session carries on', async () => {
    await suspended.until((s) => s.length >= 1, 5_000, 'a held /meta/connect');
    assert.deepEqual(suspended.items[0], { session: clientId, timeout: POLL_TIMEOUT }, 'the poll is held for the configured timeout');
    assert.equal(resumed.items.length, 0, 'nothing has answered the held poll yet');

    const answeredBefore = connects.items.length;
    const releasedAt = performance.now();
    assert.equal(releaseHeldPoll(session), true, 'a held poll was found (session._scheduler._expired)');
    assert.equal(releaseHeldPoll(session), false, 'once released, no poll is held');
    assert.deepEqual(resumed.items, [{ session: clientId, expired: true }], 'released as its timeout would release it');

    await connects.until((c) => c.length > answeredBefore, PROMPT_MS, `the released /meta/connect reply within ${PROMPT_MS} ms`);
    const answer = connects.items[answeredBefore]!;
    assert.equal(answer.successful, true, 'the released poll is answered successfully');
    assert.ok(answer.at - releasedAt < PROMPT_MS, `answered ${Math.round(answer.at - releasedAt)} ms after the release`);

    // The session survives: the client's next /meta/connect is held on the same session, without a
    // new handshake, and succeeds when released in turn.
    await suspended.until((s) => s.length >= 2, 5_000, 'the next held /meta/connect');
    assert.equal(suspended.items[1]?.session, clientId);
    assert.equal(server.getServerSession(clientId), session, 'the server still has the session');
    assert.equal(client.getClientId(), clientId, 'the client kept its clientId');
    assert.equal(handshakes.items.length, 1, 'no re-handshake');

    const answeredNext = connects.items.length;
    assert.equal(releaseHeldPoll(session), true);
    await connects.until((c) => c.length > answeredNext, PROMPT_MS, 'the next /meta/connect reply');
    assert.equal(connects.items[answeredNext]!.successful, true, "the client's next connect succeeds");
    assert.equal(client.isDisconnected(), false);
  });
});
