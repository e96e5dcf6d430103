/** Messages between the bench's main thread and its CometD worker threads. */

export interface WorkerInit {
  readonly baseUrl: string;
  /** Users to hold one CometD session each for (password = user name). */
  readonly users: readonly string[];
  /** Users whose /v2/me/calls notifications are forwarded to the main thread as they arrive. */
  readonly watch: readonly string[];
  readonly channels: readonly string[];
  /** Handshakes in flight at once while connecting. */
  readonly concurrency: number;
}

/** A forwarded call notification, reduced to what the drivers match on. */
export interface Note {
  readonly kind: 'note';
  readonly user: string;
  /** When the official client handed it to the subscriber, in ms (performance.timeOrigin based). */
  readonly t: number;
  readonly notificationType: string;
  readonly callId: string;
  readonly state: string;
  /** The phone numbers of the other participants, as this user sees them. */
  readonly participants: readonly string[];
}

export interface Ready {
  readonly kind: 'ready';
  readonly connected: number;
  readonly failed: number;
  readonly firstError?: string;
}

export interface Counts {
  readonly kind: 'counts';
  readonly received: number;
  readonly byType: Readonly<Record<string, number>>;
}

export type FromWorker = Note | Ready | Counts;
export type ToWorker = { readonly cmd: 'counts' };
