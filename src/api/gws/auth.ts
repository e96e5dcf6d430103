/**
 * Who a request is: HTTP Basic on every /api/v2/ request, and a session cookie (JSESSIONID, as
 * GWS sets) for clients that keep cookies instead of resending credentials. When a request
 * carries an Authorization header, that header decides. The cookie is signed and stateless
 * (user id + issue time, HMAC with a per-process secret), so sessions cost no memory however
 * many clients connect; a restart invalidates cookies and clients fall back to Basic.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { fastifyCookie } from '@fastify/cookie';
import type { FastifyReply } from 'fastify';
import type { Directory, DirectoryUser } from '../../directory/directory.js';
import { refuse } from '../../domain/refusals.js';
import { createLoginThrottle, type LoginThrottle } from '../login-throttle.js';

export const SESSION_COOKIE = 'JSESSIONID';
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export type AuthResult =
  | { readonly ok: true; readonly user: DirectoryUser; readonly via: 'basic' | 'cookie' }
  | { readonly ok: false; readonly reason: string; readonly retryAfterS?: number };

export interface Authenticator {
  /** `address` is the client's, for the login throttle (failed passwords per address). */
  authenticate(headers: IncomingHttpHeaders, address?: string): AuthResult;
  /** A signed session cookie value for this user. */
  issueSession(user: DirectoryUser): string;
  /** The CSRF token for this user (stable for the process: an HMAC of the user id). */
  csrfToken(user: DirectoryUser): string;
  /** True when the token is this user's. */
  checkCsrf(user: DirectoryUser, token: string | undefined): boolean;
  /** Whether `--csrf` is on: cookie-authenticated writes then need the X-CSRF-TOKEN header. */
  readonly csrf: boolean;
  /** The session cookie's Set-Cookie value for this user (SameSite as configured). */
  sessionCookie(user: DirectoryUser): string;
}

export type SameSite = 'Strict' | 'Lax' | 'None';

export interface AuthenticatorOptions {
  readonly csrf?: boolean;
  /** The session cookie's SameSite attribute (default Strict: no cross-site request carries it). */
  readonly sameSite?: SameSite;
}

export const createAuthenticator = (
  directory: Directory,
  now: () => number = Date.now,
  throttle: LoginThrottle = createLoginThrottle({}, now),
  options: AuthenticatorOptions = {},
): Authenticator => {
  const sameSite = options.sameSite ?? 'Strict';
  const signer = fastifyCookie.signerFactory(randomBytes(32).toString('hex'));
  const csrfSigner = fastifyCookie.signerFactory(randomBytes(32).toString('hex'));

  const fromBasic = (header: string, address: string): AuthResult => {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!match) return { ok: false, reason: 'the Authorization header is not HTTP Basic credentials' };
    const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ok: false, reason: 'the Basic credentials have no user:password separator' };
    const userName = decoded.slice(0, colon);
    const retryAfterS = throttle.retryAfter(userName, address);
    if (retryAfterS > 0) return { ok: false, reason: refuse.tooManyFailedLogins(retryAfterS).message, retryAfterS };
    const user = directory.authenticate(userName, decoded.slice(colon + 1));
    if (!user) {
      throttle.failed(userName, address);
      return { ok: false, reason: 'invalid user name or password' };
    }
    throttle.succeeded(userName);
    return { ok: true, user, via: 'basic' };
  };

  const fromCookie = (cookieHeader: string | undefined): AuthResult => {
    const raw = cookieHeader ? cookieValue(cookieHeader, SESSION_COOKIE) : undefined;
    if (!raw) return { ok: false, reason: 'no credentials: send HTTP Basic authentication' };
    const unsigned = signer.unsign(raw);
    const [userId, issued] = unsigned.valid && unsigned.value ? unsigned.value.split('.') : [];
    const user = userId ? directory.byId(userId) : undefined;
    if (!user || !(now() - Number(issued) < SESSION_TTL_MS))
      return { ok: false, reason: 'the session has expired or is not valid: send HTTP Basic authentication' };
    return { ok: true, user, via: 'cookie' };
  };

  const issueSession = (user: DirectoryUser) => signer.sign(`${user.id}.${now()}`);
  return {
    csrf: options.csrf ?? false,
    // Browsers refuse SameSite=None without Secure.
    sessionCookie: (user) => `${SESSION_COOKIE}=${issueSession(user)}; Path=/; HttpOnly; SameSite=${sameSite}${sameSite === 'None' ? '; Secure' : ''}`,
    authenticate: (headers, address = 'unknown') => (headers.authorization ? fromBasic(headers.authorization, address) : fromCookie(headers.cookie)),
    issueSession,
    csrfToken: (user) => csrfSigner.sign(`csrf.${user.id}`).split('.').pop() as string,
    checkCsrf: (user, token) => token !== undefined && csrfSigner.unsign(`csrf.${user.id}.${token}`).valid,
  };
};

/**
 * A failed authentication in the GWS shape: 429 with Retry-After (seconds) when the login throttle
 * holds the name or address, else 401 with the Basic challenge.
 */
export const refuseAuthentication = (reply: FastifyReply, result: Extract<AuthResult, { ok: false }>) =>
  result.retryAfterS !== undefined
    ? reply.code(429).header('Retry-After', String(result.retryAfterS)).send({ statusCode: 20, statusMessage: result.reason })
    : reply.code(401).header('WWW-Authenticate', 'Basic realm="Conclave"').send({ statusCode: 20, statusMessage: result.reason });

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_REFUSAL = { statusCode: 3, statusMessage: 'Missing or invalid Csrf token' } as const;

/**
 * With `--csrf`, a write that only a cookie authenticates must carry the user's X-CSRF-TOKEN
 * (a cross-site page can make the browser send the cookie, never the header): 403 otherwise.
 * Answers true when it refused. A Basic-authenticated request carries its own credentials.
 */
export const refuseCookieWriteWithoutCsrf = (
  auth: Authenticator,
  request: { method: string; headers: IncomingHttpHeaders },
  reply: FastifyReply,
  result: Extract<AuthResult, { ok: true }>,
): boolean => {
  if (!auth.csrf || result.via !== 'cookie' || SAFE_METHODS.has(request.method)) return false;
  if (auth.checkCsrf(result.user, request.headers['x-csrf-token'] as string | undefined)) return false;
  void reply.code(403).send(CSRF_REFUSAL);
  return true;
};

/**
 * One cookie's value from a Cookie header. @fastify/cookie's `parse` only works once its plugin
 * is registered on an instance, and the CometD handshake reads raw headers outside Fastify: for
 * one known, unencoded name a split is all it takes.
 */
export const cookieValue = (header: string, name: string): string | undefined => {
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
};
