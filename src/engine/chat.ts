/**
 * The chat half of the engine: agent operations, the customer's requests, and routing. Same
 * discipline as voice: load → decide (pure domain) → commit with versions → publish.
 */
import { randomBytes } from 'node:crypto';
import type { Actor } from '../domain/actor.js';
import type { AgentSession } from '../domain/agent/model.js';
import { checkCustomer, customerDisconnect, customerSend, startChat, type CustomerCredentials } from '../domain/chat/customer.js';
import { decideChat } from '../domain/chat/decide.js';
import { decideIntrude } from '../domain/chat/intrude.js';
import { chatEvents } from '../domain/chat/events.js';
import { isWaiting, type Chat } from '../domain/chat/model.js';
import { UNREFERENCED_CHAT_OPERATIONS, type ChatDirectory } from '../domain/chat/operations.js';
import { offerToAgent, pickAgent } from '../domain/chat/routing.js';
import { refuse, type Refusal } from '../domain/refusals.js';
import { VersionConflict, type CommitBatch, type Store } from '../store/port.js';
import type { Clock, EventSink } from './ports.js';

export interface ChatIds {
  chatId(): string;
  participantId(): string;
}

export const randomChatIds: ChatIds = {
  // GWS chat ids look like 00010a9FSGFP001F; participant ids like 00AF52FCF0C0002F.
  chatId: () => `0001${randomBytes(6).toString('base64url').replace(/[-_]/g, 'Z').slice(0, 12)}`,
  participantId: () => randomBytes(8).toString('hex').toUpperCase(),
};

export interface ChatEngineDeps {
  readonly store: Store;
  readonly directory: ChatDirectory & { nicknameOf(userId: string): string | undefined };
  readonly sink: EventSink;
  readonly clock: Clock;
  readonly ids: ChatIds;
  /** The tenant name written into routed chats' user data (RTenant). */
  readonly tenant: string;
}

export type ChatOutcome<T = object> = ({ readonly ok: true } & T) | Refusal;

export interface ChatEngine {
  /** Accepted operations carry the referenceId they answer, or none (UNREFERENCED_CHAT_OPERATIONS). */
  chatOperation(actor: Actor, chatId: string, body: Readonly<Record<string, unknown>>): ChatOutcome<{ referenceId?: number }>;
  /** POST /api/v2/users/{userId}/chats/{chatId} Intrude. */
  intrude(actor: Actor, agentUserId: string, chatId: string, body: Readonly<Record<string, unknown>>): ChatOutcome<{ referenceId: number }>;
  customerStart(serviceName: string, fields: Record<string, unknown>): ChatOutcome<{ chat: Chat }>;
  customerSend(chatId: string, creds: CustomerCredentials, fields: Record<string, unknown>): ChatOutcome<{ chat: Chat }>;
  customerRead(chatId: string, creds: CustomerCredentials): ChatOutcome<{ chat: Chat }>;
  customerDisconnect(chatId: string, creds: CustomerCredentials): ChatOutcome<{ chat: Chat }>;
  /** Offers every waiting chat it can to a Ready agent. */
  route(): void;
}

const CONFLICT = Symbol('conflict');
const MAX_ATTEMPTS = 3;

export const createChatEngine = (deps: ChatEngineDeps): ChatEngine => {
  const { store, directory, sink, clock, ids } = deps;
  let lastReferenceId = 0;

  const commit = (batch: CommitBatch): typeof CONFLICT | Chat[] => {
    try {
      return [...store.commit(batch).chats];
    } catch (error) {
      if (error instanceof VersionConflict) return CONFLICT;
      throw error;
    }
  };

  const retry = <T>(id: string, attempt: () => ChatOutcome<T> | typeof CONFLICT): ChatOutcome<T> => {
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const outcome = attempt();
      if (outcome !== CONFLICT) return outcome;
    }
    return refuse.concurrentChange('chat', id);
  };

  /** Commits one chat change and tells everyone concerned. */
  const apply = (before: Chat | undefined, after: Chat, requester?: { userId: string; referenceId?: number }) => {
    const committed = commit({ chats: [after] });
    if (committed === CONFLICT) return CONFLICT;
    const saved = committed[0] as Chat;
    sink.publish(chatEvents(before, saved, requester));
    return saved;
  };

  const offerOne = (chat: Chat): boolean => {
    const now = clock.now();
    const candidates = store.readyChatAgents().flatMap((r) => {
      const nickname = directory.nicknameOf(r.userId);
      return nickname === undefined ? [] : [{ userId: r.userId, nickname, idleSince: r.since }];
    });
    const agent = pickAgent(chat, candidates);
    if (!agent) return false;
    const session = store.getAgentSession(agent.userId) as AgentSession;
    const chatChannel = session.channels?.chat;
    if (!chatChannel) return false;
    // Receiving a chat ends the agent's idle time: the next chat goes to someone idle longer.
    const busier: AgentSession = { ...session, channels: { ...session.channels, chat: { ...chatChannel, since: now } } };
    const offered = offerToAgent(chat, agent, ids.participantId(), deps.tenant);
    const committed = commit({ chats: [offered], agentSessions: [busier] });
    if (committed === CONFLICT) return false;
    sink.publish(chatEvents(chat, committed[0] as Chat));
    return true;
  };

  const route = () => {
    for (const chat of store.waitingChats()) if (isWaiting(chat)) offerOne(chat);
  };

  /** Runs a customer request after checking the chat's credentials. */
  const asCustomer = (chatId: string, creds: CustomerCredentials, change: (chat: Chat) => Chat | Refusal): ChatOutcome<{ chat: Chat }> =>
    retry(chatId, () => {
      const chat = store.getChat(chatId);
      const denied = checkCustomer(chat, chatId, creds);
      if (denied) return denied;
      const current = chat as Chat;
      const next = change(current);
      if ('ok' in next) return next;
      if (next === current) return { ok: true, chat: current };
      const saved = apply(current, next);
      return saved === CONFLICT ? CONFLICT : { ok: true, chat: saved };
    });

  return {
    chatOperation: (actor, chatId, body) => {
      const outcome = retry(chatId, () => {
        const chat = store.getChat(chatId);
        const referenceId = UNREFERENCED_CHAT_OPERATIONS.has(body['operationName'] as string) ? undefined : lastReferenceId + 1;
        const decision = decideChat(chat, actor, chatId, body, directory, {
          now: clock.now(),
          newParticipantId: ids.participantId,
          ...(referenceId !== undefined ? { referenceId } : {}),
        });
        if (!decision.ok) return decision;
        if (referenceId !== undefined) lastReferenceId = referenceId;
        const answer = { ok: true as const, ...(referenceId !== undefined ? { referenceId } : {}) };
        if (decision.chat === chat) return answer;
        const saved = apply(chat, decision.chat, { userId: actor.userId, ...(referenceId !== undefined ? { referenceId } : {}) });
        return saved === CONFLICT ? CONFLICT : answer;
      });
      if (outcome.ok) route();
      return outcome;
    },

    intrude: (actor, agentUserId, chatId, body) =>
      retry(chatId, () => {
        const chat = store.getChat(chatId);
        const decision = decideIntrude(chat, actor, agentUserId, chatId, body, directory, { now: clock.now(), newParticipantId: ids.participantId });
        if (!decision.ok) return decision;
        const referenceId = ++lastReferenceId;
        const saved = apply(chat, decision.chat, { userId: actor.userId, referenceId });
        return saved === CONFLICT ? CONFLICT : { ok: true as const, referenceId };
      }),

    customerStart: (serviceName, fields) => {
      const started = startChat(
        serviceName,
        fields,
        {
          chatId: ids.chatId(),
          participantId: ids.participantId(),
          userId: ids.participantId(),
          secureKey: randomBytes(8).toString('hex'),
          alias: String(100 + (randomBytes(1)[0] as number)),
        },
        clock.now(),
      );
      if ('ok' in started) return started;
      const saved = apply(undefined, started);
      if (saved === CONFLICT) return refuse.concurrentChange('chat', started.id);
      route();
      return { ok: true, chat: store.getChat(saved.id) ?? saved };
    },

    customerSend: (chatId, creds, fields) => asCustomer(chatId, creds, (chat) => customerSend(chat, fields, clock.now())),
    customerRead: (chatId, creds) => asCustomer(chatId, creds, (chat) => chat),
    customerDisconnect: (chatId, creds) => asCustomer(chatId, creds, (chat) => customerDisconnect(chat, clock.now())),
    route,
  };
};
