/**
 * A small keep-alive JSON client on node:http for the open-loop drivers (notification latency,
 * call set-up): cheaper per request than fetch, and its socket pool is bounded explicitly.
 * (The closed-loop throughput runs use autocannon.)
 */
import http from 'node:http';

export interface HttpReply {
  readonly status: number;
  readonly body: any;
}

export interface HttpClient {
  request(method: 'GET' | 'POST', path: string, authorization: string, body?: unknown): Promise<HttpReply>;
  close(): void;
}

export const createHttpClient = (baseUrl: string, maxSockets = 128): HttpClient => {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  return {
    request: (method, path, authorization, body) =>
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
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(payload);
      }),
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
