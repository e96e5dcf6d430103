/**
 * The official Genesys Cloud SDK in a worker thread (helpers/cloud-sdk-worker.ts), driven by its
 * method names, and the assertions the Cloud tests share.
 */
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import type { SdkReply, SdkRequest } from './cloud-sdk-worker.js';

type Distribute<T> = T extends unknown ? Omit<T, 'id'> : never;

/** One SDK instance (its own ApiClient.instance) in its own worker. Rejections are plain objects. */
export class CloudSdk {
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: any) => void }>();
  private seq = 0;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: SdkReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.ok) waiter?.resolve(reply.value);
      else waiter?.reject(reply.error);
    });
    worker.on('error', (error) => {
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    });
  }

  static open(port: number): CloudSdk {
    return new CloudSdk(new Worker(new URL('./cloud-sdk-worker.js', import.meta.url), { workerData: { port } }));
  }

  private send(request: Distribute<SdkRequest>): Promise<any> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  login = (clientId: string, clientSecret: string) => this.send({ op: 'login', clientId, clientSecret });
  token = (token: string | undefined) => this.send({ op: 'token', token });
  extended = (value: boolean) => this.send({ op: 'extended', value });
  conversations = (method: string, ...args: unknown[]) => this.send({ op: 'conversations', method, args });
  users = (method: string, ...args: unknown[]) => this.send({ op: 'api', api: 'UsersApi', method, args });
  routing = (method: string, ...args: unknown[]) => this.send({ op: 'api', api: 'RoutingApi', method, args });
  analytics = (method: string, ...args: unknown[]) => this.send({ op: 'api', api: 'AnalyticsApi', method, args });
  tokens = (method: string, ...args: unknown[]) => this.send({ op: 'api', api: 'TokensApi', method, args });
  notifications = (method: string, ...args: unknown[]) => this.send({ op: 'api', api: 'NotificationsApi', method, args });
  callApi = (path: string, method: string, pathParams: Record<string, string>, body: unknown = null) =>
    this.send({ op: 'callApi', args: [path, method, pathParams, {}, {}, {}, body, ['PureCloud OAuth'], ['application/json'], ['application/json']] });
  close = () => this.worker.terminate();
}

/** The value a promise rejects with; fails if it resolves. */
export const rejection = async (promise: Promise<unknown>, what: string): Promise<any> => {
  try {
    const value = await promise;
    assert.fail(`${what}: expected a rejection, got ${JSON.stringify(value)}`);
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    return error;
  }
};

/** A Genesys Cloud ErrorBody with this status (and code, when given). */
export const assertErrorBody = (error: any, status: number, what: string, code?: string) => {
  const shown = `${what}: ${JSON.stringify(error)}`;
  assert.equal(error?.status, status, shown);
  assert.equal(typeof error.message, 'string', shown);
  assert.ok(error.message.length > 0, shown);
  assert.equal(typeof error.code, 'string', shown);
  assert.ok(error.code.length > 0, shown);
  if (code !== undefined) assert.equal(error.code, code, shown);
  assert.equal(typeof error.messageParams, 'object', shown);
  assert.equal(typeof error.contextId, 'string', shown);
  assert.deepEqual(error.details, [], shown);
  assert.deepEqual(error.errors, [], shown);
};
