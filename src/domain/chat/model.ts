/**
 * The chat aggregate: one customer, the agents who were ever offered or joined it, a message log
 * (the transcript) and user data. Each agent has their own state and visibility in the chat:
 * routing, Invite and Transfer make an agent visible to All; Consult only to Agents.
 */
export const CHAT_AGENT_STATES = ['Invited', 'Chatting', 'LeftChat', 'Completed'] as const;
export type ChatAgentState = (typeof CHAT_AGENT_STATES)[number];
export type Visibility = 'All' | 'Agents' | 'Supervisors';
export type JoinedVia = 'routing' | 'invite' | 'consult' | 'transfer' | 'intrude';

/** How an intruding supervisor takes part, and the visibility each mode implies. */
export const SUPERVISOR_MODES = { Monitor: 'Supervisors', Coach: 'Agents', BargeIn: 'All' } as const;
export type SupervisorMode = keyof typeof SUPERVISOR_MODES;

/** Who reads as whom: an intruding supervisor reads everything; other agents all but whispers. */
export const readerOf = (agent: ChatAgent): 'agent' | 'supervisor' => (agent.via === 'intrude' ? 'supervisor' : 'agent');

export interface ChatAgent {
  readonly userId: string;
  readonly participantId: string;
  /** A small number that names the participant in the customer API (GMS uses numbers). */
  readonly seq: number;
  readonly nickname: string;
  readonly state: ChatAgentState;
  readonly visibility: Visibility;
  readonly via: JoinedVia;
  /** Who offered this agent the chat (Invite, Consult, Transfer), and the referenceId they were answered. */
  readonly invitedBy?: { readonly userId: string; readonly referenceId?: number };
  /**
   * Kept when the agent leaves (offered or chatting before, neither after): the last message
   * index and the user data they could read then. A party who has left reads the chat as it was.
   */
  readonly left?: { readonly lastIndex: number; readonly userData: Readonly<Record<string, string | number>> };
}

export interface ChatCustomer {
  readonly participantId: string;
  readonly seq: number;
  readonly nickname: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly emailAddress: string;
  readonly subject: string;
  /** The customer API's credentials: userId + secureKey + alias, as GMS issues them. */
  readonly userId: string;
  readonly secureKey: string;
  readonly alias: string;
  readonly connected: boolean;
}

export const MESSAGE_TYPES = ['Text', 'ParticipantJoined', 'ParticipantLeft', 'PushUrl', 'Notice', 'TypingStarted', 'TypingStopped', 'NicknameUpdated'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export interface ChatMessage {
  readonly index: number;
  readonly type: MessageType;
  /** The participantId of who it is from. */
  readonly from: string;
  readonly visibility: Visibility;
  readonly time: number;
  readonly text?: string;
  readonly url?: string;
  /** NicknameUpdated: the new nickname (SendNicknameUpdatedNotice's noticeText). */
  readonly noticeText?: string;
  /** The client's own label for a text message (GWS `messageType`). */
  readonly messageType?: string;
}

export interface Chat {
  readonly id: string;
  readonly version: number;
  readonly serviceName: string;
  readonly customer: ChatCustomer;
  readonly agents: readonly ChatAgent[];
  readonly messages: readonly ChatMessage[];
  readonly userData: Readonly<Record<string, string | number>>;
  /** Agents who rejected the chat: routing does not offer it to them again. */
  readonly rejectedBy: readonly string[];
  readonly createdAt: number;
  /** When the chat ended for the customer (customer left, or no agent visible to all is left). */
  readonly endedAt: number | null;
}

export const agentOf = (chat: Chat, userId: string): ChatAgent | undefined => chat.agents.find((a) => a.userId === userId);
export const chattingAgents = (chat: Chat): readonly ChatAgent[] => chat.agents.filter((a) => a.state === 'Chatting');

/** An agent is "in" the chat while offered or chatting; afterwards they have left it. */
export const isEngaged = (a: ChatAgent): boolean => a.state === 'Invited' || a.state === 'Chatting';

/** Waiting for routing: the customer is there and no agent is offered it or chatting. */
export const isWaiting = (chat: Chat): boolean =>
  chat.endedAt === null && chat.customer.connected && !chat.agents.some(isEngaged);

/** Is the chat still served by an agent the customer can see? */
export const hasVisibleAgent = (chat: Chat): boolean => chat.agents.some((a) => isEngaged(a) && a.visibility === 'All');

export const withAgent = (chat: Chat, userId: string, patch: Partial<Omit<ChatAgent, 'userId'>>): Chat => ({
  ...chat,
  agents: chat.agents.map((a) => (a.userId === userId ? { ...a, ...patch } : a)),
});

export const appendMessage = (chat: Chat, message: Omit<ChatMessage, 'index'>): Chat => ({
  ...chat,
  messages: [...chat.messages, { ...message, index: chat.messages.length + 1 }],
});

/** What a reader may see of a message: the customer sees All only; agents see All and Agents. */
export const visibleTo = (reader: 'customer' | 'agent' | 'supervisor', message: Pick<ChatMessage, 'visibility'>): boolean =>
  message.visibility === 'All' ||
  (message.visibility === 'Agents' && reader !== 'customer') ||
  (message.visibility === 'Supervisors' && reader === 'supervisor');


/**
 * Marks each agent who left in this change with what they could read then: the transcript up to
 * their own ParticipantLeft (or up to where it stood before the change) and the user data of
 * before. An agent offered the chat again loses the mark.
 */
export const rememberChatDepartures = (before: Chat | undefined, after: Chat): Chat => {
  const engagedBefore = new Set((before?.agents ?? []).filter(isEngaged).map((a) => a.userId));
  let changed = false;
  const agents = after.agents.map((a) => {
    if (isEngaged(a)) {
      if (a.left === undefined) return a;
      changed = true;
      const { left: _gone, ...back } = a;
      return back;
    }
    if (a.left !== undefined || !engagedBefore.has(a.userId)) return a;
    changed = true;
    const own = after.messages.filter((m) => m.from === a.participantId && m.type === 'ParticipantLeft' && m.index > (before?.messages.length ?? 0));
    const lastIndex = own.length > 0 ? (own[own.length - 1] as ChatMessage).index : (before?.messages.length ?? 0);
    return { ...a, left: { lastIndex, userData: before?.userData ?? {} } };
  });
  return changed ? { ...after, agents } : after;
};

/** What this agent may read of the chat: everything while engaged; as it was when they left. */
export const chatAsSeenBy = (chat: Chat, userId: string): { readonly userData: Readonly<Record<string, string | number>>; readonly lastIndex: number } => {
  const self = agentOf(chat, userId);
  if (self === undefined || isEngaged(self)) return { userData: chat.userData, lastIndex: Number.MAX_SAFE_INTEGER };
  return self.left ?? { userData: {}, lastIndex: 0 };
};

/**
 * A transcript holds at most this many messages. Joins and leaves are always let through (a full
 * chat must still be left and ended); what a participant says, types or pushes is refused.
 */
export const MAX_TRANSCRIPT_MESSAGES = 5000;
const ALWAYS_RECORDED: ReadonlySet<MessageType> = new Set(['ParticipantJoined', 'ParticipantLeft']);

/** Why this change may not be recorded, or null: it adds content to a full transcript. */
export const transcriptFull = (before: Chat, after: Chat): string | null => {
  if (after.messages.length <= MAX_TRANSCRIPT_MESSAGES) return null;
  const added = after.messages.slice(before.messages.length);
  return added.some((m) => !ALWAYS_RECORDED.has(m.type))
    ? `the transcript of chat ${before.id} is full (at most ${MAX_TRANSCRIPT_MESSAGES} messages): start a new chat`
    : null;
};
