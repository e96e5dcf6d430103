/**
 * Loads what chat routing needs and asks the domain who gets which waiting chat, taking into
 * account the change the same command is about to commit (a chat that just became waiting, an
 * agent who just went Ready). The offers are committed with that change, atomically.
 */
import type { AgentSession } from '../../domain/agent/model.js';
import { isEngaged, isWaiting, type Chat } from '../../domain/chat/model.js';
import { routeWaitingChats, type RoutableAgent } from '../../domain/chat/routing.js';
import { chatReadySince } from '../../store/port.js';
import type { AgentEvent } from '../../domain/agent/decide.js';
import { isWaitingCall, type Call } from '../../domain/voice/model.js';
import { routeVoice, touchesRouting, type Member } from '../../domain/voice/routing.js';
import type { HandlerDeps } from './plan.js';

export interface Routed {
  /** Chats after the offers, and the offered agents' sessions (idle time reset). */
  readonly chats: Chat[];
  readonly sessions: AgentSession[];
  /** The waiting chats and agents' sessions as loaded: the "before" of the offers. */
  readonly loadedChats: Chat[];
  readonly loadedSessions: AgentSession[];
}

export const routeWith = async (deps: HandlerDeps, changedChats: readonly Chat[], changedSessions: readonly AgentSession[]): Promise<Routed> => {
  const { store, directory } = deps;
  const mine = new Map(changedChats.map((c) => [c.id, c]));
  const loadedChats = (await store.waitingChats()).filter((c) => !mine.has(c.id));
  const waiting = [...loadedChats, ...changedChats].filter(isWaiting).sort((a, b) => a.createdAt - b.createdAt);
  if (waiting.length === 0) return { chats: [], sessions: [], loadedChats, loadedSessions: [] };
  const changed = new Map(changedSessions.map((s) => [s.userId, s]));
  const readyIds = (await store.readyChatAgents()).map((r) => r.userId).filter((id) => !changed.has(id));
  const loadedSessions = (await Promise.all(readyIds.map((id) => store.getAgentSession(id)))).filter((s): s is AgentSession => s !== undefined);
  const ready = [...loadedSessions, ...changed.values()].filter((s) => directory.nicknameOf(s.userId) !== undefined && chatReadySince(s) !== null);
  // What each Ready agent already has, the command's own change winning over what is stored.
  const engagedIn = async (userId: string) =>
    mergeById((c: Chat) => c.id, await store.chatsOfAgent(userId), changedChats.filter((c) => c.agents.some((a) => a.userId === userId))).filter((c) =>
      c.agents.some((a) => a.userId === userId && isEngaged(a)),
    ).length;
  const agents: RoutableAgent[] = await Promise.all(
    ready.map(async (session) => ({ userId: session.userId, nickname: directory.nicknameOf(session.userId) as string, session, engaged: await engagedIn(session.userId) })),
  );
  const routed = routeWaitingChats(waiting, agents, {
    now: deps.clock.now(),
    newParticipantId: deps.chatIds.participantId,
    tenant: deps.tenant,
    maxChatsPerAgent: deps.maxChatsPerAgent,
  });
  return { ...routed, loadedChats, loadedSessions };
};

export interface VoiceRouted {
  /** The command's calls with routing's follow-ups merged in, and the offered waiting calls. */
  readonly calls: Call[];
  readonly sessions: AgentSession[];
  readonly agentEvents: AgentEvent[];
  /** What was loaded for routing: the "before" of its changes. */
  readonly loadedCalls: Call[];
  readonly loadedSessions: AgentSession[];
}

/**
 * Voice queues: the follow-ups of a change (delivered, unanswered, wrap-up) and the offers it
 * makes possible (a call that waits, an agent who went Ready or was freed), computed on the change
 * the command is about to commit so that they are committed with it in one batch.
 */
export const routeVoiceWith = async (
  deps: HandlerDeps,
  before: ReadonlyMap<string, Call>,
  changed: readonly Call[],
  changedSessions: readonly AgentSession[],
): Promise<VoiceRouted> => {
  const none = { calls: [...changed], sessions: [...changedSessions], agentEvents: [], loadedCalls: [], loadedSessions: [] };
  const { store, directory } = deps;
  if (!touchesRouting(changed, changedSessions)) return none;
  const mine = new Set(changed.map((c) => c.id));
  const live = await Promise.all((await store.liveCallIds()).filter((id) => !mine.has(id)).map((id) => store.getCall(id)));
  const waiting = live.filter((c): c is Call => c !== undefined && isWaitingCall(c));
  // Every queue's members: few, and what the offers and the follow-ups are about.
  const queueNames = new Set([...changed, ...waiting].flatMap((c) => (c.routing ? [c.routing.queue] : [])));
  const memberIds = new Set<string>();
  for (const name of queueNames) for (const id of directory.routingQueue(name)?.members ?? []) memberIds.add(id);
  for (const s of changedSessions) if (directory.queueMember(s.userId)) memberIds.add(s.userId);
  if (waiting.length === 0 && !changed.some((c) => c.routing)) return none;
  const members: Member[] = (
    await Promise.all(
      [...memberIds].map(async (id): Promise<Member[]> => {
        const who = directory.queueMember(id);
        if (!who) return [];
        return [{ ...who, session: await store.getAgentSession(id), calls: await store.presentCallsOf(who.dn) }];
      }),
    )
  ).flat();
  const routed = routeVoice({
    before: new Map([...before, ...waiting.map((c) => [c.id, c] as const)]),
    changed,
    waiting,
    changedSessions,
    members,
    queueOf: directory.routingQueue,
    now: deps.clock.now(),
    tenant: deps.tenant,
  });
  return {
    calls: mergeById((c) => c.id, changed, routed.calls),
    sessions: mergeById((s) => s.userId, changedSessions, routed.sessions),
    agentEvents: routed.events,
    loadedCalls: waiting,
    loadedSessions: members.flatMap((m) => (m.session ? [m.session] : [])),
  };
};

/** Merges entities by id, later ones winning: a routing offer supersedes the change it follows. */
export const mergeById = <T>(id: (t: T) => string, ...lists: readonly (readonly T[])[]): T[] => {
  const merged = new Map<string, T>();
  for (const list of lists) for (const item of list) merged.set(id(item), item);
  return [...merged.values()];
};
