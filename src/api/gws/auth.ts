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
import type { Directory, DirectoryUser } from '../../directory/directory.js';

export const SESSION_COOKIE = 'JSESSIONID';
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export type AuthResult =
  | { readonly ok: true; readonly user: DirectoryUser; readonly via: 'basic' | 'cookie' }
  | { readonly ok: false; readonly reason: string };

export interface Authenticator {
  authenticate(headers: IncomingHttpHeaders): AuthResult;
  /** A signed session cookie value for this user. */
  issueSession(user: DirectoryUser): string;
  /** The CSRF token for this user (stable for the process: an HMAC of the user id). */
  csrfToken(user: DirectoryUser): string;
  /** True when the token is this user's. */
  checkCsrf(user: DirectoryUser, token: string | undefined): boolean;
}

export const createAuthenticator = (directory: Directory, now: () => number = Date.now): Authenticator => {
  const signer = fastifyCookie.signerFactory(randomBytes(32).toString('hex'));
  const csrfSigner = fastifyCookie.signerFactory(randomBytes(32).toString('hex'));

  const fromBasic = (header: string): AuthResult => {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!match) return { ok: false, reason: 'the Authorization header is not HTTP Basic credentials' };
    const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ok: false, reason: 'the Basic credentials have no user:password separator' };
    const user = directory.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1));
    return user ? { ok: true, user, via: 'basic' } : { ok: false, reason: 'invalid user name or password' };
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

  return {
    authenticate: (headers) => (headers.authorization ? fromBasic(headers.authorization) : fromCookie(headers.cookie)),
    issueSession: (user) => signer.sign(`${user.id}.${now()}`),
    csrfToken: (user) => csrfSigner.sign(`csrf.${user.id}`).split('.').pop() as string,
    checkCsrf: (user, token) => token !== undefined && csrfSigner.unsign(`csrf.${user.id}.${token}`).valid,
  };
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
