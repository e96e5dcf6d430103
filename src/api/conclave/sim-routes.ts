/**
 * The outside world's side, for tests and demos (not a GWS dialect), HTTP Basic, ROLE_ADMIN:
 *  POST /conclave/v1/sim/calls            {"from", "to", "userData"?} → 201 {callId, from, to}
 *                                         (to: an agent DN, or a queue's name or DN)
 *  POST /conclave/v1/sim/calls/{callId}   {"action": "answer"|"hangup"|"dtmf", "digits"?}
 *  GET  /conclave/v1/interactions         → {calls: [...], chats: [...]}
 * Each write is a typed command through engine.execute; a refusal changes nothing.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { Directory } from '../../directory/directory.js';
import type { Chat } from '../../domain/chat/model.js';
import { compileParams } from '../../domain/params.js';
import { isRefusal, refuse, type Refusal } from '../../domain/refusals.js';
import { EXTERNAL_ACTIONS, type ExternalAction } from '../../domain/voice/external.js';
import type { Call, UserData } from '../../domain/voice/model.js';
import type { Engine } from '../../engine/engine.js';
import type { Store } from '../../store/port.js';
import { refuseAuthentication, refuseCookieWriteWithoutCsrf, type Authenticator } from '../gws/auth.js';
import { errorBody, httpStatusOf } from '../gws/errors.js';

const UserDataSchema = Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.Union([Type.String({ maxLength: 4096 }), Type.Number()]));
const NewCallBody = Type.Object({
  from: Type.String({ minLength: 1, maxLength: 64 }),
  to: Type.String({ minLength: 1, maxLength: 256 }),
  userData: Type.Optional(UserDataSchema),
});
const newCallBody = compileParams<typeof NewCallBody, { from: string; to: string; userData?: UserData }>(NewCallBody);
const ActionBody = Type.Object({
  action: Type.Enum([...EXTERNAL_ACTIONS]),
  digits: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9*#A-Da-d]+$' })),
});
const actionBody = compileParams<typeof ActionBody, { action: ExternalAction; digits?: string }>(ActionBody);

const ALLOWED_ROLES = ['ROLE_ADMIN'] as const;

const send = (reply: FastifyReply, refusal: Refusal) => reply.code(httpStatusOf(refusal.statusCode)).send(errorBody(refusal));

export interface SimDeps {
  readonly engine: Engine;
  readonly store: Store;
  readonly directory: Directory;
  readonly auth: Authenticator;
}

export const simRoutes = (deps: SimDeps) => async (app: FastifyInstance) => {
  const { engine, store, directory, auth } = deps;

  await app.register(async (plain) => {
    const api = plain.withTypeProvider<TypeBoxTypeProvider>();
    api.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const result = auth.authenticate(request.headers, request.ip);
      if (!result.ok) return refuseAuthentication(reply, result);
      if (refuseCookieWriteWithoutCsrf(auth, request, reply, result)) return reply;
      if (!ALLOWED_ROLES.some((r) => result.user.roles.includes(r))) return reply.code(403).send(errorBody(refuse.missingRole('simulation', ALLOWED_ROLES)));
    });

    api.post('/sim/calls', async (request, reply) => {
      const parsed = newCallBody(request.body ?? {});
      if (!parsed.ok) return send(reply, parsed);
      const { from, to, userData } = parsed.value;
      const outcome = await engine.execute({ type: 'InboundCall', from, to, userData: userData ?? {} });
      if (isRefusal(outcome)) return send(reply, outcome);
      return reply.code(201).send({ callId: outcome.callId, from, to });
    });

    api.post('/sim/calls/:callId', async (request, reply) => {
      const { callId } = request.params as { callId: string };
      const parsed = actionBody(request.body ?? {});
      if (!parsed.ok) return send(reply, parsed);
      const { action, digits } = parsed.value;
      if (action === 'dtmf' && digits === undefined) return send(reply, refuse.missingParameter('digits'));
      const outcome = await engine.execute({ type: 'ExternalParty', callId, action, ...(digits !== undefined ? { digits } : {}) });
      if (isRefusal(outcome)) return send(reply, outcome);
      return reply.code(200).send({ statusCode: 0 });
    });

    api.get('/interactions', async () => {
      const calls = (await Promise.all((await store.liveCallIds()).map((id) => store.getCall(id)))).filter(
        (c): c is Call => c !== undefined && c.endedAt === null,
      );
      // Live chats: waiting ones, and every one an agent of the directory has or is offered.
      const chats = new Map<string, Chat>();
      for (const chat of await store.waitingChats()) chats.set(chat.id, chat);
      for (const user of directory.users) for (const chat of await store.chatsOfAgent(user.id)) chats.set(chat.id, chat);
      return {
        calls: calls.map((call) => ({
          callId: call.id,
          callType: call.callType,
          ani: call.ani,
          dnis: call.dnis,
          parentCallId: call.parentCallId,
          ownerDn: call.ownerDn,
          ...(call.routing ? { queue: call.routing.queue, routedTo: call.routing.offeredTo } : {}),
          userData: call.userData,
          parties: call.parties.map((p) => {
            const userId = p.external ? undefined : directory.byDn(p.dn)?.id;
            return {
              number: p.dn,
              ...(userId !== undefined ? { userId } : {}),
              state: p.state,
              external: p.external === true,
              monitoring: p.monitor !== undefined,
            };
          }),
        })),
        chats: [...chats.values()]
          .filter((chat) => chat.endedAt === null)
          .map((chat) => ({
            chatId: chat.id,
            serviceName: chat.serviceName,
            customer: { nickname: chat.customer.nickname, connected: chat.customer.connected },
            agents: chat.agents.map((a) => ({ userId: a.userId, nickname: a.nickname, state: a.state, visibility: a.visibility })),
          })),
      };
    });
  });
};
