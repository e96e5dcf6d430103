/**
 * What a handler hands the engine: the decision's every change (to commit as one batch), what it
 * loaded (the "before" of each change, and the calls a view needs), and how to answer. The
 * engine turns a plan and what the store committed into events that carry the snapshots.
 */
import type { AgentEvent } from '../../domain/agent/decide.js';
import type { AgentSession } from '../../domain/agent/model.js';
import { chatEvents } from '../../domain/chat/events.js';
import type { ChatDirectory } from '../../domain/chat/operations.js';
import type { Chat } from '../../domain/chat/model.js';
import type { ResourceRefs } from '../../domain/refs.js';
import type { Refusal } from '../../domain/refusals.js';
import { callEvents } from '../../domain/voice/events.js';
import type { Call } from '../../domain/voice/model.js';
import type { DnDirectory } from '../../domain/voice/operations.js';
import type { RoutingQueue } from '../../domain/voice/routing.js';
import type { Committed, Store } from '../../store/port.js';
import type { Clock, DomainEvent, IdSource } from '../ports.js';
import type { ChatIds } from './chat.js';

export interface Plan<A> {
  readonly calls: readonly Call[];
  readonly chats: readonly Chat[];
  readonly sessions: readonly AgentSession[];
  /** The entities as loaded, by id: the "before" of every change. */
  readonly before: {
    readonly calls: ReadonlyMap<string, Call>;
    readonly chats: ReadonlyMap<string, Chat>;
    readonly sessions: ReadonlyMap<string, AgentSession>;
  };
  /** Who had a chat session, as loaded (chat views' capabilities depend on it). */
  readonly chatSessions: ReadonlySet<string>;
  /** The request whose notifications carry its referenceId. */
  readonly requester?: { readonly chatId: string; readonly userId: string; readonly referenceId?: number };
  readonly agentEvents: readonly AgentEvent[];
  /** Agent events go first (an agent's own operation), or last (follow-ups of a call change). */
  readonly agentEventsFirst?: boolean;
  readonly dtmf?: { readonly callId: string; readonly dn: string; readonly digits: string };
  readonly answer: (committed: Committed) => A;
}

export interface Handler<C, A> {
  /** The aggregate the command works on: its queue key, and how a refusal names it. */
  key(command: C): { key: string; kind: string; id: string };
  /** Loads the snapshot and decides; pure decisions, async loads. */
  plan(command: C): Promise<Plan<A> | Refusal>;
}

export interface HandlerDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly chatIds: ChatIds;
  readonly refs: ResourceRefs;
  readonly directory: DnDirectory &
    ChatDirectory & {
      byDn(dn: string): { id: string; deviceId?: string | null } | undefined;
      dnOfDevice(deviceId: string): string | undefined;
      nicknameOf(userId: string): string | undefined;
      routingQueue(ref: string): RoutingQueue | undefined;
      queueMember(userId: string): { userId: string; userName: string; dn: string } | undefined;
    };
  readonly tenant: string;
  /** Routing offers an agent at most this many chats at once. */
  readonly maxChatsPerAgent: number;
}

const NO_CALLS: ReadonlyMap<string, Call> = new Map();
const NO_CHATS: ReadonlyMap<string, Chat> = new Map();
const NO_SESSIONS: ReadonlyMap<string, AgentSession> = new Map();
const NOBODY: ReadonlySet<string> = new Set();

/** A plan with nothing in it but what is given. */
export const plan = <A>(p: Partial<Plan<A>> & Pick<Plan<A>, 'answer'>): Plan<A> => ({
  calls: [],
  chats: [],
  sessions: [],
  before: { calls: p.before?.calls ?? NO_CALLS, chats: p.before?.chats ?? NO_CHATS, sessions: p.before?.sessions ?? NO_SESSIONS },
  chatSessions: NOBODY,
  agentEvents: [],
  ...p,
});

export const byId = <T>(entries: readonly T[], id: (t: T) => string): Map<string, T> => new Map(entries.map((e) => [id(e), e]));

/** The events of a committed plan, each with its snapshots, in the order recipients expect. */
export const eventsOf = <A>(p: Plan<A>, committed: Committed): DomainEvent[] => {
  const calls = new Map(p.before.calls);
  for (const call of committed.calls) calls.set(call.id, call);
  const related = [...calls.values()];
  const callEventList: DomainEvent[] = committed.calls.flatMap((call) => callEvents(p.before.calls.get(call.id), call, related));
  if (p.dtmf) {
    const call = calls.get(p.dtmf.callId);
    if (call) callEventList.push({ kind: 'call', ...p.dtmf, notificationType: 'DtmfSent', call, before: call, related });
  }
  const chatEventList: DomainEvent[] = committed.chats.flatMap((chat) =>
    chatEvents(p.before.chats.get(chat.id), chat, p.requester?.chatId === chat.id ? p.requester : undefined, p.chatSessions),
  );
  const sessions = new Map(p.before.sessions);
  for (const s of committed.agentSessions) sessions.set(s.userId, s);
  const agentEventList: DomainEvent[] = p.agentEvents.map((e) => ({ ...e, session: sessions.get(e.userId) }));
  return p.agentEventsFirst
    ? [...agentEventList, ...callEventList, ...chatEventList]
    : [...callEventList, ...chatEventList, ...agentEventList];
};
