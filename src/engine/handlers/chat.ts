/** Chat commands: an agent's chat operations, a supervisor's Intrude, the customer's requests. */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AgentSession } from '../../domain/agent/model.js';
import { checkCustomer, customerDisconnect, customerSend, expireWaitingChat, startChat, type CustomerCredentials } from '../../domain/chat/customer.js';
import { decideChat } from '../../domain/chat/decide.js';
import { decideIntrude } from '../../domain/chat/intrude.js';
import type { Chat } from '../../domain/chat/model.js';
import { UNREFERENCED_CHAT_OPERATIONS, type ChatDirectory } from '../../domain/chat/operations.js';
import { isRefusal, type Refusal } from '../../domain/refusals.js';
import type { Committed } from '../../store/port.js';
import type { CommandOf } from '../commands.js';
import { byId, plan, type Handler, type HandlerDeps, type Plan } from './plan.js';
import { mergeById, routeWith } from './routing.js';

export interface ChatIds {
  chatId(): string;
  participantId(): string;
}

export const randomChatIds: ChatIds = {
  // GWS chat ids look like 00010a9FSGFP001F; participant ids like 00AF52FCF0C0002F.
  chatId: () => `0001${randomBytes(6).toString('base64url').replace(/[-_]/g, 'Z').slice(0, 12)}`,
  participantId: () => randomBytes(8).toString('hex').toUpperCase(),
};

export interface ChatHandlerDeps {
  readonly directory: ChatDirectory & { nicknameOf(userId: string): string | undefined };
}

/** Compares a secret in constant time, so a customer's guesses learn nothing from timing. */
const same = (secret: string, given: unknown): boolean => {
  if (typeof given !== 'string') return false;
  const x = Buffer.from(secret);
  const y = Buffer.from(given);
  return x.length === y.length && timingSafeEqual(x, y);
};

const chatOf = (committed: Committed, fallback: Chat): Chat => committed.chats.find((c) => c.id === fallback.id) ?? fallback;

export const createChatHandlers = (deps: HandlerDeps) => {
  const { store, clock, directory } = deps;
  const ids = deps.chatIds;
  // referenceIds are per process and increase; GWS only promises they match the notifications.
  let lastReferenceId = 0;
  const chatKey = (c: { chatId: string }) => ({ key: `chat:${c.chatId}`, kind: 'chat', id: c.chatId });

  /** A chat change plus the routing it makes possible, as one plan. */
  const chatPlan = async <A>(
    before: Chat | undefined,
    after: Chat,
    answer: (committed: Committed) => A,
    options: { requester?: Plan<A>['requester']; route: boolean; extraSessions?: readonly AgentSession[] },
  ): Promise<Plan<A>> => {
    const changed = before === after ? [] : [after];
    const routed = options.route ? await routeWith(deps, [after], []) : undefined;
    const chats = mergeById((c) => c.id, changed, routed?.chats ?? []);
    const chatSessions = chats.length > 0 ? new Set(await store.chatSessionUserIds()) : new Set<string>();
    return plan({
      chats,
      sessions: routed?.sessions ?? [],
      before: {
        calls: new Map(),
        chats: byId([...(routed?.loadedChats ?? []), ...(before ? [before] : [])], (c) => c.id),
        sessions: byId(routed?.loadedSessions ?? [], (s) => s.userId),
      },
      chatSessions,
      ...(options.requester ? { requester: options.requester } : {}),
      answer,
    });
  };

  const chatOperation: Handler<CommandOf<'ChatOperation'>, { referenceId?: number }> = {
    key: chatKey,
    async plan(c) {
      const chat = await store.getChat(c.chatId);
      const chatSessions = new Set(await store.chatSessionUserIds());
      const name = c.operation.name;
      const referenceId = name !== undefined && !UNREFERENCED_CHAT_OPERATIONS.has(name) ? lastReferenceId + 1 : undefined;
      const decision = decideChat(chat, c.actor, c.chatId, c.operation, { directory, chatSessions, userIdOf: deps.refs.userIdOf }, {
        now: clock.now(),
        newParticipantId: ids.participantId,
        ...(referenceId !== undefined ? { referenceId } : {}),
      });
      if (isRefusal(decision)) return decision;
      if (referenceId !== undefined) lastReferenceId = referenceId;
      const reference = referenceId !== undefined ? { referenceId } : {};
      return chatPlan(chat, decision.chat, () => reference, {
        requester: { chatId: c.chatId, userId: c.actor.userId, ...reference },
        route: true,
      });
    },
  };

  const intrude: Handler<CommandOf<'Intrude'>, { referenceId: number }> = {
    key: chatKey,
    async plan(c) {
      const chat = await store.getChat(c.chatId);
      const decision = decideIntrude(chat, c.actor, c.agentUserId, c.chatId, c.operation, directory, { now: clock.now(), newParticipantId: ids.participantId });
      if (isRefusal(decision)) return decision;
      const referenceId = ++lastReferenceId;
      return chatPlan(chat, decision.chat, () => ({ referenceId }), { requester: { chatId: c.chatId, userId: c.actor.userId, referenceId }, route: false });
    },
  };

  const customerStart: Handler<CommandOf<'CustomerStart'>, { chat: Chat }> = {
    key: () => ({ key: 'chat:new', kind: 'chat', id: 'new' }),
    async plan(c) {
      const started = startChat(
        c.serviceName,
        c.params,
        {
          chatId: ids.chatId(),
          participantId: ids.participantId(),
          userId: ids.participantId(),
          secureKey: randomBytes(8).toString('hex'),
          alias: String(100 + (randomBytes(1)[0] as number)),
        },
        clock.now(),
      );
      return chatPlan(undefined, started, (committed) => ({ chat: chatOf(committed, started) }), { route: true });
    },
  };

  /** A customer request, after checking the chat's credentials. */
  const asCustomer = <C extends { chatId: string; creds: CustomerCredentials }>(change: (chat: Chat, c: C) => Chat | Refusal): Handler<C, { chat: Chat }> => ({
    key: chatKey,
    async plan(c) {
      const chat = await store.getChat(c.chatId);
      const denied = checkCustomer(chat, c.chatId, c.creds, same);
      if (denied) return denied;
      const current = chat as Chat;
      const next = change(current, c);
      if (isRefusal(next)) return next;
      return chatPlan(current, next, (committed) => ({ chat: chatOf(committed, current) }), { route: false });
    },
  });

  return {
    ChatOperation: chatOperation,
    Intrude: intrude,
    CustomerStart: customerStart,
    CustomerSend: asCustomer<CommandOf<'CustomerSend'>>((chat, c) => customerSend(chat, c.params, clock.now())),
    CustomerRead: asCustomer<CommandOf<'CustomerRead'>>((chat) => chat),
    CustomerDisconnect: asCustomer<CommandOf<'CustomerDisconnect'>>((chat) => customerDisconnect(chat, clock.now())),
    ExpireWaitingChat: <Handler<CommandOf<'ExpireWaitingChat'>, { expired: boolean }>>{
      key: chatKey,
      async plan(c) {
        const chat = await store.getChat(c.chatId);
        const expired = chat ? expireWaitingChat(chat, c.maxWaitMs, clock.now()) : null;
        // Taken meanwhile (or gone): nothing to do, and nothing to refuse.
        if (!chat || !expired) return plan({ answer: () => ({ expired: false }) });
        return chatPlan(chat, expired, () => ({ expired: true }), { route: false });
      },
    },
  };
};
