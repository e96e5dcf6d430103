/**
 * What the Cloud dialect needs to know about routing queues, and nothing more: the directory's
 * queues (branch `queues`) plug in here. Until then Conclave passes `NO_QUEUES`, and the routing
 * endpoints answer their empty listing or 404 honestly.
 */
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
