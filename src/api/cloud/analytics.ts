/**
 * POST /api/v2/analytics/conversations/details/query (AnalyticsApi.postAnalyticsConversationsDetailsQuery)
 * for what an orchestrator asks: a ConversationQuery with an `interval`, `segmentFilters` on
 * userId (or purpose, mediaType, direction, segmentType), `conversationFilters` on conversationEnd
 * (exists/notExists) or conversationId, `paging`, `order`. The answer is an
 * AnalyticsConversationQueryResponse: conversations[] → participants → sessions → segments, and
 * totalHits. A dimension Conclave cannot judge is a 400 that names it, never silently ignored.
 */
import Type, { type Static } from 'typebox';
import type { Directory } from '../../directory/directory.js';
import { compileParams } from '../../domain/params.js';
import type { Call, Party } from '../../domain/voice/model.js';
import type { DomainEvent, EventSink } from '../../engine/ports.js';
import { cloudParties, participantId, purposeOf } from './views.js';

const Predicate = Type.Object({
  type: Type.Optional(Type.Enum(['dimension', 'property', 'metric'])),
  dimension: Type.Optional(Type.String({ maxLength: 128 })),
  operator: Type.Optional(Type.Enum(['matches', 'exists', 'notExists'])),
  value: Type.Optional(Type.String({ maxLength: 1024 })),
  metric: Type.Optional(Type.String({ maxLength: 128 })),
  property: Type.Optional(Type.String({ maxLength: 128 })),
});
const Clause = Type.Object({ type: Type.Enum(['and', 'or']), predicates: Type.Array(Predicate, { maxItems: 100 }) });
const Filter = Type.Object({
  type: Type.Enum(['and', 'or']),
  clauses: Type.Optional(Type.Array(Clause, { maxItems: 100 })),
  predicates: Type.Optional(Type.Array(Predicate, { maxItems: 100 })),
});
export const ConversationQuery = Type.Object({
  interval: Type.String({ minLength: 3, maxLength: 128 }),
  conversationFilters: Type.Optional(Type.Array(Filter, { maxItems: 50 })),
  segmentFilters: Type.Optional(Type.Array(Filter, { maxItems: 50 })),
  order: Type.Optional(Type.Enum(['asc', 'desc', 'unordered'])),
  orderBy: Type.Optional(Type.Enum(['conversationStart', 'conversationEnd', 'segmentStart', 'segmentEnd'])),
  paging: Type.Optional(Type.Object({ pageSize: Type.Integer({ minimum: 1, maximum: 100 }), pageNumber: Type.Integer({ minimum: 1 }) })),
});
type Query = Static<typeof ConversationQuery>;
type PredicateT = Static<typeof Predicate>;
type FilterT = Static<typeof Filter>;
export const parseQuery = compileParams<typeof ConversationQuery, Query>(ConversationQuery);

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? undefined : new Date(ms).toISOString());
const DAY_MS = 86_400_000;

/** `start/end` in ISO-8601; the days it touches (PY ConversationQuery: "started on a day touched"). */
export const parseInterval = (interval: string): { from: number; to: number } | string => {
  const [start, end, extra] = interval.split('/');
  const from = Date.parse(start ?? '');
  const to = Date.parse(end ?? '');
  if (extra !== undefined || Number.isNaN(from) || Number.isNaN(to)) return `interval '${interval}' must be two ISO-8601 times, start/end`;
  if (to <= from) return `interval '${interval}' ends before it starts`;
  return { from: Math.floor(from / DAY_MS) * DAY_MS, to: Math.ceil(to / DAY_MS) * DAY_MS };
};

/** One row a segment predicate is judged against: a participant's segment. */
interface SegmentRow {
  readonly userId?: string;
  readonly purpose: string;
  readonly mediaType: 'voice';
  readonly direction: string;
  readonly segmentType: string;
  readonly conversationId: string;
}
const SEGMENT_DIMENSIONS = ['userId', 'purpose', 'mediaType', 'direction', 'segmentType', 'conversationId'] as const;
const CONVERSATION_DIMENSIONS = ['conversationEnd', 'conversationId', 'conversationStart'] as const;

/** The first predicate a filter uses that Conclave cannot judge, named; or null. */
const unsupported = (filters: readonly FilterT[] | undefined, dims: readonly string[], where: string): string | null => {
  for (const f of filters ?? [])
    for (const p of [...(f.predicates ?? []), ...(f.clauses ?? []).flatMap((c) => c.predicates)]) {
      if ((p.type ?? 'dimension') !== 'dimension' || p.dimension === undefined)
        return `${where}: only dimension predicates are supported (${dims.join(', ')}); got ${JSON.stringify(p)}`;
      if (!dims.includes(p.dimension)) return `${where}: dimension '${p.dimension}' is not supported; supported: ${dims.join(', ')}`;
      if ((p.operator ?? 'matches') === 'matches' && p.value === undefined) return `${where}: dimension '${p.dimension}' with operator matches needs a value`;
    }
  return null;
};

const holds = (p: PredicateT, value: string | undefined): boolean => {
  switch (p.operator ?? 'matches') {
    case 'exists':
      return value !== undefined;
    case 'notExists':
      return value === undefined;
    default:
      return value !== undefined && value === p.value;
  }
};
const filterHolds = (f: FilterT, get: (dimension: string) => string | undefined): boolean => {
  const results = [
    ...(f.predicates ?? []).map((p) => holds(p, get(p.dimension as string))),
    ...(f.clauses ?? []).map((c) => {
      const r = c.predicates.map((p) => holds(p, get(p.dimension as string)));
      return c.type === 'and' ? r.every(Boolean) : r.some(Boolean);
    }),
  ];
  return f.type === 'and' ? results.every(Boolean) : results.some(Boolean);
};

const segmentsOf = (call: Call, party: Party) => {
  const end = party.releasedAt ?? call.endedAt ?? undefined;
  const first = party.dn === call.ani && !party.external ? 'dialing' : 'alert';
  const connected = party.connectedAt;
  const segments: { segmentStart?: string; segmentEnd?: string; segmentType: string; disconnectType?: string; conference?: boolean }[] = [];
  segments.push({ segmentStart: iso(call.createdAt), ...(connected !== undefined || end !== undefined ? { segmentEnd: iso(connected ?? end) } : {}), segmentType: first });
  if (connected !== undefined)
    segments.push({
      segmentStart: iso(connected),
      ...(end !== undefined ? { segmentEnd: iso(end), disconnectType: 'endpoint' } : {}),
      segmentType: 'interact',
      ...(call.ownerDn !== null ? { conference: true } : {}),
    });
  return segments;
};

export const analyticsConversation = (call: Call, directory: Directory) => ({
  conversationId: call.id,
  conversationStart: iso(call.createdAt),
  ...(call.endedAt !== null ? { conversationEnd: iso(call.endedAt) } : {}),
  originatingDirection: call.callType === 'Outbound' ? 'outbound' : 'inbound',
  divisionIds: [],
  participants: cloudParties(call).map((party) => {
    const user = party.external ? undefined : directory.byDn(party.dn);
    return {
      participantId: participantId(call.id, party.dn),
      participantName: user ? `${user.firstName} ${user.lastName}`.trim() : party.dn,
      purpose: purposeOf(call, party),
      ...(user ? { userId: user.id } : {}),
      sessions: [
        {
          sessionId: participantId(`${call.id}:session`, party.dn),
          mediaType: 'voice',
          direction: call.callType === 'Outbound' || (call.callType !== 'Inbound' && party.dn === call.ani) ? 'outbound' : 'inbound',
          ani: `tel:${call.ani}`,
          dnis: `tel:${call.dnis}`,
          addressSelf: `tel:${party.dn}`,
          segments: segmentsOf(call, party),
        },
      ],
    };
  }),
});

export type QueryAnswer = { ok: true; value: { conversations?: unknown[]; totalHits: number } } | { ok: false; message: string };

/** Runs a validated query over these calls (live ones, and ended ones still remembered). */
export const runQuery = (query: Query, calls: readonly Call[], directory: Directory): QueryAnswer => {
  const interval = parseInterval(query.interval);
  if (typeof interval === 'string') return { ok: false, message: interval };
  const bad =
    unsupported(query.segmentFilters, SEGMENT_DIMENSIONS, 'segmentFilters') ?? unsupported(query.conversationFilters, CONVERSATION_DIMENSIONS, 'conversationFilters');
  if (bad) return { ok: false, message: bad };
  const matching = calls.filter((call) => {
    if (call.createdAt < interval.from || call.createdAt >= interval.to) return false;
    const conversationValue = (d: string) =>
      d === 'conversationEnd' ? iso(call.endedAt) : d === 'conversationStart' ? iso(call.createdAt) : d === 'conversationId' ? call.id : undefined;
    if (!(query.conversationFilters ?? []).every((f) => filterHolds(f, conversationValue))) return false;
    if (!query.segmentFilters?.length) return true;
    const rows: SegmentRow[] = cloudParties(call).flatMap((party) => {
      const user = party.external ? undefined : directory.byDn(party.dn);
      return segmentsOf(call, party).map((s) => ({
        ...(user ? { userId: user.id } : {}),
        purpose: purposeOf(call, party),
        mediaType: 'voice' as const,
        direction: call.callType === 'Outbound' ? 'outbound' : 'inbound',
        segmentType: s.segmentType,
        conversationId: call.id,
      }));
    });
    // A conversation matches when one of its segments passes every segment filter.
    return rows.some((row) => (query.segmentFilters ?? []).every((f) => filterHolds(f, (d) => (row as unknown as Record<string, string | undefined>)[d])));
  });
  const order = query.order ?? 'asc';
  const key = (c: Call) => (query.orderBy === 'conversationEnd' ? (c.endedAt ?? Number.MAX_SAFE_INTEGER) : c.createdAt);
  const sorted = order === 'unordered' ? matching : [...matching].sort((x, y) => (order === 'asc' ? key(x) - key(y) : key(y) - key(x)));
  const { pageSize, pageNumber } = query.paging ?? { pageSize: 25, pageNumber: 1 };
  const page = sorted.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
  // Like Cloud, an empty result has no `conversations` key at all: read it as `?? []`.
  return { ok: true, value: { ...(page.length > 0 ? { conversations: page.map((c) => analyticsConversation(c, directory)) } : {}), totalHits: sorted.length } };
};

/**
 * The ids of calls this process has seen, newest last, so that ended calls can be found again
 * (the store lists only live calls). Fed by the event sink from committed events; bounded.
 */
export interface CallLog {
  readonly sink: EventSink;
  ids(): readonly string[];
}
export const createCallLog = (limit = 10_000): CallLog => {
  const seen = new Map<string, true>();
  return {
    sink: {
      publish: (events: readonly DomainEvent[]) => {
        for (const event of events) {
          if (event.kind !== 'call' || seen.has(event.callId)) continue;
          seen.set(event.callId, true);
          if (seen.size > limit) seen.delete(seen.keys().next().value as string);
        }
      },
    },
    ids: () => [...seen.keys()],
  };
};
