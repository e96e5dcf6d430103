/**
 * Waiting in tests: on a condition, never on the clock.
 *
 * `waitFor` polls a real condition and fails the test if it does not hold by a deadline (the
 * deadline only ever fails a test; a passing test never waits for it). `quietFor` is the one
 * exception, for the one thing no condition can show: that nothing (more) happens.
 */

/**
 * Resolves with the first value of `probe` (polled every `everyMs`) that is not undefined, null or
 * false, or rejects naming `what` (a function: evaluated at the deadline, to say what was seen
 * then) if none comes within `timeoutMs`. `probe` may be async (e.g. an HTTP GET).
 */
export const waitFor = async <T>(probe: () => T | Promise<T>, timeoutMs: number, what: string | (() => string), everyMs = 10): Promise<Exclude<T, undefined | null | false>> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value as Exclude<T, undefined | null | false>;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
};

/**
 * A deliberate quiet period: absence (no notification, no reply, no change) has no event to wait
 * for, so the only way to observe it is to let `ms` pass and look. Every caller says `why` — what
 * absence it is observing — and should first wait for a positive barrier (something that does
 * arrive after whatever must not), so that the quiet period only covers stragglers.
 */
export const quietFor = (ms: number, why: string): Promise<void> => {
  void why; // documentation at the call site; kept in the signature so that no caller omits it
  return new Promise((resolve) => setTimeout(resolve, ms));
};

/**
 * Waits until the clock (Date.now(), which a test server in this process stamps its changes with)
 * has moved past its value at the call: whatever the server does next is stamped strictly later
 * than what it did before (e.g. "Ready longest" is decided by such stamps).
 */
export const clockMovesOn = (): Promise<number> => {
  const now = Date.now();
  return waitFor(() => (Date.now() > now ? Date.now() : undefined), 1000, `the clock to move past ${now}`, 1);
};
