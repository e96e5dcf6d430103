/**
 * Open-loop load: operations are due at a fixed rate whatever the server does, so a slow server
 * shows up as latency rather than as a politely slower client (the coordinated-omission trap of
 * closed loops). A due operation that finds no unit ready to take it (every conference waiting
 * on a reply) is counted as skipped, and the achieved rate is reported next to the target.
 */
import { sleep } from '../lib/stats.js';

export interface OpenLoopTarget {
  /** Issues one operation on some ready unit; false when no unit is ready. */
  issue(): boolean;
  /** Operations sent and not yet answered. */
  inFlight(): number;
}

export interface OpenLoopRun {
  readonly targetRate: number;
  readonly issued: number;
  readonly skipped: number;
  readonly achievedRate: number;
  readonly durationS: number;
}

export const runOpenLoop = async (target: OpenLoopTarget, rate: number, durationMs: number): Promise<OpenLoopRun> => {
  const start = performance.now();
  let issued = 0;
  let skipped = 0;
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= durationMs) break;
    const due = Math.floor((elapsed * rate) / 1000);
    while (issued + skipped < due) {
      if (target.issue()) issued++;
      else skipped++;
    }
    // setImmediate would spin a core; a 1 ms timer keeps the driver light and bursts of at most
    // rate/1000 operations (one at 1,000 ops/s) are what a timer-driven client sends anyway.
    await sleep(1);
  }
  const durationS = (performance.now() - start) / 1000;
  return { targetRate: rate, issued, skipped, achievedRate: Math.round(issued / durationS), durationS: Math.round(durationS * 100) / 100 };
};

/** Waits for in-flight operations to be answered (at most `maxMs`). */
export const drain = async (target: OpenLoopTarget, maxMs = 10_000): Promise<void> => {
  const deadline = performance.now() + maxMs;
  while (target.inFlight() > 0 && performance.now() < deadline) await sleep(5);
};
