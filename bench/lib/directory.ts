/**
 * The generated directory the bench starts Conclave with: the demo directory has four agents,
 * a load test needs thousands. Users are `agent<DN>` with the DN as phone number and the user
 * name as password, in the contract's "Directory file" format; plus `admin` (ROLE_ADMIN, no
 * phone), who raises the compliance scenario's flags.
 */
import { writeFileSync } from 'node:fs';

export const FIRST_DN = 20000;

export const userOf = (dn: number): string => `agent${dn}`;

/** The administrator (password = user name, no phone) who raises compliance flags. */
export const ADMIN = 'admin';

export const writeDirectory = (file: string, count: number, firstDn = FIRST_DN): void => {
  const users: { userName: string; password: string; roles: string[]; phoneNumber?: string }[] = Array.from({ length: count }, (_, i) => {
    const dn = firstDn + i;
    return { userName: userOf(dn), password: userOf(dn), roles: ['ROLE_AGENT'], phoneNumber: String(dn) };
  });
  users.push({ userName: ADMIN, password: ADMIN, roles: ['ROLE_ADMIN'] });
  writeFileSync(file, JSON.stringify({ users }));
};

/** A conference's three parties: the owner dials `b`, then conferences `c` in and removes `b`. */
export interface Trio {
  readonly index: number;
  readonly a: { readonly user: string; readonly dn: string };
  readonly b: { readonly user: string; readonly dn: string };
  readonly c: { readonly user: string; readonly dn: string };
}

/** `count` disjoint trios taken from consecutive DNs starting at `firstDn`. */
export const trios = (count: number, firstDn = FIRST_DN): Trio[] =>
  Array.from({ length: count }, (_, i) => {
    const party = (k: number) => ({ user: userOf(firstDn + 3 * i + k), dn: String(firstDn + 3 * i + k) });
    return { index: i, a: party(0), b: party(1), c: party(2) };
  });

export const basic = (user: string, password = user): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
