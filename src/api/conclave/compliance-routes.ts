/**
 * Conclave's own compliance API (not a GWS dialect):
 *  POST /conclave/v1/compliance/flags  {"user": userName|userId|DN, "reason", "source"} → 202 {flagId, ...}
 *  GET  /conclave/v1/compliance/audit?user=&from=&to=&outcome=&flagId=[&format=jsonl]
 * HTTP Basic; ROLE_ADMIN or ROLE_COMPLIANCE. Errors use the GWS body shape like the rest.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { DirectoryUser } from '../../directory/directory.js';
import type { AuditEntry } from '../../domain/compliance/model.js';
import { AUDIT_OUTCOMES } from '../../domain/compliance/model.js';
import { compileParams } from '../../domain/params.js';
import { isExternalShaped } from '../../domain/voice/model.js';
import { isRefusal, refuse, type Refusal } from '../../domain/refusals.js';
import type { Compliance } from '../../engine/compliance.js';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/port.js';
import { refuseAuthentication, refuseCookieWriteWithoutCsrf, type Authenticator } from '../gws/auth.js';
import { errorBody, httpStatusOf } from '../gws/errors.js';

const FlagBody = Type.Object({
  user: Type.String({ minLength: 1, maxLength: 256 }),
  reason: Type.String({ minLength: 1, maxLength: 2048 }),
  source: Type.String({ minLength: 1, maxLength: 256 }),
});
const flagBody = compileParams<typeof FlagBody, { user: string; reason: string; source: string }>(FlagBody);

const AuditQuery = Type.Object({
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  from: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  to: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  outcome: Type.Optional(Type.Enum(AUDIT_OUTCOMES)),
  flagId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  format: Type.Optional(Type.Enum(['json', 'jsonl'])),
});

const ALLOWED_ROLES = ['ROLE_ADMIN', 'ROLE_COMPLIANCE'] as const;

/** A time given as epoch milliseconds or an ISO-8601 date. */
const parseTime = (name: string, text: string | undefined): number | undefined | Refusal => {
  if (text === undefined) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  return Number.isFinite(ms) ? ms : refuse.invalidParameter(name, `'${text}' is not a time (epoch milliseconds or ISO-8601)`);
};

export const entryView = (e: AuditEntry) => ({
  time: new Date(e.time).toISOString(),
  flagId: e.flagId,
  interaction: e.interaction,
  interactionType: e.interactionType,
  participant: e.participant,
  userId: e.userId,
  actor: e.actor,
  step: e.step,
  outcome: e.outcome,
  ...(e.latencyMs !== null ? { latencyMs: e.latencyMs } : {}),
  ...(e.detail !== null ? { detail: e.detail } : {}),
});

export const complianceRoutes = (deps: { compliance: Compliance; store: Store; auth: Authenticator }) => async (app: FastifyInstance) => {
  const { compliance, store, auth } = deps;

  await app.register(
    async (plain) => {
      const api = plain.withTypeProvider<TypeBoxTypeProvider>();
      api.decorateRequest('user', null as unknown as DirectoryUser);
      api.addHook('onRequest', async (request, reply) => {
        const result = auth.authenticate(request.headers, request.ip);
        if (!result.ok) return refuseAuthentication(reply, result);
        if (refuseCookieWriteWithoutCsrf(auth, request, reply, result)) return reply;
        if (!ALLOWED_ROLES.some((r) => result.user.roles.includes(r)))
          return reply.code(403).send(errorBody(refuse.missingRole('compliance', ALLOWED_ROLES)));
        request.user = result.user;
      });

      api.post('/flags', async (request, reply) => {
        const parsed = flagBody(request.body ?? {});
        if (!parsed.ok) return reply.code(httpStatusOf(parsed.statusCode)).send(errorBody(parsed));
        const raised = await compliance.raise(parsed.value, request.user.userName);
        if (isRefusal(raised)) return reply.code(httpStatusOf(raised.statusCode)).send(errorBody(raised));
        const { flag } = raised;
        return reply.code(202).send({
          flagId: flag.id,
          user: { id: flag.userId, userName: flag.userName, phoneNumber: flag.dn },
          reason: flag.reason,
          source: flag.source,
          status: flag.status,
          duplicate: raised.duplicate,
          createdAt: new Date(flag.createdAt).toISOString(),
        });
      });

      api.get('/audit', { schema: { querystring: AuditQuery } }, async (request, reply) => {
        const q = request.query;
        const from = parseTime('from', q.from);
        const to = parseTime('to', q.to);
        for (const t of [from, to]) if (typeof t === 'object') return reply.code(400).send(errorBody(t));
        let userId: string | undefined;
        if (q.user !== undefined) {
          const user = compliance.resolveUser(q.user);
          // A flagged external number is audited under the number itself.
          if (!user && !isExternalShaped(q.user)) return reply.code(404).send(errorBody(refuse.notFound('user', q.user)));
          userId = user ? user.id : q.user;
        }
        const entries = (
          await store.queryAudit({
            ...(userId !== undefined ? { userId } : {}),
            ...(typeof from === 'number' ? { from } : {}),
            ...(typeof to === 'number' ? { to } : {}),
            ...(q.outcome !== undefined ? { outcome: q.outcome } : {}),
            ...(q.flagId !== undefined ? { flagId: q.flagId } : {}),
          })
        ).map(entryView);
        if (q.format === 'jsonl')
          return reply.type('application/x-ndjson').send(entries.map((e) => JSON.stringify(e)).join('\n') + (entries.length ? '\n' : ''));
        return { entries };
      });
    },
    { prefix: '/compliance' },
  );
};
