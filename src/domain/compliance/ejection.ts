/**
 * The resume rules of an ejection, decided from the real state alone (pure): whatever step an
 * interrupted run reached, looking at who is still in a chat, whether the orchestrator still
 * monitors, and what the step log (the flag's audit) left open says what is left to do. Every
 * step is idempotent because it is chosen from the state it changes.
 */
import { agentOf, chattingAgents, type Chat } from '../chat/model.js';
import type { AuditEntry } from './model.js';

/** What the orchestrator still has to do in one chat. */
export type ChatPlan =
  /** Neither the flagged user nor the orchestrator is in it. */
  | { readonly kind: 'none' }
  /** The flagged user is in a chat that is not a conference: left alone. */
  | { readonly kind: 'skip' }
  /** Remove the flagged user (intruding first unless the orchestrator is in already), then leave. */
  | { readonly kind: 'eject'; readonly intrude: boolean }
  /** The orchestrator is in it with nothing left to do there (an interrupted run's): it leaves. */
  | { readonly kind: 'leave' };

const chatting = (chat: Chat, userId: string) => agentOf(chat, userId)?.state === 'Chatting';

/**
 * A chat conference: the customer is there and another agent visible to all (not the flagged
 * user, not the orchestrator) stays with them once the flagged user is removed.
 */
export const isChatConference = (chat: Chat, userId: string, orchestratorId: string): boolean =>
  chat.customer.connected &&
  chat.endedAt === null &&
  chattingAgents(chat).some((a) => a.userId !== userId && a.userId !== orchestratorId && a.visibility === 'All');

export const chatPlan = (chat: Chat, userId: string, orchestratorId: string): ChatPlan => {
  const userIn = chatting(chat, userId);
  const selfIn = chatting(chat, orchestratorId);
  if (userIn && isChatConference(chat, userId, orchestratorId)) return { kind: 'eject', intrude: !selfIn };
  // The orchestrator never stays where it has nothing to do: not even if the conference it
  // intruded into has since become a two-party chat (the user then stays, as with any two-party chat).
  if (selfIn) return { kind: 'leave' };
  return userIn ? { kind: 'skip' } : { kind: 'none' };
};

/** Steps that close an interaction's work in the log. */
const CLOSING = new Set<AuditEntry['step']>(['removed', 'skipped', 'failed', 'recovered', 'done']);

/**
 * Interactions the log shows were found but never closed: an interrupted run was working on them
 * (the removal may have been committed without its entry, so the real state decides).
 */
export const openInteractions = (entries: readonly AuditEntry[]): { readonly id: string; readonly type: 'call' | 'chat' }[] => {
  const open = new Map<string, 'call' | 'chat'>();
  for (const e of entries) {
    if (e.interaction === null || e.interactionType === null) continue;
    if (e.step === 'found') open.set(e.interaction, e.interactionType);
    else if (CLOSING.has(e.step)) open.delete(e.interaction);
  }
  return [...open].map(([id, type]) => ({ id, type }));
};

/** The flag's final entry in the log, if the run reached it (only the flag's own save may be missing). */
export const recordedVerdict = (entries: readonly AuditEntry[]): Verdict | undefined => {
  const last = entries.at(-1);
  if (last?.interaction !== null || last === undefined) return undefined;
  if (last.step === 'done' && last.outcome === 'completed') return { status: 'done' };
  if (last.step === 'failed' && last.outcome === 'error') return { status: 'failed', detail: last.detail ?? 'failed' };
  return undefined;
};

export type Verdict = { readonly status: 'done' } | { readonly status: 'failed'; readonly detail: string };

/** Done only when nothing stands in the way; otherwise failed, naming every problem. */
export const verdictOf = (problems: readonly string[]): Verdict =>
  problems.length === 0 ? { status: 'done' } : { status: 'failed', detail: [...new Set(problems)].join('; ') };
