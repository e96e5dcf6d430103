/**
 * The Genesys Cloud–compatible dialect, under /cloud, so that the official SDK reaches it with
 * setGateway({..., path_params_login: 'cloud', path_params_api: 'cloud'}). docs/cloud.md lists
 * every endpoint with its SDK method, side by side with the Cloud API reference.
 *
 * It is the same domain as GWS: every change is a typed voice command through engine.execute,
 * done as the party the Cloud request acts for (their own Hold, Mute, Answer, transfer), and a
 * removal from a conference goes through the compliance orchestrator (a monitoring supervisor),
 * so the policy module decides here too.
 */
import { fastifyCookie } from '@fastify/cookie';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { randomBytes, randomUUID } from 'node:crypto';
import Type from 'typebox';
import { toActor, type Directory, type DirectoryUser, type OAuthClient } from '../../directory/directory.js';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { operation } from '../../domain/commands/parse.js';
import { compileParams } from '../../domain/params.js';
import { isRefusal } from '../../domain/refusals.js';
import type { VOICE_CALL_SCHEMAS, ParsedVoiceOperation } from '../../domain/voice/commands.js';
import { isLive, liveParties, partyOf, type Call, type Party } from '../../domain/voice/model.js';
import { decideVoice } from '../../domain/voice/decide.js';
import { domainDirectoryOf } from '../../directory/domain-view.js';
import { familyOf } from '../../engine/handlers/voice.js';
import { gwsRefs } from '../gws/resource-ids.js';
import type { Compliance } from '../../engine/compliance.js';
import type { Engine, Outcome } from '../../engine/engine.js';
import type { Clock } from '../../engine/ports.js';
import { BODY_LIMIT_BYTES } from '../../http/limits.js';
import type { Store } from '../../store/port.js';
import { parseQuery, runQuery, type CallLog } from './analytics.js';
import type { LoginThrottle } from '../login-throttle.js';
import { accessOf, mayRead, MISSING_PERMISSION } from './access.js';
import { errorBody, fromStatusCode } from './errors.js';
import type { CloudNotifications } from './notifications.js';
import type { CloudQueues } from './queues.js';
import { userRoutes } from './users.js';
import { callConversationView, cloudParties, conversationView, participantId, wrapupKeys } from './views.js';

const DOCUMENTED_REMOVAL = 'PATCH /api/v2/conversations/calls/{conversationId}/participants/{participantId}';
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

declare module 'fastify' {
  interface FastifyRequest {
    client: OAuthClient;
    tokenId: string;
  }
}

type VoiceOp = ParsedVoiceOperation;
const op = <K extends keyof typeof VOICE_CALL_SCHEMAS & string>(name: K, params: object = {}): VoiceOp =>
  operation<typeof VOICE_CALL_SCHEMAS, K>(name, params as never) as VoiceOp;

const Id = Type.String({ maxLength: 128 });
const CallParams = Type.Object({ id: Id });
const ParticipantParams = Type.Object({ id: Id, participantId: Id });

/** MediaParticipantRequest (PATCH participant). */
const ParticipantPatch = Type.Object({
  state: Type.Optional(Type.Enum(['connected', 'disconnected'])),
  held: Type.Optional(Type.Boolean()),
  muted: Type.Optional(Type.Boolean()),
  confined: Type.Optional(Type.Boolean()),
  recording: Type.Optional(Type.Boolean()),
  wrapupSkipped: Type.Optional(Type.Boolean()),
  wrapup: Type.Optional(
    Type.Object({
      code: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
      name: Type.Optional(Type.String({ maxLength: 256 })),
      notes: Type.Optional(Type.String({ maxLength: 4096 })),
      tags: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 50 })),
      durationSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
    }),
  ),
});
type ParticipantPatch = { state?: 'connected' | 'disconnected'; held?: boolean; muted?: boolean; confined?: boolean; recording?: boolean; wrapupSkipped?: boolean; wrapup?: { code?: string; notes?: string } };
const participantPatch = compileParams<typeof ParticipantPatch, ParticipantPatch>(ParticipantPatch);

/** Conversation (the body of postConversationsCallParticipants): one new party by address. */
const AddParticipants = Type.Object({
  participants: Type.Array(
    Type.Object({ address: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), userId: Type.Optional(Type.String({ maxLength: 64 })) }),
    { minItems: 1, maxItems: 1 },
  ),
});
const addParticipants = compileParams<typeof AddParticipants, { participants: { address?: string; userId?: string }[] }>(AddParticipants);

/** TransferRequest (replace). */
const TransferRequest = Type.Object({
  transferType: Type.Optional(Type.Enum(['Unattended', 'Attended'])),
  address: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  userId: Type.Optional(Type.String({ maxLength: 64 })),
  userName: Type.Optional(Type.String({ maxLength: 256 })),
  queueId: Type.Optional(Type.String({ maxLength: 64 })),
  voicemail: Type.Optional(Type.Boolean()),
  keepInternalMessageAlive: Type.Optional(Type.Boolean()),
});
const transferRequest = compileParams<typeof TransferRequest, { transferType?: string; address?: string; userId?: string; queueId?: string; voicemail?: boolean }>(TransferRequest);

/** ConsultTransfer (consult). speakTo is matched case-insensitively: the calls tutorial sends lowercase. */
const ConsultTransfer = Type.Object({
  speakTo: Type.Optional(Type.String({ maxLength: 16 })),
  consultingUserId: Type.Optional(Type.String({ maxLength: 64 })),
  destination: Type.Object({
    address: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    name: Type.Optional(Type.String({ maxLength: 256 })),
    userId: Type.Optional(Type.String({ maxLength: 64 })),
    queueId: Type.Optional(Type.String({ maxLength: 64 })),
  }),
});
type ConsultTransfer = { speakTo?: string; consultingUserId?: string; destination: { address?: string; userId?: string; queueId?: string } };
const consultTransfer = compileParams<typeof ConsultTransfer, ConsultTransfer>(ConsultTransfer);

const MAY_CONTROL = ['ROLE_ADMIN', 'ROLE_COMPLIANCE', 'ROLE_SUPERVISOR'] as const;

export interface CloudDeps {
  readonly notifications: CloudNotifications;
  readonly engine: Engine;
  readonly store: Store;
  readonly directory: Directory;
  readonly compliance: Compliance;
  readonly clock: Clock;
  /** Routing queues: the directory's (directoryQueues), or NO_QUEUES. */
  readonly queues: CloudQueues;
  /** Ids of calls seen by this process, so that analytics finds ended calls too. */
  readonly callLog: CallLog;
  /** Failed client secrets are throttled like failed passwords (api/login-throttle.ts). */
  readonly loginThrottle?: LoginThrottle;
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

type Reply = Pick<FastifyReply, 'code'>;
const fail = (reply: Reply, status: number, code: string, message: string) => reply.code(status).send(errorBody(status, code, message));

/**
 * Fastify answers an unregistered method on a known path with its 404; Cloud clients should
 * learn the path exists. Every route registered in `scope` is recorded; `closeMethods` then
 * answers the other methods of each path 405 with an Allow header, as a Cloud ErrorBody.
 */
const methodGuard = (scope: FastifyInstance) => {
  const paths = new Map<string, Set<string>>();
  scope.addHook('onRoute', (route) => {
    // Child scopes inherit this hook: each scope guards only its own routes.
    if (route.prefix !== scope.prefix) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const key = route.routePath;
    const set = paths.get(key) ?? new Set<string>();
    for (const m of methods) set.add(m.toUpperCase());
    paths.set(key, set);
  });
  return () => {
    for (const [path, allowed] of [...paths]) {
      if (path.includes('*') || METHODS.every((m) => allowed.has(m))) continue;
      const allow = [...allowed].join(', ');
      const others = METHODS.filter((m) => !allowed.has(m));
      scope.route({
        method: [...others],
        url: path,
        schema: { hide: true },
        handler: async (request, reply) =>
          reply.code(405).header('allow', allow).send(errorBody(405, 'method.not.allowed', `${request.method} is not allowed on ${path}; allowed: ${allow}`)),
      });
    }
  };
};

/** The /cloud dialect as one encapsulated plugin: its own errors, not-found answer and auth. */
export const cloudPlugin = (deps: CloudDeps) => async (app: FastifyInstance) => {
  const { engine, store, directory, compliance, clock, queues } = deps;
  const voiceWorld = { directory: domainDirectoryOf(directory), refs: gwsRefs };
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, code, message } = cloudError(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send(errorBody(status, code, message));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody(404, 'not.found', `${request.method} ${request.url.split('?')[0]} is not a resource of this API`)),
  );
  const signer = fastifyCookie.signerFactory(randomBytes(32).toString('hex'));
  // Tokens are stateless (HMAC over client id, expiry, token id); a revoked one is remembered
  // by its id until it would have expired anyway.
  const revoked = new Map<string, number>();
  const answer = (reply: Reply, outcome: Outcome, ok: () => unknown = () => reply.code(202).send('')) => {
    if (!isRefusal(outcome)) return ok();
    const { status, code } = fromStatusCode(outcome.statusCode);
    return fail(reply, status, code, outcome.message);
  };

  const rootGuard = methodGuard(app);
  app.post('/oauth/token', async (request, reply) => {
    const header = request.headers.authorization ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    const decoded = match ? Buffer.from(match[1] as string, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    // Client ids are throttled under their own prefix, so a client cannot lock out a user of the same name.
    const throttleKey = `oauth-client:${colon > 0 ? decoded.slice(0, colon) : ''}`;
    const waitS = deps.loginThrottle?.retryAfter(throttleKey, request.ip) ?? 0;
    if (waitS > 0)
      return reply
        .code(429)
        .header('Retry-After', String(waitS))
        .send(errorBody(429, 'too.many.requests', `too many failed logins for this client or address; retry after ${waitS} s`));
    const client = colon > 0 ? directory.authenticateClient(decoded.slice(0, colon), decoded.slice(colon + 1)) : undefined;
    if (colon > 0 && !client) deps.loginThrottle?.failed(throttleKey, request.ip);
    if (client) deps.loginThrottle?.succeeded(throttleKey);
    const grant = (request.body as Record<string, unknown> | undefined)?.['grant_type'];
    if (grant !== 'client_credentials')
      return reply.code(400).send({ error: 'unsupported_grant_type', description: `grant_type must be client_credentials, not '${String(grant)}'` });
    if (!client) return reply.code(401).send({ error: 'invalid_client', description: 'client id or secret is wrong' });
    const expires = clock.now() + client.tokenTtlS * 1000;
    return { access_token: signer.sign(`${client.clientId}|${expires}|${randomUUID()}`), token_type: 'bearer', expires_in: client.tokenTtlS };
  });

  app.register(
    async (plain) => {
      const api = plain.withTypeProvider<TypeBoxTypeProvider>();
      const closeMethods = methodGuard(plain);
      api.decorateRequest('client', null as unknown as OAuthClient);
      api.decorateRequest('tokenId', '');
      api.addHook('onRequest', async (request, reply) => {
        const header = request.headers.authorization;
        const token = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
        if (!token) return fail(reply, 401, 'authentication.required', 'No authentication bearer token specified in authorization header.');
        const unsigned = signer.unsign(token);
        const [clientId, expires, tokenId] = unsigned.valid && unsigned.value ? unsigned.value.split('|') : [];
        const client = clientId ? directory.clientById(clientId) : undefined;
        // A bad, expired or revoked token (notes 3.2: bad.credentials).
        if (!client || !tokenId || !(Number(expires) > clock.now()) || revoked.has(tokenId))
          return fail(reply, 401, 'bad.credentials', 'Invalid login credentials.');
        request.client = client;
        request.tokenId = tokenId;
      });

      deps.notifications.routes(plain);
      userRoutes(plain, { directory, store, queues: deps.queues });

      // TokensApi.deleteTokensMe: revokes the token that made the request.
      api.delete('/tokens/me', async (request, reply) => {
        const unsigned = signer.unsign(/^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '');
        const expires = Number(unsigned.value?.split('|')[1] ?? 0);
        // Forget revocations of tokens that have expired by now: they are refused anyway.
        for (const [id, until] of revoked) if (until <= clock.now()) revoked.delete(id);
        revoked.set(request.tokenId, expires);
        return reply.code(200).send('');
      });

      // The endpoint people try first does not exist: say which one does.
      const conferences = async (_request: unknown, reply: Reply) =>
        fail(reply, 404, 'not.found', `There is no /api/v2/conversations/conferences resource. To remove one participant from a conference, use ${DOCUMENTED_REMOVAL} with {"state":"disconnected"}.`);
      api.all('/conversations/conferences', conferences);
      api.all('/conversations/conferences/*', conferences);

      const liveCall = async (id: string): Promise<Call | undefined> => {
        const call = await store.getCall(id);
        return call && call.endedAt === null ? call : undefined;
      };
      const mayControl = (client: OAuthClient) => MAY_CONTROL.some((r) => client.roles.includes(r));
      const forbidden = (reply: Reply, client: OAuthClient) => fail(reply, 403, 'forbidden', `client ${client.clientId} may not control conversations`);
      const findParty = (call: Call, pid: string): Party | undefined => cloudParties(call).find((p) => participantId(call.id, p.dn) === pid);
      /** The user who acts as a party (their own Hold, Mute, transfer); none for an outside number. */
      const userOf = (party: Party): DirectoryUser | undefined => (party.external ? undefined : directory.byDn(party.dn));
      /** A Cloud destination (address, or userId) as a GWS phone number. */
      const destinationOf = (d: { address?: string; userId?: string; queueId?: string }): string | { message: string } => {
        if (d.queueId !== undefined) return { message: 'transfers to a queue are not supported: give an address or a userId' };
        if (d.userId !== undefined) {
          const user = directory.byId(d.userId);
          if (!user?.phoneNumber) return { message: `user ${d.userId} was not found or has no phone number` };
          return user.phoneNumber;
        }
        if (d.address !== undefined) return d.address.replace(/^tel:/, '');
        return { message: 'give the destination as an address or a userId' };
      };
      /** Common preamble of the participant writes: a controlling client, a live call, a known participant. */
      const target = async (request: { client: OAuthClient; params: { id: string; participantId: string } }, reply: Reply) => {
        if (!mayControl(request.client)) return void forbidden(reply, request.client);
        const call = await liveCall(request.params.id);
        if (!call) return void fail(reply, 404, 'conversation.error.conversation.not.found', `conversation ${request.params.id} was not found or has ended`);
        const party = findParty(call, request.params.participantId);
        if (!party) return void fail(reply, 404, 'conversation.error.not.conversation.participant', `participant ${request.params.participantId} is not in conversation ${call.id}`);
        return { call, party };
      };

      // Reads follow the client's permissions (access.ts): an agent-level client sees its user's.
      const notPermitted = (reply: Parameters<typeof fail>[0], client: OAuthClient, what: string) =>
        fail(reply, 403, MISSING_PERMISSION, `client ${client.clientId} may not read ${what}: it acts for ${client.userId === null ? 'no user' : 'one user only'}`);

      api.get('/conversations/calls', async (request) => {
        const access = accessOf(request.client, directory);
        const calls = (await Promise.all((await store.liveCallIds()).map(liveCall))).flatMap((call) => (call && mayRead(access, call) ? [call] : []));
        return { entities: calls.map((call) => callConversationView(call, directory, queues)), pageSize: 25, pageNumber: 1 };
      });

      api.get('/conversations/calls/:id', { schema: { params: CallParams } }, async (request, reply) => {
        const call = await store.getCall(request.params.id);
        if (!call) return fail(reply, 404, 'conversation.error.conversation.not.found', `conversation ${request.params.id} was not found`);
        if (!mayRead(accessOf(request.client, directory), call)) return notPermitted(reply, request.client, `conversation ${call.id}`);
        return callConversationView(call, directory, queues);
      });

      api.get('/conversations/:id', { schema: { params: CallParams } }, async (request, reply) => {
        const call = await store.getCall(request.params.id);
        if (!call) return fail(reply, 404, 'not.found', `conversation ${request.params.id} was not found`);
        if (!mayRead(accessOf(request.client, directory), call)) return notPermitted(reply, request.client, `conversation ${call.id}`);
        return conversationView(call, directory, queues);
      });

      // Add a party by address: SingleStepConference by the conference owner, or an agent on it.
      api.post('/conversations/calls/:id/participants', { schema: { params: CallParams } }, async (request, reply) => {
        if (!mayControl(request.client)) return forbidden(reply, request.client);
        const call = await liveCall(request.params.id);
        if (!call) return fail(reply, 404, 'conversation.error.conversation.not.found', `conversation ${request.params.id} was not found or has ended`);
        const parsed = addParticipants(request.body ?? {});
        if (!parsed.ok) return fail(reply, 400, 'bad.request', `${parsed.message} (send {"participants":[{"address":"<number>"}]})`);
        const destination = destinationOf(parsed.value.participants[0] ?? {});
        if (typeof destination !== 'string') return fail(reply, 400, 'bad.request', destination.message);
        const agents = liveParties(call).filter((p) => !p.external && directory.byDn(p.dn));
        const host = agents.find((p) => p.dn === call.ownerDn) ?? agents[0];
        const user = host && userOf(host);
        if (!user) return fail(reply, 403, 'conversation.error.forbidden.not.active.participant', `conversation ${call.id} has no connected agent to add a party`);
        const outcome = await engine.execute({ type: 'CallOperation', actor: toActor(user), callId: call.id, operation: op('SingleStepConference', { destination: { phoneNumber: destination } }) });
        return answer(reply, outcome, async () => reply.code(200).send(conversationView((await store.getCall(call.id)) ?? call, directory, queues)));
      });

      api.patch('/conversations/calls/:id/participants/:participantId', { schema: { params: ParticipantParams } }, async (request, reply) => {
        const found = await target(request, reply);
        if (!found) return reply;
        const { call, party } = found;
        const parsed = participantPatch(request.body ?? {});
        if (!parsed.ok) return fail(reply, 400, 'bad.request', parsed.message);
        const patch = parsed.value;
        const pid = request.params.participantId;
        if (patch.state === undefined && patch.held === undefined && patch.muted === undefined && patch.confined === undefined && patch.wrapup === undefined && patch.recording === undefined && patch.wrapupSkipped === undefined)
          return fail(reply, 400, 'bad.request', 'send one of state, held, muted, confined, wrapup');
        if (patch.recording === true) return fail(reply, 400, 'bad.request', 'Conclave does not record calls: recording cannot be turned on');
        if (patch.confined === true)
          return fail(reply, 400, 'conversation.error.cannot.confine.party', 'Conclave has one kind of hold: use {"held": true} (confined is always false)');
        if (patch.state === 'disconnected') {
          if (Object.keys(request.body as object).some((k) => k !== 'state'))
            return fail(reply, 400, 'bad.request', 'send {"state":"disconnected"} on its own');
          if (!isLive(party)) return fail(reply, 400, 'conversation.error.call.disconnected', `participant ${pid} is not connected (state ${party.state})`);
          if (liveParties(call).length < 3)
            return fail(reply, 400, 'bad.request', `conversation ${call.id} has two parties; disconnecting one ends it: use POST /api/v2/conversations/${call.id}/disconnect`);
          return answer(reply, await compliance.removeFromCall(call.id, party.dn));
        }
        // The other changes are the party's own operations, done on their behalf with their rights;
        // one already in force is not repeated (PATCH is a desired state, not a toggle).
        const user = userOf(party);
        if (!user) return fail(reply, 400, 'bad.request', `participant ${pid} is an outside number: only {"state":"disconnected"} applies to it`);
        const ops: VoiceOp[] = [];
        if (patch.state === 'connected' && party.state === 'Ringing') ops.push(op('Answer'));
        if (patch.wrapup !== undefined) {
          if (patch.wrapup.code === undefined) return fail(reply, 400, 'conversation.error.wrapup.code.required', 'wrapup needs a code');
          const keys = wrapupKeys(party.dn);
          ops.push(op('UpdateUserData', { userData: { [keys.code]: patch.wrapup.code, ...(patch.wrapup.notes !== undefined ? { [keys.notes]: patch.wrapup.notes } : {}) } }));
        }
        const muted = party.mute === 'On';
        if (patch.muted !== undefined && patch.muted !== muted) ops.push(op(patch.muted ? 'MuteCall' : 'UnmuteCall'));
        if (patch.held !== undefined && patch.held !== (party.state === 'Held')) {
          if (patch.held && party.state === 'Ringing') return fail(reply, 400, 'conversation.error.hold.alerting', 'An alerting call cannot be placed on hold');
          ops.push(op(patch.held ? 'Hold' : 'Retrieve'));
        }
        // A PATCH is one request: every change is judged first, on the call as each earlier one
        // leaves it (the pure domain, as the engine would), so a refused one changes nothing.
        const family = await familyOf(store, call);
        let planned: Call = call;
        for (const operation of ops) {
          const decision = decideVoice({ call: planned, family, monitors: [] }, { actor: toActor(user), callId: call.id, operation }, voiceWorld, {
            now: clock.now(),
            newCallId: () => call.id,
            newConnId: () => call.connId,
          });
          if (isRefusal(decision)) return answer(reply, decision);
          planned = decision.calls.find((c) => c.id === call.id) ?? planned;
        }
        for (const operation of ops) {
          const outcome = await engine.execute({ type: 'CallOperation', actor: toActor(user), callId: call.id, operation });
          if (isRefusal(outcome)) return answer(reply, outcome);
        }
        return reply.code(202).send('');
      });

      // Replace this participant (a blind transfer): their own SingleStepTransfer to the address.
      api.post('/conversations/calls/:id/participants/:participantId/replace', { schema: { params: ParticipantParams } }, async (request, reply) => {
        const found = await target(request, reply);
        if (!found) return reply;
        const { call, party } = found;
        const parsed = transferRequest(request.body ?? {});
        if (!parsed.ok) return fail(reply, 400, 'bad.request', parsed.message);
        if (parsed.value.transferType === 'Attended') return fail(reply, 400, 'bad.request', 'an attended transfer is POST .../participants/{participantId}/consult');
        if (parsed.value.voicemail) return fail(reply, 400, 'bad.request', 'Conclave has no voicemail');
        const destination = destinationOf(parsed.value);
        if (typeof destination !== 'string') return fail(reply, 400, 'bad.request', destination.message);
        if (!isLive(party)) return fail(reply, 400, 'conversations.error.transfer.not.connected', 'You can only transfer conversations that are in the connected state.');
        if (destination === party.dn) return fail(reply, 400, 'conversations.error.transfer.same.party', `participant ${party.dn} cannot be replaced by themselves`);
        const user = userOf(party);
        if (!user) return fail(reply, 400, 'bad.request', `participant ${request.params.participantId} is an outside number: replace the agent who talks to it instead`);
        const outcome = await engine.execute({ type: 'CallOperation', actor: toActor(user), callId: call.id, operation: op('SingleStepTransfer', { destination: { phoneNumber: destination } }) });
        return answer(reply, outcome);
      });

      // Consult: the consulting agent's InitiateTransfer (or InitiateConference for speakTo
      // CONFERENCE). The consultation is its own conversation, as in GWS; its destination
      // participant's id is the answer.
      api.post('/conversations/calls/:id/participants/:participantId/consult', { schema: { params: ParticipantParams } }, async (request, reply) => {
        const found = await target(request, reply);
        if (!found) return reply;
        const { call, party } = found;
        const parsed = consultTransfer(request.body ?? {});
        if (!parsed.ok) return fail(reply, 400, 'bad.request', parsed.message);
        const speakTo = (parsed.value.speakTo ?? 'DESTINATION').toUpperCase();
        if (!['DESTINATION', 'OBJECT', 'BOTH', 'CONFERENCE'].includes(speakTo))
          return fail(reply, 400, 'bad.request', `speakTo '${parsed.value.speakTo}' must be DESTINATION, OBJECT, BOTH or CONFERENCE`);
        const destination = destinationOf(parsed.value.destination);
        if (typeof destination !== 'string') return fail(reply, 400, 'conversation.error.consult.transfer.no.destination', destination.message);
        let consulting: DirectoryUser | undefined;
        if (parsed.value.consultingUserId !== undefined) {
          consulting = directory.byId(parsed.value.consultingUserId);
          const on = consulting?.phoneNumber ? partyOf(call, consulting.phoneNumber) : undefined;
          if (!consulting || !on || !isLive(on)) return fail(reply, 400, 'not.a.participant', `user ${parsed.value.consultingUserId} is not a connected participant on the call`);
        } else {
          const agents = liveParties(call).filter((p) => p.dn !== party.dn && !p.external && directory.byDn(p.dn));
          if (agents.length !== 1)
            return fail(reply, 400, 'conversation.error.consult.transfer.no.initiator', `say who consults: give consultingUserId (conversation ${call.id} has ${agents.length} other connected agents)`);
          consulting = userOf(agents[0] as Party);
        }
        if (!consulting?.phoneNumber) return fail(reply, 400, 'conversation.error.consult.transfer.no.initiator', 'the consulting user has no phone number');
        if (destination === consulting.phoneNumber) return fail(reply, 400, 'conversation.error.cannot.transfer.to.self', 'a user cannot consult themselves');
        const name = speakTo === 'CONFERENCE' ? 'InitiateConference' : 'InitiateTransfer';
        const outcome = await engine.execute({ type: 'CallOperation', actor: toActor(consulting), callId: call.id, operation: op(name, { destination: { phoneNumber: destination } }) });
        return answer(reply, outcome, async () => {
          const consult = (await store.consultationsOf(call.id)).find((c) => partyOf(c, destination));
          if (!consult) return fail(reply, 500, 'internal.server.error', 'the consultation was placed but cannot be found');
          return reply.code(200).send({ destinationParticipantId: participantId(consult.id, destination) });
        });
      });

      api.post('/conversations/:id/disconnect', { schema: { params: CallParams } }, async (request, reply) => {
        if (!mayControl(request.client)) return forbidden(reply, request.client);
        const call = await liveCall(request.params.id);
        if (!call) return fail(reply, 404, 'not.found', `conversation ${request.params.id} was not found or has ended`);
        // A full teardown, as a party would do it: ClearCall in a conference, Hangup otherwise.
        const party = liveParties(call).find((p) => userOf(p));
        const user = party && userOf(party);
        if (!party || !user) return fail(reply, 400, 'bad.request', `conversation ${call.id} has no connected agent`);
        const self = partyOf(call, party.dn);
        const name = liveParties(call).length >= 3 && self?.state === 'Established' ? 'ClearCall' : 'Hangup';
        return answer(reply, await engine.execute({ type: 'CallOperation', actor: toActor(user), callId: call.id, operation: op(name) }));
      });

      // The analytics detail query: live calls, and ended ones this process has seen.
      api.post('/analytics/conversations/details/query', async (request, reply) => {
        if (!accessOf(request.client, directory).all) return notPermitted(reply, request.client, 'analytics conversation details');
        const parsed = parseQuery(request.body ?? {});
        if (!parsed.ok) return fail(reply, 400, 'bad.request', `${parsed.message} (a ConversationQuery needs an interval "start/end")`);
        const ids = new Set([...(await store.liveCallIds()), ...deps.callLog.ids()]);
        const calls = (await Promise.all([...ids].map((id) => store.getCall(id)))).flatMap((c) => (c ? [c] : []));
        const result = runQuery(parsed.value, calls, directory);
        return result.ok ? result.value : fail(reply, 400, 'bad.request', result.message);
      });

      closeMethods();
    },
    { prefix: '/api/v2' },
  );
  rootGuard();
};
