/**
 * Decides an agent's chat operation, in the contract's order: 6 (not visible), 5 (feature),
 * 1/10 (parameters), 3 (policy), 2 (state). Capabilities come from the same checks.
 */
import { hasFeature, type Actor } from '../actor.js';
import { isRefusal, refuse, type Refusal } from '../refusals.js';
import type { ParsedChatOperation } from './commands.js';
import { agentOf, transcriptFull, type Chat } from './model.js';
import {
  CHAT_CAPABILITY_ROWS,
  chatOperationSpec,
  statesOf,
  type ChatChange,
  type ChatContext,
  type ChatDirectory,
  type ChatEnv,
  type ChatOperation,
} from './operations.js';

export const CHAT_FEATURE = 'api-multimedia' as const;

/** What a chat decision reads besides the chat: loaded by the engine before it runs. */
export interface ChatWorld {
  readonly directory: ChatDirectory;
  /** Users with a contact-center session that has the chat channel. */
  readonly chatSessions: ReadonlySet<string>;
  readonly userIdOf: (ref: string) => string | null;
}

/** The chat as this agent may see it: they must have been offered it or taken part (6 otherwise). */
export const chatContextFor = (chat: Chat | undefined, actor: Actor, chatId: string, world: ChatWorld): ChatContext | Refusal => {
  const self = chat ? agentOf(chat, actor.userId) : undefined;
  if (!chat || !self) return refuse.notFound('chat', chatId);
  return { actor, chat, self, directory: world.directory, chatSessions: world.chatSessions, userIdOf: world.userIdOf };
};

/** How a "no" is expressed: a refusal for a request, `true` for a capability list (see voice/decide.ts). */
interface No<R> {
  feature(op: ChatOperation, feature: string): R;
  forbidden(why: string): R;
  state(why: () => string): R;
}

const check = <R>(ctx: ChatContext, op: ChatOperation, no: No<R>): R | null => {
  if (!hasFeature(ctx.actor, CHAT_FEATURE)) return no.feature(op, CHAT_FEATURE);
  const spec = chatOperationSpec(op);
  const forbidden = spec.policy?.(ctx);
  if (forbidden) return no.forbidden(forbidden);
  if (!statesOf(op).includes(ctx.self.state)) return no.state(() => `${op} is not valid on chat ${ctx.chat.id} while you are ${ctx.self.state}`);
  const notNow = spec.when?.(ctx);
  return notNow ? no.state(() => notNow) : null;
};

const AS_REFUSAL: No<Refusal> = { feature: refuse.missingFeature, forbidden: refuse.forbidden, state: (why) => refuse.invalidState(why()) };
const AS_BLOCKED: No<true> = { feature: () => true, forbidden: () => true, state: () => true };

export const whyNotChat = (ctx: ChatContext, op: ChatOperation): Refusal | null => check(ctx, op, AS_REFUSAL);

/** The listed operations this agent may perform now, in GWS order. */
export const chatCapabilities = (ctx: ChatContext): ChatOperation[] =>
  CHAT_CAPABILITY_ROWS[ctx.self.state].filter((op) => check(ctx, op, AS_BLOCKED) === null);

export const decideChat = (
  chat: Chat | undefined,
  actor: Actor,
  chatId: string,
  op: ParsedChatOperation,
  world: ChatWorld,
  env: ChatEnv,
): ChatChange | Refusal => {
  const ctx = chatContextFor(chat, actor, chatId, world);
  if (isRefusal(ctx)) return ctx;
  if (op.name === undefined) return op.invalid;
  const name = op.name;
  if (!hasFeature(actor, CHAT_FEATURE)) return refuse.missingFeature(name, CHAT_FEATURE);
  if (op.invalid) return op.invalid;
  const notNow = whyNotChat(ctx, name);
  if (notNow) return notNow;
  const change = chatOperationSpec(name).apply(ctx, op.params as never, env);
  if (isRefusal(change)) return change;
  const full = transcriptFull(ctx.chat, change.chat);
  return full ? refuse.invalidState(full) : change;
};
