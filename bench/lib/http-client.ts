/**
 * A small keep-alive JSON client on node:http for the open-loop drivers (notification latency,
 * call set-up): cheaper per request than fetch, and its socket pool is bounded explicitly.
 * (The closed-loop throughput runs use autocannon.)
 */
import http from 'node:http';

export interface HttpReply {
  readonly status: number;
  readonly body: any;
  readonly headers?: http.IncomingHttpHeaders;
}

export interface HttpClient {
  request(method: 'GET' | 'POST', path: string, authorization: string, body?: unknown): Promise<HttpReply>;
  close(): void;
}

/**
 * `retryShed`: a 503 (load shedding) is sent again once its Retry-After has passed, up to 20
 * times, as a well-behaved client does (the overload scenario's set-up and checks).
 */
export const createHttpClient = (baseUrl: string, maxSockets = 128, options: { retryShed?: boolean } = {}): HttpClient => {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  const once = (method: 'GET' | 'POST', path: string, authorization: string, body?: unknown): Promise<HttpReply> =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const headers: http.OutgoingHttpHeaders = { authorization };
        if (payload !== undefined) {
          headers['content-type'] = 'application/json';
          headers['content-length'] = Buffer.byteLength(payload);
        }
        const req = http.request({ host: url.hostname, port: url.port, method, path, agent, headers }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // Not JSON: keep the text for the error message.
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(payload);
      });
  return {
    async request(method, path, authorization, body) {
      let reply = await once(method, path, authorization, body);
      for (let attempt = 0; options.retryShed && reply.status === 503 && attempt < 20; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 1000 * Number(reply.headers?.['retry-after'] ?? 1)));
        reply = await once(method, path, authorization, body);
      }
      return reply;
    },
    close: () => agent.destroy(),
  };
};

/** Runs `task` over `items` with at most `concurrency` in flight; returns results in order. */
export const pool = async <T, R>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> => {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
};
