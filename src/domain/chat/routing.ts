/**
 * Routing: a waiting chat is offered to the agent who has been Ready on the chat channel the
 * longest (and has not rejected it). Pure: the engine supplies the candidates.
 */
import type { Chat, ChatAgent } from './model.js';

export interface RoutingCandidate {
  readonly userId: string;
  readonly nickname: string;
  /** When the agent became Ready, or last received a chat: the longest idle goes first. */
  readonly idleSince: number;
}

export const pickAgent = (chat: Chat, candidates: readonly RoutingCandidate[]): RoutingCandidate | undefined =>
  candidates
    .filter((c) => !chat.rejectedBy.includes(c.userId) && !chat.agents.some((a) => a.userId === c.userId && a.state !== 'Completed'))
    .sort((a, b) => a.idleSince - b.idleSince || a.userId.localeCompare(b.userId))[0];

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
