/**
 * The console's own routes under /conclave/v1 (ROLE_ADMIN or ROLE_SUPERVISOR on every one):
 *  POST   /console/session   {"userName", "password"} → 200 {user, csrfToken}, sets the session cookie
 *  GET    /console/session   → who the cookie (or Basic) says you are: {user, csrfToken} or {user: null}
 *  DELETE /console/session   → clears the cookie
 *  GET    /console/state     → {calls, chats, agents, flags, audit}: the picture the stream then updates
 *  GET    /events            → Server-Sent Events: `changed` records (event-stream.ts)
 *  POST   /console/calls/{callId}/remove {"participant"} → removes that party as compliance does (ROLE_ADMIN)
 * EventSource cannot send an Authorization header, so the page signs in once and the browser
 * sends the session cookie (src/api/gws/auth.ts's signed JSESSIONID, here HttpOnly and
 * SameSite=Strict). A write carried by the cookie must also send X-CSRF-TOKEN when --csrf is on.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import Type from 'typebox';
import type { Directory, DirectoryUser } from '../../directory/directory.js';
import type { Chat } from '../../domain/chat/model.js';
import type { Flag } from '../../domain/compliance/model.js';
import { compileParams } from '../../domain/params.js';
import { isRefusal, refuse, type Refusal } from '../../domain/refusals.js';
import type { Call } from '../../domain/voice/model.js';
import type { Compliance } from '../../engine/compliance.js';
import type { Store } from '../../store/port.js';
import { SESSION_COOKIE, type Authenticator } from '../gws/auth.js';
import { errorBody, httpStatusOf } from '../gws/errors.js';
import { agentView, auditView, callView, chatView, flagView, isListedAgent } from './console-views.js';
import type { ConsoleStream } from './event-stream.js';

const SignInBody = Type.Object({
  userName: Type.String({ minLength: 1, maxLength: 256 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
});
const signInBody = compileParams<typeof SignInBody, { userName: string; password: string }>(SignInBody);
const RemoveBody = Type.Object({ participant: Type.String({ minLength: 1, maxLength: 64 }) });
const removeBody = compileParams<typeof RemoveBody, { participant: string }>(RemoveBody);

/** Who may use the console at all, and who may act through it (the simulation API's and compliance's own role). */
export const CONSOLE_ROLES = ['ROLE_ADMIN', 'ROLE_SUPERVISOR'] as const;
const ACTING_ROLES = ['ROLE_ADMIN'] as const;
/** The audit entries the picture starts with; the stream adds the later ones. */
const AUDIT_TAIL = 200;
/** A comment every so often keeps proxies and the browser from deeming the stream dead. */
const HEARTBEAT_MS = 15_000;

export interface ConsoleDeps {
  readonly auth: Authenticator;
  readonly store: Store;
  readonly directory: Directory;
  readonly compliance: Compliance;
  readonly stream: ConsoleStream;
  readonly csrf: boolean;
}

const send = (reply: FastifyReply, refusal: Refusal) => reply.code(httpStatusOf(refusal.statusCode)).send(errorBody(refusal));
const hasRole = (user: DirectoryUser, roles: readonly string[]) => roles.some((r) => user.roles.includes(r as DirectoryUser['roles'][number]));
const userView = (user: DirectoryUser) => ({ userId: user.id, userName: user.userName, firstName: user.firstName, lastName: user.lastName, roles: user.roles });
const sessionCookie = (value: string, maxAge?: number) =>
  `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict${maxAge !== undefined ? `; Max-Age=${maxAge}` : ''}`;

export const consoleRoutes = (deps: ConsoleDeps) => async (app: FastifyInstance) => {
  const { auth, store, directory, compliance, stream } = deps;

  // Signing in is the one console request that carries no session yet: it checks the password.
  app.post('/console/session', async (request, reply) => {
    const parsed = signInBody(request.body ?? {});
    if (!parsed.ok) return send(reply, parsed);
    const user = directory.authenticate(parsed.value.userName, parsed.value.password);
    if (!user) return send(reply, refuse.notAuthenticated('invalid user name or password'));
    if (!hasRole(user, CONSOLE_ROLES)) return send(reply, refuse.missingRole('the console', CONSOLE_ROLES));
    return reply.header('Set-Cookie', sessionCookie(auth.issueSession(user))).send({ user: userView(user), csrfToken: auth.csrfToken(user) });
  });

  // Who the page is signed in as, if anyone: "nobody" is an answer here, not a refusal, so the
  // page's first look does not count as a failed request.
  app.get('/console/session', async (request) => {
    const result = auth.authenticate(request.headers);
    return result.ok && hasRole(result.user, CONSOLE_ROLES) ? { user: userView(result.user), csrfToken: auth.csrfToken(result.user) } : { user: null };
  });

  await app.register(async (plain) => {
    const api = plain.withTypeProvider<TypeBoxTypeProvider>();
    api.decorateRequest('user', null as unknown as DirectoryUser);
    api.addHook('onRequest', async (request, reply) => {
      const result = auth.authenticate(request.headers);
      if (!result.ok) return send(reply, refuse.notAuthenticated(result.reason));
      if (!hasRole(result.user, CONSOLE_ROLES)) return send(reply, refuse.missingRole('the console', CONSOLE_ROLES));
      if (deps.csrf && result.via === 'cookie' && request.method !== 'GET' && !auth.checkCsrf(result.user, request.headers['x-csrf-token'] as string | undefined))
        return reply.code(403).send({ statusCode: 3, statusMessage: 'Missing or invalid Csrf token' });
      request.user = result.user;
    });

    api.delete('/console/session', async (_request, reply) => reply.header('Set-Cookie', sessionCookie('', 0)).send({ statusCode: 0 }));

    api.get('/console/state', async () => {
      const calls = (await Promise.all((await store.liveCallIds()).map((id) => store.getCall(id)))).filter(
        (c): c is Call => c !== undefined && c.endedAt === null,
      );
      const chats = new Map<string, Chat>();
      for (const chat of await store.waitingChats()) chats.set(chat.id, chat);
      for (const user of directory.users) for (const chat of await store.chatsOfAgent(user.id)) chats.set(chat.id, chat);
      const agents = await Promise.all(directory.users.filter(isListedAgent).map(async (u) => agentView(u, await store.getAgentSession(u.id))));
      // Flags: the pending ones and every one the audit names (the store lists no other way).
      const audit = await store.queryAudit({});
      const flags = new Map<string, Flag>();
      for (const flag of await store.pendingFlags()) flags.set(flag.id, flag);
      for (const id of new Set(audit.map((e) => e.flagId)))
        if (!flags.has(id)) {
          const flag = await store.getFlag(id);
          if (flag) flags.set(id, flag);
        }
      return {
        calls: calls.map((c) => callView(c, directory)),
        chats: [...chats.values()].filter((c) => c.endedAt === null).map(chatView),
        agents,
        flags: [...flags.values()].sort((a, b) => a.createdAt - b.createdAt).map(flagView),
        audit: audit.slice(-AUDIT_TAIL).map(auditView),
      };
    });

    api.get('/events', async (request, reply) => {
      // HEAD (Fastify answers it with this handler) has no body to stream: the headers alone,
      // at once. Held open, it was never answered (found by the hostile-input fuzz).
      if (request.method === 'HEAD') return reply.code(200).header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache, no-store').send();
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      // `retry` tells EventSource how soon to reconnect; the comment opens the stream at once.
      res.write(`retry: 2000\n: signed in as ${request.user.userName}\n\n`);
      const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      const unsubscribe = stream.subscribe({ write: (frame) => void res.write(frame), end: () => res.end() });
      request.raw.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
      });
    });

    api.post('/console/calls/:callId/remove', async (request, reply) => {
      if (!hasRole(request.user, ACTING_ROLES)) return send(reply, refuse.missingRole('Remove', ACTING_ROLES));
      const { callId } = request.params as { callId: string };
      const parsed = removeBody(request.body ?? {});
      if (!parsed.ok) return send(reply, parsed);
      const call = await store.getCall(callId);
      if (!call || call.endedAt !== null) return send(reply, refuse.notFound('call', callId));
      if (!call.parties.some((p) => p.dn === parsed.value.participant))
        return send(reply, refuse.invalidParameter('participant', `'${parsed.value.participant}' is not a party of call ${callId}`));
      const outcome = await compliance.removeFromCall(callId, parsed.value.participant);
      if (isRefusal(outcome)) return send(reply, outcome);
      return { statusCode: 0 };
    });
  });
};
