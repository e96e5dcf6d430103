/**
 * Load shedding (the issue "Performance", overload item; http/shedding.ts): while the server
 * says it is overloaded, a new request is refused at once with 503 and Retry-After, in the shape
 * of its dialect (GWS: {statusCode, statusMessage} as on the GWS API reference's error responses;
 * Genesys Cloud: the ErrorBody of the Cloud API reference), and nothing is done for it; /healthz
 * and CometD's Bayeux endpoint (held /meta/connect polls) keep answering. The pressure signal is
 * injected, so the test switches overload on and off instead of loading the machine.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listen, type Listener } from '../helpers/cometd.js';
import { basic, gws } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { request as httpRequest, Agent } from 'node:http';
import { setTimeout as wait } from 'node:timers/promises';
import { busyClock, nextGate, type Gate, type PressureSignal } from '../../src/http/shedding.js';
import { parseServeConfig } from '../../src/config.js';

let server: TestServer;
let overloaded = false;
const pressure: PressureSignal = { overloaded: () => overloaded, close: () => {} };

before(async () => {
  server = await startTestServer({ pressure });
});
after(async () => {
  overloaded = false;
  await server.dispose();
});

describe('load shedding with an injected overload signal', () => {
  it('refuses a GWS write with 503, Retry-After and a GWS body, and does nothing for it', async () => {
    const ann = gws(server.url, 'agent15000');
    const device = await ann.deviceId();
    overloaded = true;
    const refused = await fetch(`${server.url}/api/v2/me/devices`, { headers: { authorization: basic('agent15000') } });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    const body = (await refused.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['statusCode', 'statusMessage']);
    assert.equal(body['statusCode'], 4);
    assert.match(String(body['statusMessage']), /overloaded/);

    const dial = await ann.post(`/api/v2/me/devices/${device}/calls`, { operationName: 'Dial', destination: { phoneNumber: '15001' } });
    assert.equal(dial.status, 503, 'a Dial while overloaded is refused');
    overloaded = false;
    const calls = await ann.get('/api/v2/me/calls');
    assert.equal(calls.status, 200, 'once the pressure is gone, requests are served again');
    assert.deepEqual(calls.body.uris ?? [], [], 'the refused Dial made no call');
  });

  it('answers /cloud in the Genesys Cloud ErrorBody shape', async () => {
    overloaded = true;
    const refused = await fetch(`${server.url}/cloud/api/v2/users/me`, { headers: { authorization: 'Bearer whatever' } });
    overloaded = false;
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    const body = (await refused.json()) as Record<string, unknown>;
    assert.equal(body['status'], 503);
    assert.equal(body['code'], 'service.unavailable');
    assert.equal(typeof body['contextId'], 'string');
    assert.ok(!('statusCode' in body), 'not a GWS body');
  });

  it('keeps /healthz and CometD (handshake, held polls, delivery) answering while overloaded', async () => {
    const ben: Listener = await listen(server.url, 'agent15001');
    try {
      overloaded = true;
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      // A new CometD session can still handshake and connect, and a held poll still returns.
      const cleo = await listen(server.url, 'agent15002');
      await cleo.caughtUp();
      await ben.caughtUp();
      await cleo.disconnect();
    } finally {
      overloaded = false;
      await ben.disconnect();
    }
  });

  it('makes a client that re-sends on the same connection before Retry-After wait it out, and answers a new connection at once', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (via: Agent) =>
      new Promise<{ status: number; ms: number; socket: unknown }>((resolve, reject) => {
        const t0 = performance.now();
        const req = httpRequest(`${server.url}/api/v2/me/devices`, { agent: via, headers: { authorization: basic('agent15000') } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, socket: req.socket }));
        });
        req.on('error', reject);
        req.end();
      });
    const other = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      overloaded = true;
      const first = await get(agent);
      assert.equal(first.status, 503);
      const again = await get(agent);
      assert.equal(again.status, 503, 'still refused, with a clear answer');
      assert.equal(again.socket, first.socket, 'on the same keep-alive connection');
      assert.ok(again.ms >= 900, `the early retry was answered only once Retry-After (1 s) had passed (took ${again.ms.toFixed(0)} ms)`);
      const fresh = await get(other);
      assert.equal(fresh.status, 503);
      assert.ok(fresh.ms < again.ms, 'a connection not yet refused is answered at once');
      overloaded = false;
      assert.equal((await get(agent)).status, 200, 'once the pressure is gone, the same connection is served');
    } finally {
      overloaded = false;
      agent.destroy();
      other.destroy();
    }
  });

  it('has a flag: --shed-delay-ms 0 turns it off, and a bad value is named', () => {
    const off = parseServeConfig(['--shed-delay-ms', '0'], {});
    assert.ok(off.ok && off.config.shedDelayMs === 0);
    const on = parseServeConfig([], {});
    assert.ok(on.ok && on.config.shedDelayMs === 100);
    const bad = parseServeConfig(['--shed-delay-ms', 'fast'], {});
    assert.ok(!bad.ok && /--shed-delay-ms/.test(bad.error) && /'fast'/.test(bad.error));
  });
});

describe('the event-loop pressure signal', () => {
  it('measures how long the loop has been busy without waiting for I/O, and starts again after it has waited', () => {
    // libuv's idle time and the clock, stepped by hand: the rule, not this machine's timing.
    let idle = 100;
    let now = 1000;
    const busyFor = busyClock(
      () => idle,
      () => now,
    );
    idle += 5;
    now += 5;
    assert.equal(busyFor(), 0, 'a request arriving after the loop waited finds it not busy');
    now += 30;
    assert.equal(busyFor(), 30, 'no wait since: busy for 30 ms');
    now += 30;
    assert.equal(busyFor(), 60, 'still no wait: 60 ms');
    idle += 1;
    now += 2;
    assert.equal(busyFor(), 0, 'after the loop has waited again, it is not busy');
    now += 7;
    assert.equal(busyFor(), 7);
  });

  it('reads the real event loop: a turn busy for 60 ms is measured as at least that', () => {
    const busyFor = busyClock();
    busyFor();
    const t0 = performance.now();
    while (performance.now() - t0 < 60);
    assert.ok(busyFor() >= 60);
  });

  it('arms after two slow windows in a row (or one far above), and disarms only after enough calm windows in a row (nothing shed, delay back under)', () => {
    const T = 20;
    const CALM = 3;
    const off = (count: number): Gate => ({ armed: false, count });
    const on = (count: number): Gate => ({ armed: true, count });
    // [gate before, window (delay p99, requests shed), gate after]
    const rows: [Gate, { delayP99Ms: number; shed: number }, Gate][] = [
      [off(0), { delayP99Ms: 5, shed: 0 }, off(0)],
      [off(0), { delayP99Ms: 35, shed: 0 }, off(1)],
      [off(1), { delayP99Ms: 10, shed: 0 }, off(0)], // one slow window (a GC, a cold start) is not overload
      [off(1), { delayP99Ms: 35, shed: 0 }, on(0)],
      [off(0), { delayP99Ms: 101, shed: 0 }, on(0)], // far above (5×): at once
      [on(0), { delayP99Ms: 10, shed: 12 }, on(0)], // shedding is what keeps the delay down: stays armed
      [on(0), { delayP99Ms: 35, shed: 0 }, on(0)],
      [on(0), { delayP99Ms: 10, shed: 0 }, on(1)],
      [on(1), { delayP99Ms: 10, shed: 0 }, on(2)],
      [on(2), { delayP99Ms: 10, shed: 1 }, on(0)], // a refused client may be back: calm starts over
      [on(2), { delayP99Ms: 10, shed: 0 }, off(0)],
    ];
    for (const [before, window, after] of rows) assert.deepEqual(nextGate(before, window, T, CALM), after, JSON.stringify({ before, window }));
  });
});
