/**
 * The Genesys Cloud–compatible dialect, under /cloud, so that the official SDK reaches it with
 * setGateway({..., path_params_login: 'cloud', path_params_api: 'cloud'}):
 *  POST  /cloud/oauth/token (client credentials, HTTP Basic clientId:clientSecret)
 *  GET   /cloud/api/v2/conversations/calls, /calls/{id}
 *  PATCH /cloud/api/v2/conversations/calls/{id}/participants/{participantId} {state|held}
 *  POST  /cloud/api/v2/conversations/{id}/disconnect (full teardown)
 * It is the same domain as GWS: a participant disconnected here is Released for GWS clients.
 * Removing a participant goes through the compliance orchestrator (a monitoring supervisor), so
 * the policy module decides here too.
 */
import { fastifyCookie } from '@fastify/cookie';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { randomBytes } from 'node:crypto';
import Type from 'typebox';
import { toActor, type Directory, type OAuthClient } from '../../directory/directory.js';
import type { FastifyError, FastifyInstance } from 'fastify';
import { operation } from '../../domain/commands/parse.js';
import { compileParams } from '../../domain/params.js';
import { isRefusal } from '../../domain/refusals.js';
import { VOICE_CALL_SCHEMAS } from '../../domain/voice/commands.js';
import { isLive, liveParties, partyOf, type Call } from '../../domain/voice/model.js';
import type { Compliance } from '../../engine/compliance.js';
import type { Engine, Outcome } from '../../engine/engine.js';
import type { Clock } from '../../engine/ports.js';
import { BODY_LIMIT_BYTES } from '../../http/limits.js';
import type { Store } from '../../store/port.js';
import { errorBody, fromStatusCode } from './errors.js';
import type { CloudNotifications } from './notifications.js';
import { conversationView, participantId } from './views.js';

const TOKEN_TTL_S = 86_400;
const DOCUMENTED_REMOVAL = 'PATCH /api/v2/conversations/calls/{conversationId}/participants/{participantId}';

declare module 'fastify' {
  interface FastifyRequest {
    client: OAuthClient;
  }
}

const ParticipantPatch = Type.Object({
  state: Type.Optional(Type.Enum(['connected', 'disconnected'])),
  held: Type.Optional(Type.Boolean()),
  muted: Type.Optional(Type.Boolean()),
  confined: Type.Optional(Type.Boolean()),
  recording: Type.Optional(Type.Boolean()),
  wrapupSkipped: Type.Optional(Type.Boolean()),
  wrapup: Type.Optional(Type.Object({})),
});
const participantPatch = compileParams<typeof ParticipantPatch, { state?: string; held?: boolean; muted?: boolean }>(ParticipantPatch);

const MAY_CONTROL = ['ROLE_ADMIN', 'ROLE_COMPLIANCE', 'ROLE_SUPERVISOR'] as const;

export interface CloudDeps {
  readonly notifications: CloudNotifications;
  readonly engine: Engine;
  readonly store: Store;
  readonly directory: Directory;
  readonly compliance: Compliance;
  readonly clock: Clock;
}

/** Every error under /cloud is a Cloud ErrorBody whose `status` is the HTTP status. */
const cloudError = (error: FastifyError): { status: number; code: string; message: string } => {
  if (error.validation && error.validation.length > 0) {
    const first = error.validation[0];
    const where = `${error.validationContext ?? 'request'}${first?.instancePath ?? ''}`;
    return { status: 400, code: 'bad.request', message: `${where} ${first?.message ?? 'is not valid'}` };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'request.entity.too.large', message: `the request body is larger than ${BODY_LIMIT_BYTES} bytes` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'unsupported.media.type', message: 'unsupported Content-Type: send application/json' };
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const json = error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY';
    return { status, code: 'bad.request', message: json ? `the request body is not valid JSON: ${error.message}` : error.message };
  }
  return { status: 500, code: 'internal.server.error', message: 'the server could not complete the request' };
};

/** The /cloud dialect as one encapsulated plugin: its own errors, not-found answer and auth. */
export const cloudPlugin = (deps: CloudDeps) => async (app: FastifyInstance) => {
  const { engine, store, directory, compliance, clock } = deps;
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, code, message } = cloudError(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send(errorBody(status, code, message));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody(404, 'not.found', `${request.method} ${request.url.split('?')[0]} is not a resource of this API`)),
  );
  const signer = fastifyCookie.signerFactory(randomBytes(32).toString('hex'));
  const fail = (reply: { code(n: number): { send(b: unknown): unknown } }, status: number, code: string, message: string) =>
    reply.code(status).send(errorBody(status, code, message));
  const refused = (reply: { code(n: number): { send(b?: unknown): unknown } }, outcome: Outcome) => {
    if (!isRefusal(outcome)) return reply.code(202).send('');
    const { status, code } = fromStatusCode(outcome.statusCode);
    return fail(reply, status, code, outcome.message);
  };

  app.post('/oauth/token', async (request, reply) => {
    const header = request.headers.authorization ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    const decoded = match ? Buffer.from(match[1] as string, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const client = colon > 0 ? directory.authenticateClient(decoded.slice(0, colon), decoded.slice(colon + 1)) : undefined;
    const grant = (request.body as Record<string, unknown> | undefined)?.['grant_type'];
    if (grant !== 'client_credentials')
      return reply.code(400).send({ error: 'unsupported_grant_type', description: `grant_type must be client_credentials, not '${String(grant)}'` });
    if (!client) return reply.code(401).send({ error: 'invalid_client', description: 'client id or secret is wrong' });
    const expires = clock.now() + TOKEN_TTL_S * 1000;
    return { access_token: signer.sign(`${client.clientId}|${expires}`), token_type: 'bearer', expires_in: TOKEN_TTL_S };
  });

  app.register(
    async (plain) => {
      const api = plain.withTypeProvider<TypeBoxTypeProvider>();
      api.decorateRequest('client', null as unknown as OAuthClient);
      api.addHook('onRequest', async (request, reply) => {
        const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
        const unsigned = token ? signer.unsign(token) : undefined;
        const [clientId, expires] = unsigned?.valid && unsigned.value ? unsigned.value.split('|') : [];
        const client = clientId ? directory.clientById(clientId) : undefined;
        if (!client || !(Number(expires) > clock.now()))
          return fail(reply, 401, 'authentication.required', 'No authentication bearer token specified in authorization header, or the token is not valid.');
        request.client = client;
      });

      deps.notifications.routes(plain);

      // The endpoint people try first does not exist: say which one does.
      const conferences = async (_request: unknown, reply: { code(n: number): { send(b: unknown): unknown } }) =>
        fail(reply, 404, 'not.found', `There is no /api/v2/conversations/conferences resource. To remove one participant from a conference, use ${DOCUMENTED_REMOVAL} with {"state":"disconnected"}.`);
      api.all('/conversations/conferences', conferences);
      api.all('/conversations/conferences/*', conferences);

      const liveCall = async (id: string): Promise<Call | undefined> => {
        const call = await store.getCall(id);
        return call && call.endedAt === null ? call : undefined;
      };

      api.get('/conversations/calls', async () => ({
        entities: (await Promise.all((await store.liveCallIds()).map(liveCall))).flatMap((call) => (call ? [conversationView(call, directory)] : [])),
        pageSize: 25,
        pageNumber: 1,
      }));

      api.get('/conversations/calls/:id', { schema: { params: Type.Object({ id: Type.String({ maxLength: 128 }) }) } }, async (request, reply) => {
        const call = await store.getCall(request.params.id);
        return call ? conversationView(call, directory) : fail(reply, 404, 'not.found', `conversation ${request.params.id} was not found`);
      });

      api.patch(
        '/conversations/calls/:id/participants/:participantId',
        { schema: { params: Type.Object({ id: Type.String({ maxLength: 128 }), participantId: Type.String({ maxLength: 128 }) }) } },
        async (request, reply) => {
          if (!MAY_CONTROL.some((r) => request.client.roles.includes(r)))
            return fail(reply, 403, 'forbidden', `client ${request.client.clientId} may not control conversations`);
          const call = await liveCall(request.params.id);
          if (!call) return fail(reply, 404, 'not.found', `conversation ${request.params.id} was not found or has ended`);
          const party = call.parties.find((p) => !p.monitor && participantId(call.id, p.dn) === request.params.participantId);
          if (!party) return fail(reply, 404, 'not.found', `participant ${request.params.participantId} is not in conversation ${call.id}`);
          const parsed = participantPatch(request.body ?? {});
          if (!parsed.ok) return fail(reply, 400, 'bad.request', parsed.message);
          const patch = parsed.value;
          if (patch.muted !== undefined || (patch.state === undefined && patch.held === undefined))
            return fail(reply, 400, 'bad.request', 'supported changes are {"state":"disconnected"} and {"held":true|false}');
          if (patch.state === 'disconnected') {
            if (!isLive(party)) return fail(reply, 400, 'bad.request', `participant ${request.params.participantId} is not connected (state ${party.state})`);
            if (liveParties(call).length < 3)
              return fail(reply, 400, 'bad.request', `conversation ${call.id} has two parties; disconnecting one ends it: use POST /api/v2/conversations/${call.id}/disconnect`);
            return refused(reply, await compliance.removeFromCall(call.id, party.dn));
          }
          if (patch.held !== undefined) {
            // Holding is the party's own operation: done on their behalf, with their rights.
            const user = directory.byDn(party.dn);
            if (!user) return fail(reply, 404, 'not.found', `participant ${request.params.participantId} has no user`);
            const op = patch.held
              ? operation<typeof VOICE_CALL_SCHEMAS, 'Hold'>('Hold', {})
              : operation<typeof VOICE_CALL_SCHEMAS, 'Retrieve'>('Retrieve', {});
            return refused(reply, await engine.execute({ type: 'CallOperation', actor: toActor(user), callId: call.id, operation: op }));
          }
          return reply.code(202).send('');
        },
      );

      api.post('/conversations/:id/disconnect', { schema: { params: Type.Object({ id: Type.String({ maxLength: 128 }) }) } }, async (request, reply) => {
        if (!MAY_CONTROL.some((r) => request.client.roles.includes(r)))
          return fail(reply, 403, 'forbidden', `client ${request.client.clientId} may not control conversations`);
        const call = await liveCall(request.params.id);
        if (!call) return fail(reply, 404, 'not.found', `conversation ${request.params.id} was not found or has ended`);
        // A full teardown, as a party would do it: ClearCall in a conference, Hangup otherwise.
        const party = liveParties(call)[0];
        const user = party && directory.byDn(party.dn);
        if (!party || !user) return fail(reply, 400, 'bad.request', `conversation ${call.id} has no connected party`);
        const self = partyOf(call, party.dn);
        const op =
          liveParties(call).length >= 3 && self?.state === 'Established'
            ? operation<typeof VOICE_CALL_SCHEMAS, 'ClearCall'>('ClearCall', {})
            : operation<typeof VOICE_CALL_SCHEMAS, 'Hangup'>('Hangup', {});
        return refused(reply, await engine.execute({ type: 'CallOperation', actor: toActor(user), callId: call.id, operation: op }));
      });
    },
    { prefix: '/api/v2' },
  );
};
