import type { AgentEvent } from '../domain/agent/decide.js';
import type { ChatEvent } from '../domain/chat/events.js';
import type { CallEvent } from '../domain/voice/events.js';

export type DomainEvent = CallEvent | AgentEvent | ChatEvent;

/** Where committed events go: the CometD notifier in a server, a recorder in tests. */
export interface EventSink {
  publish(events: readonly DomainEvent[]): void;
}

export interface Clock {
  now(): number;
}

export interface IdSource {
  /** A GWS-style call id / callUuid: 32 upper-case alphanumerics. */
  callId(): string;
  /** A T-Server-style connection id: 16 hex digits. */
  connId(): string;
}
