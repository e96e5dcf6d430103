/**
 * The engine runs typed commands through one write path, `execute`:
 *
 *   load a snapshot → decide (pure domain) → commit with the loaded versions → publish
 *
 * Each command type has a handler (handlers/*.ts) that loads everything its decision needs and
 * asks the domain; the decision returns every change it makes, follow-ups included (NextCall
 * monitoring, chat routing offers), and the engine commits them as one batch. A lost race
 * (VersionConflict) is retried on fresh state, which is where a second racing removal learns
 * that its participant has already gone; commands on one aggregate are serialised in-process by
 * a keyed queue. Events carry the committed snapshots, so sinks never re-read the store.
 */
import { isRefusal, refuse } from '../domain/refusals.js';
import { rememberChatDepartures } from '../domain/chat/model.js';
import { DEFAULT_MAX_CHATS_PER_AGENT } from '../domain/chat/routing.js';
import { rememberDepartures } from '../domain/voice/model.js';
import { VersionConflict, type Committed, type Store } from '../store/port.js';
import type { Answers, Command, CommandOf, CommandType, Outcome } from './commands.js';
import { createChatHandlers, type ChatHandlerDeps } from './handlers/chat.js';
import { createAgentHandlers } from './handlers/agent.js';
import { createVoiceHandlers, type VoiceHandlerDeps } from './handlers/voice.js';
import { eventsOf, type Handler, type HandlerDeps } from './handlers/plan.js';
import { createKeyedQueue } from './keyed-queue.js';
import type { Clock, EventSink, IdSource } from './ports.js';
import type { ResourceRefs } from '../domain/refs.js';
import { randomChatIds, type ChatIds } from './handlers/chat.js';

export type { Accepted, Outcome } from './commands.js';

export interface EngineDeps {
  readonly store: Store;
  readonly directory: VoiceHandlerDeps['directory'] & ChatHandlerDeps['directory'];
  readonly sink: EventSink;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly chatIds?: ChatIds;
  /** How the dialect's URIs name calls, users and devices inside parameters. */
  readonly refs: ResourceRefs;
  /** The tenant name written into routed chats' user data (RTenant). */
  readonly tenant?: string;
  /** Routing offers an agent at most this many chats at once (default DEFAULT_MAX_CHATS_PER_AGENT). */
  readonly maxChatsPerAgent?: number;
}

export interface Engine {
  execute<T extends CommandType>(command: CommandOf<T>): Promise<Outcome<Answers[T]>>;
}

/** A command loses a race this many times in a row before it is refused (19, retry). */
const MAX_ATTEMPTS = 5;

export const createEngine = (deps: EngineDeps): Engine => {
  const { store, sink } = deps;
  const queue = createKeyedQueue();
  const handlerDeps: HandlerDeps = {
    store,
    clock: deps.clock,
    ids: deps.ids,
    chatIds: deps.chatIds ?? randomChatIds,
    refs: deps.refs,
    directory: deps.directory,
    tenant: deps.tenant ?? 'Conclave',
    maxChatsPerAgent: deps.maxChatsPerAgent ?? DEFAULT_MAX_CHATS_PER_AGENT,
  };
  const handlers: { readonly [T in CommandType]: Handler<CommandOf<T>, Answers[T]> } = {
    ...createVoiceHandlers(handlerDeps),
    ...createAgentHandlers(handlerDeps),
    ...createChatHandlers(handlerDeps),
  };

  const attempt = async <T extends CommandType>(handler: Handler<CommandOf<T>, Answers[T]>, command: CommandOf<T>): Promise<Outcome<Answers[T]> | typeof CONFLICT> => {
    const plan = await handler.plan(command);
    if (isRefusal(plan)) return plan;
    const writes = plan.calls.length + plan.chats.length + plan.sessions.length;
    let committed: Committed = { calls: [], chats: [], agentSessions: [] };
    if (writes > 0)
      try {
        // What each departing party could read is kept with the change that lets them go.
        committed = await store.commit({
          calls: plan.calls.map((call) => rememberDepartures(plan.before.calls.get(call.id), call)),
          chats: plan.chats.map((chat) => rememberChatDepartures(plan.before.chats.get(chat.id), chat)),
          agentSessions: plan.sessions,
        });
      } catch (error) {
        if (error instanceof VersionConflict) return CONFLICT;
        throw error;
      }
    sink.publish(eventsOf(plan, committed));
    return { ok: true, ...plan.answer(committed) };
  };

  return {
    execute<T extends CommandType>(command: CommandOf<T>): Promise<Outcome<Answers[T]>> {
      const handler = (handlers as unknown as Record<T, Handler<CommandOf<T>, Answers[T]>>)[command.type as T];
      const { key, kind, id } = handler.key(command);
      return queue.run(key, async () => {
        for (let i = 0; i < MAX_ATTEMPTS; i++) {
          const outcome = await attempt(handler, command);
          if (outcome !== CONFLICT) return outcome;
        }
        return refuse.concurrentChange(kind, id);
      });
    },
  };
};

const CONFLICT = Symbol('conflict');

export type { Command };
