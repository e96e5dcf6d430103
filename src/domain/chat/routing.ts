/**
 * Routing: a waiting chat is offered to the agent who has been Ready on the chat channel the
 * longest (and has not rejected it). Pure: the engine supplies the candidates.
 */
import type { AgentSession } from '../agent/model.js';
import { pickLongestIdle, type IdleCandidate } from '../routing.js';
import type { Chat, ChatAgent } from './model.js';

export interface RoutingCandidate extends IdleCandidate {
  readonly nickname: string;
}

/** The longest idle who has not rejected this chat and is not already in it. */
export const pickAgent = (chat: Chat, candidates: readonly RoutingCandidate[]): RoutingCandidate | undefined =>
  pickLongestIdle(candidates, (c) => !chat.rejectedBy.includes(c.userId) && !chat.agents.some((a) => a.userId === c.userId && a.state !== 'Completed'));

export const offerToAgent = (chat: Chat, agent: RoutingCandidate, participantId: string, routedBy: string): Chat => {
  // One who was in this chat before keeps their participant, so their earlier messages stay theirs.
  const before = chat.agents.find((a) => a.userId === agent.userId);
  const offered: ChatAgent = {
    userId: agent.userId,
    participantId: before?.participantId ?? participantId,
    seq: before?.seq ?? Math.max(chat.customer.seq, ...chat.agents.map((a) => a.seq)) + 1,
    nickname: agent.nickname,
    state: 'Invited',
    visibility: 'All',
    via: 'routing',
  };
  return {
    ...chat,
    agents: [...chat.agents.filter((a) => a.userId !== agent.userId), offered],
    // The routing keys the seed's userData carries, where they mean something here.
    userData: { ...chat.userData, RTargetAgentSelected: agent.nickname, RTargetTypeSelected: '2', RTenant: routedBy },
  };
};

/** An agent Ready on the chat channel, with the session that says since when. */
export interface RoutableAgent {
  readonly userId: string;
  readonly nickname: string;
  readonly session: AgentSession;
  /** How many chats the agent is offered or chatting in now. */
  readonly engaged: number;
}

export interface RoutingEnv {
  readonly now: number;
  newParticipantId(): string;
  /** The tenant name written into routed chats' user data (RTenant). */
  readonly tenant: string;
  /** The most chats routing lets one agent be offered or chatting in at once. */
  readonly maxChatsPerAgent: number;
}

/** An agent takes a few chats at a time (8 unless configured); beyond that, chats wait for someone free. */
export const DEFAULT_MAX_CHATS_PER_AGENT = 8;

/**
 * Offers every waiting chat it can, oldest first, each to the agent Ready the longest. Receiving a
 * chat ends the agent's idle time, so the next chat goes to someone idle longer. Returns the
 * offered chats and the agents' sessions with their new idle time, to commit with the change
 * that made routing possible.
 */
export const routeWaitingChats = (
  waiting: readonly Chat[],
  agents: readonly RoutableAgent[],
  env: RoutingEnv,
): { chats: Chat[]; sessions: AgentSession[] } => {
  const sessions = new Map(agents.map((a) => [a.userId, a.session]));
  const engaged = new Map(agents.map((a) => [a.userId, a.engaged]));
  const chats: Chat[] = [];
  for (const chat of waiting) {
    const candidates = agents.flatMap((a) => {
      const since = sessions.get(a.userId)?.channels?.chat;
      const free = (engaged.get(a.userId) ?? 0) < env.maxChatsPerAgent;
      return since?.state === 'Ready' && free ? [{ userId: a.userId, nickname: a.nickname, idleSince: since.since }] : [];
    });
    const agent = pickAgent(chat, candidates);
    if (!agent) continue;
    engaged.set(agent.userId, (engaged.get(agent.userId) ?? 0) + 1);
    const session = sessions.get(agent.userId) as AgentSession;
    const chatChannel = session.channels?.chat as NonNullable<NonNullable<AgentSession['channels']>['chat']>;
    sessions.set(agent.userId, { ...session, channels: { ...session.channels, chat: { ...chatChannel, since: env.now } } });
    chats.push(offerToAgent(chat, agent, env.newParticipantId(), env.tenant));
  }
  const offeredTo = new Set(chats.map((c) => c.agents[c.agents.length - 1]?.userId));
  return { chats, sessions: [...sessions.values()].filter((s) => offeredTo.has(s.userId)) };
};
