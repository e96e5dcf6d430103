/**
 * A raw HTTP client for hostile-input tests: the path is sent exactly as given (no URL
 * normalization of '..' or percent-escapes, unlike fetch), headers and body bytes are the
 * caller's, and a request the server never answers is reported as such after a timeout
 * instead of hanging the test.
 */
import http from 'node:http';

export interface RawRequest {
  readonly method: string;
  /** Sent verbatim: it must already be percent-encoded ASCII. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
}

export type RawResponse =
  | { readonly kind: 'answer'; readonly status: number; readonly headers: http.IncomingHttpHeaders; readonly text: string; readonly json: unknown }
  /** No answer within the timeout: the server holds the request. */
  | { readonly kind: 'timeout' }
  /** The connection failed or was closed without an answer. */
  | { readonly kind: 'error'; readonly message: string };

const NOT_JSON = Symbol('not JSON');
export const isJson = (json: unknown): boolean => json !== NOT_JSON;

export const rawRequest = (baseUrl: string, request: RawRequest, timeoutMs = 5000): Promise<RawResponse> => {
  const url = new URL(baseUrl);
  const body = request.body === undefined ? undefined : Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body, 'utf8');
  const headers: Record<string, string> = { ...(request.headers ?? {}) };
  if (body !== undefined) headers['content-length'] = String(body.length);
  return new Promise((resolve) => {
    let settled = false;
    const done = (response: RawResponse) => {
      if (!settled) {
        settled = true;
        resolve(response);
      }
    };
    let req: http.ClientRequest;
    try {
      // A fresh connection per request: a request the server never answers cannot block the next.
      req = http.request({ host: url.hostname, port: url.port, method: request.method, path: request.path, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => done({ kind: 'error', message: error.message }));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = NOT_JSON;
          try {
            json = text === '' ? NOT_JSON : JSON.parse(text);
          } catch {
            // Not JSON: json stays NOT_JSON.
          }
          done({ kind: 'answer', status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      });
    } catch (error) {
      done({ kind: 'error', message: `the client refused to send it: ${(error as Error).message}` });
      return;
    }
    const timer = setTimeout(() => {
      done({ kind: 'timeout' });
      req.destroy();
    }, timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (error) => done({ kind: 'error', message: error.message }));
    req.end(body);
  });
};
