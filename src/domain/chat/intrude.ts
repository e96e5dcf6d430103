/**
 * A supervisor intrudes into an agent's chat: POST /api/v2/users/{userId}/chats/{chatId}
 * {"operationName":"Intrude","supervisorVisibilityMode":"Monitor"|"Coach"|"BargeIn"}. The mode sets
 * the supervisor's visibility (Monitor: Supervisors, Coach: Agents, BargeIn: All), and with it
 * whether they may remove a participant (only visible to all, as for agents).
 */
import { hasFeature, hasRole, type Actor } from '../actor.js';
import { MONITORING_FEATURE } from '../agent/monitoring.js';
import { refuse, type Refusal } from '../refusals.js';
import type { ParsedIntrudeOperation } from './commands.js';
import { CHAT_FEATURE } from './decide.js';
import { agentOf, appendMessage, isEngaged, SUPERVISOR_MODES, type Chat, type ChatAgent, type SupervisorMode } from './model.js';
import type { ChatChange, ChatDirectory, ChatEnv } from './operations.js';

export const decideIntrude = (
  chat: Chat | undefined,
  actor: Actor,
  agentUserId: string,
  chatId: string,
  op: ParsedIntrudeOperation,
  directory: ChatDirectory,
  env: ChatEnv,
): ChatChange | Refusal => {
  // The chat must be one the named agent is handling; otherwise, to this URL, it does not exist.
  const handler = chat ? agentOf(chat, agentUserId) : undefined;
  if (!chat || !handler || !isEngaged(handler)) return refuse.notFound('chat', `${agentUserId}/chats/${chatId}`);
  if (op.name === undefined) return op.invalid;
  if (!hasRole(actor, 'ROLE_SUPERVISOR')) return refuse.missingRole('Intrude', ['ROLE_SUPERVISOR']);
  for (const feature of [CHAT_FEATURE, MONITORING_FEATURE] as const) if (!hasFeature(actor, feature)) return refuse.missingFeature('Intrude', feature);
  if (op.invalid) return op.invalid;
  if (agentUserId === actor.userId) return refuse.invalidState('you cannot intrude into your own chat');
  const existing = agentOf(chat, actor.userId);
  if (existing && isEngaged(existing)) return refuse.invalidState(`you are already in chat ${chat.id}`);
  if (chat.endedAt !== null) return refuse.invalidState(`chat ${chat.id} has ended`);
  const user = directory.chatUser(actor.userId);
  const mode = op.params.supervisorVisibilityMode as SupervisorMode;
  const supervisor: ChatAgent = {
    userId: actor.userId,
    participantId: existing?.participantId ?? env.newParticipantId(),
    seq: existing?.seq ?? Math.max(chat.customer.seq, ...chat.agents.map((a) => a.seq)) + 1,
    nickname: user?.nickname ?? actor.userName,
    state: 'Chatting',
    visibility: SUPERVISOR_MODES[mode],
    via: 'intrude',
  };
  const joined: Chat = { ...chat, agents: [...chat.agents.filter((a) => a.userId !== actor.userId), supervisor] };
  return { ok: true, chat: appendMessage(joined, { type: 'ParticipantJoined', from: supervisor.participantId, visibility: supervisor.visibility, time: env.now }) };
};
