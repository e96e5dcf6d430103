/**
 * The GWS views of a chat for one agent, and of its messages, in the seed's shapes. The
 * customer's view (GMS) is in api/customer-chat.
 */
import { chatCapabilities, chatContextFor, type ChatWorld } from '../../../domain/chat/decide.js';
import { isRefusal } from '../../../domain/refusals.js';
import { visibleParticipants } from '../../../domain/chat/events.js';
import { agentOf, chatAsSeenBy, readerOf, visibleTo, type Chat, type ChatMessage } from '../../../domain/chat/model.js';
import type { Actor } from '../../../domain/actor.js';
import { userUri, type Urls } from './urls.js';

export const chatUri = (u: Urls, id: string) => `${u.base}/api/v2/chats/${id}`;
export const chatPath = (id: string) => `/chats/${id}`;

/** `yyyy-MM-dd HH:mm:ss.SSS+0000`: GWS's timestamp format, in UTC. */
export const gwsTimestamp = (ms: number): string => {
  const iso = new Date(ms).toISOString(); // 2014-02-13T16:20:59.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}+0000`;
};

/** A participant as GWS shows it: agents carry their user URI; the customer does not. */
const participant = (u: Urls, chat: Chat, participantId: string) => {
  if (participantId === chat.customer.participantId)
    return { nickname: chat.customer.nickname, type: 'Customer' as const, participantId, visibility: 'All' as const };
  const agent = chat.agents.find((a) => a.participantId === participantId);
  return {
    nickname: agent?.nickname ?? '',
    type: 'Agent' as const,
    uri: agent ? userUri(u, agent.userId) : '',
    visibility: agent?.visibility ?? 'All',
    participantId,
  };
};

export const chatParticipants = (u: Urls, chat: Chat, reader: 'agent' | 'supervisor' = 'agent') => [
  ...visibleParticipants(chat, reader).map((a) => participant(u, chat, a.participantId)),
  ...(chat.customer.connected ? [participant(u, chat, chat.customer.participantId)] : []),
];

/** How this user reads the chat: as an agent, or as a supervisor who intruded. */
export const readerIn = (chat: Chat, userId: string): 'agent' | 'supervisor' => {
  const self = agentOf(chat, userId);
  return self ? readerOf(self) : 'agent';
};

export interface AgentChatView {
  userData: Record<string, string | number>;
  state: string;
  capabilities: string[];
  uri: string;
  participants: ReturnType<typeof chatParticipants>;
  id: string;
}

export const chatView = (u: Urls, chat: Chat, viewer: Actor, world: ChatWorld): AgentChatView => {
  const ctx = chatContextFor(chat, viewer, chat.id, world);
  const state = isRefusal(ctx) ? 'Completed' : ctx.self.state;
  return {
    // A party who has left reads the chat as it was when they left.
    userData: { ...chatAsSeenBy(chat, viewer.userId).userData },
    state,
    capabilities: isRefusal(ctx) ? [] : chatCapabilities(ctx),
    uri: chatUri(u, chat.id),
    participants: chatParticipants(u, chat, readerIn(chat, viewer.userId)),
    id: chat.id,
  };
};

export const messageView = (u: Urls, chat: Chat, m: ChatMessage) => ({
  index: m.index,
  // SendNicknameUpdatedNotice sample: noticeText comes between index and from.
  ...(m.noticeText !== undefined ? { noticeText: m.noticeText } : {}),
  from: participant(u, chat, m.from),
  ...(m.text !== undefined ? { text: m.text } : {}),
  ...(m.url !== undefined ? { url: m.url } : {}),
  ...(m.messageType !== undefined ? { messageType: m.messageType } : {}),
  timestamp: gwsTimestamp(m.time),
  visibility: m.visibility,
  type: m.type,
  timestampSeconds: m.time,
});

/**
 * The transcript as this reader may read it (agents: everything but supervisors' whispers; a
 * party who has left: nothing sent after they left).
 */
export const agentMessages = (u: Urls, chat: Chat, reader: 'agent' | 'supervisor', from = 1, count = Number.MAX_SAFE_INTEGER, userId?: string) => {
  const upTo = userId === undefined ? Number.MAX_SAFE_INTEGER : chatAsSeenBy(chat, userId).lastIndex;
  return chat.messages.filter((m) => m.index >= from && m.index <= upTo && visibleTo(reader, m)).slice(0, count).map((m) => messageView(u, chat, m));
};
