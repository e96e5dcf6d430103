/**
 * The GWS v2 routes: authenticate, parse each body into a typed command (the domain's schema
 * tables), hand it to the engine or a read, and render the answer in GWS shapes. A body whose
 * parameters are invalid still becomes a command that carries its refusal, so refusals follow
 * the contract's order (6, 5, 1/10, 3, 2).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Directory, DirectoryUser } from '../../directory/directory.js';
import { toActor } from '../../directory/directory.js';
import type { ChatDirectory } from '../../domain/chat/operations.js';
import { parseChannelOperation, parseMonitoringOperation, parseSessionOperation } from '../../domain/agent/commands.js';
import { PARTIAL_SUCCESS } from '../../domain/agent/decide.js';
import { isRefusal, refuse, type Refusal } from '../../domain/refusals.js';
import { parseDialOperation, parseVoiceOperation } from '../../domain/voice/commands.js';
import { partyOf, type Call } from '../../domain/voice/model.js';
import type { Engine, Outcome } from '../../engine/engine.js';
import { familyOf } from '../../engine/handlers/voice.js';
import type { Clock } from '../../engine/ports.js';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/port.js';
import { CSRF_REFUSAL, refuseAuthentication, type Authenticator } from './auth.js';
import type { CorsHook } from '../../http/cors.js';
import { errorBody, gwsErrorHandler, gwsNotFoundHandler, httpStatusOf } from './errors.js';
import { registerChatRoutes } from './chat-routes.js';
import { callView } from './views/call.js';
import { callUri, type Urls } from './views/urls.js';
import { channelsView, deviceView, userView } from './views/user.js';

export interface GwsDeps {
  readonly engine: Engine;
  readonly store: Store;
  readonly directory: Directory;
  readonly auth: Authenticator;
  readonly clock: Clock;
  readonly urls: Urls;
  readonly chatDirectory: ChatDirectory;
  /** GWS CSRF protection: GETs hand out a token, writes must send it back. */
  readonly csrf?: boolean;
  /** CORS for browser desktops (http/cors.ts): runs before authentication, answers preflights. */
  readonly cors?: CorsHook;
}

declare module 'fastify' {
  interface FastifyRequest {
    user: DirectoryUser;
  }
}

export const Id = Type.String({ minLength: 1, maxLength: 128 });
const Fields = Type.Object({ fields: Type.Optional(Type.String({ maxLength: 256 })) });
const Subresources = Type.Object({ subresources: Type.Optional(Type.String({ maxLength: 256 })) });

/** The subresources of /me that Conclave serves, in the order the QueryAgentState page lists them. */
const ME_SUBRESOURCES = ['devices', 'channels', 'calls'] as const;
type MeSubresource = (typeof ME_SUBRESOURCES)[number];

/** `*`, a comma-separated list, or nothing; an unknown name is refused (10) naming those served. */
const subresourcesOf = (text: string | undefined): Set<MeSubresource> | Refusal => {
  if (text === undefined) return new Set();
  if (text.trim() === '*') return new Set(ME_SUBRESOURCES);
  const names = text.split(',').map((n) => n.trim());
  const unknown = names.find((n) => !(ME_SUBRESOURCES as readonly string[]).includes(n));
  if (unknown !== undefined)
    return refuse.invalidParameter('subresources', `names '${unknown}', which /me does not have; use * or some of ${ME_SUBRESOURCES.join(', ')}`);
  return new Set(names as MeSubresource[]);
};

export const gwsRoutes = (deps: GwsDeps) => {
  const { engine, store, directory, auth, clock, urls } = deps;

  /** A client that already holds this user's session cookie is not sent a new one. */
  const sessionCookieIsFor = (user: DirectoryUser, cookie: string | undefined): boolean => {
    if (cookie === undefined) return false;
    const session = auth.authenticate({ cookie });
    return session.ok && session.user.id === user.id;
  };

  const fail = (refusal: Refusal) => ({ status: httpStatusOf(refusal.statusCode), body: errorBody(refusal) });
  const answer = (outcome: Outcome) => (isRefusal(outcome) ? fail(outcome) : { status: 200, body: { statusCode: 0 } });
  const operate = async (run: Promise<Outcome>) => answer(await run);

  const viewOf = async (user: DirectoryUser, call: Call) =>
    callView({ urls, now: clock.now(), directory, call, viewer: user, related: await familyOf(store, call) });

  return async (plain: FastifyInstance) => {
    plain.setErrorHandler(gwsErrorHandler);
    plain.setNotFoundHandler(gwsNotFoundHandler);
    const api = plain.withTypeProvider<TypeBoxTypeProvider>();
    api.decorateRequest('user', null as unknown as DirectoryUser);
    if (deps.cors) api.addHook('onRequest', deps.cors);
    api.addHook('onRequest', async (request, reply) => {
      // A preflight the CORS hook answered is done.
      if (reply.sent) return reply;
      const result = auth.authenticate(request.headers, request.ip);
      if (!result.ok) return refuseAuthentication(reply, result);
      request.user = result.user;
      if (deps.csrf) {
        if (request.method === 'GET') {
          reply.header('X-CSRF-HEADER', 'X-CSRF-TOKEN').header('X-CSRF-TOKEN', auth.csrfToken(result.user));
        } else if (!auth.checkCsrf(result.user, request.headers['x-csrf-token'] as string | undefined)) {
          return reply.code(403).send(CSRF_REFUSAL);
        }
      }
      if (result.via === 'basic' && !sessionCookieIsFor(result.user, request.headers.cookie))
        reply.header('Set-Cookie', auth.sessionCookie(result.user));
    });

    /**
     * GET /me, and with `subresources` (UsersResource, Subresources, QueryAgentState pages): `*`
     * or a comma-separated list of devices, channels and calls, as siblings of the user's fields,
     * so that a reloaded desktop rebuilds its state from one request (CallResource: "Calls are
     * returned from … GET requests to /api/v2/me?subresources=*").
     */
    api.get('/me', { schema: { querystring: Subresources } }, async (request, reply) => {
      const user = request.user;
      const wanted = subresourcesOf(request.query.subresources);
      if (isRefusal(wanted)) {
        const { status, body } = fail(wanted);
        return reply.code(status).send(body);
      }
      const session = wanted.size > 0 ? await store.getAgentSession(user.id) : undefined;
      const calls = wanted.has('calls') && user.phoneNumber !== null ? await store.presentCallsOf(user.phoneNumber) : [];
      return {
        statusCode: 0,
        user: {
          ...userView(urls, user),
          ...(wanted.has('devices') ? { devices: user.deviceId ? [deviceView(urls, user, session)] : [] } : {}),
          ...(wanted.has('channels') ? { channels: channelsView(session) } : {}),
          ...(wanted.has('calls') ? { calls: await Promise.all(calls.map((c) => viewOf(user, c))) } : {}),
        },
      };
    });

    // A device URI (deviceUri, targetDeviceUri) read back: its owner, or a supervisor or an
    // administrator (who name devices to monitor); anyone else is not told it exists (6).
    api.get('/devices/:id', { schema: { params: Type.Object({ id: Id }) } }, async (request, reply) => {
      const owner = directory.byDeviceId(request.params.id);
      const viewer = request.user;
      const may = owner && (owner.id === viewer.id || viewer.roles.includes('ROLE_SUPERVISOR') || viewer.roles.includes('ROLE_ADMIN'));
      if (!owner || !may) {
        const { status, body } = fail(refuse.notFound('device', request.params.id));
        return reply.code(status).send(body);
      }
      return { statusCode: 0, device: deviceView(urls, owner, await store.getAgentSession(owner.id)) };
    });

    api.post('/me', async (request, reply) => {
      const outcome = await engine.execute({ type: 'SessionOperation', actor: toActor(request.user), operation: parseSessionOperation(request.body) });
      if (!isRefusal(outcome) && outcome.unserved) {
        // A partial success (7): the served channels started (0), each other one says why.
        const started = outcome.started ?? [];
        return reply.code(200).send({
          statusCode: PARTIAL_SUCCESS,
          statusMessage: `partial success: started ${started.join(', ')}; not started ${outcome.unserved.map((u) => u.channel).join(', ')}`,
          channels: [...started.map((channel) => ({ channel, statusCode: 0 })), ...outcome.unserved],
        });
      }
      const { status, body } = answer(outcome);
      return reply.code(status).send(body);
    });

    api.post(
      '/me/channels/:channel',
      { schema: { params: Type.Object({ channel: Id })} },
      async (request, reply) => {
        const { channel } = request.params;
        const { status, body } = await operate(
          engine.execute({ type: 'ChannelOperation', actor: toActor(request.user), channel, operation: parseChannelOperation(channel)(request.body) }),
        );
        return reply.code(status).send(body);
      },
    );

    api.get('/me/devices', { schema: { querystring: Fields } }, async (request) => {
      const user = request.user;
      const devices = user.deviceId ? [deviceView(urls, user, await store.getAgentSession(user.id))] : [];
      return request.query.fields ? { statusCode: 0, devices } : { statusCode: 0, uris: devices.map((d) => d.uri) };
    });

    api.get('/me/devices/:id', { schema: { params: Type.Object({ id: Id }) } }, async (request, reply) => {
      const user = request.user;
      if (user.deviceId !== request.params.id) {
        const { status, body } = fail(refuse.notFound('device', request.params.id));
        return reply.code(status).send(body);
      }
      return { statusCode: 0, device: deviceView(urls, user, await store.getAgentSession(user.id)) };
    });

    /** An operation on the requester's own device; any other device id is not theirs to see (6). */
    const onOwnDevice =
      (run: (actor: ReturnType<typeof toActor> & { dn: string }, body: unknown) => Promise<Outcome>) =>
      async (request: { user: DirectoryUser; params: { id: string }; body: unknown }, reply: { code(n: number): { send(b: unknown): unknown } }) => {
        const user = request.user;
        const { status, body } =
          user.deviceId !== request.params.id || user.phoneNumber === null
            ? fail(refuse.notFound('device', request.params.id))
            : await operate(run({ ...toActor(user), dn: user.phoneNumber as string }, request.body));
        return reply.code(status).send(body);
      };
    api.post(
      '/me/devices/:id/calls',
      { schema: { params: Type.Object({ id: Id }) } },
      onOwnDevice((actor, b) => engine.execute({ type: 'Dial', actor, operation: parseDialOperation(b) })),
    );
    api.post(
      '/me/devices/:id',
      { schema: { params: Type.Object({ id: Id }) } },
      onOwnDevice((actor, b) => engine.execute({ type: 'DeviceOperation', actor, operation: parseMonitoringOperation(b) })),
    );

    api.get('/me/calls', { schema: { querystring: Fields } }, async (request) => {
      const user = request.user;
      const calls = user.phoneNumber === null ? [] : await store.presentCallsOf(user.phoneNumber);
      return request.query.fields
        ? { statusCode: 0, calls: await Promise.all(calls.map((c) => viewOf(user, c))) }
        : { statusCode: 0, uris: calls.map((c) => callUri(urls, c.id)) };
    });

    api.get('/me/calls/:id', { schema: { params: Type.Object({ id: Id }) } }, async (request, reply) => {
      const user = request.user;
      const call = await store.getCall(request.params.id);
      if (!call || user.phoneNumber === null || !partyOf(call, user.phoneNumber)) {
        const { status, body } = fail(refuse.notFound('call', request.params.id));
        return reply.code(status).send(body);
      }
      return { statusCode: 0, call: await viewOf(user, call) };
    });

    api.post(
      '/me/calls/:id',
      { schema: { params: Type.Object({ id: Id })} },
      async (request, reply) => {
        const command = { type: 'CallOperation', actor: toActor(request.user), callId: request.params.id, operation: parseVoiceOperation(request.body) } as const;
        const { status, body } = await operate(engine.execute(command));
        return reply.code(status).send(body);
      },
    );

    registerChatRoutes(plain, { engine, store, chatDirectory: deps.chatDirectory, urls });

    // Users by user name or phone number (GWS's Users API filters the collection this way).
    api.get(
      '/users',
      { schema: { querystring: Type.Object({ userName: Type.Optional(Type.String({ maxLength: 256 })), phoneNumber: Type.Optional(Type.String({ maxLength: 64 })) }) } },
      async (request) => {
        const { userName, phoneNumber } = request.query;
        const matches = directory.users.filter(
          (u) => (userName === undefined || u.userName === userName) && (phoneNumber === undefined || u.phoneNumber === phoneNumber),
        );
        return { statusCode: 0, users: matches.map((u) => userView(urls, u)) };
      },
    );

    // A user's devices, so that a supervisor (or an orchestrator) can name one in targetDeviceUri.
    api.get('/users/:id/devices', { schema: { params: Type.Object({ id: Id }) } }, async (request, reply) => {
      const user = directory.byId(request.params.id);
      if (!user) {
        const { status, body } = fail(refuse.notFound('user', request.params.id));
        return reply.code(status).send(body);
      }
      return { statusCode: 0, devices: user.deviceId ? [deviceView(urls, user, await store.getAgentSession(user.id))] : [] };
    });

    api.get('/users/:id', { schema: { params: Type.Object({ id: Id }) } }, async (request, reply) => {
      const user = directory.byId(request.params.id);
      if (!user) {
        const { status, body } = fail(refuse.notFound('user', request.params.id));
        return reply.code(status).send(body);
      }
      return { statusCode: 0, user: userView(urls, user) };
    });
  };
};


