import type { AgentEvent } from '../domain/agent/decide.js';
import type { AgentSession } from '../domain/agent/model.js';
import type { ChatEvent } from '../domain/chat/events.js';
import type { CallEvent } from '../domain/voice/events.js';

/** An agent's state changed: the event carries the session as committed. */
export type SessionEvent = AgentEvent & { readonly session: AgentSession | undefined };

/** What the engine publishes after a commit: each event carries the committed snapshots. */
export type DomainEvent = CallEvent | SessionEvent | ChatEvent;

/**
 * Where committed events go. The composition root builds an ordered list of sinks (GWS
 * notifier, Cloud notifier, compliance rules); each renders from the events alone, never from a
 * re-read of the store.
 */
export interface EventSink {
  publish(events: readonly DomainEvent[]): void;
}

/** Hands every batch to each sink in order; a failing sink does not starve the ones after it. */
export const fanOut = (sinks: readonly EventSink[], onError: (error: unknown) => void): EventSink => ({
  publish(events) {
    if (events.length === 0) return;
    for (const sink of sinks)
      try {
        sink.publish(events);
      } catch (error) {
        onError(error);
      }
  },
});

export interface Clock {
  now(): number;
}

export interface IdSource {
  /** A GWS-style call id / callUuid: 32 upper-case alphanumerics. */
  callId(): string;
  /** A T-Server-style connection id: 16 hex digits. */
  connId(): string;
}
