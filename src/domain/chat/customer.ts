/**
 * The customer's side of a chat, modelled on the GMS Chat API v2: start a chat for a service,
 * send messages, disconnect. Each request after the first proves who it is with the chat's
 * userId + secureKey + alias.
 */
import { timingSafeEqual } from 'node:crypto';
import Type, { type Static } from 'typebox';
import { compileParams } from '../params.js';
import { refuse, type Refusal } from '../refusals.js';
import { appendMessage, type Chat } from './model.js';

const Name = Type.String({ minLength: 1, maxLength: 256 });
const StartParams = Type.Object({
  nickname: Type.Optional(Name),
  firstName: Type.Optional(Name),
  lastName: Type.Optional(Name),
  emailAddress: Type.Optional(Type.String({ maxLength: 256 })),
  subject: Type.Optional(Type.String({ maxLength: 1024 })),
  userData: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.Union([Type.String({ maxLength: 4096 }), Type.Number()]))),
});
export type StartParams = Static<typeof StartParams>;
const startParams = compileParams<typeof StartParams, StartParams>(StartParams);

export const MESSAGE_LIMIT = 16 * 1024;
const SendParams = Type.Object({ message: Type.String({ minLength: 1, maxLength: MESSAGE_LIMIT }), messageType: Type.Optional(Type.String({ maxLength: 128 })) });
const sendParams = compileParams<typeof SendParams, Static<typeof SendParams>>(SendParams);

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

export const startChat = (serviceName: string, fields: Record<string, unknown>, ids: NewChatIds, now: number): Chat | Refusal => {
  const parsed = startParams(fields);
  if (!parsed.ok) return parsed;
  const p = parsed.value;
  if (p.nickname === undefined && (p.firstName === undefined || p.lastName === undefined))
    return refuse.missingParameter(p.firstName === undefined ? 'nickname' : 'lastName');
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

const same = (a: string, b: unknown): boolean => {
  if (typeof b !== 'string') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The customer's credentials must all match; a mismatch is refused without saying which. */
export const checkCustomer = (chat: Chat | undefined, chatId: string, creds: CustomerCredentials): Refusal | null => {
  if (!chat) return refuse.notFound('chat', chatId);
  const c = chat.customer;
  return same(c.userId, creds.userId) && same(c.secureKey, creds.secureKey) && same(c.alias, creds.alias)
    ? null
    : refuse.forbidden('userId, secureKey and alias do not match this chat');
};

export const customerSend = (chat: Chat, fields: Record<string, unknown>, now: number): Chat | Refusal => {
  const parsed = sendParams({
    ...(fields['message'] !== undefined ? { message: fields['message'] } : {}),
    ...(fields['messageType'] !== undefined ? { messageType: fields['messageType'] } : {}),
  });
  if (!parsed.ok) return parsed;
  if (chat.endedAt !== null) return refuse.invalidState(`chat ${chat.id} has ended`);
  return appendMessage(chat, {
    type: 'Text',
    from: chat.customer.participantId,
    visibility: 'All',
    time: now,
    text: parsed.value.message,
    ...(parsed.value.messageType ? { messageType: parsed.value.messageType } : {}),
  });
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
