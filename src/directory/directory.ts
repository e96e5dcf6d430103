/**
 * Users, roles, features and devices. Loaded once at start from a JSON or YAML file (or the
 * built-in demo) and read-only afterwards. Ids are derived from the user name so that a user
 * keeps the same id, and the same device id, across restarts.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Compile } from 'typebox/compile';
import { parse as parseYaml } from 'yaml';
import { FEATURES, type Actor, type Feature, type Role } from '../domain/actor.js';
import { DEMO_DIRECTORY } from './demo.js';
import { DirectoryFile } from './schema.js';
import { secretCheck } from './secrets.js';

export interface DirectoryUser {
  readonly id: string;
  readonly userName: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly emailAddress: string | null;
  readonly nickname: string;
  readonly roles: readonly Role[];
  readonly features: readonly Feature[];
  readonly phoneNumber: string | null;
  /** The user's one device, present exactly when the user has a phone number. */
  readonly deviceId: string | null;
  /** Calls on the user's DN can be recorded (StartCallRecording…). */
  readonly recording?: boolean;
}

/** A voice queue as the directory file defines it, with its members' user ids. */
export interface Queue {
  readonly name: string;
  readonly dn: string;
  /** Member user ids, in the file's order. */
  readonly members: readonly string[];
  readonly ringTimeoutS: number;
  readonly wrapUpS: number;
}

export interface OAuthClient {
  readonly clientId: string;
  readonly roles: readonly Role[];
  /** Access-token lifetime in seconds (default 86400, as Genesys Cloud's client credentials). */
  readonly tokenTtlS: number;
  /** The user an agent-level client acts for (api/cloud/access.ts), or null. */
  readonly userId: string | null;
}

export interface Directory {
  readonly users: readonly DirectoryUser[];
  /** The OAuth client with these credentials, or undefined. Constant-time compare. */
  authenticateClient(clientId: string, clientSecret: string): OAuthClient | undefined;
  clientById(clientId: string): OAuthClient | undefined;
  byId(id: string): DirectoryUser | undefined;
  byUserName(userName: string): DirectoryUser | undefined;
  byDn(dn: string): DirectoryUser | undefined;
  byDeviceId(deviceId: string): DirectoryUser | undefined;
  isKnownDn(dn: string): boolean;
  dnCount(): number;
  readonly queues: readonly Queue[];
  /** The queue with this name or DN, or undefined. */
  queueOf(ref: string): Queue | undefined;
  /** The user whose user name and password these are, or undefined. Constant-time compare. */
  authenticate(userName: string, password: string): DirectoryUser | undefined;
  /** How many passwords and client secrets are plain text rather than bcrypt hashes. */
  readonly plainTextSecrets: number;
  /** This directory plus a user who cannot log in (a system actor, such as the compliance orchestrator). */
  withSystemUser(user: DirectoryUser): Directory;
}

export class DirectoryError extends Error {
  override name = 'DirectoryError';
}

const hex = (text: string) => createHash('sha256').update(text).digest('hex');

export const stableUserId = (userName: string): string => hex(`conclave:user:${userName}`).slice(0, 32);

/** A UUID-shaped device id (as GWS shows them), derived from the DN. */
export const stableDeviceId = (dn: string): string => {
  const h = hex(`conclave:device:${dn}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

export const toActor = (user: DirectoryUser): Actor => ({
  userId: user.id,
  userName: user.userName,
  dn: user.phoneNumber,
  roles: user.roles,
  features: user.features,
});

const validator = Compile(DirectoryFile);

/** Builds a directory from a parsed document, refusing it with the entry and field named. */
export const buildDirectory = (doc: unknown, source: string): Directory => {
  if (!validator.Check(doc)) {
    const error = (validator.Errors(doc) as unknown as { instancePath: string; message: string; params: Record<string, unknown> }[])[0];
    throw new DirectoryError(`${source}: ${describe(doc, error)}`);
  }
  const file = doc as DirectoryFile;
  const users: DirectoryUser[] = [];
  const seen = { userName: new Map<string, number>(), phoneNumber: new Map<string, number>(), id: new Map<string, number>() };
  file.users.forEach((entry, i) => {
    const user: DirectoryUser = {
      id: entry.id ?? stableUserId(entry.userName),
      userName: entry.userName,
      firstName: entry.firstName ?? entry.userName,
      lastName: entry.lastName ?? '',
      emailAddress: entry.emailAddress ?? null,
      nickname: entry.nickname ?? entry.userName,
      roles: entry.roles,
      features: entry.features ?? [...FEATURES],
      phoneNumber: entry.phoneNumber ?? null,
      deviceId: entry.phoneNumber ? stableDeviceId(entry.phoneNumber) : null,
      ...(entry.recording ? { recording: true } : {}),
    };
    for (const field of ['userName', 'phoneNumber', 'id'] as const) {
      const value = user[field];
      if (value === null) continue;
      const earlier = seen[field].get(value);
      if (earlier !== undefined)
        throw new DirectoryError(`${source}: users[${i}] (${entry.userName}): field '${field}' value '${value}' is already used by users[${earlier}]`);
      seen[field].set(value, i);
    }
    users.push(user);
  });
  const clients = new Map<string, { client: OAuthClient; secret: string }>();
  (file.clients ?? []).forEach((c, i) => {
    if (clients.has(c.clientId)) throw new DirectoryError(`${source}: clients[${i}]: field 'clientId' value '${c.clientId}' is already used`);
    const actsFor = c.userName === undefined ? null : users.find((u) => u.userName === c.userName);
    if (actsFor === undefined) throw new DirectoryError(`${source}: clients[${i}] (${c.clientId}): field 'userName' value '${c.userName}' is not a user of the directory`);
    clients.set(c.clientId, { client: { clientId: c.clientId, roles: c.roles, tokenTtlS: c.tokenTtlS ?? 86_400, userId: actsFor?.id ?? null }, secret: c.clientSecret });
  });
  const queues = buildQueues(file, users, source);
  return fromUsers(users, new Map(file.users.map((e) => [e.userName, e.password])), clients, queues);
};

/** The file's queues, refused with the entry and field named when a DN or member does not fit. */
const buildQueues = (file: DirectoryFile, users: readonly DirectoryUser[], source: string): Queue[] => {
  const byName = new Map(users.map((u) => [u.userName, u]));
  const userDns = new Map(users.flatMap((u) => (u.phoneNumber ? [[u.phoneNumber, u.userName] as const] : [])));
  const names = new Map<string, number>();
  const dns = new Map<string, number>();
  return (file.queues ?? []).map((q, i) => {
    const at = `${source}: queues[${i}] (${q.name})`;
    if (names.has(q.name)) throw new DirectoryError(`${at}: field 'name' value '${q.name}' is already used by queues[${names.get(q.name)}]`);
    const user = userDns.get(q.dn);
    if (user !== undefined) throw new DirectoryError(`${at}: field 'dn' value '${q.dn}' is already the phoneNumber of user ${user}`);
    if (dns.has(q.dn)) throw new DirectoryError(`${at}: field 'dn' value '${q.dn}' is already used by queues[${dns.get(q.dn)}]`);
    // A queue is reached by name or DN: a name that is some DN would be ambiguous.
    if (userDns.has(q.name) || dns.has(q.name)) throw new DirectoryError(`${at}: field 'name' value '${q.name}' is already a phone number`);
    names.set(q.name, i);
    dns.set(q.dn, i);
    const members = q.members.map((name, m) => {
      const member = byName.get(name);
      if (!member) throw new DirectoryError(`${at}: field 'members.${m}' value '${name}' is not a user of the directory`);
      if (!member.phoneNumber) throw new DirectoryError(`${at}: field 'members.${m}' value '${name}' has no phoneNumber (a queue rings a device)`);
      return member.id;
    });
    return { name: q.name, dn: q.dn, members, ringTimeoutS: q.ringTimeoutS ?? 15, wrapUpS: q.wrapUpS ?? 0 };
  });
};

const describe = (doc: unknown, error: { instancePath: string; message: string; params: Record<string, unknown> } | undefined): string => {
  if (!error) return 'is not a valid directory';
  const parts = error.instancePath.split('/').filter(Boolean);
  const missing = (error.params['requiredProperties'] as string[] | undefined)?.[0];
  const extra = (error.params['additionalProperties'] as string[] | undefined)?.[0];
  if (parts[0] === 'queues' && parts[1] !== undefined) {
    const index = Number(parts[1]);
    const entry = (doc as { queues: { name?: unknown }[] }).queues[index];
    const which = typeof entry?.name === 'string' ? ` (${entry.name})` : '';
    const field = [...parts.slice(2), missing ?? extra].filter(Boolean).join('.');
    const why = missing ? 'is required' : extra || isFalseSchema(error) ? 'is not a known field' : error.message;
    return `queues[${index}]${which}: field '${field}' ${why}`;
  }
  if (parts[0] === 'users' && parts[1] !== undefined) {
    const index = Number(parts[1]);
    const entry = (doc as { users: { userName?: unknown }[] }).users[index];
    const who = typeof entry?.userName === 'string' ? ` (${entry.userName})` : '';
    const field = [...parts.slice(2), missing ?? extra].filter(Boolean).join('.');
    const why = missing ? 'is required' : extra || isFalseSchema(error) ? 'is not a known field' : error.message;
    return `users[${index}]${who}: field '${field}' ${why}`;
  }
  const field = [...parts, missing ?? extra].filter(Boolean).join('.') || 'document';
  return `field '${field}' ${missing ? 'is required' : extra || isFalseSchema(error) ? 'is not a known field' : error.message}`;
};

/** TypeBox reports a property that `additionalProperties: false` forbids as "schema is false". */
const isFalseSchema = (error: { message: string; keyword?: string }): boolean =>
  error.message === 'schema is false' || error.keyword === 'boolean';

const fromUsers = (
  users: DirectoryUser[],
  passwords: Map<string, string>,
  clients: Map<string, { client: OAuthClient; secret: string }> = new Map(),
  queues: readonly Queue[] = [],
): Directory => {
  const byId = new Map(users.map((u) => [u.id, u]));
  const byUserName = new Map(users.map((u) => [u.userName, u]));
  const byDn = new Map(users.filter((u) => u.phoneNumber).map((u) => [u.phoneNumber as string, u]));
  const byDevice = new Map(users.filter((u) => u.deviceId).map((u) => [u.deviceId as string, u]));
  const passwordChecks = new Map([...passwords].map(([name, pw]) => [name, secretCheck(pw)]));
  const secretChecks = new Map([...clients].map(([id, c]) => [id, secretCheck(c.secret)]));
  // An unknown name still pays a comparison, so that timing does not tell which names exist.
  const nobody = secretCheck(createHash('sha256').update('conclave:nobody').digest('hex'));
  return {
    users,
    plainTextSecrets: [...passwordChecks.values(), ...secretChecks.values()].filter((c) => !c.hashed).length,
    authenticateClient(clientId, clientSecret) {
      const check = secretChecks.get(clientId);
      if (check === undefined) return void nobody.matches(clientSecret);
      return check.matches(clientSecret) ? clients.get(clientId)?.client : undefined;
    },
    clientById: (clientId) => clients.get(clientId)?.client,
    byId: (id) => byId.get(id),
    byUserName: (name) => byUserName.get(name),
    byDn: (dn) => byDn.get(dn),
    byDeviceId: (id) => byDevice.get(id),
    isKnownDn: (dn) => byDn.has(dn),
    dnCount: () => byDn.size,
    queues,
    queueOf: (ref) => queues.find((q) => q.name === ref || q.dn === ref),
    authenticate(userName, password) {
      const check = passwordChecks.get(userName);
      if (check === undefined) return void nobody.matches(password);
      return check.matches(password) ? byUserName.get(userName) : undefined;
    },
    withSystemUser: (user) => fromUsers([...users, user], passwords, clients, queues),
  };
};


export const COMPLIANCE_USER_NAME = 'conclave-compliance';
/** How many orchestrator users (lanes) a server has unless told otherwise (`--compliance-lanes`). */
export const DEFAULT_COMPLIANCE_LANES = 4;

/** The user name of compliance lane `index` (0-based): `conclave-compliance`, then `conclave-compliance-2`, … */
export const complianceUserName = (index: number): string => (index === 0 ? COMPLIANCE_USER_NAME : `${COMPLIANCE_USER_NAME}-${index + 1}`);
/** Whether a user name is one of the orchestrator's own users (never listed to Cloud clients). */
export const isComplianceUserName = (userName: string): boolean => userName === COMPLIANCE_USER_NAME || /^conclave-compliance-\d+$/.test(userName);

/**
 * The compliance orchestrator's own users, one per lane: supervisors with a device, so that they
 * can monitor and intrude like a person would (no back door), and no password, so that nobody
 * can log in as them. A directory file may define any of them itself (for example to choose its DN).
 */
export const withComplianceUser = (directory: Directory, lanes = 1): Directory => {
  let result = directory;
  let dn = 19999;
  for (let i = 0; i < lanes; i++) {
    const userName = complianceUserName(i);
    if (result.byUserName(userName)) continue;
    while (result.isKnownDn(String(dn)) || result.queueOf(String(dn))) dn--;
    result = result.withSystemUser({
      id: stableUserId(userName),
      userName,
      firstName: 'Conclave',
      lastName: 'Compliance',
      emailAddress: null,
      nickname: i === 0 ? 'Compliance' : `Compliance ${i + 1}`,
      roles: ['ROLE_SUPERVISOR'],
      features: [...FEATURES],
      phoneNumber: String(dn),
      deviceId: stableDeviceId(String(dn)),
    });
  }
  return result;
};

export const demoDirectory = (): Directory => buildDirectory(DEMO_DIRECTORY, 'built-in demo directory');

/** Reads a JSON or YAML directory file; any problem is a DirectoryError naming the path. */
export const loadDirectoryFile = (path: string): Directory => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new DirectoryError(`directory file ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let doc: unknown;
  try {
    doc = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new DirectoryError(`directory file ${path}: is not valid ${extname(path).toLowerCase().startsWith('.y') ? 'YAML' : 'JSON'}: ${(error as Error).message.split('\n')[0]}`);
  }
  return buildDirectory(doc, `directory file ${path}`);
};
