/**
 * How a directory password or an OAuth client secret is checked. A secret may be a bcrypt hash
 * (`$2a$`, `$2b$`, `$2y$`, as `htpasswd -B` or any bcrypt library writes them) or, for the demo
 * and tests, plain text (the CLI warns once at start when a file holds any).
 *
 * bcrypt is slow on purpose (~50–100 ms at cost 10), and HTTP Basic sends the password with every
 * request: a successful verification is remembered in memory, as an HMAC of the password under a
 * per-process key (never the password itself), so that only the first request of a login — and
 * every wrong guess — pays bcrypt. Wrong guesses are bounded by the login throttle.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';

export const isBcryptHash = (secret: string): boolean => /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(secret);

export interface SecretCheck {
  readonly hashed: boolean;
  matches(given: string): boolean;
}

const processKey = randomBytes(32);
/** Remembered successes per secret: a few, so that a user switching passwords cannot grow it. */
const MAX_REMEMBERED = 4;

const digest = (s: string) => createHash('sha256').update(s).digest();

/** `compare` is bcrypt's, unless a test counts how often bcrypt really runs. */
export const secretCheck = (secret: string, compare: (given: string, hash: string) => boolean = bcrypt.compareSync): SecretCheck => {
  if (!isBcryptHash(secret)) {
    const expected = digest(secret);
    // Compare digests so that the comparison takes the same time whatever the lengths.
    return { hashed: false, matches: (given) => timingSafeEqual(expected, digest(given)) };
  }
  // The hash is in the key: a remembered success never carries over to another user's secret.
  const remembered: Buffer[] = [];
  const mark = (given: string) => createHmac('sha256', processKey).update(secret).update('\0').update(given).digest();
  return {
    hashed: true,
    matches(given) {
      const m = mark(given);
      if (remembered.some((r) => timingSafeEqual(r, m))) return true;
      if (!compare(given, secret)) return false;
      remembered.push(m);
      if (remembered.length > MAX_REMEMBERED) remembered.shift();
      return true;
    },
  };
};
