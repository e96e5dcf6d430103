/**
 * Connection hygiene (CONTRACT.md "Hardening promises"; the issue "Trust: what an attacker, a
 * crash and a long-running deployment find"): thousands of idle sockets and slowloris-style slow
 * sockets on loopback, raw net.connect, while /healthz keeps answering; the per-address socket
 * limit (429 with a reason, and the limit is the address's alone); a held CometD /meta/connect is
 * not cut by the request or idle timeouts (CometD reference: the long-polling transport holds a
 * /meta/connect for `timeout` ms).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const basic = (user: string) => `Basic ${Buffer.from(`${user}:${user}`).toString('base64')}`;

/** A raw socket from a chosen loopback address (Linux routes the whole of 127/8 to lo). */
interface Raw {
  readonly socket: Socket;
  data: string;
  closed: boolean;
}
const openRaw = (port: number, localAddress = '127.0.0.1'): Promise<Raw> =>
  new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    const raw: Raw = { socket, data: '', closed: false };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (raw.data += chunk));
    socket.on('close', () => (raw.closed = true));
    socket.on('error', () => {});
    socket.once('connect', () => resolve(raw));
    socket.once('error', reject);
  });

const openMany = async (port: number, count: number, localAddress: string): Promise<Raw[]> => {
  const sockets: Raw[] = [];
  // In batches: a burst of thousands at once would overflow the listen backlog, which is the
  // kernel's business, not the server's.
  for (let i = 0; i < count; i += 200) sockets.push(...(await Promise.all(Array.from({ length: Math.min(200, count - i) }, () => openRaw(port, localAddress)))));
  return sockets;
};

/** GET /healthz from a chosen loopback address, on a fresh socket. */
const healthz = (port: number, localAddress = '127.0.0.1'): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', localAddress, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('/healthz did not answer within 5 s')));
    req.on('error', reject);
    req.end();
  });

const servers: TestServer[] = [];
const sockets: Raw[] = [];
after(async () => {
  for (const raw of sockets) raw.socket.destroy();
  for (const server of servers) await server.dispose();
});
const start = async (options: Parameters<typeof startTestServer>[0]) => {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
};

describe('connections: idle sockets', () => {
  it('3,000 idle sockets from one address (under the default limit): /healthz still answers, from that address too', async () => {
    const server = await start({});
    sockets.push(...(await openMany(server.port, 3000, '127.0.0.1')));
    assert.equal((await healthz(server.port)).status, 200);
    assert.equal((await healthz(server.port, '127.0.0.2')).status, 200);
    assert.ok(sockets.every((s) => !s.closed && s.data === ''), 'idle sockets under the limit are neither answered nor closed');
  });

  it('beyond --max-connections-per-address a socket gets 429 with the reason and is closed; other addresses are served; a freed slot is usable again', async () => {
    const server = await start({ connections: { maxConnectionsPerAddress: 300 } });
    const flood = await openMany(server.port, 2000, '127.0.0.3');
    sockets.push(...flood);
    const refused = await waitFor(
      () => {
        const r = flood.filter((s) => s.closed && s.data.startsWith('HTTP/1.1 429'));
        return r.length === 1700 ? r : undefined;
      },
      15_000,
      () => `1700 refused sockets, got ${flood.filter((s) => s.data.startsWith('HTTP/1.1 429')).length}`,
    );
    const reason = JSON.parse(refused[0]!.data.slice(refused[0]!.data.indexOf('\r\n\r\n') + 4));
    assert.equal(reason.statusCode, 1);
    assert.match(reason.statusMessage, /too many connections from this address \(at most 300/);
    const held = flood.filter((s) => !s.closed);
    assert.equal(held.length, 300, 'the first 300 are kept');
    assert.ok(held.every((s) => s.data === ''));

    assert.equal((await healthz(server.port, '127.0.0.2')).status, 200, 'another address is served');
    const same = await healthz(server.port, '127.0.0.3');
    assert.equal(same.status, 429, 'the limit is per address: the flooding address itself is refused');

    held[0]!.socket.destroy();
    await waitFor(async () => (await healthz(server.port, '127.0.0.3')).status === 200, 5000, 'a freed slot lets a request through');
  });

  it('a socket that never sends anything is closed after the idle timeout', async () => {
    const server = await start({ connections: { idleTimeoutMs: 500 } });
    const idle = await openMany(server.port, 50, '127.0.0.4');
    sockets.push(...idle);
    // The idle timeout never drops below a held poll (100 ms here) plus its 5 s margin.
    await waitFor(() => idle.every((s) => s.closed), 15_000, () => `all idle sockets closed, ${idle.filter((s) => !s.closed).length} open`, 100);
  });
});

describe('connections: slow (slowloris) sockets', () => {
  it('500 sockets sending headers a line at a time are answered 408 and closed after the headers timeout; /healthz answers meanwhile', async () => {
    const server = await start({ connections: { headersTimeoutMs: 1000, requestTimeoutMs: 2000, checkIntervalMs: 200 } });
    const slow = await openMany(server.port, 500, '127.0.0.5');
    sockets.push(...slow);
    for (const s of slow) s.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => {
      for (const s of slow) if (!s.closed) s.socket.write(`X-Slow-${Math.random().toString(36).slice(2, 6)}: y\r\n`);
    }, 100);
    try {
      assert.equal((await healthz(server.port, '127.0.0.2')).status, 200, '/healthz answers while the slow sockets drip');
      await waitFor(() => slow.every((s) => s.closed), 15_000, () => `all slow sockets closed, ${slow.filter((s) => !s.closed).length} open`, 100);
    } finally {
      clearInterval(drip);
    }
    assert.ok(slow.every((s) => s.data.startsWith('HTTP/1.1 408')), `each was answered 408: ${slow.find((s) => !s.data.startsWith('HTTP/1.1 408'))?.data}`);
    assert.equal((await healthz(server.port, '127.0.0.5')).status, 200);
  });

  it('a body sent a byte at a time is cut by the request timeout', async () => {
    const server = await start({ connections: { headersTimeoutMs: 500, requestTimeoutMs: 1000, checkIntervalMs: 200 } });
    const slow = await openRaw(server.port, '127.0.0.6');
    sockets.push(slow);
    slow.socket.write(`POST /api/v2/me HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('agent15000')}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`);
    const drip = setInterval(() => slow.closed || slow.socket.write(' '), 100);
    try {
      await waitFor(() => slow.closed, 10_000, 'the slow body is cut', 50);
    } finally {
      clearInterval(drip);
    }
    assert.match(slow.data, /^HTTP\/1\.1 408/);
  });
});

describe('connections: a held CometD poll is not cut', () => {
  it('with headers, request and idle timeouts far below pollTimeout, a held /meta/connect is answered successfully after pollTimeout', async () => {
    // The timeouts are still generous for a small request on a loaded machine, and far below the hold.
    const server = await start({ pollTimeout: 5000, connections: { headersTimeoutMs: 1000, requestTimeoutMs: 1500, idleTimeoutMs: 1500, checkIntervalMs: 100 } });
    const bayeux = async (path: string, message: Record<string, unknown>) =>
      (await (
        await fetch(`${server.url}/api/v2/notifications/${path}`, {
          method: 'POST',
          headers: { authorization: basic('agent15000'), 'content-type': 'application/json' },
          body: JSON.stringify([message]),
        })
      ).json()) as any[];
    const shake = await bayeux('handshake', { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] });
    assert.equal(shake[0]?.successful, true, JSON.stringify(shake));
    const clientId = shake[0].clientId as string;
    assert.equal((await bayeux('connect', { channel: '/meta/connect', clientId, connectionType: 'long-polling', advice: { timeout: 0 } }))[0].successful, true);
    const started = performance.now();
    const held = await bayeux('connect', { channel: '/meta/connect', clientId, connectionType: 'long-polling' });
    const ms = performance.now() - started;
    assert.equal(held[0].successful, true, JSON.stringify(held));
    assert.ok(ms >= 4000, `held for pollTimeout, answered after ${Math.round(ms)} ms`);
  });
});
