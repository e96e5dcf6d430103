/**
 * Notification isolation under load, end to end over real HTTP and the official CometD client.
 *
 * Twelve agents (DNs 16000–16011, a custom directory), each with a CometD listener, run a
 * seeded random sequence of voice operations (Dial, Answer, SingleStepConference,
 * InitiateConference, CompleteConference, RemoveParticipantFromConference, Hangup, Hold,
 * Retrieve), mostly chosen among the caller's capabilities, some at random, some on calls the
 * caller is not on. Once every client has caught up with the server, for every user:
 *  - every notification is on /v2/me/calls, says `phoneNumber` = their DN, shows their own
 *    device, and is about a call (read from the server's store) they are or were a party of;
 *    its participants are parties of that call and never themself;
 *  - they received at least one notification about every call they were ever a party of, and
 *    users who took part in nothing received nothing;
 *  - the last notification about each call agrees with their final GET /api/v2/me/calls;
 *  - an operation on a call they were never on answered 404 (statusCode 6).
 * Other channel names ('/v2/me/calls/**', '/**', '/v2/users/x', ...) are refused or bring nothing
 * extra: a second client of a party, subscribed only to them, receives exactly the party's own
 * notifications; an uninvolved user's (with and without a device) receives nothing.
 * Raw Bayeux: a /meta/connect carrying another user's clientId — with a different user's valid
 * credentials, with none, or with a wrong password — must not deliver that user's messages, and
 * the owner of the session must still receive them.
 *
 * Seed: CONCLAVE_SEED (default 20261126). Runtime: ~10 s with 150 operations. CONCLAVE_LONG_TESTS=1
 * runs four seeds of 500 operations each.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { AckExtension, CometD, type Message } from 'cometd';
import { buildDirectory } from '../../src/directory/directory.js';
import { partyOf, type Call } from '../../src/domain/voice/model.js';
import { callNote, connectBarrier, listen, type Listener, type Notification } from '../helpers/cometd.js';
import { basic, gws, type GwsClient, type Reply } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { quietFor } from '../helpers/wait.js';

const LONG = process.env['CONCLAVE_LONG_TESTS'] === '1';
const BASE_SEED = Number(process.env['CONCLAVE_SEED'] ?? 20261126);
const ROUNDS = LONG ? 4 : 1;
const OPERATIONS = LONG ? 500 : 150;

const AGENT_DNS = Array.from({ length: 12 }, (_, i) => String(16000 + i));
const OBSERVER = { userName: 'observer16099', dn: '16099' };
const WATCHER = 'watcher';
const VICTIM = { userName: 'victim16098', dn: '16098' };

const directory = buildDirectory(
  {
    users: [
      ...AGENT_DNS.map((dn) => ({ userName: `agent${dn}`, password: `agent${dn}`, roles: ['ROLE_AGENT'], phoneNumber: dn })),
      { userName: OBSERVER.userName, password: OBSERVER.userName, roles: ['ROLE_AGENT'], phoneNumber: OBSERVER.dn },
      { userName: VICTIM.userName, password: VICTIM.userName, roles: ['ROLE_AGENT'], phoneNumber: VICTIM.dn },
      { userName: WATCHER, password: WATCHER, roles: ['ROLE_AGENT', 'ROLE_SUPERVISOR'] },
    ],
  },
  'notification-isolation test directory',
);

/** Channel names a client has no business subscribing to. */
const OTHER_CHANNELS = ['/v2/me/calls/**', '/v2/me/calls/*', '/**', '/*', '/v2/**', '/v2/me/*', '/v2/users/x', '/v2/users/**', '/v2/calls', '/service/x'];

/** A deterministic PRNG (mulberry32). */
const prng = (seed: number) => {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  };
};

interface Agent {
  readonly user: string;
  readonly dn: string;
  readonly client: GwsClient;
  readonly listener: Listener;
  deviceId: string;
}

/** A second CometD client subscribed only to other channel names, catching every message. */
interface Snoop {
  readonly user: string;
  readonly subscriptions: Record<string, boolean>;
  readonly received: Notification[];
  /** Resolves once this client has received whatever the server had queued for it (connectBarrier). */
  caughtUp(): Promise<void>;
  disconnect(): Promise<void>;
}

const snoop = async (baseUrl: string, user: string): Promise<Snoop> => {
  const cometd = new CometD();
  cometd.unregisterTransport('websocket');
  cometd.registerExtension('ack', new AckExtension());
  cometd.configure({ url: `${baseUrl}/api/v2/notifications`, requestHeaders: { Authorization: basic(user) }, logLevel: 'warn' });
  const received: Notification[] = [];
  const subscriptions: Record<string, boolean> = {};
  const caughtUp = connectBarrier(cometd, `${user} (second client)`);
  await new Promise<void>((resolve, reject) => {
    cometd.handshake((reply) => {
      if (!reply.successful) return reject(new Error(`handshake failed for ${user}: ${JSON.stringify(reply)}`));
      let pending = OTHER_CHANNELS.length;
      for (const channel of OTHER_CHANNELS)
        // Whatever arrives is caught by the '/**' listener above, subscribed or not.
        cometd.subscribe(
          channel,
          () => undefined,
          (sub) => {
            subscriptions[channel] = sub.successful === true;
            if (--pending > 0) return;
            // Registered after the subscriptions (a local '/**' listener would make the client
            // report its '/**' subscription successful without asking the server); no
            // notification can arrive before the test starts its operations.
            cometd.addListener('/**', (message: Message) => {
              if (!message.channel.startsWith('/meta/')) received.push({ channel: message.channel, data: message.data });
            });
            resolve();
          },
        );
    });
  });
  return { user, subscriptions, received, caughtUp: () => caughtUp(), disconnect: () => new Promise<void>((resolve) => cometd.disconnect(() => resolve())) };
};

/** Bayeux messages POSTed raw to the CometD endpoint. */
const bayeux = async (baseUrl: string, messages: unknown[], headers: Record<string, string> = {}, timeoutMs = 10_000) => {
  const response = await fetch(`${baseUrl}/api/v2/notifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(messages),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  const browser = response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0] as string)
    .find((c) => c.startsWith('BAYEUX_BROWSER='));
  return { status: response.status, body, browser };
};

const dnsOf = (participants: any[] | undefined): string[] => (participants ?? []).map((p) => p.phoneNumber as string).sort();

const VOICE_OPS = [
  'Answer',
  'Hangup',
  'Hold',
  'Retrieve',
  'SingleStepConference',
  'InitiateConference',
  'CompleteConference',
  'RemoveParticipantFromConference',
] as const;

describe('notification isolation (12 agents, random voice operations)', () => {
  let server: TestServer;
  let agents: Agent[];
  let snoops: Snoop[];
  let observer: Listener;
  const outcomes: string[] = [];
  /** Operations on calls the actor was never on, with their answers (calls in creation order). */
  const outsiders: { what: string; reply: Reply }[] = [];

  const agentOf = (dn: string) => agents.find((a) => a.dn === dn) as Agent;
  const allCallIds = (): string[] => {
    const db = new Database(server.dataFile, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT id FROM calls ORDER BY rowid').all() as { id: string }[]).map((r) => r.id);
    } finally {
      db.close();
    }
  };
  /** A call as committed to the data file, read through a second connection. */
  const storedCall = (id: string): Call | undefined => {
    const db = new Database(server.dataFile, { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('SELECT body FROM calls WHERE id = ?').get(id) as { body: string } | undefined;
      return row ? (JSON.parse(row.body) as Call) : undefined;
    } finally {
      db.close();
    }
  };

  before(async () => {
    server = await startTestServer({ directory });
    agents = await Promise.all(
      AGENT_DNS.map(async (dn) => {
        const user = `agent${dn}`;
        const client = gws(server.url, user);
        return { user, dn, client, listener: await listen(server.url, user), deviceId: await client.deviceId() };
      }),
    );
    observer = await listen(server.url, OBSERVER.userName);
    snoops = await Promise.all([snoop(server.url, 'agent16000'), snoop(server.url, 'agent16007'), snoop(server.url, OBSERVER.userName), snoop(server.url, WATCHER)]);
  });
  after(async () => {
    await Promise.all([...(agents ?? []).map((a) => a.listener.disconnect()), observer?.disconnect(), ...(snoops ?? []).map((s) => s.disconnect())]);
    await server?.dispose();
  });

  /** One seeded round of random operations, sequential. */
  const drive = async (seed: number) => {
    const random = prng(seed);
    for (let step = 0; step < OPERATIONS; step++) {
      const actor = random.pick(agents);
      // In creation order, so that a seed replays the same choices whatever the random call ids.
      const order = allCallIds();
      const mine = ((await actor.client.get('/api/v2/me/calls?fields=*')).body.calls as any[]).sort((x, y) => order.indexOf(x.id) - order.indexOf(y.id));
      const roll = random.next();
      if (roll < 0.22 || mine.length === 0) {
        // Dial another agent (now and then oneself: refused).
        const to = random.next() < 0.05 ? actor.dn : random.pick(AGENT_DNS.filter((d) => d !== actor.dn));
        const reply = await actor.client.post(`/api/v2/me/devices/${actor.deviceId}/calls`, { operationName: 'Dial', destination: { phoneNumber: to } });
        outcomes.push(`[${seed}#${step}] ${actor.dn} Dial ${to} -> ${reply.status} ${reply.body?.statusCode}`);
        assert.ok(reply.status < 500, `no 5xx: ${outcomes.at(-1)} ${JSON.stringify(reply.body)}`);
        continue;
      }
      if (roll < 0.3) {
        // An operation on a call this agent was never a party of.
        const foreign = allCallIds().filter((id) => !partyOf(storedCall(id) as Call, actor.dn));
        if (foreign.length > 0) {
          const callId = random.pick(foreign);
          const op = random.pick(VOICE_OPS);
          const reply = await actor.client.post(`/api/v2/me/calls/${callId}`, { operationName: op, participant: random.pick(AGENT_DNS), destination: { phoneNumber: random.pick(AGENT_DNS) } });
          outsiders.push({ what: `${actor.dn} ${op} on ${callId} (never a party)`, reply });
          outcomes.push(`[${seed}#${step}] ${actor.dn} ${op} on foreign ${callId} -> ${reply.status} ${reply.body?.statusCode}`);
          assert.ok(reply.status < 500, `no 5xx: ${outcomes.at(-1)} ${JSON.stringify(reply.body)}`);
          continue;
        }
      }
      const call = random.pick(mine);
      const offered = VOICE_OPS.filter((op) => (call.capabilities as string[]).includes(op));
      const op = offered.length > 0 && random.next() < 0.85 ? random.pick(offered) : random.pick(VOICE_OPS);
      const others = dnsOf(call.participants);
      const body: Record<string, unknown> = { operationName: op };
      if (op === 'SingleStepConference' || op === 'InitiateConference') {
        const free = AGENT_DNS.filter((d) => d !== actor.dn && !others.includes(d));
        body['destination'] = { phoneNumber: free.length > 0 && random.next() < 0.9 ? random.pick(free) : random.pick(AGENT_DNS) };
      }
      if (op === 'RemoveParticipantFromConference') body['participant'] = others.length > 0 && random.next() < 0.9 ? random.pick(others) : random.pick(AGENT_DNS);
      const reply = await actor.client.post(`/api/v2/me/calls/${call.id}`, body);
      outcomes.push(`[${seed}#${step}] ${actor.dn} ${JSON.stringify(body)} on ${call.id} (${call.state}) -> ${reply.status} ${reply.body?.statusCode}`);
      assert.ok(reply.status < 500, `no 5xx: ${outcomes.at(-1)} ${JSON.stringify(reply.body)}`);
    }
  };

  /**
   * The cases after the first check what its seeded rounds produced (calls, notifications,
   * refusals). Run without it (e.g. alone, with --test-name-pattern) they would find nothing to
   * check and pass on nothing: they fail instead.
   */
  const assertDriven = () =>
    assert.ok(
      driven && outcomes.length === OPERATIONS * ROUNDS,
      `the seeded rounds have not run to the end (${outcomes.length} of ${OPERATIONS * ROUNDS} operations): this case checks what the first case ("runs ${ROUNDS} seeded round(s) ...") produced; run it with that case`,
    );
  let driven = false;

  it(`runs ${ROUNDS} seeded round(s) of ${OPERATIONS} random voice operations without a 5xx`, async (t) => {
    for (let round = 0; round < ROUNDS; round++) await drive(BASE_SEED + round);
    // Every client — the agents', the observer's and the second clients — has received all that
    // the operations sent it (each was answered before this), so what the cases below read is complete.
    await Promise.all([...agents.map((a) => a.listener.caughtUp()), observer.caughtUp(), ...snoops.map((s) => s.caughtUp())]);
    driven = true;
    const accepted = outcomes.filter((o) => / -> 200 0$/.test(o)).length;
    t.diagnostic(`seed ${BASE_SEED}: ${outcomes.length} operations, ${accepted} accepted, ${allCallIds().length} calls, ${agents.reduce((n, a) => n + a.listener.received.length, 0)} notifications`);
    assert.ok(accepted > OPERATIONS * ROUNDS * 0.3, `enough operations were accepted to mean something (${accepted})`);
    assert.ok(
      allCallIds().some((id) => (storedCall(id)?.parties.length ?? 0) >= 3),
      'at least one call reached three parties (a conference)',
    );
  });

  it('every notification a user receives is about a call they are or were a party of, from their own point of view', () => {
    assertDriven();
    const problems: string[] = [];
    let checked = 0;
    for (const agent of agents)
      agent.listener.received.forEach((n, i) => {
        checked++;
        const where = `${agent.dn} notification #${i} (${n.channel} ${n.data?.notificationType} ${n.data?.call?.id} ${n.data?.call?.state})`;
        if (n.channel !== '/v2/me/calls') return problems.push(`${where}: unexpected channel`);
        if (n.data.messageType !== 'CallStateChangeMessage') problems.push(`${where}: messageType ${n.data.messageType}`);
        if (n.data.phoneNumber !== agent.dn) problems.push(`${where}: phoneNumber ${n.data.phoneNumber}`);
        const call = storedCall(n.data.call?.id);
        if (!call) return problems.push(`${where}: no such call in the store`);
        if (!partyOf(call, agent.dn)) problems.push(`${where}: ${agent.dn} was never a party of ${call.id} (parties ${call.parties.map((p) => p.dn)})`);
        if (!String(n.data.call.deviceUri).endsWith(`/devices/${agent.deviceId}`)) problems.push(`${where}: deviceUri ${n.data.call.deviceUri} is not ${agent.dn}'s device`);
        for (const dn of dnsOf(n.data.call.participants)) {
          if (dn === agent.dn) problems.push(`${where}: lists the user themself as a participant`);
          if (!partyOf(call, dn)) problems.push(`${where}: participant ${dn} was never on ${call.id}`);
        }
        return undefined;
      });
    assert.ok(checked > 0, 'the agents received notifications to check');
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} problems of ${checked} notifications (seed ${BASE_SEED})`);
  });

  it('every party of every call heard about it; users who took part in nothing heard nothing', () => {
    assertDriven();
    const missing: string[] = [];
    let parties = 0;
    const callIds = allCallIds();
    assert.ok(callIds.length > 0, 'the rounds made calls');
    for (const id of callIds) {
      const call = storedCall(id) as Call;
      for (const party of call.parties) {
        parties++;
        const agent = agents.find((a) => a.dn === party.dn);
        if (!agent) {
          missing.push(`${party.dn} is a party of ${id} but is not one of the twelve agents`);
          continue;
        }
        if (!agent.listener.received.some((n) => n.data?.call?.id === id)) missing.push(`${party.dn} received nothing about ${id} (${party.state})`);
      }
    }
    assert.ok(parties > 0, 'the calls have parties to check');
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} of ${parties} parties without a notification (seed ${BASE_SEED})`);
    for (const agent of agents)
      if (agent.listener.received.length === 0)
        assert.ok(!allCallIds().some((id) => partyOf(storedCall(id) as Call, agent.dn)), `${agent.dn} took part in a call but received nothing`);
    assert.deepEqual(observer.received, [], 'the uninvolved observer received nothing');
  });

  it("the last notification about each call agrees with the user's final GET /api/v2/me/calls", async () => {
    assertDriven();
    const problems: string[] = [];
    let compared = 0;
    for (const agent of agents) {
      const calls = (await agent.client.get('/api/v2/me/calls?fields=*')).body.calls as any[];
      const last = new Map<string, any>();
      for (const n of agent.listener.received) if (n.data?.call) last.set(n.data.call.id, n.data.call);
      compared += new Set([...calls.map((c) => c.id as string), ...last.keys()]).size;
      for (const call of calls) {
        const note = last.get(call.id);
        if (!note) problems.push(`${agent.dn} has ${call.id} (${call.state}) but never heard of it`);
        else if (note.state !== call.state || dnsOf(note.participants).join() !== dnsOf(call.participants).join())
          problems.push(`${agent.dn} on ${call.id}: GET says ${call.state} with [${dnsOf(call.participants)}], last notification ${note.state} with [${dnsOf(note.participants)}]`);
      }
      for (const [id, note] of last)
        if (!calls.some((c) => c.id === id) && note.state !== 'Released')
          problems.push(`${agent.dn}: ${id} is gone from GET but the last notification says ${note.state}`);
    }
    assert.ok(compared > 0, 'there are calls to compare (in GET or in the notifications)');
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} disagreements of ${compared} calls compared (seed ${BASE_SEED})`);
  });

  it('an operation on a call the user was never on answers 404 with statusCode 6', () => {
    assertDriven();
    assert.ok(outsiders.length > 0, 'the rounds made operations on calls the actor was never on');
    const wrong = outsiders.filter(({ reply }) => reply.status !== 404 || reply.body?.statusCode !== 6);
    assert.deepEqual(
      wrong.map(({ what, reply }) => `${what}: ${reply.status} ${JSON.stringify(reply.body)}`),
      [],
      `of ${outsiders.length} such operations`,
    );
  });

  it('other channel names are refused or bring nothing extra', (t) => {
    assertDriven();
    for (const s of snoops) t.diagnostic(`${s.user} subscriptions: ${JSON.stringify(s.subscriptions)}`);
    // The parties' second clients are compared with notifications that exist, not with nothing.
    const compared = snoops.reduce((n, s) => n + (agents.find((a) => a.user === s.user)?.listener.received.length ?? 0), 0);
    assert.ok(compared > 0, "the parties with a second client received notifications to compare it with");
    for (const s of snoops) {
      const agent = agents.find((a) => a.user === s.user);
      const own = (agent?.listener.received ?? []).map((n) => `${n.channel} ${n.data?.notificationType} ${n.data?.call?.id} ${n.data?.call?.state}`);
      const seen = s.received.map((n) => `${n.channel} ${n.data?.notificationType} ${n.data?.call?.id} ${n.data?.call?.state}`);
      // Exactly the user's own notifications, in the same order; nothing for an uninvolved user.
      assert.deepEqual(seen, own, `${s.user}'s second client, subscribed only to ${OTHER_CHANNELS.join(' ')}`);
      for (const n of s.received) assert.equal(n.data?.phoneNumber, agent?.dn, `${s.user}'s second client got a notification for ${n.data?.phoneNumber}`);
    }
  });

  describe("raw Bayeux: a /meta/connect with another user's clientId", () => {
    const attackers: [string, Record<string, string>][] = [
      ["another user's valid credentials", { authorization: basic('agent16003') }],
      ['no credentials', {}],
      ["the victim's user name with a wrong password", { authorization: basic(VICTIM.userName, 'wrong') }],
    ];
    for (const [name, headers] of attackers)
      it(`with ${name}: does not deliver the victim's messages, and the victim still gets them`, async () => {
        const victimAuth = { authorization: basic(VICTIM.userName) };
        const hs = await bayeux(server.url, [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: '1' }], victimAuth);
        assert.equal(hs.status, 200);
        assert.equal(hs.body[0]?.successful, true, `the victim handshakes: ${JSON.stringify(hs.body)}`);
        const clientId = hs.body[0].clientId as string;
        const victimHeaders = { ...victimAuth, ...(hs.browser ? { cookie: hs.browser } : {}) };
        const first = await bayeux(server.url, [{ channel: '/meta/connect', connectionType: 'long-polling', clientId, advice: { timeout: 0 }, id: '2' }], victimHeaders);
        assert.equal(first.body[0]?.successful, true, `the victim's first connect: ${JSON.stringify(first.body)}`);

        // The attacker's connect is sent (and held, if the server takes it) before the victim is called.
        // It asks to be held for 10 s, whatever the server's poll timeout: taken, it would still be
        // held when the Ringing notification is delivered, and would carry it.
        const attack = bayeux(server.url, [{ channel: '/meta/connect', connectionType: 'long-polling', clientId, advice: { timeout: 10_000 }, id: '3' }], headers, 12_000);
        // Refused (as it must be), it is answered at once; taken, it is held, and a held request has
        // no event to wait for: only a quiet period shows that it reached the server and stayed.
        await Promise.race([attack, quietFor(150, "the attacker's connect is held (if the server takes it)")]);
        const caller = agentOf('16011');
        const dialled = await caller.client.post(`/api/v2/me/devices/${caller.deviceId}/calls`, { operationName: 'Dial', destination: { phoneNumber: VICTIM.dn } });
        assert.deepEqual(dialled.body, { statusCode: 0 });
        const stolen = await attack;
        const leaked = (Array.isArray(stolen.body) ? stolen.body : []).filter((m: any) => typeof m?.channel === 'string' && !m.channel.startsWith('/meta/'));

        // The victim's own next connect: the Ringing notification must be there (or have been).
        const mine = await bayeux(server.url, [{ channel: '/meta/connect', connectionType: 'long-polling', clientId, id: '4' }], victimHeaders, 12_000);
        const delivered = (Array.isArray(mine.body) ? mine.body : []).filter((m: any) => m?.channel === '/v2/me/calls');

        // Clean up: the caller hangs up, the victim disconnects.
        const ringing = delivered[0]?.data?.call?.id ?? leaked[0]?.data?.call?.id;
        if (ringing) await caller.client.post(`/api/v2/me/calls/${ringing}`, { operationName: 'Hangup' });
        await bayeux(server.url, [{ channel: '/meta/disconnect', clientId, id: '5' }], victimHeaders).catch(() => undefined);

        assert.deepEqual(
          leaked.map((m: any) => `${m.channel} ${m.data?.notificationType} ${m.data?.phoneNumber} ${m.data?.call?.state}`),
          [],
          `the attacker (${name}) received the victim's messages; the attacker's connect was answered HTTP ${stolen.status} ${JSON.stringify(stolen.body).slice(0, 400)}`,
        );
        assert.ok(
          delivered.some((m: any) => callNote('StatusChange', { state: 'Ringing' })({ channel: m.channel, data: m.data })),
          `the victim's own connect delivers its Ringing notification: HTTP ${mine.status} ${JSON.stringify(mine.body).slice(0, 400)}`,
        );
      });
  });
});
