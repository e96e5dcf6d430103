/**
 * Decides an agent's chat operation, in the contract's order: 6 (not visible), 5 (feature),
 * 1/10 (parameters), 3 (policy), 2 (state). Capabilities come from the same checks.
 */
import { hasFeature, type Actor } from '../actor.js';
import { operationNameOf } from '../params.js';
import { refuse, type Refusal } from '../refusals.js';
import { agentOf, type Chat } from './model.js';
import {
  CHAT_CAPABILITY_ROWS,
  CHAT_OPERATIONS,
  chatOperations,
  statesOf,
  type ChatChange,
  type ChatContext,
  type ChatDirectory,
  type ChatEnv,
  type ChatOperation,
} from './operations.js';

export const CHAT_FEATURE = 'api-multimedia' as const;

/** The chat as this agent may see it: they must have been offered it or taken part (6 otherwise). */
export const chatContextFor = (chat: Chat | undefined, actor: Actor, chatId: string, directory: ChatDirectory): ChatContext | Refusal => {
  const self = chat ? agentOf(chat, actor.userId) : undefined;
  if (!chat || !self) return refuse.notFound('chat', chatId);
  return { actor, chat, self, directory };
};

export const whyNotChat = (ctx: ChatContext, op: ChatOperation): Refusal | null => {
  if (!hasFeature(ctx.actor, CHAT_FEATURE)) return refuse.missingFeature(op, CHAT_FEATURE);
  const spec = chatOperations[op];
  const forbidden = spec.policy?.(ctx);
  if (forbidden) return refuse.forbidden(forbidden);
  if (!statesOf(op).includes(ctx.self.state))
    return refuse.invalidState(`${op} is not valid on chat ${ctx.chat.id} while you are ${ctx.self.state}`);
  const notNow = spec.when?.(ctx);
  return notNow ? refuse.invalidState(notNow) : null;
};

/** The listed operations this agent may perform now, in GWS order. */
export const chatCapabilities = (ctx: ChatContext): ChatOperation[] =>
  CHAT_CAPABILITY_ROWS[ctx.self.state].filter((op) => whyNotChat(ctx, op) === null);

export const decideChat = (
  chat: Chat | undefined,
  actor: Actor,
  chatId: string,
  body: Readonly<Record<string, unknown>>,
  directory: ChatDirectory,
  env: ChatEnv,
): ChatChange | Refusal => {
  const ctx = chatContextFor(chat, actor, chatId, directory);
  if ('ok' in ctx) return ctx;
  const op = operationNameOf(body, 'a chat', CHAT_OPERATIONS);
  if (!op.ok) return op;
  const name = op.name;
  if (!hasFeature(actor, CHAT_FEATURE)) return refuse.missingFeature(name, CHAT_FEATURE);
  const params = chatOperations[name].params(body);
  if (params.ok === false) return params;
  const notNow = whyNotChat(ctx, name);
  if (notNow) return notNow;
  return chatOperations[name].apply(ctx, (params as { value: unknown }).value, env);
};
