/**
 * The customer's side of a chat, modelled on the GMS Chat API v2: start a chat for a service,
 * send messages, disconnect. Each request after the first proves who it is with the chat's
 * userId + secureKey + alias.
 */
import { refuse, type Refusal } from '../refusals.js';
import type { CustomerSendParams, StartChatParams } from './commands.js';
import { appendMessage, isWaiting, transcriptFull, type Chat } from './model.js';

export interface CustomerCredentials {
  readonly userId?: unknown;
  readonly secureKey?: unknown;
  readonly alias?: unknown;
}

export interface NewChatIds {
  readonly chatId: string;
  readonly participantId: string;
  readonly userId: string;
  readonly secureKey: string;
  readonly alias: string;
}

export const startChat = (serviceName: string, p: StartChatParams, ids: NewChatIds, now: number): Chat => {
  const nickname = p.nickname ?? `${p.firstName} ${p.lastName}`;
  const chat: Chat = {
    id: ids.chatId,
    version: 0,
    serviceName,
    customer: {
      participantId: ids.participantId,
      seq: 1,
      nickname,
      firstName: p.firstName ?? '',
      lastName: p.lastName ?? '',
      emailAddress: p.emailAddress ?? '',
      subject: p.subject ?? '',
      userId: ids.userId,
      secureKey: ids.secureKey,
      alias: ids.alias,
      connected: true,
    },
    agents: [],
    messages: [],
    // The keys GMS puts on a chat from its request, as the seed's userData shows them.
    userData: {
      ...(p.userData ?? {}),
      ...(p.firstName !== undefined ? { FirstName: p.firstName } : {}),
      ...(p.lastName !== undefined ? { LastName: p.lastName } : {}),
      ...(p.emailAddress !== undefined ? { EmailAddress: p.emailAddress } : {}),
      ...(p.subject !== undefined ? { Subject: p.subject } : {}),
      ServiceType: serviceName,
    },
    rejectedBy: [],
    createdAt: now,
    endedAt: null,
  };
  return appendMessage(chat, { type: 'ParticipantJoined', from: ids.participantId, visibility: 'All', time: now });
};

/**
 * The customer's credentials must all match; a mismatch is refused without saying which.
 * `same` compares secrets in constant time (the shell supplies it: crypto is I/O's neighbour).
 */
export const checkCustomer = (
  chat: Chat | undefined,
  chatId: string,
  creds: CustomerCredentials,
  same: (secret: string, given: unknown) => boolean,
): Refusal | null => {
  if (!chat) return refuse.notFound('chat', chatId);
  const c = chat.customer;
  return same(c.userId, creds.userId) && same(c.secureKey, creds.secureKey) && same(c.alias, creds.alias)
    ? null
    : refuse.forbidden('userId, secureKey and alias do not match this chat');
};

export const customerSend = (chat: Chat, parsed: CustomerSendParams, now: number): Chat | Refusal => {
  if (chat.endedAt !== null) return refuse.invalidState(`chat ${chat.id} has ended`);
  const sent = appendMessage(chat, {
    type: 'Text',
    from: chat.customer.participantId,
    visibility: 'All',
    time: now,
    text: parsed.message,
    ...(parsed.messageType ? { messageType: parsed.messageType } : {}),
  });
  const full = transcriptFull(chat, sent);
  return full ? refuse.invalidState(full) : sent;
};

export const customerDisconnect = (chat: Chat, now: number): Chat => {
  if (!chat.customer.connected) return chat;
  const left = appendMessage(chat, { type: 'ParticipantLeft', from: chat.customer.participantId, visibility: 'All', time: now });
  return {
    ...left,
    customer: { ...left.customer, connected: false },
    // Offers still pending are withdrawn: there is no one to serve.
    agents: left.agents.map((a) => (a.state === 'Invited' ? { ...a, state: 'Completed' as const } : a)),
    endedAt: chat.endedAt ?? now,
  };
};

/** The notice a customer reads when no agent took their chat in time. */
export const NO_AGENT_NOTICE = 'No agent is available to take your chat right now, so it has ended. Please try again later.';
/** Who the notice is from: the service, not a participant (views show it without a nickname). */
export const SYSTEM_PARTICIPANT = 'system';

/**
 * A chat still waiting for an agent `maxWaitMs` after it started ends: the customer is told why (a
 * Notice) and the chat ends for them (chatEnded). Null when it is not (or no longer) due.
 */
export const expireWaitingChat = (chat: Chat, maxWaitMs: number, now: number): Chat | null => {
  if (!isWaiting(chat) || now - chat.createdAt < maxWaitMs) return null;
  const told = appendMessage(chat, { type: 'Notice', from: SYSTEM_PARTICIPANT, visibility: 'All', time: now, text: NO_AGENT_NOTICE });
  return { ...told, customer: { ...told.customer, connected: false }, endedAt: now };
};
