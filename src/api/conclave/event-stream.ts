/**
 * The console's admin event stream (Server-Sent Events at /conclave/v1/events): an EventSink in
 * the server's fanOut list that turns each committed batch into compact "changed" records — the
 * whole new view of each call, chat or agent the batch touched (or `value: null` when a call or
 * chat ended) — and compliance changes from the orchestrator's hook. It renders from the events'
 * snapshots and never reads the store, so a record never shows a later state than its change.
 * Records are whole-entity replacements carrying the entity's version: a client that loaded the
 * picture while records were in flight drops the older ones.
 */
import type { Directory } from '../../directory/directory.js';
import type { AuditEntry, Flag } from '../../domain/compliance/model.js';
import type { DomainEvent, EventSink } from '../../engine/ports.js';
import { agentView, auditView, callView, chatView, flagView, isListedAgent } from './console-views.js';

export type ChangedRecord =
  | { readonly kind: 'call'; readonly id: string; readonly version: number; readonly value: ReturnType<typeof callView> | null }
  | { readonly kind: 'chat'; readonly id: string; readonly version: number; readonly value: ReturnType<typeof chatView> | null }
  | { readonly kind: 'agent'; readonly id: string; readonly version: number; readonly value: ReturnType<typeof agentView> }
  | { readonly kind: 'flag'; readonly id: string; readonly value: ReturnType<typeof flagView> }
  | { readonly kind: 'audit'; readonly id: string; readonly value: ReturnType<typeof auditView> };

/** One subscriber: writes a frame; `end` closes its stream (shutdown). */
export interface StreamWriter {
  write(frame: string): void;
  end(): void;
}

export interface ConsoleStream {
  readonly sink: EventSink;
  /** The compliance orchestrator's hook: a flag changed status, or an audit entry was added. */
  complianceChanged(change: { readonly flag: Flag; readonly entry?: AuditEntry }): void;
  subscribe(writer: StreamWriter): () => void;
  /** Subscribers now (tests, diagnostics). */
  size(): number;
  /** Ends every subscriber's stream (shutdown). */
  close(): void;
}

/** One SSE frame: `event: changed`, the records as one JSON array. */
export const frameOf = (records: readonly ChangedRecord[]): string => `event: changed\ndata: ${JSON.stringify(records)}\n\n`;

export const createConsoleStream = (directory: Directory): ConsoleStream => {
  const writers = new Set<StreamWriter>();
  const send = (records: readonly ChangedRecord[]) => {
    if (records.length === 0 || writers.size === 0) return;
    const frame = frameOf(records);
    for (const writer of writers) writer.write(frame);
  };

  const recordsOf = (events: readonly DomainEvent[]): ChangedRecord[] => {
    // Each party of a call hears its own event; they all carry the same committed call, so the
    // last one per entity is the record (and the consultation family's members are touched too).
    const calls = new Map<string, ChangedRecord>();
    const chats = new Map<string, ChangedRecord>();
    const agents = new Map<string, ChangedRecord>();
    for (const event of events) {
      if (event.kind === 'call') {
        for (const call of [event.call, ...event.related])
          calls.set(call.id, { kind: 'call', id: call.id, version: call.version, value: call.endedAt === null ? callView(call, directory) : null });
      } else if (event.kind === 'chat') {
        const chat = event.chat;
        chats.set(chat.id, { kind: 'chat', id: chat.id, version: chat.version, value: chat.endedAt === null ? chatView(chat) : null });
      } else {
        const user = directory.byId(event.userId);
        if (user && isListedAgent(user))
          agents.set(user.id, { kind: 'agent', id: user.id, version: event.session?.version ?? 0, value: agentView(user, event.session) });
      }
    }
    return [...calls.values(), ...chats.values(), ...agents.values()];
  };

  return {
    sink: { publish: (events) => (writers.size === 0 ? undefined : send(recordsOf(events))) },
    complianceChanged: ({ flag, entry }) =>
      send([
        { kind: 'flag', id: flag.id, value: flagView(flag) },
        ...(entry ? [{ kind: 'audit' as const, id: auditKey(entry), value: auditView(entry) }] : []),
      ]),
    subscribe: (writer) => {
      writers.add(writer);
      return () => void writers.delete(writer);
    },
    size: () => writers.size,
    close: () => {
      const ending = [...writers];
      writers.clear();
      for (const writer of ending) writer.end();
    },
  };
};

/** An audit entry has no id of its own: time, flag, step and interaction name it well enough to de-duplicate. */
export const auditKey = (e: AuditEntry): string => `${e.time}:${e.flagId}:${e.step}:${e.outcome}:${e.interaction ?? ''}`;
