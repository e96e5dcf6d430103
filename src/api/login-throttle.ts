/**
 * Failed logins, throttled per user name and per client address. Every dialect that checks a
 * password (GWS and CometD under /api/v2, /conclave/v1) asks the same throttle, so a guesser
 * gains nothing by switching dialect. After `maxFailuresPerUser` wrong passwords in a row for one
 * name, or `maxFailuresPerAddress` from one address (over any names), that name or address is
 * locked for `lockoutMs` — the right password included, or the lock would tell a guesser when it
 * has guessed right. Each further lockout within the window doubles, up to `maxLockoutMs`.
 * State is in memory, bounded by `maxTracked` (oldest forgotten first), and forgotten on restart.
 */
export interface LoginThrottleOptions {
  readonly maxFailuresPerUser: number;
  readonly maxFailuresPerAddress: number;
  /** The first lockout, in ms (the contract: at most 120 s). */
  readonly lockoutMs: number;
  readonly maxLockoutMs: number;
  /** Failures and lockouts older than this are forgotten, in ms. */
  readonly windowMs: number;
  readonly maxTracked: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  maxFailuresPerUser: 5,
  // Higher: many people share one address behind a NAT, and each mistypes now and then.
  maxFailuresPerAddress: 50,
  lockoutMs: 60_000,
  maxLockoutMs: 15 * 60_000,
  windowMs: 15 * 60_000,
  maxTracked: 100_000,
};

export interface LoginThrottle {
  /** Seconds to wait before this name may try again from this address, or 0. */
  retryAfter(userName: string, address: string): number;
  failed(userName: string, address: string): void;
  succeeded(userName: string): void;
}

interface Record {
  failures: number;
  lastFailure: number;
  lockouts: number;
  lockedUntil: number;
}

export const createLoginThrottle = (given: Partial<LoginThrottleOptions> = {}, now: () => number = Date.now): LoginThrottle => {
  const options = { ...DEFAULT_LOGIN_THROTTLE, ...given };
  const records = new Map<string, Record>();

  const current = (key: string): Record | undefined => {
    const record = records.get(key);
    if (record && now() - Math.max(record.lastFailure, record.lockedUntil) > options.windowMs) {
      records.delete(key);
      return undefined;
    }
    return record;
  };
  const fail = (key: string, max: number) => {
    const record = current(key) ?? { failures: 0, lastFailure: 0, lockouts: 0, lockedUntil: 0 };
    records.delete(key);
    records.set(key, record); // most recent last: eviction takes the oldest
    record.failures += 1;
    record.lastFailure = now();
    if (record.failures >= max) {
      record.lockouts += 1;
      record.failures = 0;
      record.lockedUntil = now() + Math.min(options.lockoutMs * 2 ** (record.lockouts - 1), options.maxLockoutMs);
    }
    while (records.size > options.maxTracked) records.delete(records.keys().next().value as string);
  };
  const wait = (key: string) => {
    const until = current(key)?.lockedUntil ?? 0;
    return until > now() ? Math.ceil((until - now()) / 1000) : 0;
  };

  return {
    retryAfter: (userName, address) => Math.max(wait(`u:${userName}`), wait(`a:${address}`)),
    failed(userName, address) {
      fail(`u:${userName}`, options.maxFailuresPerUser);
      fail(`a:${address}`, options.maxFailuresPerAddress);
    },
    // The address keeps its count: one valid account must not launder guesses at others.
    succeeded: (userName) => void records.delete(`u:${userName}`),
  };
};
