/**
 * What the Cloud dialect needs to know about routing queues, and nothing more: the directory's
 * queues plug in through `directoryQueues`; `NO_QUEUES` stays for a server built without them
 * (the routing endpoints then answer their empty listing or 404 honestly).
 */
import { createHash } from 'node:crypto';
import type { Directory } from '../../directory/directory.js';
import type { Call } from '../../domain/voice/model.js';

export interface CloudQueue {
  /** The Cloud queue id (stable, UUID-like). */
  readonly id: string;
  readonly name: string;
  /** Member user ids, in the queue's order. */
  readonly memberUserIds: readonly string[];
}

export interface CloudQueues {
  list(): readonly CloudQueue[];
  byId(id: string): CloudQueue | undefined;
  /** The queue a call was routed through, if any (what `v2.routing.queues.{id}.conversations` follows). */
  queueOf(call: Call): CloudQueue | undefined;
}

export const NO_QUEUES: CloudQueues = { list: () => [], byId: () => undefined, queueOf: () => undefined };

/**
 * A queue's Cloud id, derived from its name as user ids are from user names: the same directory
 * gives the same ids on every start and on every cluster node, so a subscribed topic stays valid.
 */
export const stableQueueId = (name: string): string => {
  const h = createHash('sha256').update(`conclave:queue:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

/** The directory's queues as Cloud sees them; a call names its queue by name (Call.routing.queue). */
export const directoryQueues = (directory: Directory): CloudQueues => {
  const all = directory.queues.map((q) => ({ id: stableQueueId(q.name), name: q.name, memberUserIds: q.members }));
  const byId = new Map(all.map((q) => [q.id, q]));
  const byName = new Map(all.map((q) => [q.name, q]));
  return {
    list: () => all,
    byId: (id) => byId.get(id),
    queueOf: (call) => (call.routing ? byName.get(call.routing.queue) : undefined),
  };
};
