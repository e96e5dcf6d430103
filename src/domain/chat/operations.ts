/**
 * The agent chat operations as one table (POST /api/v2/me/chats/{id}), in the style of the voice
 * table: the agent states each applies in (the capability rows, in the order GWS lists them),
 * the parameter schema, the policy (3), conditions on the chat (2), and the change.
 */
import type { Actor } from '../actor.js';
import { chatPolicy } from '../policy.js';
import { isRefusal, refuse, type Refusal } from '../refusals.js';
import { CHAT_OPERATIONS, type ChatOperation, type ChatParams, type TextGroupParams } from './commands.js';
import {
  agentOf,
  appendMessage,
  chattingAgents,
  hasVisibleAgent,
  isEngaged,
  withAgent,
  type Chat,
  type ChatAgent,
  type ChatAgentState,
  type JoinedVia,
  type SupervisorMode,
  type Visibility,
  SUPERVISOR_MODES,
} from './model.js';

/** Capabilities per agent state, in the order GWS lists them (seed and reference samples). */
export const CHAT_CAPABILITY_ROWS: Readonly<Record<ChatAgentState, readonly ChatOperation[]>> = {
  Invited: ['Accept', 'Reject'],
  Chatting: [
    'Transfer', 'Leave', 'Invite', 'Consult', 'SetInFocus', 'SetDisposition', 'AttachUserData', 'DeleteUserData',
    'UpdateUserData', 'SendToAgents', 'SendStartTypingToAgentsNotification', 'SendStopTypingToAgentsNotification',
    'Complete', 'SendMessage', 'SendStartTypingNotification', 'SendStopTypingNotification', 'RemoveParticipantFromConference',
    'SwitchToMonitor', 'SwitchToCoach', 'SwitchToBargeIn',
  ],
  LeftChat: ['SetInFocus', 'Complete', 'SetDisposition', 'AttachUserData', 'DeleteUserData', 'UpdateUserData'],
  Completed: [],
};

/**
 * Operations GWS accepts but never lists in `capabilities` (no reference sample shows them, the
 * seed's lists included): they are accepted exactly when SendMessage is.
 */
export const UNLISTED_CHAT_OPERATIONS = ['SendUrl', 'SendNicknameUpdatedNotice'] as const;

/**
 * Operations whose success answers exactly {"statusCode":0} and whose notifications carry no
 * referenceId, as the seed shows for RemoveParticipantFromConference; every other chat operation
 * answers a referenceId that its notifications to the requester repeat.
 */
export const UNREFERENCED_CHAT_OPERATIONS: ReadonlySet<string> = new Set(['RemoveParticipantFromConference']);

export { CHAT_OPERATIONS, type ChatOperation };

export interface ChatDirectory {
  /** A user who may take part in chats (has the api-multimedia feature), or undefined. */
  chatUser(userId: string): { readonly id: string; readonly nickname: string } | undefined;
}

export interface ChatContext {
  readonly actor: Actor;
  readonly chat: Chat;
  readonly self: ChatAgent;
  readonly directory: ChatDirectory;
  /** Users with a contact-center session that has the chat channel (Ready or not), as loaded. */
  readonly chatSessions: ReadonlySet<string>;
  /** Reads the user id out of a targetUri / targetPath (the dialect's URLs). */
  readonly userIdOf: (ref: string) => string | null;
}

export interface ChatEnv {
  readonly now: number;
  newParticipantId(): string;
  /** The referenceId this request will be answered with, if any. */
  readonly referenceId?: number;
}

export interface ChatChange {
  readonly ok: true;
  readonly chat: Chat;
}

interface OperationSpec<P> {
  readonly policy?: (ctx: ChatContext) => string | null;
  readonly when?: (ctx: ChatContext) => string | null;
  readonly apply: (ctx: ChatContext, params: P, env: ChatEnv) => ChatChange | Refusal;
}

// ---- Helpers -------------------------------------------------------------------------------
const ok = (chat: Chat): ChatChange => ({ ok: true, chat });

/**
 * Appends the requester's optional text from a text-group operation, visible as the requester is
 * (a consultant's parting words never reach the customer).
 */
const withText = (chat: Chat, ctx: ChatContext, p: TextGroupParams, now: number, visibility: Visibility = ctx.self.visibility): Chat =>
  p.text === undefined
    ? chat
    : appendMessage(chat, {
        type: p.treatAs === 'System' ? 'Notice' : 'Text',
        from: ctx.self.participantId,
        visibility,
        time: now,
        text: p.text,
        ...(p.messageType !== undefined ? { messageType: p.messageType } : {}),
      });

const leaveMessage = (chat: Chat, agent: ChatAgent, now: number): Chat =>
  appendMessage(chat, { type: 'ParticipantLeft', from: agent.participantId, visibility: agent.visibility, time: now });

/** Ends the chat for the customer when no agent they can see is left in it. */
const endIfUnserved = (chat: Chat, now: number): Chat =>
  chat.endedAt === null && !hasVisibleAgent(chat) && chat.agents.some((a) => a.state !== 'Invited') ? { ...chat, endedAt: now } : chat;

const othersChatting = (ctx: ChatContext): readonly ChatAgent[] => chattingAgents(ctx.chat).filter((a) => a.userId !== ctx.self.userId);
const needsOtherAgents = (ctx: ChatContext): string | null =>
  othersChatting(ctx).length > 0 ? null : `no other agent is in chat ${ctx.chat.id}`;
const customerPresent = (ctx: ChatContext): string | null =>
  ctx.chat.endedAt === null ? null : `chat ${ctx.chat.id} has ended for the customer`;

/** An agent who joined by Consult and is still chatting, seen by agents only. */
const isConsultant = (a: ChatAgent): boolean => a.via === 'consult' && a.state === 'Chatting' && a.visibility === 'Agents';

/**
 * Invite and Consult need someone to offer the chat to: an agent logged in on chat, not in it.
 * Invite may also conference a consultant in (ChatConsult page).
 */
const someoneToOffer = (ctx: ChatContext, via: 'invite' | 'consult' = 'consult'): string | null => {
  const present = customerPresent(ctx);
  if (present) return present;
  if (via === 'invite' && ctx.chat.agents.some((a) => a.userId !== ctx.self.userId && isConsultant(a))) return null;
  const free = [...ctx.chatSessions].some((id) => id !== ctx.self.userId && ctx.directory.chatUser(id) !== undefined && !isEngaged(agentOf(ctx.chat, id) ?? ({ state: 'Completed' } as ChatAgent)));
  return free ? null : 'no other agent with a chat session is free to join this chat';
};

/** Resolves targetUri/targetPath to a user id: neither given is 1, an unreadable one is 10. */
const resolveTarget = (ctx: ChatContext, p: { targetUri?: string; targetPath?: string }): string | Refusal => {
  const name = p.targetUri !== undefined ? 'targetUri' : 'targetPath';
  const value = p.targetUri ?? p.targetPath;
  if (value === undefined) return refuse.missingParameter('targetUri');
  const id = ctx.userIdOf(value);
  return id ?? refuse.invalidParameter(name, `'${value}' is not a user URI (…/api/v2/users/{id}) or path (/users/{id})`);
};

/** Offers the chat to another agent (Invite, Consult, Transfer). */
const offer = (ctx: ChatContext, p: { targetUri?: string; targetPath?: string }, via: JoinedVia, env: ChatEnv): Chat | Refusal => {
  const targetId = resolveTarget(ctx, p);
  if (typeof targetId !== 'string') return targetId;
  if (targetId === ctx.self.userId) return refuse.invalidState(`you cannot ${via === 'consult' ? 'consult' : via} yourself`);
  const user = ctx.directory.chatUser(targetId);
  if (!user) return refuse.invalidState(`user ${targetId} is not an agent who can take chats`);
  const existing = agentOf(ctx.chat, targetId);
  // ChatConsult page: "the originating agent can either Transfer to the consulting agent or
  // Conference with the consulting agent". Either way the consultant, already chatting and seen
  // by agents only, becomes visible to all: the customer now sees them join.
  if (existing && isConsultant(existing) && via !== 'consult')
    return appendMessage(withAgent(ctx.chat, targetId, { visibility: 'All', via }), {
      type: 'ParticipantJoined',
      from: existing.participantId,
      visibility: 'All',
      time: env.now,
    });
  if (existing && isEngaged(existing)) return refuse.invalidState(`user ${targetId} is already in chat ${ctx.chat.id}`);
  if (!ctx.chatSessions.has(targetId))
    return refuse.invalidState(`user ${targetId} has no contact-center session with the chat channel`);
  const agent: ChatAgent = {
    userId: targetId,
    // One who comes back keeps their participant: the transcript's earlier messages stay theirs.
    participantId: existing?.participantId ?? env.newParticipantId(),
    seq: existing?.seq ?? Math.max(ctx.chat.customer.seq, ...ctx.chat.agents.map((a) => a.seq)) + 1,
    nickname: user.nickname,
    state: 'Invited',
    visibility: via === 'consult' ? 'Agents' : 'All',
    via,
    invitedBy: { userId: ctx.self.userId, ...(env.referenceId !== undefined ? { referenceId: env.referenceId } : {}) },
  };
  const others = ctx.chat.agents.filter((a) => a.userId !== targetId);
  return { ...ctx.chat, agents: [...others, agent] };
};

/** The requester leaves: Completed while the customer is still served by someone, else LeftChat. */
const leave = (ctx: ChatContext, p: TextGroupParams, env: ChatEnv, finalState: 'auto' | 'Completed'): Chat => {
  const said = withText(ctx.chat, ctx, p, env.now);
  const left = leaveMessage(said, ctx.self, env.now);
  const stillServed = left.agents.some((a) => a.userId !== ctx.self.userId && isEngaged(a) && a.visibility === 'All');
  const state: ChatAgentState = finalState === 'Completed' || stillServed ? 'Completed' : 'LeftChat';
  return endIfUnserved(withAgent(left, ctx.self.userId, { state }), env.now);
};

/** An intruding supervisor changes mode, and with it who sees them. */
const switchTo = (mode: SupervisorMode): OperationSpec<ChatParams<'SwitchToMonitor'>> => ({
  policy: (ctx) => (ctx.self.via === 'intrude' ? null : 'only a supervisor who intruded into this chat may switch supervision mode'),
  when: (ctx) => (ctx.self.visibility === SUPERVISOR_MODES[mode] ? `you are already in ${mode} mode` : null),
  apply: (ctx) => ok(withAgent(ctx.chat, ctx.self.userId, { visibility: SUPERVISOR_MODES[mode] })),
});

// ---- The table -----------------------------------------------------------------------------
const specs: { readonly [K in ChatOperation]: OperationSpec<ChatParams<K>> } = {
  Accept: {
    when: customerPresent,
    apply: (ctx, p, env) => {
      const joined = withAgent(ctx.chat, ctx.self.userId, { state: 'Chatting', nickname: p.nickname ?? ctx.self.nickname });
      return ok(appendMessage(joined, { type: 'ParticipantJoined', from: ctx.self.participantId, visibility: ctx.self.visibility, time: env.now }));
    },
  },
  Reject: {
    apply: (ctx) => ok({ ...withAgent(ctx.chat, ctx.self.userId, { state: 'Completed' }), rejectedBy: [...ctx.chat.rejectedBy, ctx.self.userId] }),
  },
  Transfer: {
    when: customerPresent,
    apply: (ctx, p, env) => {
      // To a queue: the chat goes back to routing once the requester has left.
      const offered = p.queueName !== undefined && p.targetUri === undefined && p.targetPath === undefined ? ctx.chat : offer(ctx, p, 'transfer', env);
      if (isRefusal(offered)) return offered;
      return ok(leave({ ...ctx, chat: offered }, p, env, 'Completed'));
    },
  },
  Leave: {
    apply: (ctx, p, env) => ok(leave(ctx, p, env, 'auto')),
  },
  Invite: {
    when: (ctx) => someoneToOffer(ctx, 'invite'),
    apply: (ctx, p, env) => {
      const offered = offer(ctx, p, 'invite', env);
      return isRefusal(offered) ? offered : ok(offered);
    },
  },
  Consult: {
    when: someoneToOffer,
    apply: (ctx, p, env) => {
      const offered = offer(ctx, p, 'consult', env);
      return isRefusal(offered) ? offered : ok(offered);
    },
  },
  SetInFocus: {
    // Marks the interaction in focus on the agent's desktop; nothing in the chat changes.
    apply: (ctx) => ok(ctx.chat),
  },
  SetDisposition: {
    apply: (ctx, p) =>
      ok({ ...ctx.chat, userData: { ...ctx.chat.userData, [p.dispositionKey ?? 'DispositionCode']: p.disposition } }),
  },
  AttachUserData: {
    apply: (ctx, p) => ok({ ...ctx.chat, userData: { ...ctx.chat.userData, ...p.userData } }),
  },
  UpdateUserData: {
    apply: (ctx, p) => ok({ ...ctx.chat, userData: { ...ctx.chat.userData, ...p.userData } }),
  },
  DeleteUserData: {
    apply: (ctx, p) =>
      ok({
        ...ctx.chat,
        userData: p.keys === undefined ? {} : Object.fromEntries(Object.entries(ctx.chat.userData).filter(([k]) => !p.keys?.includes(k))),
      }),
  },
  SendToAgents: {
    when: needsOtherAgents,
    apply: (ctx, p, env) => ok(withText(ctx.chat, ctx, p, env.now, 'Agents')),
  },
  SendStartTypingToAgentsNotification: {
    when: needsOtherAgents,
    apply: (ctx, _p, env) => ok(appendMessage(ctx.chat, { type: 'TypingStarted', from: ctx.self.participantId, visibility: 'Agents', time: env.now })),
  },
  SendStopTypingToAgentsNotification: {
    when: needsOtherAgents,
    apply: (ctx, _p, env) => ok(appendMessage(ctx.chat, { type: 'TypingStopped', from: ctx.self.participantId, visibility: 'Agents', time: env.now })),
  },
  Complete: {
    apply: (ctx, p, env) =>
      ok(ctx.self.state === 'LeftChat' ? withAgent(ctx.chat, ctx.self.userId, { state: 'Completed' }) : leave(ctx, p, env, 'Completed')),
  },
  SendMessage: {
    apply: (ctx, p, env) => ok(withText(ctx.chat, ctx, p, env.now, ctx.self.visibility)),
  },
  SendStartTypingNotification: {
    apply: (ctx, _p, env) => ok(appendMessage(ctx.chat, { type: 'TypingStarted', from: ctx.self.participantId, visibility: ctx.self.visibility, time: env.now })),
  },
  SendStopTypingNotification: {
    apply: (ctx, _p, env) => ok(appendMessage(ctx.chat, { type: 'TypingStopped', from: ctx.self.participantId, visibility: ctx.self.visibility, time: env.now })),
  },
  RemoveParticipantFromConference: {
    policy: (ctx) => chatPolicy.mayRemoveParticipant(ctx.self),
    when: needsOtherAgents,
    apply: (ctx, p, env) => {
      const targetId = resolveTarget(ctx, p);
      if (typeof targetId !== 'string') return targetId;
      if (targetId === ctx.self.userId) return refuse.invalidState('the target is you: use Leave to leave the chat');
      const target = agentOf(ctx.chat, targetId);
      if (!target) return refuse.invalidState(`user ${targetId} is not a participant of chat ${ctx.chat.id}`);
      if (target.state !== 'Chatting') return refuse.invalidState(`user ${targetId} is not in chat ${ctx.chat.id} any more (state ${target.state})`);
      const said = withText(ctx.chat, ctx, p, env.now);
      return ok(leaveMessage(withAgent(said, targetId, { state: 'LeftChat' }), target, env.now));
    },
  },
  SendNicknameUpdatedNotice: {
    // ChatSendNicknameUpdatedNotice page: the agent's nickname becomes noticeText, and a
    // NicknameUpdated message (visible to all) tells everyone.
    apply: (ctx, p, env) =>
      ok(
        appendMessage(withAgent(ctx.chat, ctx.self.userId, { nickname: p.noticeText }), {
          type: 'NicknameUpdated',
          from: ctx.self.participantId,
          visibility: 'All',
          time: env.now,
          noticeText: p.noticeText,
        }),
      ),
  },
  SwitchToMonitor: switchTo('Monitor'),
  SwitchToCoach: switchTo('Coach'),
  SwitchToBargeIn: switchTo('BargeIn'),
  SendUrl: {
    apply: (ctx, p, env) =>
      ok(withText(appendMessage(ctx.chat, { type: 'PushUrl', from: ctx.self.participantId, visibility: ctx.self.visibility, time: env.now, url: p.url }), ctx, p, env.now, ctx.self.visibility)),
  },
};

/** The state row an operation belongs to; unlisted operations ride on SendMessage's row. */
export const statesOf = (name: ChatOperation): readonly ChatAgentState[] => {
  const row = (UNLISTED_CHAT_OPERATIONS as readonly string[]).includes(name) ? 'SendMessage' : name;
  return (Object.keys(CHAT_CAPABILITY_ROWS) as ChatAgentState[]).filter((s) => (CHAT_CAPABILITY_ROWS[s] as readonly string[]).includes(row));
};

export const chatOperations = specs;

/** The spec of one operation, typed by its name (the one assertion of the table's shape). */
export const chatOperationSpec = <K extends ChatOperation>(name: K): OperationSpec<ChatParams<K>> =>
  specs[name] as unknown as OperationSpec<ChatParams<K>>;
