/**
 * Serialises work per key within one process: two commands on the same aggregate never
 * interleave between their load and their commit (the store's versions protect across
 * processes). Work on different keys runs concurrently.
 */
export interface KeyedQueue {
  run<T>(key: string, work: () => Promise<T>): Promise<T>;
  /** Keys with work queued or running (tests, diagnostics). */
  readonly size: number;
}

export const createKeyedQueue = (): KeyedQueue => {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, work: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      // The next in line waits for this one whether it succeeds or fails.
      const result = previous.then(work, work);
      const tail = result.then(
        () => undefined,
        () => undefined,
      );
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
    get size() {
      return tails.size;
    },
  };
};
