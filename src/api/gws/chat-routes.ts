/** GWS v2 agent chat routes: /api/v2/me/chats… (registered inside the GWS plugin, after its authentication). */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { toActor } from '../../directory/directory.js';
import { CHAT_FEATURE } from '../../domain/chat/decide.js';
import { agentOf } from '../../domain/chat/model.js';
import type { ChatDirectory } from '../../domain/chat/operations.js';
import { parseChatOperation, parseIntrudeOperation } from '../../domain/chat/commands.js';
import type { ChatWorld } from '../../domain/chat/decide.js';
import { isRefusal, refuse, type Refusal } from '../../domain/refusals.js';
import type { Engine } from '../../engine/engine.js';
import { gwsRefs } from './resource-ids.js';
import type { Store } from '../../store/port.js';
import { errorBody, httpStatusOf } from './errors.js';
import { agentMessages, chatUri, chatView, readerIn } from './views/chat.js';
import type { Urls } from './views/urls.js';

export interface ChatRouteDeps {
  readonly engine: Engine;
  readonly store: Store;
  readonly chatDirectory: ChatDirectory;
  readonly urls: Urls;
}


const Id = Type.String({ minLength: 1, maxLength: 128 });
const Fields = Type.Object({ fields: Type.Optional(Type.String({ maxLength: 256 })) });
const Page = Type.Object({
  startIndex: Type.Optional(Type.Integer({ minimum: 1 })),
  count: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
});


export const registerChatRoutes = (plain: FastifyInstance, deps: ChatRouteDeps) => {
  const api = plain.withTypeProvider<TypeBoxTypeProvider>();
  const { engine, store, chatDirectory, urls } = deps;
  const fail = (r: Refusal) => ({ status: httpStatusOf(r.statusCode), body: errorBody(r) });
  const world = async (): Promise<ChatWorld> => ({ directory: chatDirectory, chatSessions: new Set(await store.chatSessionUserIds()), userIdOf: gwsRefs.userIdOf });

  api.get('/me/chats', { schema: { querystring: Fields } }, async (request) => {
    const actor = toActor(request.user);
    const chats = await store.chatsOfAgent(actor.userId);
    const w = await world();
    return request.query.fields
      ? { statusCode: 0, chats: chats.map((c) => ({ ...chatView(urls, c, actor, w), chatType: 'Inbound', receivedDate: new Date(c.createdAt).toISOString() })) }
      : { statusCode: 0, uris: chats.map((c) => chatUri(urls, c.id)) };
  });

  /** The chat if this user took part in it (any state), else the 6 to answer. */
  const visibleChat = async (userId: string, chatId: string) => {
    const chat = await store.getChat(chatId);
    return chat && agentOf(chat, userId) ? chat : refuse.notFound('chat', chatId);
  };

  // A chat's `uri` is /api/v2/chats/{id} (as in the GWS chat samples): it reads like /me/chats/{id}.
  for (const path of ['/me/chats/:id', '/chats/:id'])
  api.get(path, { schema: { params: Type.Object({ id: Id }) } }, async (request, reply) => {
    const actor = toActor(request.user);
    const chat = await visibleChat(actor.userId, request.params.id);
    if (isRefusal(chat)) {
      const { status, body } = fail(chat);
      return reply.code(status).send(body);
    }
    return {
      statusCode: 0,
      chat: { ...chatView(urls, chat, actor, await world()), chatType: 'Inbound', receivedDate: new Date(chat.createdAt).toISOString() },
    };
  });

  api.get('/me/chats/:id/messages', { schema: { params: Type.Object({ id: Id }), querystring: Page } }, async (request, reply) => {
    const actor = toActor(request.user);
    const chat = await visibleChat(actor.userId, request.params.id);
    if (isRefusal(chat)) {
      const { status, body } = fail(chat);
      return reply.code(status).send(body);
    }
    if (!actor.features.includes(CHAT_FEATURE)) {
      const { status, body } = fail(refuse.missingFeature('GetMessages', CHAT_FEATURE));
      return reply.code(status).send(body);
    }
    return { statusCode: 0, messages: agentMessages(urls, chat, readerIn(chat, actor.userId), request.query.startIndex ?? 1, request.query.count, actor.userId) };
  });

  api.post(
    '/users/:userId/chats/:chatId',
    { schema: { params: Type.Object({ userId: Id, chatId: Id }) } },
    async (request, reply) => {
      const outcome = await engine.execute({
        type: 'Intrude',
        actor: toActor(request.user),
        agentUserId: request.params.userId,
        chatId: request.params.chatId,
        operation: parseIntrudeOperation(request.body),
      });
      if (isRefusal(outcome)) {
        const { status, body } = fail(outcome);
        return reply.code(status).send(body);
      }
      return { statusCode: 0, referenceId: outcome.referenceId };
    },
  );

  api.post('/me/chats/:id', { schema: { params: Type.Object({ id: Id }) } }, async (request, reply) => {
    const outcome = await engine.execute({ type: 'ChatOperation', actor: toActor(request.user), chatId: request.params.id, operation: parseChatOperation(request.body) });
    if (isRefusal(outcome)) {
      const { status, body } = fail(outcome);
      return reply.code(status).send(body);
    }
    return outcome.referenceId === undefined ? { statusCode: 0 } : { statusCode: 0, referenceId: outcome.referenceId };
  });
};

