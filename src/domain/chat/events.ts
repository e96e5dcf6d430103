/**
 * What each agent hears about a chat change, derived from the chat before and after it (as for
 * voice). The order follows the seed: an agent who joins hears StatusChange first; an agent who
 * leaves hears ParticipantsUpdated, then NewMessages, then StatusChange last.
 */
import { readerOf, visibleTo, type Chat, type ChatAgent } from './model.js';

export type ChatNotificationType = 'StatusChange' | 'ParticipantsUpdated' | 'PropertiesUpdated' | 'NewMessages';

export interface ChatEvent {
  readonly kind: 'chat';
  readonly chatId: string;
  readonly userId: string;
  readonly notificationType: ChatNotificationType;
  /** For NewMessages: the indexes of the new messages this agent may see. */
  readonly messageIndexes?: readonly number[];
  /** Set on the requester's notifications when the request answered one. */
  readonly referenceId?: number;
  /** The chat as committed, and as it was before (undefined for a new chat). */
  readonly chat: Chat;
  readonly before: Chat | undefined;
  /** Who had a chat session when it was committed: capabilities depend on it. */
  readonly chatSessions: ReadonlySet<string>;
}

/** The participants a reader sees: agents chatting whom they may see, then the customer while connected. */
export const visibleParticipants = (chat: Chat, reader: 'customer' | 'agent' | 'supervisor'): readonly ChatAgent[] =>
  chat.agents.filter((a) => a.state === 'Chatting' && visibleTo(reader, a));

const participantsKey = (chat: Chat, reader: 'agent' | 'supervisor'): string =>
  [...visibleParticipants(chat, reader).map((a) => `${a.participantId}:${a.visibility}`), chat.customer.connected ? 'customer' : ''].join(',');

const sameUserData = (a: Chat['userData'], b: Chat['userData']): boolean => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
};

export const chatEvents = (
  before: Chat | undefined,
  after: Chat,
  requester?: { userId: string; referenceId?: number },
  chatSessions: ReadonlySet<string> = new Set(),
): ChatEvent[] => {
  const events: ChatEvent[] = [];
  const fresh = after.messages.slice(before?.messages.length ?? 0);
  // An offer's outcome (accepted, rejected) is the outcome of the request that made it: whoever
  // invited, consulted or transferred hears it with the referenceId they were answered.
  const answered = new Map<string, number>();
  for (const a of after.agents) {
    const was = before?.agents.find((b) => b.participantId === a.participantId);
    if (was?.state === 'Invited' && a.state !== 'Invited' && a.invitedBy?.referenceId !== undefined)
      answered.set(a.invitedBy.userId, a.invitedBy.referenceId);
  }
  for (const agent of after.agents) {
    const was = before?.agents.find((a) => a.userId === agent.userId && a.participantId === agent.participantId);
    const referenceId = requester?.userId === agent.userId ? requester.referenceId : answered.get(agent.userId);
    const emit = (notificationType: ChatNotificationType, extra: Partial<ChatEvent> = {}) =>
      events.push({
        kind: 'chat',
        chatId: after.id,
        userId: agent.userId,
        notificationType,
        ...extra,
        ...(referenceId !== undefined ? { referenceId } : {}),
        chat: after,
        before,
        chatSessions,
      });

    const stateChanged = !was || was.state !== agent.state;
    const reader = readerOf(agent);
    const participantsChanged = !!before && participantsKey(before, reader) !== participantsKey(after, reader);
    const dataChanged = !!before && !sameUserData(before.userData, after.userData);
    // An agent reads the messages logged while they were in the chat.
    const inChat = (a: ChatAgent | undefined) => a?.state === 'Chatting';
    // ChatAccept page: on Accept the agent receives "the chat history up to the point of joining",
    // after StatusChange and ParticipantsUpdated: every message they may read, not only new ones.
    const accepted = was?.state === 'Invited' && agent.state === 'Chatting';
    const readable = accepted
      ? after.messages.filter((m) => visibleTo(reader, m)).map((m) => m.index)
      : inChat(was) || inChat(agent)
        ? fresh.filter((m) => visibleTo(reader, m)).map((m) => m.index)
        : [];
    const news = () => readable.length > 0 && emit('NewMessages', { messageIndexes: readable });

    if (stateChanged && (agent.state === 'LeftChat' || agent.state === 'Completed')) {
      if (participantsChanged && agent.state === 'LeftChat') emit('ParticipantsUpdated');
      news();
      emit('StatusChange');
    } else if (stateChanged) {
      emit('StatusChange');
      if (was && participantsChanged) emit('ParticipantsUpdated');
      news();
    } else if (agent.state === 'Chatting') {
      if (participantsChanged) emit('ParticipantsUpdated');
      if (dataChanged) emit('PropertiesUpdated');
      news();
    } else if (agent.state === 'LeftChat' && dataChanged) {
      // Who has left still owns the wrap-up (disposition, user data), not the conversation.
      emit('PropertiesUpdated');
    }
  }
  return events;
};
