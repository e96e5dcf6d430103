/** A small GWS v2 HTTP client over real fetch, as an integrator would write one. */
export interface Reply<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export const basic = (user: string, password = user) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

export interface GwsClient {
  readonly user: string;
  get<T = any>(path: string): Promise<Reply<T>>;
  post<T = any>(path: string, body?: unknown): Promise<Reply<T>>;
  /** POSTs raw text with the given content type (for malformed-input tests). */
  raw<T = any>(path: string, text: string, contentType?: string): Promise<Reply<T>>;
  /** The user's device id (GET /api/v2/me/devices?fields=*). */
  deviceId(): Promise<string>;
  /** POST an operation on a call. */
  op<T = any>(callId: string, operationName: string, params?: Record<string, unknown>): Promise<Reply<T>>;
  dial(phoneNumber: string): Promise<Reply>;
}

export const gws = (baseUrl: string, user: string, password = user): GwsClient => {
  const request = async (method: string, path: string, body?: string, contentType = 'application/json'): Promise<Reply> => {
    const headers: Record<string, string> = { authorization: basic(user, password) };
    if (body !== undefined) headers['content-type'] = contentType;
    const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text, the test will say so.
    }
    return { status: response.status, body: parsed, headers: response.headers };
  };
  const client: GwsClient = {
    user,
    get: (path) => request('GET', path),
    post: (path, body) => request('POST', path, body === undefined ? undefined : JSON.stringify(body)),
    raw: (path, text, contentType) => request('POST', path, text, contentType),
    deviceId: async () => {
      const reply = await request('GET', '/api/v2/me/devices?fields=*');
      return reply.body.devices[0].id as string;
    },
    op: (callId, operationName, params = {}) => client.post(`/api/v2/me/calls/${callId}`, { operationName, ...params }),
    dial: async (phoneNumber) =>
      client.post(`/api/v2/me/devices/${await client.deviceId()}/calls`, { operationName: 'Dial', destination: { phoneNumber } }),
  };
  return client;
};
