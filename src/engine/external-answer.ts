/**
 * The far end of an external number answers by itself: a sink that sees an external party left
 * Ringing by a committed change and, `answerMs` later, executes the `ExternalParty` answer
 * command through the engine like any other write. `answerMs` 0 answers at once (on the next
 * turn of the event loop, after the change that rang it has been published), -1 never.
 *
 * The timers live in this process only: a restart forgets them, and a party left Ringing by the
 * previous run stays Ringing until someone acts (docs/decisions.md).
 */
import type { Engine } from './engine.js';
import type { DomainEvent, EventSink } from './ports.js';

export interface ExternalAnswerer extends EventSink {
  /** Forgets every pending answer (shutdown). */
  close(): void;
}

export const createExternalAnswerer = (answerMs: number, engine: () => Engine, onError: (error: unknown) => void): ExternalAnswerer => {
  const pending = new Map<string, ReturnType<typeof setTimeout>>();
  let closed = false;

  const schedule = (callId: string, number: string) => {
    const key = `${callId}\u0000${number}`;
    if (pending.has(key) || closed) return;
    const timer = setTimeout(() => {
      pending.delete(key);
      // A refusal means the party stopped ringing meanwhile (the call ended): nothing to do.
      engine().execute({ type: 'ExternalParty', callId, number, action: 'answer' }).catch(onError);
    }, answerMs);
    pending.set(key, timer);
  };

  return {
    publish(events: readonly DomainEvent[]) {
      if (answerMs < 0) return;
      for (const event of events) {
        if (event.kind !== 'call') continue;
        for (const party of event.call.parties) {
          if (!party.external || party.state !== 'Ringing') continue;
          const was = event.before?.parties.find((p) => p.dn === party.dn);
          if (was?.state === 'Ringing') continue;
          schedule(event.call.id, party.dn);
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
