/**
 * Bad input on the voice API, end to end over real HTTP and the official CometD client: every
 * refusal is a 4xx with the contract's statusCode, a body of exactly statusCode + statusMessage
 * whose message names the problem, never a 500; it changes no party's view of any call and sends
 * no notification. Refusals follow the contract's order: 6, 5, 1/10, 3, 2.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildDirectory } from '../../src/directory/directory.js';
import { callNote, listen, type Listener } from '../helpers/cometd.js';
import { gws, type GwsClient, type Reply } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** HTTP status by statusCode (CONTRACT.md, "Responses"). */
const HTTP_OF: Readonly<Record<number, number>> = { 1: 400, 2: 400, 10: 400, 3: 403, 5: 403, 6: 404 };

interface Expected {
  readonly statusCode: number;
  /** What the message must say: it names the field, the value or the reason. */
  readonly message: RegExp;
  /** Only for refusals made before routing (413, 415); otherwise derived from statusCode. */
  readonly http?: number;
}

interface Case {
  readonly name: string;
  readonly send: () => Promise<Reply>;
  readonly expect: Expected;
}

/** The parties whose state and notifications a refused request must leave alone. */
interface World {
  readonly clients: readonly GwsClient[];
  readonly listeners: readonly Listener[];
  readonly callIds: () => readonly string[];
}

const assertRefusal = (reply: Reply, expected: Expected, what: string) => {
  const shown = JSON.stringify(reply.body);
  assert.notEqual(reply.status, 500, `${what}: never a 500 (${shown})`);
  assert.equal(reply.status, expected.http ?? HTTP_OF[expected.statusCode], `${what}: HTTP status (${shown})`);
  assert.ok(reply.body !== null && typeof reply.body === 'object', `${what}: a JSON body (${shown})`);
  assert.deepEqual(Object.keys(reply.body).sort(), ['statusCode', 'statusMessage'], `${what}: exactly statusCode and statusMessage`);
  assert.equal(reply.body.statusCode, expected.statusCode, `${what}: statusCode (${shown})`);
  assert.equal(typeof reply.body.statusMessage, 'string', `${what}: statusMessage is a string`);
  assert.match(reply.body.statusMessage, expected.message, `${what}: the message names the problem`);
};

/** A deep copy without `duration`, the one field that changes by itself as time passes. */
const withoutDuration = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(withoutDuration);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'duration').map(([k, v]) => [k, withoutDuration(v)]));
};

/** Every party's GET of every call in the world, and of their call list (a refused Dial adds nothing). */
const snapshot = async (world: World) =>
  Promise.all(
    world.clients.map(async (client) => ({
      user: client.user,
      list: withoutDuration((await client.get('/api/v2/me/calls?fields=*')).body),
      calls: await Promise.all(
        world.callIds().map(async (id) => {
          const view = await client.get(`/api/v2/me/calls/${id}`);
          return { id, status: view.status, body: withoutDuration(view.body) };
        }),
      ),
    })),
  );

/** Sends a bad request; checks the refusal, that nothing changed and that no one was notified. */
const expectRefused = async (world: World, { name, send, expect }: Case) => {
  await Promise.all(world.listeners.map((l) => l.caughtUp()));
  const marks = world.listeners.map((l) => l.received.length);
  const before = await snapshot(world);

  assertRefusal(await send(), expect, name);

  assert.deepEqual(await snapshot(world), before, `${name}: a refused request changes nothing`);
  // Caught up after the refusal's answer: anything it had sent would be here by now.
  const late = (await Promise.all(world.listeners.map((l) => l.caughtUp()))).map((all, i) => all.slice(marks[i]));
  assert.deepEqual(
    Object.fromEntries(world.listeners.map((l, i) => [l.user, late[i]])),
    Object.fromEntries(world.listeners.map((l) => [l.user, []])),
    `${name}: a refused request sends no notification`,
  );
};

const ok = (reply: Reply, what: string) => assert.deepEqual(reply.body, { statusCode: 0 }, `${what}: ${JSON.stringify(reply.body)}`);
const callPath = (id: string) => `/api/v2/me/calls/${id}`;
const dialOn = (client: GwsClient, deviceId: string, body: unknown) => client.post(`/api/v2/me/devices/${deviceId}/calls`, body);

/** `from` dials `to`'s number; returns the new call's id as `to` sees it, answered unless asked not to. */
const dialCall = async (from: GwsClient, to: GwsClient, dn: string, answer = true): Promise<string> => {
  const known = new Set(((await to.get('/api/v2/me/calls?fields=*')).body.calls as { id: string }[]).map((c) => c.id));
  ok(await from.dial(dn), `${from.user} dials ${dn}`);
  const fresh = ((await to.get('/api/v2/me/calls?fields=*')).body.calls as { id: string }[]).filter((c) => !known.has(c.id));
  assert.equal(fresh.length, 1, `${to.user} has one new call`);
  const id = (fresh[0] as { id: string }).id;
  if (answer) ok(await to.op(id, 'Answer'), `${to.user} answers`);
  return id;
};

/** The owner adds a party with SingleStepConference, who answers. */
const addParty = async (owner: GwsClient, callId: string, party: GwsClient, dn: string) => {
  ok(await owner.op(callId, 'SingleStepConference', { destination: { phoneNumber: dn } }), `conference ${dn} in`);
  ok(await party.op(callId, 'Answer'), `${party.user} answers`);
};

describe('voice: bad input is refused, changes nothing and notifies no one', () => {
  let server: TestServer;
  let a: GwsClient, b: GwsClient, c: GwsClient, d: GwsClient;
  const listeners: Listener[] = [];
  /** 15000 (owner), 15001, 15002 live; 15003 joined and hung up. */
  let conference = '';
  /** A conference that shrank to two live parties: 15000 (owner) and 15002; 15001 hung up. */
  let shrunk = '';
  let bDevice = '';
  const world: World = { clients: [], listeners, callIds: () => [conference, shrunk] };

  before(async () => {
    server = await startTestServer();
    [a, b, c, d] = ['agent15000', 'agent15001', 'agent15002', 'agent15003'].map((u) => gws(server.url, u)) as [GwsClient, GwsClient, GwsClient, GwsClient];
    listeners.push(...(await Promise.all([a, b, c, d].map((x) => listen(server.url, x.user)))));
    (world.clients as GwsClient[]).push(a, b, c, d);

    conference = await dialCall(a, b, '15001');
    await addParty(a, conference, c, '15002');
    await addParty(a, conference, d, '15003');
    ok(await d.op(conference, 'Hangup'), '15003 leaves');

    shrunk = await dialCall(a, b, '15001');
    await addParty(a, shrunk, c, '15002');
    ok(await b.op(shrunk, 'Hangup'), '15001 leaves');

    bDevice = await b.deviceId();
    // The listeners work: the set-up reached them (so "nothing arrived" below means something).
    await listeners[3]?.next(callNote('StatusChange', { id: conference, state: 'Released' }), 5000, '15003 leaving');
    await listeners[1]?.next(callNote('StatusChange', { id: shrunk, state: 'Released' }), 5000, '15001 leaving');
    const view = await a.get(callPath(conference));
    assert.equal(view.body.call.state, 'Established');
    assert.deepEqual(view.body.call.participants.map((p: any) => p.phoneNumber).sort(), ['15001', '15002']);
  });
  after(async () => {
    await Promise.all(listeners.map((l) => l.disconnect()));
    await server?.dispose();
  });

  const remove = (client: GwsClient, callId: string, params: Record<string, unknown>) =>
    client.op(callId, 'RemoveParticipantFromConference', params);
  const unknownCall = 'no-such-call-0000';

  const cases: Case[] = [
    // The body itself.
    { name: 'malformed JSON body', send: () => a.raw(callPath(conference), '{"operationName": "Hold",', 'application/json'), expect: { statusCode: 10, message: /JSON/ } },
    { name: 'a JSON array body', send: () => a.raw(callPath(conference), '[{"operationName":"Hold"}]', 'application/json'), expect: { statusCode: 10, message: /object/ } },
    { name: 'a JSON string body', send: () => a.raw(callPath(conference), '"Hold"', 'application/json'), expect: { statusCode: 10, message: /object/ } },
    { name: 'a JSON null body', send: () => a.raw(callPath(conference), 'null', 'application/json'), expect: { statusCode: 10, message: /object/ } },
    { name: 'an empty JSON body', send: () => a.raw(callPath(conference), '', 'application/json'), expect: { statusCode: 1, message: /operationName/ } },
    {
      name: 'a body over 64 KiB',
      send: () => a.raw(callPath(conference), JSON.stringify({ operationName: 'AttachUserData', userData: { big: 'x'.repeat(70 * 1024) } }), 'application/json'),
      expect: { http: 413, statusCode: 10, message: /large|size|limit|bytes/i },
    },
    { name: 'Content-Type text/plain', send: () => a.raw(callPath(conference), '{"operationName":"Hold"}', 'text/plain'), expect: { http: 415, statusCode: 10, message: /Content-Type/i } },
    { name: 'Content-Type application/xml', send: () => a.raw(callPath(conference), '<Hold/>', 'application/xml'), expect: { http: 415, statusCode: 10, message: /Content-Type/i } },
    // operationName.
    { name: 'missing operationName', send: () => a.post(callPath(conference), { participant: '15001' }), expect: { statusCode: 1, message: /operationName/ } },
    { name: 'unknown operationName', send: () => a.op(conference, 'Frobnicate'), expect: { statusCode: 10, message: /Frobnicate/ } },
    { name: 'operationName of the wrong type', send: () => a.post(callPath(conference), { operationName: 42 }), expect: { statusCode: 10, message: /operationName/ } },
    // RemoveParticipantFromConference parameters and state.
    { name: 'missing participant', send: () => remove(a, conference, {}), expect: { statusCode: 1, message: /participant/ } },
    { name: 'participant of the wrong type', send: () => remove(a, conference, { participant: 15001 }), expect: { statusCode: 10, message: /participant/ } },
    { name: 'participant not a party of the call', send: () => remove(a, conference, { participant: '15010' }), expect: { statusCode: 2, message: /15010.*\bnot\b/ } },
    { name: 'participant who already left', send: () => remove(a, conference, { participant: '15003' }), expect: { statusCode: 2, message: /15003.*\bnot\b/ } },
    { name: 'the owner removing themself', send: () => remove(a, conference, { participant: '15000' }), expect: { statusCode: 2, message: /\byou\b|yourself|owner/i } },
    { name: 'removal on a call with two live parties', send: () => remove(a, shrunk, { participant: '15002' }), expect: { statusCode: 2, message: /three|fewer|two|2 live/i } },
    // The call in the URL.
    { name: 'unknown call id', send: () => a.op(unknownCall, 'Hold'), expect: { statusCode: 6, message: new RegExp(unknownCall) } },
    { name: "another user's call (15003 was never on it)", send: () => d.op(shrunk, 'Hold'), expect: { statusCode: 6, message: /call/ } },
    // Dial.
    { name: 'Dial to an unknown phone number (neither a DN nor external-number-shaped)', send: () => a.dial('99-999'), expect: { statusCode: 10, message: /99-999/ } },
    { name: 'Dial to oneself', send: () => a.dial('15000'), expect: { statusCode: 10, message: /own|yourself/i } },
    { name: 'Dial without destination', send: async () => dialOn(a, await a.deviceId(), { operationName: 'Dial' }), expect: { statusCode: 1, message: /destination/ } },
    { name: "Dial on someone else's device", send: () => dialOn(a, bDevice, { operationName: 'Dial', destination: { phoneNumber: '15002' } }), expect: { statusCode: 6, message: /device/ } },
    // Other operations.
    { name: 'SendDtmf with invalid digits', send: () => a.op(conference, 'SendDtmf', { digits: '12x!' }), expect: { statusCode: 10, message: /digits/ } },
    { name: 'SendDtmf without digits', send: () => a.op(conference, 'SendDtmf'), expect: { statusCode: 1, message: /digits/ } },
    { name: 'Answer on an Established call', send: () => a.op(conference, 'Answer'), expect: { statusCode: 2, message: /Answer|Established/ } },
    { name: 'Retrieve on a call that is not held', send: () => a.op(conference, 'Retrieve'), expect: { statusCode: 2, message: /Retrieve|held/i } },
    // The contract's order: 6, 5, 1/10, 3, 2.
    { name: 'order: unknown call + missing participant → 6', send: () => remove(a, unknownCall, {}), expect: { statusCode: 6, message: new RegExp(unknownCall) } },
    { name: 'order: unknown call + malformed parameters → 6', send: () => a.op(unknownCall, 'SendDtmf', { digits: 'zz' }), expect: { statusCode: 6, message: new RegExp(unknownCall) } },
    { name: 'order: non-owner + missing participant → 1', send: () => remove(b, conference, {}), expect: { statusCode: 1, message: /participant/ } },
    { name: 'order: non-owner + participant of the wrong type → 10', send: () => remove(b, conference, { participant: [] }), expect: { statusCode: 10, message: /participant/ } },
    { name: 'order: non-owner + participant not in the call → 3', send: () => remove(b, conference, { participant: '15010' }), expect: { statusCode: 3, message: /owner/ } },
    { name: 'order: non-owner on a two-party call → 3', send: () => remove(c, shrunk, { participant: '15000' }), expect: { statusCode: 3, message: /owner/ } },
  ];

  for (const testCase of cases) it(testCase.name, () => expectRefused(world, testCase));
});

describe('voice: a user without the api-voice feature (statusCode 5)', () => {
  let server: TestServer;
  let owner: GwsClient, mute: GwsClient;
  const listeners: Listener[] = [];
  let callId = '';
  const world: World = { clients: [], listeners, callIds: () => [callId] };

  before(async () => {
    const directory = buildDirectory(
      {
        users: [
          { userName: 'agent15000', password: 'agent15000', roles: ['ROLE_AGENT'], phoneNumber: '15000' },
          { userName: 'novoice', password: 'novoice', roles: ['ROLE_AGENT'], phoneNumber: '15005', features: ['api-multimedia'] },
        ],
      },
      'voice-bad-input test directory',
    );
    server = await startTestServer({ directory });
    owner = gws(server.url, 'agent15000');
    mute = gws(server.url, 'novoice');
    listeners.push(...(await Promise.all([owner, mute].map((x) => listen(server.url, x.user)))));
    (world.clients as GwsClient[]).push(owner, mute);
    callId = await dialCall(owner, mute, '15005', false);
    assert.equal((await mute.get(callPath(callId))).body.call.state, 'Ringing');
    await listeners[1]?.next(callNote('StatusChange', { id: callId, state: 'Ringing' }), 5000, 'the call ringing');
  });
  after(async () => {
    await Promise.all(listeners.map((l) => l.disconnect()));
    await server?.dispose();
  });

  const cases: Case[] = [
    { name: 'Answer without api-voice → 5', send: () => mute.op(callId, 'Answer'), expect: { statusCode: 5, message: /api-voice/ } },
    { name: 'Dial without api-voice → 5', send: () => mute.dial('15000'), expect: { statusCode: 5, message: /api-voice/ } },
    { name: 'order: no feature + missing participant → 5', send: () => mute.op(callId, 'RemoveParticipantFromConference'), expect: { statusCode: 5, message: /api-voice/ } },
    { name: 'order: no feature + invalid digits → 5', send: () => mute.op(callId, 'SendDtmf', { digits: '!' }), expect: { statusCode: 5, message: /api-voice/ } },
    { name: 'order: no feature + Dial without destination → 5', send: async () => dialOn(mute, await mute.deviceId(), { operationName: 'Dial' }), expect: { statusCode: 5, message: /api-voice/ } },
    { name: 'order: no feature + unknown call → 6', send: () => mute.op('no-such-call-0005', 'Answer'), expect: { statusCode: 6, message: /no-such-call-0005/ } },
  ];

  for (const testCase of cases) it(testCase.name, () => expectRefused(world, testCase));
});
