/**
 * A small typed GWS v2 client over fetch (HTTP Basic), exported for integrators and used by
 * `conclave comply`. Every method resolves with the GWS body; a non-zero statusCode rejects with a
 * GwsError carrying statusCode and statusMessage, as the GWS C# client does.
 */
export interface GwsParticipant {
  readonly phoneNumber: string;
}

export interface GwsCallView {
  readonly id: string;
  readonly state: string;
  readonly participants: readonly GwsParticipant[];
  readonly capabilities: readonly string[];
  readonly monitoring: boolean;
}

export interface GwsDeviceView {
  readonly id: string;
  readonly phoneNumber: string;
  readonly uri: string;
}

export interface GwsUserView {
  readonly id: string;
  readonly userName: string;
}

export class GwsError extends Error {
  override name = 'GwsError';
  constructor(
    readonly httpStatus: number,
    readonly statusCode: number,
    readonly statusMessage: string,
  ) {
    super(`GWS statusCode ${statusCode} (HTTP ${httpStatus}): ${statusMessage}`);
  }
}

export interface GwsClient {
  me(): Promise<GwsUserView>;
  user(id: string): Promise<GwsUserView>;
  /** A user by id, user name or phone number; rejects with statusCode 6 when there is none. */
  findUser(ref: string): Promise<GwsUserView>;
  myDevices(): Promise<GwsDeviceView[]>;
  userDevices(userId: string): Promise<GwsDeviceView[]>;
  myCalls(): Promise<GwsCallView[]>;
  call(id: string): Promise<GwsCallView>;
  callOperation(id: string, operationName: string, params?: Record<string, unknown>): Promise<void>;
  deviceOperation(deviceId: string, operationName: string, params?: Record<string, unknown>): Promise<void>;
}

export const createGwsClient = (baseUrl: string, userName: string, password: string): GwsClient => {
  const authorization = `Basic ${Buffer.from(`${userName}:${password}`).toString('base64')}`;
  const request = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${baseUrl.replace(/\/+$/, '')}/api/v2${path}`, {
      method,
      headers: { authorization, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let parsed: { statusCode?: number; statusMessage?: string } & Record<string, unknown>;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new GwsError(response.status, 4, `not a GWS answer: ${text.slice(0, 200)}`);
    }
    if (parsed.statusCode !== 0) throw new GwsError(response.status, parsed.statusCode ?? 4, parsed.statusMessage ?? 'no statusMessage');
    return parsed as T;
  };
  return {
    me: async () => (await request<{ user: GwsUserView }>('GET', '/me')).user,
    user: async (id) => (await request<{ user: GwsUserView }>('GET', `/users/${encodeURIComponent(id)}`)).user,
    findUser: async (ref) => {
      if (/^[0-9a-f]{32}$/.test(ref)) return (await request<{ user: GwsUserView }>('GET', `/users/${ref}`)).user;
      for (const key of ['userName', 'phoneNumber']) {
        const { users } = await request<{ users: GwsUserView[] }>('GET', `/users?${key}=${encodeURIComponent(ref)}`);
        if (users[0]) return users[0];
      }
      throw new GwsError(404, 6, `user '${ref}' was not found by id, user name or phone number`);
    },
    myDevices: async () => (await request<{ devices: GwsDeviceView[] }>('GET', '/me/devices?fields=*')).devices,
    userDevices: async (id) => (await request<{ devices: GwsDeviceView[] }>('GET', `/users/${encodeURIComponent(id)}/devices`)).devices,
    myCalls: async () => (await request<{ calls: GwsCallView[] }>('GET', '/me/calls?fields=*')).calls,
    call: async (id) => (await request<{ call: GwsCallView }>('GET', `/me/calls/${encodeURIComponent(id)}`)).call,
    callOperation: async (id, operationName, params = {}) =>
      void (await request('POST', `/me/calls/${encodeURIComponent(id)}`, { operationName, ...params })),
    deviceOperation: async (deviceId, operationName, params = {}) =>
      void (await request('POST', `/me/devices/${encodeURIComponent(deviceId)}`, { operationName, ...params })),
  };
};
