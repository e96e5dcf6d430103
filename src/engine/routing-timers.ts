/**
 * Queue routing's timers: a sink that sees a committed offer start ringing at a member and,
 * the queue's ringTimeoutS later, executes `RingTimeout` (the member did not answer: the call goes
 * to the next member and they go NotReady); and that sees a wrap-up start and, at its end,
 * executes `WrapUpEnd` (back to Ready). Both go through the engine like any other write; a
 * refusal means the state moved on meanwhile (answered, rejected, the agent chose a state).
 *
 * The timers live in this process only: a restart forgets them, so a call left ringing at a
 * member stays ringing until someone acts, and an agent left in AfterCallWork stays there until
 * they choose a state (docs/decisions.md).
 */
import type { Engine } from './engine.js';
import type { DomainEvent, EventSink } from './ports.js';

export interface RoutingTimers extends EventSink {
  /** Forgets every pending timer (shutdown). */
  close(): void;
}

export interface RoutingTimersDeps {
  readonly engine: () => Engine;
  /** The queue's ring timeout in seconds, by queue name. */
  ringTimeoutS(queue: string): number | undefined;
  readonly now: () => number;
  readonly onError: (error: unknown) => void;
}

export const createRoutingTimers = (deps: RoutingTimersDeps): RoutingTimers => {
  const pending = new Map<string, ReturnType<typeof setTimeout>>();
  let closed = false;

  const schedule = (key: string, delayMs: number, run: () => Promise<unknown>) => {
    if (pending.has(key) || closed) return;
    const timer = setTimeout(() => {
      pending.delete(key);
      run().catch(deps.onError);
    }, Math.max(0, delayMs));
    pending.set(key, timer);
  };

  return {
    publish(events: readonly DomainEvent[]) {
      for (const event of events) {
        if (event.kind === 'call') {
          const routing = event.call.routing;
          const dn = routing?.offeredTo;
          if (!routing || !dn || routing.delivered || event.dn !== dn) continue;
          const party = event.call.parties.find((p) => p.dn === dn);
          const was = event.before?.parties.find((p) => p.dn === dn);
          if (party?.state !== 'Ringing' || (was?.state === 'Ringing' && event.before?.routing?.offeredTo === dn)) continue;
          const seconds = deps.ringTimeoutS(routing.queue);
          if (seconds === undefined) continue;
          const callId = event.call.id;
          // Keyed by the offer (call, member, when it rang), so a later offer to the same member is its own timer.
          schedule(`ring\u0000${callId}\u0000${dn}\u0000${event.call.version}`, seconds * 1000, () =>
            deps.engine().execute({ type: 'RingTimeout', callId, dn }),
          );
        } else if (event.kind === 'agent') {
          const voice = event.session?.channels?.voice;
          const until = voice?.workMode === 'AfterCallWork' ? voice.wrapUpUntil : undefined;
          if (until === undefined) continue;
          const userId = event.userId;
          schedule(`wrap\u0000${userId}\u0000${until}`, until - deps.now(), () => deps.engine().execute({ type: 'WrapUpEnd', userId, until }));
        }
      }
    },
    close() {
      closed = true;
      for (const timer of pending.values()) clearTimeout(timer);
      pending.clear();
    },
  };
};
