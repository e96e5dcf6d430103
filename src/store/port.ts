/**
 * The storage port. Calls, chats and agent sessions are written only by the engine's `execute`;
 * compliance flags and their audit only by the orchestrator. Every engine write is a batch
 * committed atomically against the versions the engine loaded (optimistic concurrency): if any
 * entity's stored version moved on, nothing of the batch is written and `VersionConflict` is
 * thrown (the promise rejects), so two racing commands cannot both win. Every method is async so
 * that a networked store implements the same port. Adapters: memory (tests), SQLite (the embedded
 * default); one conformance suite (test/unit/store.test.ts) runs against each.
 */
import type { AgentSession } from '../domain/agent/model.js';
import type { Chat } from '../domain/chat/model.js';
import { isEngaged, isWaiting } from '../domain/chat/model.js';
import type { Call, Monitor } from '../domain/voice/model.js';
import type { AuditEntry, AuditQuery, Flag } from '../domain/compliance/model.js';

export interface CommitBatch {
  /** Changed or new calls, each carrying the version it was loaded at (0 for a new call). */
  readonly calls?: readonly Call[];
  readonly agentSessions?: readonly AgentSession[];
  readonly chats?: readonly Chat[];
}

export interface Committed {
  /** The same entities with their new versions. */
  readonly calls: readonly Call[];
  readonly agentSessions: readonly AgentSession[];
  readonly chats: readonly Chat[];
}

export interface ReadyAgent {
  readonly userId: string;
  /** Since when the agent has been idle on the channel (Ready, or last offered a chat). */
  readonly since: number;
}

export interface Store {
  getCall(id: string): Promise<Call | undefined>;
  /** Calls that have not ended on which this DN is a present (not released) party. */
  presentCallsOf(dn: string): Promise<Call[]>;
  /** Calls that have not ended whose parent (a consultation's) is this call. */
  consultationsOf(callId: string): Promise<Call[]>;
  /** Ids of every call that has not ended. */
  liveCallIds(): Promise<string[]>;
  getAgentSession(userId: string): Promise<AgentSession | undefined>;
  /** Every session whose supervisor monitors someone now. */
  monitoringSessions(): Promise<AgentSession[]>;
  /** Users whose contact-center session includes the chat channel (Ready or not). */
  chatSessionUserIds(): Promise<string[]>;
  /** Agents Ready on the chat channel. */
  readyChatAgents(): Promise<ReadyAgent[]>;
  getChat(id: string): Promise<Chat | undefined>;
  /** Chats this agent is offered or still has (not Completed). */
  chatsOfAgent(userId: string): Promise<Chat[]>;
  /** Chats waiting for an agent, oldest first. */
  waitingChats(): Promise<Chat[]>;
  commit(batch: CommitBatch): Promise<Committed>;
  /** Compliance flags and their audit trail: append-mostly, written by the orchestrator only. */
  saveFlag(flag: Flag): Promise<void>;
  getFlag(id: string): Promise<Flag | undefined>;
  pendingFlags(): Promise<Flag[]>;
  appendAudit(entry: AuditEntry): Promise<void>;
  queryAudit(query: AuditQuery): Promise<AuditEntry[]>;
  /**
   * Retention: deletes the calls and chats that ended before `time` (ms), with their index
   * entries. Compliance flags and the audit trail are never pruned. Answers how many went.
   */
  pruneEnded(time: number): Promise<{ calls: number; chats: number }>;
  /** True when the store can be read and written. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export class VersionConflict extends Error {
  constructor(
    readonly kind: string,
    readonly id: string,
  ) {
    super(`${kind} ${id} was changed concurrently`);
    this.name = 'VersionConflict';
  }
}

/** The DNs a call must be indexed under: its present parties, while the call lasts. */
export const presentDns = (call: Call): string[] =>
  call.endedAt !== null ? [] : call.parties.filter((p) => p.state !== 'Released').map((p) => p.dn);

/** The agents a chat must be indexed under: those who have not completed it. */
export const activeAgentIds = (chat: Chat): string[] => chat.agents.filter((a) => isEngaged(a) || a.state === 'LeftChat').map((a) => a.userId);
export const chatIsWaiting = isWaiting;

/** When the agent became Ready on chat, or null when not Ready there. */
export const chatReadySince = (s: AgentSession): number | null =>
  s.channels?.chat?.state === 'Ready' ? s.channels.chat.since : null;

/** The monitoring a session holds, as the voice domain needs it. */
export const monitorOf = (s: AgentSession): Monitor | null =>
  s.monitoring && !s.monitoring.consumed
    ? { supervisorDn: s.monitoring.supervisorDn, targetDn: s.monitoring.targetDn, mode: s.monitoring.mode, scope: s.monitoring.scope }
    : null;

export const bumped = <T extends { version: number }>(entity: T): T => ({ ...entity, version: entity.version + 1 });
