/**
 * The official Genesys Cloud SDK (`purecloud-platform-client-v2`), run in a worker thread.
 *
 * The SDK refuses the client-credentials grant when `globalThis.window` exists, and
 * `cometd-nodejs-client`'s `adapt()` (used by the CometD test helper) defines it in the main
 * thread. A worker has a fresh global object, so the SDK runs here exactly as in a Node service.
 *
 * workerData: {port}. Messages in: {id, op, ...}; out: {id, ok: true, value} or
 * {id, ok: false, error}, where `error` is what the SDK rejected with, made cloneable: the
 * server's ErrorBody as the SDK hands it over, or {name, message, status, data} for a transport
 * error (as loginClientCredentialsGrant rejects with the HTTP client's error).
 *  - {op: 'login', clientId, clientSecret}     → ApiClient.instance.loginClientCredentialsGrant
 *  - {op: 'token', token}                      → ApiClient.instance.setAccessToken
 *  - {op: 'extended', value}                   → ApiClient.instance.setReturnExtendedResponses
 *  - {op: 'conversations', method, args}       → new ConversationsApi()[method](...args)
 *  - {op: 'callApi', args}                     → ApiClient.instance.callApi(...args)
 *  - {op: 'api', api, method, args}            → new platformClient[api]()[method](...args)
 *                                                (UsersApi, RoutingApi, AnalyticsApi, TokensApi, NotificationsApi, …)
 */
import platformClient from 'purecloud-platform-client-v2';
import { parentPort, workerData } from 'node:worker_threads';

export type SdkRequest =
  | { id: number; op: 'login'; clientId: string; clientSecret: string }
  | { id: number; op: 'token'; token: string | undefined }
  | { id: number; op: 'extended'; value: boolean }
  | { id: number; op: 'conversations'; method: string; args: unknown[] }
  | { id: number; op: 'callApi'; args: unknown[] }
  | { id: number; op: 'api'; api: string; method: string; args: unknown[] };

export type SdkReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: any };

const sdk = platformClient as any;
const client = sdk.ApiClient.instance;
client.setGateway({ protocol: 'http', host: '127.0.0.1', port: (workerData as { port: number }).port, path_params_login: 'cloud', path_params_api: 'cloud' });
const conversations = new sdk.ConversationsApi();
const apis: Record<string, any> = {};

/** A JSON-safe copy (headers objects, class instances and `undefined` members flattened). */
const plain = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

const errorOf = (error: any): unknown => {
  if (error instanceof Error) {
    const response = (error as any).response;
    return { name: error.name, message: error.message, status: response?.status, data: plain(response?.data) };
  }
  if (error && typeof error === 'object' && 'error' in error) {
    // An extended response: drop the HTTP client's error object, keep status, headers, body.
    const { error: _ignored, ...rest } = error;
    return plain(rest);
  }
  return plain(error);
};

const run = async (request: SdkRequest): Promise<unknown> => {
  switch (request.op) {
    case 'login': {
      const auth = await client.loginClientCredentialsGrant(request.clientId, request.clientSecret);
      return { accessToken: auth.accessToken, tokenExpiryTime: auth.tokenExpiryTime };
    }
    case 'token':
      client.setAccessToken(request.token);
      return undefined;
    case 'extended':
      client.setReturnExtendedResponses(request.value);
      return undefined;
    case 'conversations': {
      const method = conversations[request.method];
      if (typeof method !== 'function') throw new TypeError(`ConversationsApi has no method ${request.method}`);
      return plain(await method.apply(conversations, request.args));
    }
    case 'callApi':
      return plain(await client.callApi(...request.args));
    case 'api': {
      const Api = sdk[request.api];
      if (typeof Api !== 'function') throw new TypeError(`the SDK has no ${request.api}`);
      const instance = (apis[request.api] ??= new Api());
      const method = instance[request.method];
      if (typeof method !== 'function') throw new TypeError(`${request.api} has no method ${request.method}`);
      return plain(await method.apply(instance, request.args));
    }
  }
};

parentPort?.on('message', (request: SdkRequest) => {
  run(request).then(
    (value) => parentPort?.postMessage({ id: request.id, ok: true, value } satisfies SdkReply),
    (error) => parentPort?.postMessage({ id: request.id, ok: false, error: errorOf(error) } satisfies SdkReply),
  );
});
