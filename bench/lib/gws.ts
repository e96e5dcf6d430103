/** The few GWS calls the drivers make outside the measured loops (set-up and clean-up). */
import { basic, type Trio } from './directory.js';
import { pool, type HttpClient } from './http-client.js';

/** The user's device id, as a client finds it: GET /api/v2/me/devices?fields=*. */
export const deviceIdOf = async (http: HttpClient, user: string): Promise<string> => {
  const reply = await http.request('GET', '/api/v2/me/devices?fields=*', basic(user));
  const id = reply.body?.devices?.[0]?.id;
  if (reply.status !== 200 || typeof id !== 'string') throw new Error(`GET devices for ${user}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
  return id;
};

/** Device ids of many users, `concurrency` requests at a time. */
export const deviceIds = async (http: HttpClient, users: readonly string[], concurrency = 32): Promise<Map<string, string>> => {
  const ids = await pool(users, concurrency, (user) => deviceIdOf(http, user));
  return new Map(users.map((u, i) => [u, ids[i] as string]));
};

export const callIdFromUri = (uri: string): string => uri.slice(uri.lastIndexOf('/') + 1);

/** The ids of the calls a user is on (GET /api/v2/me/calls answers their URIs). */
export const callIdsOf = async (http: HttpClient, user: string): Promise<string[]> => {
  const reply = await http.request('GET', '/api/v2/me/calls', basic(user));
  const uris: unknown = reply.body?.uris;
  return Array.isArray(uris) ? uris.map((u) => callIdFromUri(String(u))) : [];
};

/**
 * Hangs up every call the trios' parties are still on: a closed-loop run stops mid-flow, and
 * its half-done conferences must not leak into the next measurement. A request autocannon sent
 * just before it stopped may still be queued in the server, so it sweeps until a pass finds
 * nothing. Returns how many calls it ended.
 */
export const hangUpAll = async (http: HttpClient, trioList: readonly Trio[], concurrency = 32): Promise<number> => {
  let total = 0;
  for (let pass = 0; pass < 5; pass++) {
    const ended = await hangUpOnce(http, trioList, concurrency);
    total += ended;
    if (ended === 0 && pass > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return total;
};

const hangUpOnce = async (http: HttpClient, trioList: readonly Trio[], concurrency: number): Promise<number> => {
  const users = trioList.flatMap((t) => [t.a.user, t.b.user, t.c.user]);
  const ended = await pool(users, concurrency, async (user) => {
    let n = 0;
    for (const id of await callIdsOf(http, user)) {
      const reply = await http.request('POST', `/api/v2/me/calls/${id}`, basic(user), { operationName: 'Hangup' });
      if (reply.status === 200) n++;
    }
    return n;
  });
  return ended.reduce((a, b) => a + b, 0);
};
