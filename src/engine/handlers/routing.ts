/**
 * Loads what chat routing needs and asks the domain who gets which waiting chat, taking into
 * account the change the same command is about to commit (a chat that just became waiting, an
 * agent who just went Ready). The offers are committed with that change, atomically.
 */
import type { AgentSession } from '../../domain/agent/model.js';
import { isEngaged, isWaiting, type Chat } from '../../domain/chat/model.js';
import { routeWaitingChats, type RoutableAgent } from '../../domain/chat/routing.js';
import { chatReadySince } from '../../store/port.js';
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

/** Merges entities by id, later ones winning: a routing offer supersedes the change it follows. */
export const mergeById = <T>(id: (t: T) => string, ...lists: readonly (readonly T[])[]): T[] => {
  const merged = new Map<string, T>();
  for (const list of lists) for (const item of list) merged.set(id(item), item);
  return [...merged.values()];
};
