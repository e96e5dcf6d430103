/**
 * Hostile input over real HTTP (a real server, a real SQLite file), as fast-check properties.
 *
 * Requests are generated near real ones and then mutated: every GWS endpoint and the customer
 * chat API, random paths under /api/v2/ and /genesys/2/chat/, operation names drawn from the
 * real ones plus junk, ids that are real (calls, chats, devices, users, chat credentials) or
 * hostile ('..', '%2F', '%00', unicode, up to 100 characters; longer ones have their own test),
 * bodies that are valid, have a
 * value replaced (1000- and 20000-level nesting, strings near and over the 64 KiB limit, unicode,
 * emoji, NUL, lone surrogates, numbers where strings are expected, arrays, null, __proto__), are
 * junk text or form-encoded, with right and wrong content types, and with valid, missing, wrong
 * or malformed credentials (Basic and cookie). For every request:
 *  - the server answers, and never with a 5xx;
 *  - every answer (but Bayeux's) is a GWS body: a JSON object with a numeric statusCode; a
 *    refusal has exactly statusCode and statusMessage, and its HTTP status is the contract's
 *    for that statusCode (413/415/431 with 10 for refusals before routing); a 401 says
 *    WWW-Authenticate: Basic;
 *  - a refused request (or any GET) changes nothing: the whole SQLite store is byte-for-byte
 *    the same before and after; and a run of refused requests sends no CometD notification;
 *  - GET /healthz answers 200 after every run.
 * At the end, the state is exactly what the accepted requests produced: replaying only those
 * (in order, same ids and clock) on a fresh server gives the same store and the same
 * GET /api/v2/me/calls|devices|chats?fields=* for every user (chat ids and random participant
 * ids compared by position).
 * Bayeux: random and mutated Bayeux messages (arrays of message objects) are always answered,
 * never with a 5xx, and change nothing. Deterministic cases, each its own test: a CometD message
 * over the body limit (413); malformed Bayeux bodies (not an array of objects, a handshake
 * batched with other messages, 20000-level nesting); malformed percent-escapes and invalid UTF-8
 * in the URL; ids of 101–4000 characters at every id position; an over-long URL or header (431);
 * bodies at and just over 64 KiB. Classes of input that already fail there are kept out of the
 * properties' generators (see hostileSeg and the Bayeux generators), so that the properties look
 * for new failures instead of rediscovering those.
 *
 * The other dialects have their own property and server (the last describe): the simulation API,
 * /conclave/v1/interactions, the console's routes and event stream, every Genesys Cloud endpoint
 * (conversations, participants POST/PATCH, replace, consult, disconnect, analytics query, users,
 * routing queues, tokens/me, notification channels, oauth/token), and the queue and work-cycle
 * operations, with bodies carrying response-like and prototype keys (`ok`, `statusCode`,
 * `message`, `__proto__`, `constructor`…), deep nesting, huge strings and wrong types: never a
 * 5xx, and a refusal changes nothing in the store.
 *
 * Runtime: ~25 s by default (100 + 40 + 200 property runs; a failing property stops shrinking
 * after a time limit). CONCLAVE_LONG_TESTS=1 runs 1000 + 300 + 2000 runs (~5 min).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { participantId } from '../../src/api/cloud/views.js';
import { stableQueueId } from '../../src/api/cloud/queues.js';
import { DEMO_DIRECTORY } from '../../src/directory/demo.js';
import { buildDirectory, stableDeviceId, stableUserId } from '../../src/directory/directory.js';
import type { Clock, IdSource } from '../../src/engine/ports.js';
import { listen, type Listener } from '../helpers/cometd.js';
import { isJson, rawRequest, type RawResponse } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const LONG = process.env['CONCLAVE_LONG_TESTS'] === '1';
const REST_RUNS = LONG ? 1000 : 100;
const BAYEUX_RUNS = LONG ? 300 : 40;
const REST_TIME_LIMIT = LONG ? 600_000 : 25_000;
const BAYEUX_TIME_LIMIT = LONG ? 120_000 : 10_000;

const USERS = ['agent15000', 'agent15001', 'agent15002', 'agent15003', 'super15010', 'admin'] as const;
const DNS = ['15000', '15001', '15002', '15003', '15010'] as const;
const SERVICE = 'customer-support';
const NOW = 1_763_000_000_000;

/** Call ids that only accepted creations consume, so that a replay makes the same ones. */
const counterIds = (): IdSource => {
  let calls = 0;
  let conns = 0;
  return {
    callId: () => `FUZZCALL${String(++calls).padStart(24, '0')}`,
    connId: () => `CONN${String(++conns).padStart(12, '0')}`,
  };
};
const fixedClock: Clock = { now: () => NOW };

// ---- Requests: templates with «kind:arg» references resolved against the server's state ---------
type Auth =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly user: string; readonly password: string }
  | { readonly kind: 'header'; readonly value: string }
  | { readonly kind: 'cookie'; readonly user: string }
  | { readonly kind: 'rawcookie'; readonly value: string };

interface Req {
  readonly method: string;
  readonly path: string;
  readonly auth: Auth;
  readonly contentType?: string;
  readonly body?: string;
}

const clip = (text: string, n = 160) => (text.length > n ? `${text.slice(0, n)}…(${text.length} chars)` : text);
const authText = (auth: Auth) =>
  auth.kind === 'basic' ? `basic ${auth.user}:${auth.password}` : auth.kind === 'cookie' ? `cookie of ${auth.user}` : auth.kind === 'none' ? 'no credentials' : `${auth.kind} ${clip(auth.value, 40)}`;
const describeReq = (r: Req) =>
  `${r.method} ${clip(r.path, 120)} [${authText(r.auth)}]${r.contentType !== undefined ? ` (${r.contentType})` : ''}${r.body !== undefined ? ` ${clip(r.body, 300)}` : ''}`;
/** fast-check prints requests this way in counterexamples (no 70 KB strings). */
const req = (r: Req): Req => Object.assign(Object.create({ [fc.toStringMethod]: () => describeReq(r) }), r) as Req;

interface Registry {
  readonly base: string;
  readonly calls: readonly string[];
  /** The calls a DN is present on, in creation order. */
  readonly callsOf: (dn: string) => readonly string[];
  /** The chats a user is offered or still has, in creation order. */
  readonly chatsOf: (userId: string) => readonly string[];
  readonly chats: readonly { id: string; userId: string; secureKey: string; alias: string }[];
  readonly cookies: ReadonlyMap<string, string>;
}

const userId = (name: string) => stableUserId(name);
const DEVICE_OF: Record<string, string> = Object.fromEntries(DNS.map((dn, i) => [USERS[i] as string, stableDeviceId(dn)]));

const resolve = (text: string, reg: Registry): string =>
  text.replace(/«(\w+):([\w.]*)»/g, (_all, kind: string, arg: string) => {
    const n = Number(arg);
    const call = reg.calls.length > 0 ? (reg.calls[n % reg.calls.length] as string) : 'NOCALLYET';
    const chat = reg.chats.length > 0 ? reg.chats[n % reg.chats.length] : undefined;
    switch (kind) {
      case 'call':
        return call;
      case 'calluri':
        return `${reg.base}/api/v2/me/calls/${call}`;
      case 'mycall': {
        // «mycall:DN.i»: the i-th call that DN is on (any call when none).
        const [dn, i] = arg.split('.');
        const mine = reg.callsOf(dn ?? '');
        return mine.length > 0 ? (mine[Number(i) % mine.length] as string) : call;
      }
      case 'mychat': {
        const [user, i] = arg.split('.');
        const mine = reg.chatsOf(userId(user ?? ''));
        return mine.length > 0 ? (mine[Number(i) % mine.length] as string) : (chat?.id ?? 'NOCHATYET');
      }
      case 'chat':
        return chat?.id ?? 'NOCHATYET';
      case 'cuser':
        return chat?.userId ?? 'NOCHATYET';
      case 'ckey':
        return chat?.secureKey ?? 'NOCHATYET';
      case 'alias':
        return chat?.alias ?? '0';
      case 'device':
        return DEVICE_OF[arg] ?? 'nodevice';
      case 'deviceuri':
        return `${reg.base}/api/v2/devices/${DEVICE_OF[arg] ?? 'nodevice'}`;
      case 'user':
        return userId(arg);
      case 'useruri':
        return `${reg.base}/api/v2/users/${userId(arg)}`;
      case 'userpath':
        return `/users/${userId(arg)}`;
      case 'cookie':
        return reg.cookies.get(arg) ?? 'JSESSIONID=none';
      default:
        return `«${kind}:${arg}»`;
    }
  });

const basicHeader = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const headersOf = (r: Req, reg: Registry): Record<string, string> => {
  const headers: Record<string, string> = {};
  if (r.auth.kind === 'basic') headers['authorization'] = basicHeader(r.auth.user, r.auth.password);
  if (r.auth.kind === 'header') headers['authorization'] = r.auth.value;
  if (r.auth.kind === 'cookie') headers['cookie'] = resolve(`«cookie:${r.auth.user}»`, reg);
  if (r.auth.kind === 'rawcookie') headers['cookie'] = r.auth.value;
  if (r.contentType !== undefined) headers['content-type'] = r.contentType;
  return headers;
};

// ---- The store, read directly: the exact state -----------------------------------------------
const openDb = (file: string) => new Database(file, { readonly: true, fileMustExist: true });
type Db = ReturnType<typeof openDb>;

const tablesOf = (db: Db): string[] =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((t) => t.name);

/** Every row of every table, as text: equal dumps are equal states. */
const dump = (db: Db): string =>
  JSON.stringify(tablesOf(db).map((t) => [t, (db.prepare(`SELECT * FROM "${t}"`).all() as unknown[]).map((row) => JSON.stringify(row)).sort()]));

const registryOf = (db: Db, base: string, cookies: ReadonlyMap<string, string>): Registry => ({
  base,
  callsOf: (dn) =>
    (db.prepare('SELECT c.id FROM calls c JOIN call_presence p ON p.call_id = c.id WHERE p.dn = ? ORDER BY c.rowid').all(dn) as { id: string }[]).map((r) => r.id),
  chatsOf: (user) =>
    (db.prepare('SELECT c.id FROM chats c JOIN chat_agents a ON a.chat_id = c.id WHERE a.user_id = ? ORDER BY c.rowid').all(user) as { id: string }[]).map((r) => r.id),
  calls: (db.prepare('SELECT id FROM calls ORDER BY rowid').all() as { id: string }[]).map((r) => r.id),
  chats: (db.prepare('SELECT id, body FROM chats ORDER BY rowid').all() as { id: string; body: string }[]).map((r) => {
    const customer = (JSON.parse(r.body) as { customer: { userId: string; secureKey: string; alias: string } }).customer;
    return { id: r.id, userId: customer.userId, secureKey: customer.secureKey, alias: customer.alias };
  }),
  cookies,
});

/**
 * The random parts of a store made comparable across two servers: chat ids by creation order,
 * 16-hex participant ids / customer credentials by order of appearance, the customer's alias,
 * and the base URL.
 */
const normalizer = (db: Db, base: string): ((text: string) => string) => {
  const map = new Map<string, string>();
  const chats = db.prepare('SELECT id, body FROM chats ORDER BY rowid').all() as { id: string; body: string }[];
  chats.forEach((chat, i) => map.set(chat.id, `CHAT#${i}`));
  let k = 0;
  for (const chat of chats)
    for (const match of chat.body.matchAll(/\b[0-9A-F]{16}\b|\b[0-9a-f]{16}\b/g)) if (!map.has(match[0])) map.set(match[0], `RID#${k++}`);
  return (text) => {
    let out = text.split(base).join('BASE');
    for (const [from, to] of map) out = out.split(from).join(to);
    return out.replace(/"alias\\?":\\?"\d+\\?"/g, '"alias":"ALIAS"');
  };
};

const normalizedDump = (db: Db, base: string): Record<string, string[]> => {
  const norm = normalizer(db, base);
  return Object.fromEntries(
    tablesOf(db).map((t) => [t, (db.prepare(`SELECT * FROM "${t}"`).all() as unknown[]).map((row) => norm(JSON.stringify(row))).sort()]),
  );
};

// ---- Checking one answer ------------------------------------------------------------------------
const HTTP_OF: Record<number, number> = { 0: 200, 1: 400, 2: 400, 10: 400, 11: 400, 3: 403, 5: 403, 6: 404, 18: 409, 19: 409, 20: 401, 4: 500 };

const isBayeux = (path: string) => /^\/api\/v2\/notifications(\/|\?|$)/.test(path);

/** What is wrong with this answer, or null. */
const problemWith = (r: Req, path: string, res: RawResponse): string | null => {
  const clip = (text: string) => (text.length > 160 ? `${text.slice(0, 160)}…(${text.length} chars)` : text);
  if (res.kind === 'timeout') return 'no answer (the request was held until the client gave up)';
  if (res.kind === 'error') return `no answer: ${res.message}`;
  if (res.status >= 500) return `HTTP ${res.status} ${clip(res.text)}`;
  if (r.method === 'HEAD') return null;
  if (isBayeux(path) && res.status !== 413 && res.status !== 415 && res.status !== 431) return null;
  const body = res.json as Record<string, unknown>;
  if (!isJson(res.json) || typeof body !== 'object' || body === null || Array.isArray(body))
    return `HTTP ${res.status}: the body is not a JSON object: ${clip(res.text)}`;
  if (typeof body['statusCode'] !== 'number') return `HTTP ${res.status}: no numeric statusCode: ${clip(res.text)}`;
  const code = body['statusCode'] as number;
  if (res.status === 200) return code === 0 ? null : `HTTP 200 with statusCode ${code}`;
  const keys = Object.keys(body).sort().join();
  if (keys !== 'statusCode,statusMessage') return `HTTP ${res.status}: a refusal must have exactly statusCode and statusMessage, has ${keys}: ${clip(res.text)}`;
  if (typeof body['statusMessage'] !== 'string' || (body['statusMessage'] as string).length === 0) return `HTTP ${res.status}: empty statusMessage`;
  const beforeRouting = [413, 415, 431].includes(res.status) && code === 10;
  // The login throttle's answer (docs/security.md): statusCode 20 as HTTP 429 with Retry-After,
  // which a fuzz run reaches once it has sent enough wrong credentials from one address.
  if (res.status === 429 && code === 20)
    return res.headers['retry-after'] !== undefined && /too many failed logins/.test(String(body['statusMessage'])) ? null : `HTTP 429 without the throttle's Retry-After and message: ${clip(res.text)}`;
  if (!beforeRouting && HTTP_OF[code] !== res.status) return `HTTP ${res.status} does not match statusCode ${code} (expected HTTP ${HTTP_OF[code]}): ${clip(res.text)}`;
  if (res.status === 401 && path.startsWith('/api/v2/') && !/^Basic\b/.test(String(res.headers['www-authenticate'] ?? '')))
    return 'HTTP 401 without WWW-Authenticate: Basic';
  return null;
};

const accepted = (res: RawResponse) =>
  res.kind === 'answer' && res.status === 200 && isJson(res.json) && (res.json as { statusCode?: unknown })?.statusCode === 0;

// ---- Generators -----------------------------------------------------------------------------------
const VOICE_OPS = [
  'Answer', 'Reject', 'Hangup', 'Hold', 'Retrieve', 'InitiateConference', 'CompleteConference', 'SingleStepConference', 'InitiateTransfer',
  'CompleteTransfer', 'SingleStepTransfer', 'SwapCalls', 'ClearCall', 'RemoveParticipantFromConference', 'SendDtmf', 'MuteCall',
  'UnmuteCall', 'AttachUserData', 'UpdateUserData', 'DeleteUserDataPair', 'DeleteUserData', 'SwitchToListenIn', 'SwitchToBargeIn',
  'SwitchToCoach', 'MuteMonitoredUser', 'UnmuteMonitoredUser',
];
const CHAT_OPS = [
  'Accept', 'Reject', 'Transfer', 'Leave', 'Invite', 'Consult', 'SetInFocus', 'SetDisposition', 'AttachUserData', 'DeleteUserData',
  'UpdateUserData', 'SendToAgents', 'SendStartTypingToAgentsNotification', 'SendStopTypingToAgentsNotification', 'Complete', 'SendMessage',
  'SendStartTypingNotification', 'SendStopTypingNotification', 'RemoveParticipantFromConference', 'SendUrl', 'SwitchToMonitor',
  'SwitchToCoach', 'SwitchToBargeIn',
];
const SESSION_OPS = ['StartContactCenterSession', 'EndContactCenterSession'];
const CHANNEL_OPS = ['Ready', 'NotReady', 'AfterCallWork', 'AuxWork'];
const MONITOR_OPS = ['ListenIn', 'Coach', 'BargeIn', 'CancelSupervisorMonitoring', 'DoNotDisturbOn', 'DoNotDisturbOff', 'ForwardCallsOn', 'ForwardCallsOff'];
const JUNK_OPS = ['', ' ', 'hangup', 'HANGUP', 'Hangup ', 'Hangup\u0000', 'toString', '__proto__', 'constructor', 'valueOf', 'Dial', 'Intrude', '😀', 'A'.repeat(5000), 'Ready\n'];

const segment = (text: string) => {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
};

/**
 * A hostile path segment. Classes that already fail are pinned by their own deterministic tests
 * below, so that the properties look further: malformed percent-escapes (and invalid UTF-8
 * such as %C0%AF), and ids over 100
 * characters (Fastify's maxParamLength answers those before any route).
 */
const hostileSeg = fc.oneof(
  fc.constantFrom(
    '..', '..%2F..%2Fetc%2Fpasswd', '%2e%2e', '%2E%2E%2F', '%00', 'a%00b', '%F0%9F%98%80', '%20', '%25', '', 'null', 'undefined', '__proto__',
    'constructor', 'hasOwnProperty', '-1', '0', '1e308', '%27%3B--', '%3Cscript%3E', '*', '.', '~', 'NOCALLYET',
  ),
  fc.integer({ min: 20, max: 100 }).map((n) => 'A'.repeat(n)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).map(segment),
);

/** Hostile JSON values, as JSON text (so that 20000-level nesting costs nothing to generate). */
const fragmentsUpTo = (maxNesting: number): fc.Arbitrary<string> => fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null') },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(...[10, 1000, 20000].filter((d) => d <= maxNesting))
      .chain((d) => fc.constantFrom('['.repeat(d) + ']'.repeat(d), '{"a":'.repeat(d) + '1' + '}'.repeat(d), '['.repeat(d) + '"x"' + ']'.repeat(d))),
  },
  { weight: 1, arbitrary: fc.constantFrom(256, 4097, 16 * 1024, 16 * 1024 + 1, 60 * 1024, 70 * 1024).map((n) => JSON.stringify('x'.repeat(n))) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((s) => JSON.stringify(s)) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '"\\u0000"', '"a\\u0000b"', '"\\ud800"', '"\\udfff\\ud800"', '"😀👩‍👩‍👧"', '"\\u202e"', '1e400', '-1e400', '-0', '123456789012345678901234567890', '0.1', '-1', '0',
      'true', 'false', 'null', '[]', '{}', '[null]', '[[]]', '""', '" "', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}',
      '{"toString":1,"valueOf":"x"}', '["voice","voice"]', '{"phoneNumber":15001}', '{"phoneNumber":["15001"]}', '{"phoneNumber":null}',
    ),
  },
);
const fragmentArb = fragmentsUpTo(20000);
/** For Bayeux: values nested 5000 levels and more are a known failure with their own test. */
const bayeuxFragmentArb = fragmentsUpTo(1000);

const dnArb = fc.constantFrom(...DNS, '99999', '', '15000 ', '+15001', '1500l');
const userRef = (actor: string) => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...USERS) }, { weight: 1, arbitrary: fc.constant(actor) });
const stringy = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('hello', 'x', 'Billing', 'pat', '') }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) });

/** Plausible parameters by name (values as JSON-able data). */
const paramArb = (name: string, actor: string, n: number): fc.Arbitrary<unknown> => {
  switch (name) {
    case 'destination':
      return dnArb.map((phoneNumber) => ({ phoneNumber }));
    case 'participant':
      return dnArb;
    case 'consultCallUri':
    case 'otherCallUri':
      return fc.nat({ max: 40 }).map((i) => `«calluri:${i}»`);
    case 'digits':
      return fc.constantFrom('12#', '*', 'x', '');
    case 'userData':
      return fc.dictionary(fc.constantFrom('k', 'a', 'DispositionCode', 'b'), fc.oneof(stringy, fc.integer()), { maxKeys: 3 });
    case 'key':
      return fc.constantFrom('k', 'a', 'missing');
    case 'keys':
      return fc.array(fc.constantFrom('k', 'a'), { maxLength: 2 });
    case 'channels':
      return fc.constantFrom(['voice'], ['chat'], ['voice', 'chat'], [], ['fax'], ['chat', 'chat']);
    case 'targetUri':
      return userRef(actor).map((u) => `«useruri:${u}»`);
    case 'targetPath':
      return userRef(actor).map((u) => `«userpath:${u}»`);
    case 'targetDeviceUri':
      return userRef(actor).map((u) => `«deviceuri:${u}»`);
    case 'treatAs':
      return fc.constantFrom('Normal', 'System', 'Bogus');
    case 'supervisorMonitoringScope':
      return fc.constantFrom('Agent', 'Call', 'x');
    case 'supervisorMonitoringMode':
      return fc.constantFrom('NextCall', 'AllCalls', 'x');
    case 'supervisorVisibilityMode':
      return fc.constantFrom('Monitor', 'Coach', 'BargeIn', 'x');
    case 'saveLAR':
      return fc.boolean();
    case 'userId':
      return fc.constantFrom(`«cuser:${n}»`, `«cuser:${n + 1}»`, 'x', '');
    case 'secureKey':
      return fc.constantFrom(`«ckey:${n}»`, `«ckey:${n}»`, 'wrong', '');
    case 'alias':
      return fc.constantFrom(`«alias:${n}»`, `«alias:${n}»`, '1', '');
    case 'fromPosition':
      return fc.constantFrom('1', '2', '0', '-1', 'x', '1.5', '99999999999999999999');
    default:
      return stringy;
  }
};

const NATURAL: Record<string, string[]> = {
  Dial: ['destination'],
  InitiateConference: ['destination'],
  InitiateTransfer: ['destination'],
  SingleStepConference: ['destination'],
  SingleStepTransfer: ['destination'],
  SendDtmf: ['digits'],
  AttachUserData: ['userData'],
  UpdateUserData: ['userData'],
  DeleteUserDataPair: ['key'],
  StartContactCenterSession: ['channels'],
  ListenIn: ['targetDeviceUri'],
  Coach: ['targetDeviceUri'],
  BargeIn: ['targetDeviceUri'],
  Intrude: ['supervisorVisibilityMode'],
  Invite: ['targetUri'],
  Consult: ['targetUri'],
  Transfer: ['targetUri'],
  SendMessage: ['text'],
  SendToAgents: ['text'],
  SetDisposition: ['disposition'],
  SendUrl: ['url'],
};
const EXTRA_PARAMS = [
  'destination', 'participant', 'consultCallUri', 'otherCallUri', 'digits', 'userData', 'key', 'keys', 'channels', 'place', 'targetUri', 'targetPath',
  'text', 'messageType', 'treatAs', 'targetDeviceUri', 'supervisorMonitoringScope', 'supervisorMonitoringMode', 'nickname', 'disposition', 'url',
  'queueName', 'saveLAR', 'location',
];
const CUSTOMER_START = ['nickname', 'firstName', 'lastName', 'emailAddress', 'subject', 'userData'];
const CUSTOMER_ACTION = ['userId', 'secureKey', 'alias', 'message', 'fromPosition', 'messageType'];

/** An operation body: the operation's natural parameters, maybe more, as [key, value] pairs. */
const fieldsArb = (ops: readonly string[], actor: string, n: number, extras: readonly string[], voiceRemove: boolean, clean: boolean): fc.Arbitrary<[string, unknown][]> =>
  fc
    .tuple(
      clean ? fc.constantFrom(...ops) : fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...ops) }, { weight: 1, arbitrary: fc.constantFrom(...JUNK_OPS) }),
      clean ? fc.constant([]) : fc.subarray([...extras], { maxLength: 2 }),
      clean ? fc.constant(true) : fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    )
    .chain(([op, extra, withNatural]) => {
      const natural = (Object.hasOwn(NATURAL, op) ? NATURAL[op] : undefined) ?? (op === 'RemoveParticipantFromConference' ? [voiceRemove ? 'participant' : 'targetUri'] : []);
      const names = [...new Set([...(withNatural ? natural : []), ...extra])];
      return fc
        .tuple(...names.map((name) => paramArb(name, actor, n)))
        .map((values) => [['operationName', op] as [string, unknown], ...names.map((name, i) => [name, values[i]] as [string, unknown])]);
    });

const customerFieldsArb = (names: readonly string[], actor: string, n: number): fc.Arbitrary<[string, unknown][]> =>
  fc.subarray([...names], { minLength: 0 }).chain((picked) =>
    fc.tuple(...picked.map((name) => paramArb(name, actor, n))).map((values) => picked.map((name, i) => [name, values[i]] as [string, unknown])),
  );

const JUNK_KEYS = ['__proto__', 'constructor', 'prototype', '', ' ', 'operationName ', 'OperationName', '😀', 'a'.repeat(300), 'userData[k]'];

type Mutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'replace'; readonly at: number; readonly fragment: string }
  | { readonly kind: 'add'; readonly key: string; readonly fragment: string }
  | { readonly kind: 'drop'; readonly at: number }
  | { readonly kind: 'whole'; readonly fragment: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat({ max: 4 }), fragment: fragmentArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), key: fc.constantFrom(...JUNK_KEYS), fragment: fragmentArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), at: fc.nat({ max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('whole' as const), fragment: fragmentArb }) },
);

/** The body as JSON text with the mutation applied (values as JSON text, references kept). */
const jsonText = (fields: readonly [string, unknown][], m: Mutation): string => {
  if (m.kind === 'whole') return m.fragment;
  let entries = fields.map(([k, v]) => [k, JSON.stringify(v) ?? 'null'] as [string, string]);
  if (m.kind === 'replace' && entries.length > 0) entries = entries.map((e, i) => (i === m.at % entries.length ? [e[0], m.fragment] : e));
  if (m.kind === 'drop' && entries.length > 0) entries = entries.filter((_, i) => i !== m.at % entries.length);
  if (m.kind === 'add') entries.push([m.key, m.fragment]);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
};

/** Form encoding that leaves «references» readable (they resolve to URL-safe text). */
const formValue = (value: string) => value.split(/(«\w+:[\w.]*»)/).map((part, i) => (i % 2 === 1 ? part : encodeURIComponent(part))).join('');
const formText = (fields: readonly [string, unknown][], m: Mutation): string => {
  const pairs: [string, string][] = [];
  for (const [k, v] of fields) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const [sk, sv] of Object.entries(v)) pairs.push([`${k}[${sk}]`, String(sv)]);
    else if (Array.isArray(v)) for (const item of v) pairs.push([k, String(item)]);
    else pairs.push([k, String(v)]);
  }
  if (m.kind === 'replace' && pairs.length > 0) (pairs[m.at % pairs.length] as [string, string])[1] = m.fragment;
  if (m.kind === 'add') pairs.push([m.key, m.fragment]);
  if (m.kind === 'drop' && pairs.length > 0) pairs.splice(m.at % pairs.length, 1);
  if (m.kind === 'whole') return m.fragment;
  return pairs.map(([k, v]) => `${formValue(k)}=${formValue(v)}`).join('&');
};

const JSON_TYPES = ['application/json', 'application/json', 'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json; charset=latin1', 'application/vnd.api+json'];
const OTHER_TYPES = ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', '*/*', 'application/octet-stream', 'application/x-www-form-urlencoded', ''];
const JUNK_TEXTS = ['', '{', '{"operationName":', '{"operationName":"Hangup"', 'nul', '[', 'operationName=Hangup', '{"a":1,}', "{'operationName':'Hangup'}", '\u0000', '\ufeff{}', '{"operationName":"Hangup"}{"operationName":"Hangup"}', '{"operationName":"Hangup","operationName":"Answer"}'];

/** How a body is encoded: JSON (usual), form, junk text, or none; with a content type. */
const encodeArb = (fields: [string, unknown][], form: boolean, clean = false): fc.Arbitrary<{ contentType?: string; body?: string }> =>
  clean
    ? fc.constant(form ? { contentType: 'application/x-www-form-urlencoded', body: formText(fields, { kind: 'none' }) } : { contentType: 'application/json', body: jsonText(fields, { kind: 'none' }) })
    : fc.oneof(
    { weight: form ? 2 : 10, arbitrary: fc.tuple(mutationArb, fc.constantFrom(...JSON_TYPES)).map(([m, contentType]) => ({ contentType, body: jsonText(fields, m) })) },
    { weight: form ? 10 : 2, arbitrary: mutationArb.map((m) => ({ contentType: 'application/x-www-form-urlencoded', body: formText(fields, m) })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...JUNK_TEXTS), fc.constantFrom(...JSON_TYPES, ...OTHER_TYPES)).map(([body, contentType]) => ({ contentType, body })) },
    { weight: 1, arbitrary: fc.constantFrom(...OTHER_TYPES).map((contentType) => ({ contentType, body: jsonText(fields, { kind: 'none' }) })) },
    { weight: 1, arbitrary: fc.constantFrom({}, { contentType: 'application/json' }, { body: jsonText(fields, { kind: 'none' }) }) },
  );

const authArb = (actor: string): fc.Arbitrary<Auth> =>
  fc.oneof(
    { weight: 14, arbitrary: fc.constant({ kind: 'basic' as const, user: actor, password: actor }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'cookie' as const, user: actor }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 1, arbitrary: fc.constantFrom('wrong', '', actor.toUpperCase()).map((password) => ({ kind: 'basic' as const, user: actor, password })) },
    { weight: 1, arbitrary: fc.constantFrom('nobody', '', 'agent15000\u0000', '😀').map((user) => ({ kind: 'basic' as const, user, password: user })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('Bearer abc', 'Basic', 'Basic ', 'Basic !!!', `Basic ${Buffer.from('agent15000').toString('base64')}`, 'Digest x', `Basic ${'A'.repeat(4000)}`, 'basic YWdlbnQxNTAwMDphZ2VudDE1MDAw')
        .map((value) => ({ kind: 'header' as const, value })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('JSESSIONID=forged', 'JSESSIONID=', `JSESSIONID=${'x'.repeat(3000)}`, 'JSESSIONID=s%3Axx.yy; JSESSIONID=zz', 'a=b').map((value) => ({ kind: 'rawcookie' as const, value })),
    },
  );

const QUERIES = ['', '?fields=*', '?fields=', `?fields=${'x'.repeat(300)}`, '?fields=*&fields=*', '?fields=%00', '?__proto__=x', '?a%5Bb%5D=c'];
const PAGE_QUERIES = ['', '?startIndex=1&count=2', '?startIndex=0', '?startIndex=abc', '?count=-1', '?count=1e999', '?startIndex=1.5', '?startIndex=1&startIndex=2', '?count=100001'];

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];

/**
 * One request: an endpoint, its ids, its body, its credentials. A `clean` request (valid
 * credentials, real ids, a real operation with its natural parameters, plain JSON or form) is
 * often accepted, so that the state moves on between the hostile ones.
 */
const reqArbOf = (clean: boolean): fc.Arbitrary<Req> => fc
  .tuple(fc.constantFrom(...USERS), fc.nat({ max: 6 }))
  .chain(([actor, n]) => {
    const idOr = (ref: fc.Arbitrary<string>) => (clean ? ref : fc.oneof({ weight: 5, arbitrary: ref }, { weight: 2, arbitrary: hostileSeg }));
    const dn = DNS[USERS.indexOf(actor as (typeof USERS)[number])] ?? 'none';
    const mycall = fc.nat({ max: 5 }).map((i) => `«mycall:${dn}.${i}»`);
    const call = idOr(clean ? mycall : fc.oneof(fc.nat({ max: 40 }).map((i) => `«call:${i}»`), mycall));
    const chat = idOr(clean ? fc.constant(`«mychat:${actor}.${n}»`) : fc.oneof(fc.constant(`«chat:${n}»`), fc.constant(`«mychat:${actor}.${n}»`)));
    const device = idOr((clean ? fc.oneof({ weight: 4, arbitrary: fc.constant(actor) }, { weight: 1, arbitrary: userRef(actor) }) : userRef(actor)).map((u) => `«device:${u}»`));
    const user = idOr(userRef(actor).map((u) => `«user:${u}»`));
    const service = clean ? fc.constant(SERVICE) : fc.oneof({ weight: 5, arbitrary: fc.constant(SERVICE) }, { weight: 1, arbitrary: hostileSeg });
    const methodOr = (method: string) => (clean ? fc.constant(method) : fc.oneof({ weight: 12, arbitrary: fc.constant(method) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }));
    const gws = (method: string, path: fc.Arbitrary<string>, ops: readonly string[], extras = EXTRA_PARAMS, voiceRemove = true) =>
      fc.record({
        method: methodOr(method),
        path,
        encoded: ops.length === 0 ? fc.constant({}) : fieldsArb(ops, actor, n, extras, voiceRemove, clean).chain((fields) => encodeArb(fields, false, clean)),
      });
    const customer = (path: fc.Arbitrary<string>, names: readonly string[]) =>
      fc.record({
        method: methodOr('POST'),
        path,
        encoded: customerFieldsArb(names, actor, n).chain((fields) => encodeArb(fields, true, clean)),
      });
    const endpoint = fc.oneof(
      gws('GET', fc.constant('/api/v2/me'), []),
      gws('POST', fc.constant('/api/v2/me'), SESSION_OPS),
      gws('POST', idOr(fc.constantFrom('voice', 'chat')).map((c) => `/api/v2/me/channels/${c}`), CHANNEL_OPS),
      gws('GET', fc.constantFrom(...QUERIES).map((q) => `/api/v2/me/devices${q}`), []),
      gws('GET', device.map((d) => `/api/v2/me/devices/${d}`), []),
      { weight: 3, arbitrary: gws('POST', device.map((d) => `/api/v2/me/devices/${d}/calls`), ['Dial']) },
      gws('POST', device.map((d) => `/api/v2/me/devices/${d}`), MONITOR_OPS),
      gws('GET', fc.constantFrom(...QUERIES).map((q) => `/api/v2/me/calls${q}`), []),
      gws('GET', call.map((c) => `/api/v2/me/calls/${c}`), []),
      { weight: 6, arbitrary: gws('POST', call.map((c) => `/api/v2/me/calls/${c}`), VOICE_OPS) },
      gws('GET', fc.constantFrom(...QUERIES).map((q) => `/api/v2/me/chats${q}`), []),
      gws('GET', chat.map((c) => `/api/v2/me/chats/${c}`), []),
      gws('GET', fc.tuple(chat, fc.constantFrom(...PAGE_QUERIES)).map(([c, q]) => `/api/v2/me/chats/${c}/messages${q}`), []),
      { weight: 4, arbitrary: gws('POST', chat.map((c) => `/api/v2/me/chats/${c}`), CHAT_OPS, EXTRA_PARAMS, false) },
      gws('POST', fc.tuple(user, chat).map(([u, c]) => `/api/v2/users/${u}/chats/${c}`), ['Intrude']),
      gws('GET', user.map((u) => `/api/v2/users/${u}`), []),
      gws(
        'POST',
        fc.array(fc.oneof(hostileSeg, fc.constantFrom('me', 'calls', 'chats', 'devices', 'users', 'channels', 'messages', 'notificationsx')), { maxLength: 5 }).map((s) => `/api/v2/${s.join('/')}`),
        [...VOICE_OPS, ...CHAT_OPS],
      ),
      { weight: 2, arbitrary: customer(service.map((s) => `/genesys/2/chat/${s}`), CUSTOMER_START) },
      {
        weight: 4,
        arbitrary: customer(
          fc.tuple(service, chat, fc.oneof({ weight: 8, arbitrary: fc.constantFrom('send', 'refresh', 'disconnect') }, { weight: 1, arbitrary: hostileSeg })).map(([s, c, v]) => `/genesys/2/chat/${s}/${c}/${v}`),
          CUSTOMER_ACTION,
        ),
      },
      customer(fc.array(hostileSeg, { maxLength: 4 }).map((s) => `/genesys/2/chat/${s.join('/')}`), [...CUSTOMER_START, ...CUSTOMER_ACTION]),
    );
    const auth = clean ? fc.constant<Auth>({ kind: 'basic', user: actor, password: actor }) : authArb(actor);
    return fc.tuple(endpoint, auth).map(([e, auth]) => {
      const { contentType, body } = e.encoded as { contentType?: string; body?: string };
      const noBody = e.method === 'GET' || e.method === 'HEAD';
      return req({
        method: e.method,
        path: e.path,
        auth,
        ...(noBody || contentType === undefined ? {} : { contentType }),
        ...(noBody || body === undefined ? {} : { body }),
      });
    });
  });

const restReqArb: fc.Arbitrary<Req> = fc.oneof({ weight: 3, arbitrary: reqArbOf(false) }, { weight: 2, arbitrary: reqArbOf(true) });

// ---- Bayeux messages -----------------------------------------------------------------------------
const BAYEUX_CHANNELS = ['/meta/handshake', '/meta/connect', '/meta/subscribe', '/meta/unsubscribe', '/meta/disconnect', '/v2/me/calls', '/v2/me', '/service/x', '/**', '', 'meta/handshake'];
const bayeuxMessageArb: fc.Arbitrary<string> = fc
  .record(
    {
      channel: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...BAYEUX_CHANNELS).map((c) => JSON.stringify(c)) }, { weight: 1, arbitrary: bayeuxFragmentArb }),
      clientId: fc.oneof(fc.constantFrom('"x"', '""', '"«bayeux:0»"', 'null', '1', '{}'), bayeuxFragmentArb),
      id: fc.oneof(fc.constantFrom('"1"', '1', 'null'), bayeuxFragmentArb),
      version: fc.constantFrom('"1.0"', '"9"', '1', 'null'),
      supportedConnectionTypes: fc.constantFrom('["long-polling"]', '[]', '["websocket"]', '"long-polling"', 'null', '[1]'),
      connectionType: fc.constantFrom('"long-polling"', '"websocket"', '1', 'null'),
      subscription: fc.oneof(fc.constantFrom('"/v2/me/calls"', '"/**"', '["/v2/me/calls","/v2/me/chats"]', '[]', 'null', '1', '"/v2/users/x"'), bayeuxFragmentArb),
      advice: fc.constantFrom('{"timeout":0}', '{"timeout":-1}', '{"timeout":1e400}', '{"interval":"x"}', 'null', '[]', '1'),
      ext: fc.oneof(fc.constantFrom('{"ack":true}', '{"ack":-1}', '{"ack":"x"}', 'null', '[]', '{"ack":{"__proto__":{}}}'), bayeuxFragmentArb),
      data: bayeuxFragmentArb,
    },
    { requiredKeys: ['channel'] },
  )
  .map((m) => `{${Object.entries(m).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);

const bayeuxReqArb: fc.Arbitrary<Req> = fc
  .tuple(
    fc.constantFrom('', '', '/handshake', '/connect', '/subscribe', '/disconnect', '/x', '/%00'),
    // A handshake in a batch with other messages is a known 500 (its own test below): alone here.
    fc.array(bayeuxMessageArb, { minLength: 1, maxLength: 3 }).filter((batch) => batch.length === 1 || !batch.some((m) => m.startsWith('{"channel":"/meta/handshake"'))),
    fc.constantFrom(...USERS),
    fc.constantFrom(...JSON_TYPES),
  )
  .chain(([suffix, messages, actor, contentType]) =>
    authArb(actor).map((auth) => req({ method: 'POST', path: `/api/v2/notifications${suffix}`, auth, contentType, body: `[${messages.join(',')}]` })),
  );

// =================================================================================================
describe('hostile input over real HTTP', () => {
  let server: TestServer;
  let db: Db;
  let listeners: Listener[];
  const cookies = new Map<string, string>();
  /** Accepted state-changing requests, in order: what the state must be made of. */
  const acceptedLog: Req[] = [];
  const stats = { requests: 0, accepted: 0, byStatus: new Map<number | string, number>() };

  const registry = () => registryOf(db, server.url, cookies);

  /** Sends one request; checks the answer and the state; logs it if accepted. */
  const send = async (r: Req, timeoutMs: number): Promise<{ res: RawResponse; problem: string | null; path: string }> => {
    const reg = registry();
    const path = resolve(r.path, reg);
    const before = dump(db);
    const res = await rawRequest(server.url, { method: r.method, path, headers: headersOf(r, reg), ...(r.body !== undefined ? { body: resolve(r.body, reg) } : {}) }, timeoutMs);
    stats.requests++;
    const key = res.kind === 'answer' ? res.status : res.kind;
    stats.byStatus.set(key, (stats.byStatus.get(key) ?? 0) + 1);
    let problem = problemWith(r, path, res);
    const changes = !isBayeux(path) && r.method !== 'GET' && r.method !== 'HEAD' && accepted(res);
    if (changes) {
      stats.accepted++;
      acceptedLog.push(r);
    } else if (!problem && dump(db) !== before) {
      problem = `the ${res.kind === 'answer' ? `refused (HTTP ${res.status} ${clip(res.text, 200)})` : 'unanswered'} request changed the store`;
    }
    return { res, problem, path };
  };

  const marks = () => listeners.map((l) => l.received.length);
  const newNotes = (from: number[]) => listeners.flatMap((l, i) => l.received.slice(from[i]).map((n) => `${l.user}: ${n.channel} ${n.data?.notificationType ?? n.data?.messageType}`));
  /** Every listener has caught up: what the requests so far sent them has arrived (Listener.caughtUp). */
  const caughtUp = () => Promise.all(listeners.map((l) => l.caughtUp()));
  /** Set when accepted requests may still have notifications on their way. */
  let dirty = true;

  /** The property body shared by REST and Bayeux: every request checked, then notifications and health. */
  const runAll = async (reqs: readonly Req[], timeoutMs: number) => {
    if (dirty) await caughtUp();
    dirty = false;
    const from = marks();
    let anyAccepted = false;
    try {
      for (const r of reqs) {
        const { res, problem, path } = await send(r, timeoutMs);
        anyAccepted ||= !isBayeux(path) && r.method !== 'GET' && accepted(res);
        if (problem) assert.fail(`${problem}\n  request: ${describeReq(r)}\n  resolved path: ${clip(path, 200)}`);
      }
    } finally {
      dirty ||= anyAccepted;
    }
    if (!anyAccepted) {
      // Caught up after the refusals' answers: anything they had sent would be here by now.
      await caughtUp();
      assert.deepEqual(newNotes(from), [], 'refused requests send no notification');
    }
    const health = await rawRequest(server.url, { method: 'GET', path: '/healthz' }, 5000);
    assert.equal(health.kind === 'answer' ? health.status : health.kind, 200, 'GET /healthz answers 200');
  };

  /** A known-good request for the set-up (logged like the fuzzed ones). */
  const must = async (r: Req) => {
    const { res, problem } = await send(req(r), 5000);
    assert.equal(problem, null, `${describeReq(r)}: ${problem}`);
    assert.ok(accepted(res), `${describeReq(r)}: ${res.kind === 'answer' ? `${res.status} ${res.text}` : res.kind}`);
  };
  const as = (user: string): Auth => ({ kind: 'basic', user, password: user });
  const json = (body: unknown) => ({ contentType: 'application/json', body: JSON.stringify(body) });

  before(async () => {
    // A short poll timeout: every run waits for the listeners to catch up (two long polls at most),
    // and the runs share a time budget. External numbers never answer by themselves here: the
    // state changes only by requests.
    server = await startTestServer({ ids: counterIds(), clock: fixedClock, pollTimeout: 40, externalAnswerMs: -1 });
    db = openDb(server.dataFile);
    for (const user of USERS) {
      const res = await rawRequest(server.url, { method: 'GET', path: '/api/v2/me', headers: { authorization: basicHeader(user, user) } });
      const cookie = res.kind === 'answer' ? [res.headers['set-cookie'] ?? []].flat().map((c) => c.split(';')[0] as string).find((c) => c.startsWith('JSESSIONID=')) : undefined;
      assert.ok(cookie, `${user} gets a session cookie`);
      cookies.set(user, cookie);
    }
    listeners = await Promise.all(['agent15000', 'agent15001', 'agent15002', 'agent15003', 'super15010'].map((u) => listen(server.url, u)));
    // A little of everything for the fuzz to hit: an established call, a ringing one, a chat.
    await must({ method: 'POST', path: '/api/v2/me/devices/«device:agent15000»/calls', auth: as('agent15000'), ...json({ operationName: 'Dial', destination: { phoneNumber: '15001' } }) });
    await must({ method: 'POST', path: '/api/v2/me/calls/«call:0»', auth: as('agent15001'), ...json({ operationName: 'Answer' }) });
    await must({ method: 'POST', path: '/api/v2/me/devices/«device:agent15002»/calls', auth: as('agent15002'), ...json({ operationName: 'Dial', destination: { phoneNumber: '15003' } }) });
    for (const user of ['agent15003', 'agent15002', 'super15010'])
      await must({ method: 'POST', path: '/api/v2/me', auth: as(user), ...json({ operationName: 'StartContactCenterSession', channels: ['voice', 'chat'] }) });
    await must({ method: 'POST', path: '/api/v2/me/channels/chat', auth: as('agent15003'), ...json({ operationName: 'Ready' }) });
    await must({ method: 'POST', path: `/genesys/2/chat/${SERVICE}`, auth: { kind: 'none' }, contentType: 'application/x-www-form-urlencoded', body: 'nickname=pat&firstName=Pat&lastName=Lee&subject=Billing' });
    await must({ method: 'POST', path: '/api/v2/me/chats/«chat:0»', auth: as('agent15003'), ...json({ operationName: 'Accept' }) });
  });

  after(async () => {
    db?.close();
    await Promise.all((listeners ?? []).map((l) => l.disconnect()));
    await server?.dispose();
  });

  it('GWS and customer-chat requests, random and mutated: answered, never 5xx, GWS error bodies, refusals change nothing', async (t) => {
    await fc.assert(
      fc.asyncProperty(fc.array(restReqArb, { minLength: 1, maxLength: 6 }), (reqs) => runAll(reqs, 5000)),
      { numRuns: REST_RUNS, interruptAfterTimeLimit: REST_TIME_LIMIT, markInterruptAsFailure: false, includeErrorInReport: true },
    );
    t.diagnostic(`${stats.requests} requests, ${stats.accepted} accepted state changes; by HTTP status: ${JSON.stringify([...stats.byStatus])}`);
    assert.ok(stats.accepted >= 10, `enough requests were accepted to exercise the state (${stats.accepted})`);
  });

  it('Bayeux messages, random and mutated (arrays of message objects): answered, never 5xx, nothing changes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(bayeuxReqArb, { minLength: 1, maxLength: 4 }), (reqs) => runAll(reqs, 1500)),
      { numRuns: BAYEUX_RUNS, interruptAfterTimeLimit: BAYEUX_TIME_LIMIT, markInterruptAsFailure: false, includeErrorInReport: true },
    );
  });

  /** Sends fixed requests and lists every one whose answer is wrong (all are tried). */
  const expectAllFine = async (cases: readonly [string, Req][], timeoutMs = 2000, extra?: (res: RawResponse) => string | null) => {
    // All at once: a held request costs its timeout once, not once per case. None may change anything.
    const results = await Promise.all(cases.map(async ([name, r]) => ({ name, ...(await send(req(r), timeoutMs)) })));
    const wrong = results.flatMap(({ name, res, problem }) => {
      const more = problem ?? extra?.(res) ?? null;
      return more ? [`${name}: ${more}`] : [];
    });
    const health = await rawRequest(server.url, { method: 'GET', path: '/healthz' }, 5000);
    assert.equal(health.kind === 'answer' ? health.status : health.kind, 200, 'GET /healthz answers 200 afterwards');
    assert.deepEqual(wrong, []);
  };
  const a0 = as('agent15000');

  it('a CometD message over the body limit: 413 with a GWS body', async () => {
    const big = JSON.stringify([{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], ext: { pad: 'x'.repeat(70 * 1024) } }]);
    await expectAllFine(
      [
        ['authenticated', { method: 'POST', path: '/api/v2/notifications', auth: a0, contentType: 'application/json', body: big }],
        ['without credentials', { method: 'POST', path: '/api/v2/notifications/handshake', auth: { kind: 'none' }, contentType: 'application/json', body: big }],
      ],
      5000,
      (res) => (res.kind === 'answer' && res.status === 413 ? null : `expected HTTP 413, got ${res.kind === 'answer' ? `${res.status} ${clip(res.text)}` : res.kind}`),
    );
  });

  it('malformed Bayeux bodies (not an array of objects, a handshake batched with others, 20000-level nesting) are answered, without a 5xx', async () => {
    const deep = '['.repeat(20000) + ']'.repeat(20000);
    const bodies = [
      '{}', 'null', '"x"', '1', 'true', '[]', '[null]', '[1]', '["x"]', '[[]]', '{"channel":"/meta/handshake"}',
      '[{"channel":"/meta/handshake"},{"channel":"/meta/handshake"}]', '[{"channel":"/meta/handshake"},{"channel":"/meta/connect"}]',
      '[{"channel":"/meta/connect"},{"channel":"/meta/connect"}]',
      `[{"channel":"/meta/handshake","id":${deep}}]`, `[{"channel":"/meta/connect","id":${deep}}]`,
    ];
    await expectAllFine(
      bodies.flatMap((body): [string, Req][] => [
        [`${clip(body, 80)} (authenticated)`, { method: 'POST', path: '/api/v2/notifications', auth: a0, contentType: 'application/json', body }],
        [`${clip(body, 80)} (no credentials)`, { method: 'POST', path: '/api/v2/notifications/connect', auth: { kind: 'none' }, contentType: 'application/json', body }],
      ]),
    );
  });

  it('a malformed percent-escape or invalid UTF-8 in the URL: a GWS 400 refusal', async () => {
    const paths = ['/api/v2/me/calls/%zz', '/api/v2/me/calls/%C0%AF', '/api/v2/me/calls/%', '/api/v2/me/calls/a%2', '/api/v2/%E0%A4%A', '/genesys/2/chat/%zz', '/genesys/2/chat/customer-support/%zz/send'];
    await expectAllFine(paths.map((path): [string, Req] => [path, { method: path.startsWith('/genesys') ? 'POST' : 'GET', path, auth: a0 }]));
  });

  it('ids of 101 to 4000 characters at every id position: a GWS refusal (404 statusCode 6 or 400 statusCode 10)', async () => {
    const paths = (id: string): [string, string][] => [
      ['GET', `/api/v2/me/calls/${id}`],
      ['POST', `/api/v2/me/calls/${id}`],
      ['GET', `/api/v2/me/chats/${id}`],
      ['GET', `/api/v2/me/chats/${id}/messages`],
      ['POST', `/api/v2/me/chats/${id}`],
      ['GET', `/api/v2/me/devices/${id}`],
      ['POST', `/api/v2/me/devices/${id}/calls`],
      ['GET', `/api/v2/users/${id}`],
      ['POST', `/api/v2/users/${id}/chats/x`],
      ['POST', `/api/v2/me/channels/${id}`],
      ['POST', `/genesys/2/chat/${id}`],
      ['POST', `/genesys/2/chat/${SERVICE}/${id}/send`],
    ];
    await expectAllFine(
      [101, 129, 4000].flatMap((n) =>
        paths('A'.repeat(n)).map(([method, path]): [string, Req] => [
          `${method} ${path.replace(/A{20,}/, `<${n} chars>`)}`,
          { method, path, auth: a0, ...(method === 'POST' ? { contentType: 'application/json', body: '{"operationName":"Hangup"}' } : {}) },
        ]),
      ),
    );
  });

  it('an over-long URL or header: 431 with {statusCode: 10, statusMessage}', async () => {
    await expectAllFine(
      [
        ['a 20 000-character call id', { method: 'GET', path: `/api/v2/me/calls/${'A'.repeat(20_000)}`, auth: a0 }],
        ['a 20 000-character Authorization header', { method: 'GET', path: '/api/v2/me', auth: { kind: 'header', value: `Basic ${'A'.repeat(20_000)}` } }],
        ['a 20 000-character customer chat id', { method: 'POST', path: `/genesys/2/chat/${SERVICE}/${'A'.repeat(20_000)}/refresh`, auth: { kind: 'none' } }],
      ],
      5000,
      (res) => (res.kind === 'answer' && res.status === 431 ? null : `expected HTTP 431, got ${res.kind === 'answer' ? res.status : res.kind}`),
    );
  });

  it('bodies at and over 64 KiB: at the limit processed (a 4xx refusal naming the field), over it 413 with a GWS body', async () => {
    const at = (size: number) => {
      const prefix = '{"operationName":"AttachUserData","userData":{"k":"';
      return `${prefix}${'x'.repeat(size - prefix.length - 3)}"}}`;
    };
    const status = (expected: number) => (res: RawResponse) =>
      res.kind === 'answer' && res.status === expected ? null : `expected HTTP ${expected}, got ${res.kind === 'answer' ? `${res.status} ${clip(res.text)}` : res.kind}`;
    await expectAllFine([['65 536 bytes', { method: 'POST', path: '/api/v2/me/calls/«call:0»', auth: a0, contentType: 'application/json', body: at(64 * 1024) }]], 5000, status(400));
    await expectAllFine(
      [
        ['65 537 bytes', { method: 'POST', path: '/api/v2/me/calls/«call:0»', auth: a0, contentType: 'application/json', body: at(64 * 1024 + 1) }],
        ['a form body over the limit', { method: 'POST', path: `/genesys/2/chat/${SERVICE}`, auth: { kind: 'none' }, contentType: 'application/x-www-form-urlencoded', body: `nickname=${'x'.repeat(70 * 1024)}` }],
      ],
      5000,
      status(413),
    );
  });

  it('the state is exactly what the accepted requests produced (replayed on a fresh server)', async (t) => {
    const replay = await startTestServer({ ids: counterIds(), clock: fixedClock, externalAnswerMs: -1 });
    const replayDb = openDb(replay.dataFile);
    try {
      const replayCookies = new Map<string, string>();
      for (const user of USERS) {
        const res = await rawRequest(replay.url, { method: 'GET', path: '/api/v2/me', headers: { authorization: basicHeader(user, user) } });
        const cookie = res.kind === 'answer' ? [res.headers['set-cookie'] ?? []].flat().map((c) => c.split(';')[0] as string).find((c) => c.startsWith('JSESSIONID=')) : undefined;
        replayCookies.set(user, cookie ?? '');
      }
      const diverged: string[] = [];
      for (const r of acceptedLog) {
        const reg = registryOf(replayDb, replay.url, replayCookies);
        const res = await rawRequest(replay.url, { method: r.method, path: resolve(r.path, reg), headers: headersOf(r, reg), ...(r.body !== undefined ? { body: resolve(r.body, reg) } : {}) });
        if (!accepted(res)) diverged.push(`${describeReq(r)} -> ${res.kind === 'answer' ? `${res.status} ${clip(res.text)}` : res.kind}`);
      }
      t.diagnostic(`${acceptedLog.length} accepted requests replayed`);
      assert.deepEqual(diverged, [], 'every accepted request is accepted again on the replay');
      assert.deepEqual(normalizedDump(replayDb, replay.url), normalizedDump(db, server.url), 'the store is the same');

      const views = async (base: string, store: Db) => {
        const norm = normalizer(store, base);
        const out: Record<string, unknown> = {};
        for (const user of USERS)
          for (const path of ['/api/v2/me/calls?fields=*', '/api/v2/me/devices?fields=*', '/api/v2/me/chats?fields=*']) {
            const res = await rawRequest(base, { method: 'GET', path, headers: { authorization: basicHeader(user, user) } });
            const view = res.kind === 'answer' ? JSON.parse(norm(res.text).replace(/"duration":"\d+"/g, '"duration":"-"')) : res.kind;
            // The order of a user's chats is not specified (the store lists them by their random ids).
            if (Array.isArray(view?.chats)) view.chats.sort((x: { id: string }, y: { id: string }) => x.id.localeCompare(y.id));
            out[`${user} ${path}`] = view;
          }
        return out;
      };
      assert.deepEqual(await views(replay.url, replayDb), await views(server.url, db), 'every user sees the same calls, devices and chats');
    } finally {
      replayDb.close();
      await replay.dispose();
    }
  });
});

// =================================================================================================
// The other dialects: the Conclave API (simulation, interactions, console and its event stream),
// the Genesys Cloud dialect, and the queue and work-cycle operations. Their error shapes differ
// (docs/architecture.md: one plugin per dialect, each with its own), so the property here is the
// one they share: every request is answered, never with a 5xx, and a refusal (a 4xx) changes
// nothing in the store. Its own server: its accepted requests are not GWS requests, so they stay
// out of the GWS replay above. The demo directory with a ring timeout no run can reach, so that
// routing never moves the state by itself between a request and the check.
const CUSTOMER_NO = '+14155550100';
const PARTY_DNS = ['15000', '15001', '15002', '15003', CUSTOMER_NO, '7000'] as const;
/** Keys that mean something to a response (or to Object.prototype), put into request bodies. */
const ECHO_KEYS = ['ok', 'statusCode', 'statusMessage', 'message', 'code', 'error', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];
const OTHER_RUNS = LONG ? 2000 : 200;
const OTHER_TIME_LIMIT = LONG ? 300_000 : 15_000;

type Dialect = 'conclave' | 'cloud' | 'gws';
interface Endpoint {
  readonly weight?: number;
  readonly method: string;
  readonly path: fc.Arbitrary<string>;
  readonly dialect: Dialect;
  /** Plausible fields of the body (each may be left out); none: no body. */
  readonly fields?: Record<string, fc.Arbitrary<unknown>>;
}

const hostileValue = fragmentArb.map((text) => ({ raw: text }));
const callRef = fc.oneof({ weight: 5, arbitrary: fc.nat({ max: 20 }).map((i) => `«call:${i}»`) }, { weight: 2, arbitrary: hostileSeg });
const pidRef = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.nat({ max: 20 }), fc.constantFrom(...PARTY_DNS)).map(([i, dn]) => `«pid:${i}.${dn}»`) },
  { weight: 1, arbitrary: hostileSeg },
);
const userIdRef = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...USERS).map((u) => `«user:${u}»`) }, { weight: 1, arbitrary: hostileSeg });
const queueRef = fc.oneof({ weight: 4, arbitrary: fc.constant('«queue:support»') }, { weight: 1, arbitrary: fc.constantFrom('support', '7000') }, { weight: 1, arbitrary: hostileSeg });
const partyArb = fc.oneof(fc.constantFrom(...PARTY_DNS, 'support', '99999', ''), stringy);
const nameQuery = fc.constantFrom('', '?name=support', '?name=supp*', '?name=***', '?name=*', '?name=a**b', '?name=(', '?name=%5B', '?name=*%5C', '?pageSize=0', '?pageSize=-1', '?pageSize=abc', '?pageSize=1e999', '?pageNumber=0', '?pageSize=2&pageNumber=99999999999', '?id=x&id=y', '?sortOrder=sideways', '?expand=presence&expand=routingStatus', '?expand=%00');
const intervalArb = fc.constantFrom('2026-01-01T00:00:00Z/2027-01-01T00:00:00Z', '2026-12-01T00:00:00.000Z/2026-12-02T00:00:00.000Z', 'x', '/', '2027-01-01T00:00:00Z/2026-01-01T00:00:00Z', '0000-01-01T00:00:00Z/9999-12-31T23:59:59Z', '');
const segmentFilterArb = fc.record(
  {
    type: fc.constantFrom('and', 'or', 'x'),
    predicates: fc.array(fc.record({ dimension: fc.constantFrom('userId', 'purpose', 'mediaType', 'direction', 'segmentType', 'conversationId', 'queueId', 'x'), value: fc.oneof(stringy, fc.constantFrom('«user:agent15000»', 'agent', 'voice')), operator: fc.constantFrom('matches', 'exists', 'notExists', 'x') }, { requiredKeys: [] }), { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

const OTHER_ENDPOINTS: readonly Endpoint[] = [
  // Conclave: the simulation API, interactions, the console and its event stream.
  { weight: 4, method: 'POST', path: fc.constant('/conclave/v1/sim/calls'), dialect: 'conclave', fields: { from: fc.oneof(fc.constantFrom(CUSTOMER_NO, '+14155550101', '15000', ''), stringy), to: partyArb, userData: fc.dictionary(fc.constantFrom('k', 'a', ''), fc.oneof(stringy, fc.integer())) } },
  { weight: 3, method: 'POST', path: callRef.map((c) => `/conclave/v1/sim/calls/${c}`), dialect: 'conclave', fields: { action: fc.constantFrom('answer', 'hangup', 'dtmf', 'Answer', ''), digits: fc.constantFrom('12#', 'x', '', '1'.repeat(65)) } },
  { method: 'GET', path: fc.constant('/conclave/v1/interactions'), dialect: 'conclave' },
  { method: 'GET', path: fc.constant('/conclave/v1/console/session'), dialect: 'conclave' },
  { method: 'POST', path: fc.constant('/conclave/v1/console/session'), dialect: 'conclave', fields: { userName: fc.constantFrom('admin', 'super15010', 'agent15000', 'nobody', ''), password: fc.constantFrom('admin', 'super15010', 'x', '') } },
  { method: 'DELETE', path: fc.constant('/conclave/v1/console/session'), dialect: 'conclave' },
  { method: 'GET', path: fc.constant('/conclave/v1/console/state'), dialect: 'conclave' },
  { weight: 2, method: 'POST', path: callRef.map((c) => `/conclave/v1/console/calls/${c}/remove`), dialect: 'conclave', fields: { participant: partyArb } },
  { method: 'GET', path: fc.constantFrom('/conclave/v1/events', '/conclave/v1/events?x=1'), dialect: 'conclave' },
  { method: 'GET', path: fc.array(hostileSeg, { maxLength: 3 }).map((s) => `/conclave/v1/console/${s.join('/')}`), dialect: 'conclave' },
  { method: 'POST', path: fc.array(fc.oneof(hostileSeg, fc.constantFrom('sim', 'calls', 'console', 'interactions', 'events')), { maxLength: 4 }).map((s) => `/conclave/v1/${s.join('/')}`), dialect: 'conclave', fields: { action: stringy } },
  // Genesys Cloud.
  { method: 'POST', path: fc.constant('/cloud/oauth/token'), dialect: 'cloud', fields: { grant_type: fc.constantFrom('client_credentials', 'password', '') } },
  { method: 'GET', path: fc.constant('/cloud/api/v2/conversations/calls'), dialect: 'cloud' },
  { method: 'GET', path: callRef.map((c) => `/cloud/api/v2/conversations/calls/${c}`), dialect: 'cloud' },
  { method: 'GET', path: callRef.map((c) => `/cloud/api/v2/conversations/${c}`), dialect: 'cloud' },
  {
    weight: 2, method: 'POST', path: callRef.map((c) => `/cloud/api/v2/conversations/calls/${c}/participants`), dialect: 'cloud',
    fields: { participants: fc.array(fc.record({ address: partyArb, userId: userIdRef }, { requiredKeys: [] }), { maxLength: 3 }) },
  },
  {
    weight: 4, method: 'PATCH', path: fc.tuple(callRef, pidRef).map(([c, p]) => `/cloud/api/v2/conversations/calls/${c}/participants/${p}`), dialect: 'cloud',
    fields: { state: fc.constantFrom('disconnected', 'connected', 'x'), muted: fc.boolean(), held: fc.boolean(), confined: fc.boolean(), recording: fc.boolean(), wrapup: fc.record({ code: stringy, notes: stringy }, { requiredKeys: [] }) },
  },
  {
    weight: 2, method: 'POST', path: fc.tuple(callRef, pidRef).map(([c, p]) => `/cloud/api/v2/conversations/calls/${c}/participants/${p}/replace`), dialect: 'cloud',
    fields: { transferType: fc.constantFrom('Attended', 'Unattended', 'x'), address: partyArb, userId: userIdRef, queueId: queueRef, voicemail: fc.boolean() },
  },
  {
    weight: 2, method: 'POST', path: fc.tuple(callRef, pidRef).map(([c, p]) => `/cloud/api/v2/conversations/calls/${c}/participants/${p}/consult`), dialect: 'cloud',
    fields: { speakTo: fc.constantFrom('DESTINATION', 'OBJECT', 'BOTH', 'CONFERENCE', 'x'), consultingUserId: userIdRef, destination: fc.record({ address: partyArb, userId: userIdRef, queueId: queueRef }, { requiredKeys: [] }) },
  },
  { method: 'POST', path: callRef.map((c) => `/cloud/api/v2/conversations/${c}/disconnect`), dialect: 'cloud' },
  {
    weight: 2, method: 'POST', path: fc.constant('/cloud/api/v2/analytics/conversations/details/query'), dialect: 'cloud',
    fields: { interval: intervalArb, segmentFilters: fc.array(segmentFilterArb, { maxLength: 2 }), conversationFilters: fc.array(segmentFilterArb, { maxLength: 2 }), order: fc.constantFrom('asc', 'desc', 'x'), orderBy: fc.constantFrom('conversationStart', 'x'), paging: fc.record({ pageSize: fc.integer({ min: -5, max: 200 }), pageNumber: fc.integer({ min: -5, max: 1e9 }) }, { requiredKeys: [] }) },
  },
  { method: 'GET', path: nameQuery.map((q) => `/cloud/api/v2/users${q}`), dialect: 'cloud' },
  { method: 'GET', path: fc.tuple(userIdRef, fc.constantFrom('', '?expand=presence', '?expand=x')).map(([u, q]) => `/cloud/api/v2/users/${u}${q}`), dialect: 'cloud' },
  { method: 'GET', path: fc.constant('/cloud/api/v2/users/me'), dialect: 'cloud' },
  { method: 'GET', path: nameQuery.map((q) => `/cloud/api/v2/routing/queues${q}`), dialect: 'cloud' },
  { method: 'GET', path: queueRef.map((q) => `/cloud/api/v2/routing/queues/${q}`), dialect: 'cloud' },
  { method: 'GET', path: fc.tuple(queueRef, nameQuery).map(([q, s]) => `/cloud/api/v2/routing/queues/${q}/members${s}`), dialect: 'cloud' },
  { method: 'DELETE', path: fc.constant('/cloud/api/v2/tokens/me'), dialect: 'cloud' },
  { method: 'POST', path: fc.constant('/cloud/api/v2/notifications/channels'), dialect: 'cloud' },
  {
    method: 'PUT', path: fc.constantFrom('x', '«channel:»').map((c) => `/cloud/api/v2/notifications/channels/${c}/subscriptions`), dialect: 'cloud',
    fields: { id: fc.constantFrom('v2.routing.queues.«queue:support».conversations', 'v2.users.«user:agent15000».conversations', 'v2.routing.queues.support.conversations', 'x') },
  },
  { method: 'GET', path: fc.array(fc.oneof(hostileSeg, fc.constantFrom('conversations', 'calls', 'participants', 'routing', 'queues', 'users')), { maxLength: 5 }).map((s) => `/cloud/api/v2/${s.join('/')}`), dialect: 'cloud' },
  // Queues and the work cycle (GWS): dialling the queue, and the voice channel's operations.
  { weight: 2, method: 'POST', path: fc.constantFrom('15000', '15001', '15002').map((u) => `/api/v2/me/devices/«device:agent${u}»/calls`), dialect: 'gws', fields: { operationName: fc.constant('Dial'), destination: fc.record({ phoneNumber: fc.constantFrom('support', '7000', 'Support', '7000 ', '') }) } },
  {
    weight: 3, method: 'POST', path: fc.constantFrom('voice', 'chat').map((c) => `/api/v2/me/channels/${c}`), dialect: 'gws',
    fields: { operationName: fc.constantFrom('Ready', 'NotReady', 'AfterCallWork', 'AuxWork'), wrapUpTime: fc.constantFrom('0', '5', 'soon', '-1', '99999999999999', '1.5'), reasonCode: stringy, reasons: fc.array(fc.record({ key: stringy, value: stringy }), { maxLength: 2 }) },
  },
  { method: 'POST', path: fc.constant('/api/v2/me'), dialect: 'gws', fields: { operationName: fc.constantFrom('StartContactCenterSession', 'EndContactCenterSession'), channels: fc.constantFrom(['voice'], ['voice', 'chat'], ['fax']) } },
  { method: 'POST', path: callRef.map((c) => `/api/v2/me/calls/${c}`), dialect: 'gws', fields: { operationName: fc.constantFrom('Answer', 'Reject', 'Hangup'), reasons: fc.constant([]) } },
];

/** A body for an endpoint: some of its plausible fields, response-like and prototype keys, a mutation. */
const otherBodyArb = (fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<{ contentType?: string; body?: string }> =>
  fc
    .tuple(fc.record(fields, { requiredKeys: [] }), fc.subarray(ECHO_KEYS, { maxLength: 2 }).chain((keys) => fc.tuple(...keys.map((k) => hostileValue.map((v) => [k, v] as const)))), fc.oneof({ weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) }, { weight: 2, arbitrary: mutationArb }))
    .chain(([picked, echoes, m]) => {
      const entries: [string, unknown][] = Object.entries(picked);
      const text = jsonText(entries, m as Mutation);
      // Response-like keys carry raw JSON text (deep nesting, huge strings): spliced in after.
      const withEchoes = echoes.length === 0 || !text.startsWith('{') ? text : `{${echoes.map(([k, v]) => `${JSON.stringify(k)}:${v.raw}`).join(',')}${text === '{}' ? '' : ','}${text.slice(1)}`;
      return fc.oneof(
        { weight: 10, arbitrary: fc.constantFrom(...JSON_TYPES).map((contentType) => ({ contentType, body: withEchoes })) },
        { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...JUNK_TEXTS), fc.constantFrom(...JSON_TYPES, ...OTHER_TYPES)).map(([body, contentType]) => ({ contentType, body })) },
        { weight: 1, arbitrary: fc.constantFrom(...OTHER_TYPES).map((contentType) => ({ contentType, body: withEchoes })) },
        { weight: 1, arbitrary: fc.constantFrom({}, { contentType: 'application/json' }) },
      );
    });

const otherAuthArb = (dialect: Dialect): fc.Arbitrary<Auth> => {
  if (dialect === 'cloud')
    return fc.oneof(
      { weight: 12, arbitrary: fc.constant({ kind: 'header' as const, value: 'Bearer «token:»' }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
      { weight: 1, arbitrary: fc.constantFrom('Bearer', 'Bearer x', 'Bearer «token:»x', `Bearer ${'A'.repeat(4000)}`, basicHeader('conclave-demo', 'conclave-demo'), 'bearer «token:»').map((value) => ({ kind: 'header' as const, value })) },
    );
  const users = dialect === 'conclave' ? (['admin', 'super15010', 'agent15000'] as const) : (['agent15000', 'agent15001', 'agent15002'] as const);
  return fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...users).map((user) => ({ kind: 'basic' as const, user, password: user })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 1, arbitrary: fc.constantFrom('wrong', '').map((password) => ({ kind: 'basic' as const, user: users[0], password })) },
    { weight: 1, arbitrary: fc.constantFrom('Bearer abc', 'Basic !!!', 'Digest x').map((value) => ({ kind: 'header' as const, value })) },
  );
};

const otherReqArb: fc.Arbitrary<Req> = fc
  .oneof(...OTHER_ENDPOINTS.map((e) => ({ weight: e.weight ?? 1, arbitrary: fc.constant(e) })))
  .chain((e) =>
    fc
      .tuple(fc.oneof({ weight: 15, arbitrary: fc.constant(e.method) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }), e.path, e.fields ? otherBodyArb(e.fields) : fc.constant({}), otherAuthArb(e.dialect))
      .map(([method, path, encoded, auth]) => {
        const noBody = method === 'GET' || method === 'HEAD';
        const { contentType, body } = encoded as { contentType?: string; body?: string };
        return req({ method, path, auth, ...(noBody || contentType === undefined ? {} : { contentType }), ...(noBody || body === undefined ? {} : { body }) });
      }),
  );

/** The event stream answers and then stays open: its status line is the answer. */
const statusOnly = (base: string, path: string, headers: Record<string, string>, method: string, timeoutMs: number): Promise<RawResponse> =>
  new Promise((resolveAnswer) => {
    const url = new URL(base);
    const request = http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      resolveAnswer({ kind: 'answer', status: res.statusCode ?? 0, headers: res.headers, text: '', json: null });
      res.destroy();
    });
    request.setTimeout(timeoutMs, () => (resolveAnswer({ kind: 'timeout' }), request.destroy()));
    request.on('error', (error) => resolveAnswer({ kind: 'error', message: error.message }));
    request.end();
  });

describe('hostile input over real HTTP: the Conclave API, the console, Genesys Cloud, queues and the work cycle', () => {
  let server: TestServer;
  let db: Db;
  let token = '';
  let channelId = 'x';
  const stats = { requests: 0, byStatus: new Map<number | string, number>() };

  const resolveOther = (text: string, reg: Registry): string =>
    resolve(
      text.replace(/«(pid|queue|token|channel):([\w.+]*)»/g, (_all, kind: string, arg: string) => {
        if (kind === 'token') return token;
        if (kind === 'channel') return channelId;
        if (kind === 'queue') return stableQueueId(arg);
        const [i, dn] = arg.split('.');
        const call = reg.calls.length > 0 ? (reg.calls[Number(i) % reg.calls.length] as string) : 'NOCALLYET';
        return participantId(call, dn ?? '');
      }),
      reg,
    );

  const sendOther = async (r: Req): Promise<string | null> => {
    const reg = registryOf(db, server.url, new Map());
    const path = resolveOther(r.path, reg);
    const headers = headersOf(r.auth.kind === 'header' ? { ...r, auth: { kind: 'header', value: resolveOther(r.auth.value, reg) } } : r, reg);
    const before = dump(db);
    const isStream = /^\/conclave\/v1\/events(\?|$)/.test(path) && (r.method === 'GET' || r.method === 'HEAD');
    const res = isStream
      ? await statusOnly(server.url, path, headers, r.method, 5000)
      : await rawRequest(server.url, { method: r.method, path, headers, ...(r.body !== undefined ? { body: resolveOther(r.body, reg) } : {}) }, 5000);
    stats.requests++;
    const key = res.kind === 'answer' ? res.status : res.kind;
    stats.byStatus.set(key, (stats.byStatus.get(key) ?? 0) + 1);
    const at = `\n  request: ${describeReq(r)}\n  resolved path: ${clip(path, 200)}`;
    if (res.kind !== 'answer') return `${res.kind === 'timeout' ? 'no answer (held until the client gave up)' : `no answer: ${res.message}`}${at}`;
    if (res.status >= 500) return `HTTP ${res.status} ${clip(res.text, 300)}${at}`;
    if (res.status >= 400 && !isStream && r.method !== 'HEAD' && res.text.length === 0) return `HTTP ${res.status} with an empty body${at}`;
    if (res.status >= 400 && dump(db) !== before) return `the refused request (HTTP ${res.status} ${clip(res.text, 200)}) changed the store${at}`;
    // A token revoked by DELETE /tokens/me is replaced, so that the next requests are not all 401.
    if (path === '/cloud/api/v2/tokens/me' && res.status < 300) token = await newToken();
    return null;
  };

  const newToken = async () => {
    const res = await rawRequest(server.url, { method: 'POST', path: '/cloud/oauth/token', headers: { authorization: basicHeader('conclave-demo', 'conclave-demo'), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    assert.ok(res.kind === 'answer' && res.status === 200, 'a Cloud token');
    return (res.json as { access_token: string }).access_token;
  };

  before(async () => {
    const doc = { ...DEMO_DIRECTORY, queues: (DEMO_DIRECTORY.queues ?? []).map((q) => ({ ...q, ringTimeoutS: 3600 })) };
    server = await startTestServer({ externalAnswerMs: -1, directory: buildDirectory(doc, 'hostile-input') });
    db = openDb(server.dataFile);
    token = await newToken();
    const channel = await rawRequest(server.url, { method: 'POST', path: '/cloud/api/v2/notifications/channels', headers: { authorization: `Bearer ${token}` } });
    channelId = channel.kind === 'answer' ? String((channel.json as { id?: string })?.id ?? 'x') : 'x';
    // Something for every endpoint to hit: a customer call ringing at 15000, one answered by 15001,
    // one waiting in the support queue.
    const admin = { authorization: basicHeader('admin', 'admin'), 'content-type': 'application/json' };
    for (const to of ['15000', '15001', 'support']) {
      const res = await rawRequest(server.url, { method: 'POST', path: '/conclave/v1/sim/calls', headers: admin, body: JSON.stringify({ from: CUSTOMER_NO, to }) });
      assert.ok(res.kind === 'answer' && res.status < 300, `a customer call to ${to}: ${res.kind === 'answer' ? res.text : res.kind}`);
    }
    const second = registryOf(db, server.url, new Map()).calls[1] as string;
    const answered = await rawRequest(server.url, { method: 'POST', path: `/api/v2/me/calls/${second}`, headers: { authorization: basicHeader('agent15001', 'agent15001'), 'content-type': 'application/json' }, body: '{"operationName":"Answer"}' });
    assert.ok(answered.kind === 'answer' && answered.status === 200, answered.kind === 'answer' ? answered.text : answered.kind);
  });

  after(async () => {
    db?.close();
    await server?.dispose();
  });

  it('requests to every endpoint, with hostile bodies and credentials: answered, never 5xx, refusals change nothing', async (t) => {
    await fc.assert(
      fc.asyncProperty(fc.array(otherReqArb, { minLength: 1, maxLength: 6 }), async (reqs) => {
        for (const r of reqs) {
          const problem = await sendOther(r);
          if (problem) assert.fail(problem);
        }
        const health = await rawRequest(server.url, { method: 'GET', path: '/healthz' }, 5000);
        assert.equal(health.kind === 'answer' ? health.status : health.kind, 200, 'GET /healthz answers 200');
      }),
      { numRuns: OTHER_RUNS, interruptAfterTimeLimit: OTHER_TIME_LIMIT, markInterruptAsFailure: false, includeErrorInReport: true },
    );
    t.diagnostic(`${stats.requests} requests; by HTTP status: ${JSON.stringify([...stats.byStatus])}`);
  });

  // Regressions the property found, each kept as a fixed case.
  it('GET /routing/queues?name= with stars and regular-expression characters (once a 500): 200, the name matched as text', async () => {
    const names = (res: RawResponse) => (res.kind === 'answer' && res.status === 200 ? (res.json as { entities: { name: string }[] }).entities.map((q) => q.name) : `${res.kind === 'answer' ? `${res.status} ${res.text}` : res.kind}`);
    const get = (q: string) => rawRequest(server.url, { method: 'GET', path: `/cloud/api/v2/routing/queues?name=${q}`, headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(names(await get('***')), [], "'***': a leading and a trailing star around a literal one");
    assert.deepEqual(names(await get('**')), ['support']);
    assert.deepEqual(names(await get('*')), ['support']);
    assert.deepEqual(names(await get('SUPP*')), ['support']);
    assert.deepEqual(names(await get('*port')), ['support']);
    assert.deepEqual(names(await get('su*rt')), [], 'an inner star is literal');
    for (const q of ['(', '%5B', '*%5C', 'a**b', '.*', '%2B']) assert.deepEqual(names(await get(q)), [], q);
  });

  it('HEAD /conclave/v1/events (once held open, never answered): 200 with the stream headers, at once', async () => {
    const res = await rawRequest(server.url, { method: 'HEAD', path: '/conclave/v1/events', headers: { authorization: basicHeader('admin', 'admin') } }, 3000);
    assert.equal(res.kind === 'answer' ? res.status : res.kind, 200);
    assert.match(String((res as { headers: Record<string, unknown> }).headers['content-type']), /^text\/event-stream/);
    const refused = await rawRequest(server.url, { method: 'HEAD', path: '/conclave/v1/events' }, 3000);
    assert.equal(refused.kind === 'answer' ? refused.status : refused.kind, 401);
  });

  it('removing a party from a call that is no conference (console and Cloud; once the orchestrator joined the call first): 400 naming why, the store unchanged', async () => {
    // Its own call (the property may have ended the others): a customer and 15003, talking.
    const created = await rawRequest(server.url, { method: 'POST', path: '/conclave/v1/sim/calls', headers: { authorization: basicHeader('admin', 'admin'), 'content-type': 'application/json' }, body: JSON.stringify({ from: '+14155550199', to: '15003' }) });
    const call = (created as { json: { callId: string } }).json.callId;
    const answer = await rawRequest(server.url, { method: 'POST', path: `/api/v2/me/calls/${call}`, headers: { authorization: basicHeader('agent15003', 'agent15003'), 'content-type': 'application/json' }, body: '{"operationName":"Answer"}' });
    assert.equal(answer.kind === 'answer' ? answer.status : answer.kind, 200);
    const before = dump(db);
    const consoleRes = await rawRequest(server.url, { method: 'POST', path: `/conclave/v1/console/calls/${call}/remove`, headers: { authorization: basicHeader('admin', 'admin'), 'content-type': 'application/json' }, body: JSON.stringify({ participant: '15003' }) });
    assert.equal(consoleRes.kind === 'answer' ? consoleRes.status : consoleRes.kind, 400);
    assert.match((consoleRes as { text: string }).text, /a conference needs at least three/);
    const cloudRes = await rawRequest(server.url, {
      method: 'PATCH',
      path: `/cloud/api/v2/conversations/calls/${call}/participants/${participantId(call, '15003')}`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"state":"disconnected"}',
    });
    assert.ok(cloudRes.kind === 'answer' && cloudRes.status >= 400 && cloudRes.status < 500, cloudRes.kind === 'answer' ? `${cloudRes.status} ${cloudRes.text}` : cloudRes.kind);
    assert.equal(dump(db), before, 'nothing changed');
  });
});
