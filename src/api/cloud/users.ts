/**
 * Users and routing queues in the Cloud models:
 *  GET /api/v2/users (UsersApi.getUsers → UserEntityListing), /users/{id} (getUser → User),
 *  /users/me (getUsersMe: a client-credentials token has no user → 400 `not.a.user`),
 *  GET /api/v2/routing/queues (RoutingApi.getRoutingQueues → QueueEntityListing),
 *  /routing/queues/{id} (getRoutingQueue → Queue), /routing/queues/{id}/members
 *  (getRoutingQueueMembers → QueueMemberEntityListing: no total, page by nextUri).
 * Users come from the directory (the system compliance user is not listed: nobody can sign in as
 * it); queues from the CloudQueues port.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import Type from 'typebox';
import { isComplianceUserName, type Directory, type DirectoryUser } from '../../directory/directory.js';
import type { AgentSession } from '../../domain/agent/model.js';
import type { Store } from '../../store/port.js';
import { errorBody } from './errors.js';
import type { CloudQueue, CloudQueues } from './queues.js';

const Paging = {
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  pageNumber: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
};
const Expand = Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Array(Type.String({ maxLength: 256 }), { maxItems: 50 })]));
const listOf = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : v.split(','));

const fail = (reply: FastifyReply, status: number, code: string, message: string) => reply.code(status).send(errorBody(status, code, message));

/** Presence and routing status from the agent's voice channel (expand=presence,routingStatus). */
const presenceOf = (session: AgentSession | undefined, busy: boolean) => {
  const voice = session?.channels?.voice;
  const system = !voice ? 'Offline' : voice.state === 'Ready' ? 'On Queue' : 'Available';
  return {
    presence: { source: 'PURECLOUD', primary: true, presenceDefinition: { id: system.toLowerCase().replace(' ', '-'), systemPresence: system }, modifiedDate: new Date(voice?.since ?? 0).toISOString() },
    routingStatus: { status: !voice || voice.state !== 'Ready' ? 'OFF_QUEUE' : busy ? 'INTERACTING' : 'IDLE', ...(voice ? { startTime: new Date(voice.since).toISOString() } : {}) },
  };
};

export const userView = (user: DirectoryUser) => ({
  id: user.id,
  name: `${user.firstName} ${user.lastName}`.trim(),
  division: { id: 'home', name: 'Home', selfUri: '/api/v2/authorization/divisions/home' },
  chat: { jabberId: `${user.userName}@conclave` },
  ...(user.emailAddress ? { email: user.emailAddress } : {}),
  primaryContactInfo: [
    ...(user.emailAddress ? [{ address: user.emailAddress, mediaType: 'EMAIL', type: 'PRIMARY' }] : []),
    ...(user.phoneNumber ? [{ address: user.phoneNumber, display: user.phoneNumber, mediaType: 'PHONE', type: 'PRIMARY' }] : []),
  ],
  addresses: user.phoneNumber ? [{ address: user.phoneNumber, display: user.phoneNumber, extension: user.phoneNumber, mediaType: 'PHONE', type: 'WORK' }] : [],
  state: 'active',
  username: user.userName,
  preferredName: user.nickname,
  version: 1,
  acdAutoAnswer: false,
  selfUri: `/api/v2/users/${user.id}`,
});

const queueView = (q: CloudQueue) => ({
  id: q.id,
  name: q.name,
  division: { id: 'home', name: 'Home', selfUri: '/api/v2/authorization/divisions/home' },
  memberCount: q.memberUserIds.length,
  userMemberCount: q.memberUserIds.length,
  joinedMemberCount: q.memberUserIds.length,
  scoringMethod: 'TimestampAndPriority',
  skillEvaluationMethod: 'NONE',
  selfUri: `/api/v2/routing/queues/${q.id}`,
});

/** A Cloud `name` filter (case-insensitive; a leading or trailing `*` matches anything there). */
export const namePattern = (name: string): { test(text: string): boolean } => {
  const lead = name.startsWith('*');
  const trail = name.length > (lead ? 1 : 0) && name.endsWith('*');
  const core = name.slice(lead ? 1 : 0, trail ? -1 : undefined).toLowerCase();
  return {
    test: (text) => {
      const t = text.toLowerCase();
      if (lead && trail) return t.includes(core);
      if (lead) return t.endsWith(core);
      if (trail) return t.startsWith(core);
      return t === core;
    },
  };
};

/** The paging fields of an *EntityListing, with `total` (UserEntityListing, QueueEntityListing). */
const listing = <T>(all: readonly T[], base: string, pageSize: number, pageNumber: number) => {
  const pageCount = Math.ceil(all.length / pageSize);
  const uri = (n: number) => `${base}?pageSize=${pageSize}&pageNumber=${n}`;
  return {
    entities: all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize),
    pageSize,
    pageNumber,
    total: all.length,
    firstUri: uri(1),
    selfUri: uri(pageNumber),
    lastUri: uri(Math.max(pageCount, 1)),
    ...(pageNumber < pageCount ? { nextUri: uri(pageNumber + 1) } : {}),
    ...(pageNumber > 1 ? { previousUri: uri(pageNumber - 1) } : {}),
    pageCount,
  };
};

export const userRoutes = (plain: FastifyInstance, deps: { directory: Directory; store: Store; queues: CloudQueues }) => {
  const { directory, store, queues } = deps;
  const api = plain.withTypeProvider<TypeBoxTypeProvider>();
  const people = () => directory.users.filter((u) => !isComplianceUserName(u.userName));

  const withExpand = async (user: DirectoryUser, expand: string[]) => {
    const view = userView(user);
    if (!expand.includes('presence') && !expand.includes('routingStatus')) return view;
    const [session, calls] = await Promise.all([store.getAgentSession(user.id), user.phoneNumber ? store.presentCallsOf(user.phoneNumber) : Promise.resolve([])]);
    const { presence, routingStatus } = presenceOf(session, calls.length > 0);
    return { ...view, ...(expand.includes('presence') ? { presence } : {}), ...(expand.includes('routingStatus') ? { routingStatus } : {}) };
  };

  api.get(
    '/users',
    { schema: { querystring: Type.Object({ ...Paging, id: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Array(Type.String({ maxLength: 64 }))])), expand: Expand, sortOrder: Type.Optional(Type.String({ maxLength: 16 })), state: Type.Optional(Type.String({ maxLength: 16 })) }) } },
    async (request, reply) => {
      const ids = listOf(request.query.id);
      if (ids.length > 100) return fail(reply, 400, 'max.user.ids', 'Only 100 users can be requested at a time');
      const order = request.query.sortOrder ?? 'ascending';
      if (!['ascending', 'descending', 'ASC', 'DESC', 'asc', 'desc'].includes(order)) return fail(reply, 400, 'bad.request', `sortOrder '${order}' must be ascending or descending`);
      const state = request.query.state ?? 'active';
      if (!['active', 'inactive', 'deleted', 'any'].includes(state)) return fail(reply, 400, 'bad.request', `state '${state}' must be active, inactive, deleted or any`);
      let users = [...people()].sort((x, y) => `${x.firstName} ${x.lastName}`.localeCompare(`${y.firstName} ${y.lastName}`));
      if (/^desc/i.test(order)) users.reverse();
      if (ids.length > 0) users = users.filter((u) => ids.includes(u.id));
      if (state === 'inactive' || state === 'deleted') users = [];
      const page = listing(users, '/api/v2/users', request.query.pageSize ?? 25, request.query.pageNumber ?? 1);
      const expand = listOf(request.query.expand);
      return { ...page, entities: await Promise.all(page.entities.map((u) => withExpand(u, expand))) };
    },
  );

  // A client-credentials token has no user: Cloud answers this 400 (notes 3.1).
  api.get('/users/me', async (_request, reply) =>
    fail(reply, 400, 'not.a.user', 'This request requires a user context. Client credentials cannot be used for requests to this resource.'),
  );

  api.get(
    '/users/:id',
    { schema: { params: Type.Object({ id: Type.String({ maxLength: 128 }) }), querystring: Type.Object({ expand: Expand, state: Type.Optional(Type.String({ maxLength: 16 })) }) } },
    async (request, reply) => {
      const user = directory.byId(request.params.id);
      if (!user || isComplianceUserName(user.userName)) return fail(reply, 404, 'general.resource.not.found', `user ${request.params.id} was not found`);
      return withExpand(user, listOf(request.query.expand));
    },
  );

  api.get(
    '/routing/queues',
    { schema: { querystring: Type.Object({ ...Paging, name: Type.Optional(Type.String({ maxLength: 256 })), sortOrder: Type.Optional(Type.Enum(['asc', 'desc'])), id: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Array(Type.String({ maxLength: 64 }))])) }) } },
    async (request) => {
      const name = request.query.name;
      // `name` allows leading and trailing `*` (RoutingApi.getRoutingQueues); any other `*` is
      // literal. Matched as text, not as a regular expression built from the query (`***` made
      // an invalid one: a 500 the hostile-input fuzz found).
      const pattern = name === undefined ? undefined : namePattern(name);
      const ids = listOf(request.query.id);
      const all = queues
        .list()
        .filter((q) => (!pattern || pattern.test(q.name)) && (ids.length === 0 || ids.includes(q.id)))
        .sort((x, y) => x.name.localeCompare(y.name) * (request.query.sortOrder === 'desc' ? -1 : 1));
      const page = listing(all, '/api/v2/routing/queues', request.query.pageSize ?? 25, request.query.pageNumber ?? 1);
      return { ...page, entities: page.entities.map(queueView) };
    },
  );

  api.get('/routing/queues/:id', { schema: { params: Type.Object({ id: Type.String({ maxLength: 128 }) }) } }, async (request, reply) => {
    const queue = queues.byId(request.params.id);
    return queue ? queueView(queue) : fail(reply, 404, 'not.found', `queue ${request.params.id} was not found`);
  });

  api.get(
    '/routing/queues/:id/members',
    { schema: { params: Type.Object({ id: Type.String({ maxLength: 128 }) }), querystring: Type.Object({ pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })), pageNumber: Paging.pageNumber, expand: Expand }) } },
    async (request, reply) => {
      const queue = queues.byId(request.params.id);
      if (!queue) return fail(reply, 404, 'not.found', `queue ${request.params.id} was not found`);
      const members = queue.memberUserIds.flatMap((id) => {
        const user = directory.byId(id);
        return user ? [user] : [];
      });
      const { total: _t, pageCount: _p, lastUri: _l, ...page } = listing(members, `/api/v2/routing/queues/${queue.id}/members`, request.query.pageSize ?? 25, request.query.pageNumber ?? 1);
      const entities = await Promise.all(
        page.entities.map(async (user) => {
          const [session, calls] = await Promise.all([store.getAgentSession(user.id), user.phoneNumber ? store.presentCallsOf(user.phoneNumber) : Promise.resolve([])]);
          const { routingStatus } = presenceOf(session, calls.length > 0);
          return { id: user.id, name: userView(user).name, user: userView(user), ringNumber: 1, joined: true, memberBy: 'user', routingStatus: { userId: user.id, ...routingStatus }, selfUri: `/api/v2/users/${user.id}` };
        }),
      );
      // QueueMemberEntityListing has no total/pageCount: clients page until nextUri is missing.
      return { ...page, entities };
    },
  );
};
