/**
 * The orchestrator's step log. Each durable write it makes is one numbered step: an audit entry
 * appended, an engine command committed (a refused command commits nothing, so it is no step),
 * a flag saved. The audit is the log that survives a crash; the numbering exists for the crash
 * test hook (`afterStep`), which the shell may set to stop the process at any step boundary.
 */
import type { Logger } from 'pino';
import type { AuditEntry, AuditOutcome, AuditStep, Flag } from '../domain/compliance/model.js';
import { isRefusal } from '../domain/refusals.js';
import type { Store } from '../store/port.js';
import type { Outcome } from './engine.js';
import type { Clock } from './ports.js';

/** Told after each step is committed, with its number (from 1, per process) and what it was. */
export type AfterStep = (step: number, what: string) => void;

export interface StepLog {
  audit(flag: Flag, step: AuditStep, outcome: AuditOutcome, extra?: Partial<AuditEntry>): Promise<void>;
  /** Runs an engine command; a committed one is a step named `what`. */
  act<T>(what: string, run: () => Promise<Outcome<T>>): Promise<Outcome<T>>;
  saveFlag(flag: Flag): Promise<void>;
}

export interface StepLogDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The orchestrator's user name: the actor of its entries. */
  readonly actor: string;
  readonly afterStep?: AfterStep;
  readonly tell: (change: { readonly flag: Flag; readonly entry?: AuditEntry }) => void;
  /** Shared by the step logs of one process (one per orchestrator lane), so steps are numbered once. */
  readonly counter?: { count: number };
}

export const createStepLog = ({ store, clock, logger, actor, afterStep, tell, counter = { count: 0 } }: StepLogDeps): StepLog => {
  const stepped = (what: string) => {
    counter.count += 1;
    const count = counter.count;
    logger.debug({ step: count, what, actor }, 'compliance step committed');
    afterStep?.(count, what);
  };
  return {
    async audit(flag, step, outcome, extra = {}) {
      const entry: AuditEntry = {
        time: clock.now(),
        flagId: flag.id,
        interaction: null,
        interactionType: null,
        participant: flag.dn ?? flag.userId,
        userId: flag.userId,
        actor,
        step,
        outcome,
        latencyMs: null,
        detail: null,
        ...extra,
      };
      await store.appendAudit(entry);
      stepped(`audit ${step} ${outcome}${entry.interactionType ? ` ${entry.interactionType}` : ''}`);
      tell({ flag, entry });
    },
    async act(what, run) {
      const outcome = await run();
      if (!isRefusal(outcome)) stepped(what);
      return outcome;
    },
    async saveFlag(flag) {
      await store.saveFlag(flag);
      stepped(`flag ${flag.status}`);
      tell({ flag });
    },
  };
};
