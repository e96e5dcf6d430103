/**
 * The seed scenario, end to end over real HTTP and the official CometD client: 15000 dials
 * 15001, 15001 answers, 15000 conferences 15002 in (two ways), 15000 removes 15001.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { callNote, listen, type Listener } from '../helpers/cometd.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const seed = JSON.parse(readFileSync(new URL('../../../test/fixtures/seed-voice-remove-participant.json', import.meta.url), 'utf8'));

/** Keys whose values are ids, times or addresses: compared by presence and shape only. */
const VOLATILE = new Set(['id', 'callUuid', 'connId', 'deviceUri', 'uri', 'path', 'duration']);

describe('seed: RemoveParticipantFromConference (voice)', () => {
  let server: TestServer;
  let a: GwsClient, b: GwsClient, c: GwsClient;
  let la: Listener, lb: Listener, lc: Listener;

  before(async () => {
    server = await startTestServer();
    [a, b, c] = ['agent15000', 'agent15001', 'agent15002'].map((u) => gws(server.url, u)) as [GwsClient, GwsClient, GwsClient];
    [la, lb, lc] = (await Promise.all(["agent15000", "agent15001", "agent15002"].map((u) => listen(server.url, u)))) as [Listener, Listener, Listener];
  });
  after(async () => {
    await Promise.all([la, lb, lc].map((l) => l?.disconnect()));
    await server?.dispose();
  });

  /** 15000 dials 15001 and 15001 answers: returns the call id. */
  const establishTwoPartyCall = async (): Promise<string> => {
    const from = lb.received.length;
    assert.deepEqual((await a.dial('15001')).body, { statusCode: 0 });
    const ringing = await lb.next((n) => lb.received.indexOf(n) >= from && callNote('StatusChange', { state: 'Ringing' })(n), 5000, 'Ringing');
    const callId = ringing.data.call.id as string;
    assert.deepEqual((await b.op(callId, 'Answer')).body, { statusCode: 0 });
    await la.next(callNote('StatusChange', { id: callId, state: 'Established' }));
    return callId;
  };

  const removeAndCheck = async (callId: string) => {
    await Promise.all([la, lb, lc].map((l) => l.caughtUp()));
    const marks = { a: la.received.length, b: lb.received.length, c: lc.received.length };
    const reply = await a.op(callId, seed.request.operationName, { participant: seed.request.participant });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, seed.response);

    // The owner's notification has the seed sample's keys and values (ids and times aside).
    const owner = await la.next((n) => la.received.indexOf(n) >= marks.a && callNote('ParticipantsUpdated', { id: callId })(n), 5000, 'ParticipantsUpdated');
    const expected = seed.notification;
    assert.equal(owner.channel, expected.channel);
    assert.deepEqual(Object.keys(owner.data).sort(), Object.keys(expected.data).sort());
    for (const key of Object.keys(expected.data).filter((k) => k !== 'call')) assert.deepEqual(owner.data[key], expected.data[key], key);
    assert.deepEqual(Object.keys(owner.data.call).sort(), Object.keys(expected.data.call).sort());
    for (const [key, value] of Object.entries(expected.data.call)) {
      if (VOLATILE.has(key)) assert.equal(typeof owner.data.call[key], typeof value, key);
      else if (key === 'capabilities') assert.deepEqual([...owner.data.call[key]].sort(), [...(value as string[])].sort(), key);
      else assert.deepEqual(owner.data.call[key], value, key);
    }
    assert.equal(owner.data.call.id, callId);
    assert.equal(owner.data.call.callUuid, callId);
    assert.equal(owner.data.call.uri, `${server.url}/api/v2/me/calls/${callId}`);
    assert.equal(owner.data.call.path, `/calls/${callId}`);
    assert.match(owner.data.call.duration, /^\d+$/);

    // The removed party's call is released, with nothing left to do.
    const removed = await lb.next((n) => lb.received.indexOf(n) >= marks.b && callNote('StatusChange', { id: callId, state: 'Released' })(n), 5000, 'Released');
    assert.deepEqual(removed.data.call.capabilities, []);
    assert.equal(removed.data.phoneNumber, '15001');

    // The remaining party sees the owner only, and the call stays Established.
    const third = await lc.next((n) => lc.received.indexOf(n) >= marks.c && callNote('ParticipantsUpdated', { id: callId })(n), 5000, 'ParticipantsUpdated');
    assert.equal(third.data.call.state, 'Established');
    assert.deepEqual(third.data.call.participants.map((p: any) => p.phoneNumber), ['15000']);
    assert.equal(third.data.phoneNumber, '15002');

    // GET agrees with the notifications.
    const ownerView = await a.get(`/api/v2/me/calls/${callId}`);
    assert.equal(ownerView.body.call.state, 'Established');
    assert.deepEqual(ownerView.body.call.participants.map((p: any) => p.phoneNumber), ['15002']);
    assert.ok(!ownerView.body.call.capabilities.includes('RemoveParticipantFromConference'));
    const gone = await b.get('/api/v2/me/calls?fields=*');
    assert.ok(!gone.body.calls.some((x: any) => x.id === callId), '15001 no longer has the call');
  };

  it('with InitiateConference + CompleteConference', async () => {
    const callId = await establishTwoPartyCall();
    const mark = la.received.length;
    assert.deepEqual((await a.op(callId, 'InitiateConference', { destination: { phoneNumber: '15002' } })).body, { statusCode: 0 });
    const consultRinging = await lc.next(callNote('StatusChange', { state: 'Ringing', callType: 'Consult' }));
    const consultId = consultRinging.data.call.id as string;
    assert.notEqual(consultId, callId);
    assert.equal(consultRinging.data.call.parentCallUri, `${server.url}/api/v2/me/calls/${callId}`);
    assert.equal(consultRinging.data.call.parentCallPath, `/calls/${callId}`);
    const held = await la.next((n) => la.received.indexOf(n) >= mark && callNote('StatusChange', { id: callId, state: 'Held' })(n));
    assert.ok(held);
    assert.deepEqual((await c.op(consultId, 'Answer')).body, { statusCode: 0 });
    const consultUp = await la.next(callNote('StatusChange', { id: consultId, state: 'Established' }));
    for (const cap of ['CompleteConference', 'CompleteTransfer', 'SwapCalls']) assert.ok(consultUp.data.call.capabilities.includes(cap), cap);

    assert.deepEqual((await a.op(consultId, 'CompleteConference')).body, { statusCode: 0 });
    // The consult call is released for both its parties; 15002 joins the parent call.
    await la.next(callNote('StatusChange', { id: consultId, state: 'Released' }));
    await lc.next(callNote('StatusChange', { id: consultId, state: 'Released' }));
    const joined = await lc.next(callNote('StatusChange', { id: callId, state: 'Established' }));
    assert.deepEqual(joined.data.call.participants.map((p: any) => p.phoneNumber).sort(), ['15000', '15001']);
    const bSees = await lb.next(callNote('ParticipantsUpdated', { id: callId }));
    assert.deepEqual(bSees.data.call.participants.map((p: any) => p.phoneNumber).sort(), ['15000', '15002']);
    const conference = await a.get(`/api/v2/me/calls/${callId}`);
    assert.equal(conference.body.call.state, 'Established');
    assert.ok(conference.body.call.capabilities.includes('RemoveParticipantFromConference'));
    // Every party has exactly one live call, with the parent's id.
    for (const client of [a, b, c]) {
      const mine = await client.get('/api/v2/me/calls?fields=*');
      assert.deepEqual(mine.body.calls.map((x: any) => x.id), [callId], client.user);
    }

    await removeAndCheck(callId);
    assert.deepEqual((await a.op(callId, 'Hangup')).body, { statusCode: 0 });
    await lc.next(callNote('StatusChange', { id: callId, state: 'Released' }));
  });

  it('with SingleStepConference', async () => {
    const callId = await establishTwoPartyCall();
    assert.deepEqual((await a.op(callId, 'SingleStepConference', { destination: { phoneNumber: '15002' } })).body, { statusCode: 0 });
    const ringing = await lc.next(callNote('StatusChange', { id: callId, state: 'Ringing' }));
    assert.equal(ringing.data.call.callType, 'Internal');
    assert.deepEqual((await c.op(callId, 'Answer')).body, { statusCode: 0 });
    await lc.next(callNote('StatusChange', { id: callId, state: 'Established' }));
    await lb.next(callNote('ParticipantsUpdated', { id: callId }));
    await removeAndCheck(callId);
  });

  it('refuses a removal by a party who is not the owner, and changes nothing', async () => {
    const callId = await establishTwoPartyCall();
    assert.deepEqual((await a.op(callId, 'SingleStepConference', { destination: { phoneNumber: '15002' } })).body, { statusCode: 0 });
    await lc.next(callNote('StatusChange', { id: callId, state: 'Ringing' }));
    await c.op(callId, 'Answer');
    await la.next(callNote('ParticipantsUpdated', { id: callId }));
    await Promise.all([la, lb, lc].map((l) => l.caughtUp()));
    const before = await Promise.all([a, b, c].map((x) => x.get(`/api/v2/me/calls/${callId}`)));
    const marks = [la, lb, lc].map((l) => l.received.length);

    const reply = await c.op(callId, 'RemoveParticipantFromConference', { participant: '15001' });
    assert.equal(reply.status, 403);
    assert.equal(reply.body.statusCode, 3);
    assert.match(reply.body.statusMessage, /owner/);
    assert.deepEqual(Object.keys(reply.body).sort(), ['statusCode', 'statusMessage']);
    const cView = await c.get(`/api/v2/me/calls/${callId}`);
    assert.ok(!cView.body.call.capabilities.includes('RemoveParticipantFromConference'));

    const afterViews = await Promise.all([a, b, c].map((x) => x.get(`/api/v2/me/calls/${callId}`)));
    const strip = (r: any) => ({ ...r.body.call, duration: undefined });
    assert.deepEqual(afterViews.map(strip), before.map(strip));
    // Caught up after the refusal's answer: anything it had sent would be here by now.
    const quiet = (await Promise.all([la, lb, lc].map((l) => l.caughtUp()))).map((all, i) => all.slice(marks[i]));
    assert.deepEqual(quiet, [[], [], []], 'a refused request sends no notification');
  });
});
