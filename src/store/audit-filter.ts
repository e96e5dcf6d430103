import type { AuditEntry, AuditQuery } from '../domain/compliance/model.js';

/** The audit query as a predicate (the memory store's filter; SQLite does the same in SQL). */
export const matchesAudit = (e: AuditEntry, q: AuditQuery): boolean =>
  (q.userId === undefined || e.userId === q.userId) &&
  (q.from === undefined || e.time >= q.from) &&
  (q.to === undefined || e.time <= q.to) &&
  (q.outcome === undefined || e.outcome === q.outcome) &&
  (q.flagId === undefined || e.flagId === q.flagId);
