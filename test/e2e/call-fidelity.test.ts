/**
 * Call-level fidelity to the GWS reference pages, over real HTTP and the official CometD client:
 * what a Released call keeps, the order of CompleteTransfer's notifications, the held parent's
 * capabilities during a transfer and a conference consultation, call recording and
 * SetCallDisposition. Each test names the page it follows (docs.genesys.com, GWS/HTCC 8.5.2–8.6.0).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildDirectory } from '../../src/directory/directory.js';
import { DEMO_DIRECTORY } from '../../src/directory/demo.js';
import { callNote, listen, type Listener, type Notification } from '../helpers/cometd.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The demo directory, with 15000's DN recorded (SIP Server's `record` option), and one agent
 * (norec15005) without api-voice-recording on a recorded DN.
 */
const directory = buildDirectory(
  {
    users: [
      ...DEMO_DIRECTORY.users.map((u) => (u.userName === 'agent15000' ? { ...u, recording: true } : u)),
      { userName: 'norec15005', password: 'norec15005', roles: ['ROLE_AGENT'], phoneNumber: '15005', recording: true, features: ['api-voice'] },
    ],
  },
  'call fidelity directory',
);

const dnsOf = (call: any): string[] => (call.participants as { phoneNumber: string }[]).map((p) => p.phoneNumber).sort();

describe('call fidelity (GWS reference pages)', () => {
  let server: TestServer;
  let a: GwsClient, b: GwsClient, c: GwsClient, d: GwsClient, n: GwsClient;
  let la: Listener, lb: Listener, lc: Listener, ld: Listener;
  const users = ['agent15000', 'agent15001', 'agent15002', 'agent15003'];

  before(async () => {
    server = await startTestServer({ directory });
    [a, b, c, d] = users.map((u) => gws(server.url, u)) as [GwsClient, GwsClient, GwsClient, GwsClient];
    n = gws(server.url, 'norec15005');
    [la, lb, lc, ld] = (await Promise.all(users.map((u) => listen(server.url, u)))) as [Listener, Listener, Listener, Listener];
  });
  after(async () => {
    await Promise.all([la, lb, lc, ld].map((l) => l?.disconnect()));
    await server?.dispose();
  });

  /** The first notification after `mark` that matches. */
  const after_ = (l: Listener, mark: number, match: (n: Notification) => boolean, what: string) =>
    l.next((x) => l.received.indexOf(x) >= mark && match(x), 5000, what);

  const ok = async (reply: Promise<{ status: number; body: any }>, what: string) => {
    const r = await reply;
    assert.deepEqual(r.body, { statusCode: 0 }, what);
    assert.equal(r.status, 200, what);
  };

  /** `from` dials `to` (a client and its listener), `to` answers: returns the call id. */
  const connect = async (from: GwsClient, lfrom: Listener, to: GwsClient, lto: Listener, dn: string): Promise<string> => {
    const mark = lto.received.length;
    await ok(from.dial(dn), `${from.user} dials ${dn}`);
    const ringing = await after_(lto, mark, callNote('StatusChange', { state: 'Ringing' }), 'Ringing');
    const id = ringing.data.call.id as string;
    const m2 = lfrom.received.length;
    await ok(to.op(id, 'Answer'), 'Answer');
    await after_(lfrom, m2, callNote('StatusChange', { id, state: 'Established' }), 'Established');
    return id;
  };

  const hangUpAll = async () => {
    for (const client of [a, b, c, d, n])
      for (const call of (await client.get('/api/v2/me/calls?fields=*')).body.calls) await client.op(call.id, 'Hangup');
    await Promise.all([la, lb, lc, ld].map((l) => l.caughtUp()));
  };

  it('Hangup (HTCC/8.5.2/API/CallsHangup): the Released call keeps the other party, capabilities empty', async () => {
    const id = await connect(a, la, b, lb, '15001');
    const [ma, mb] = [la.received.length, lb.received.length];
    await ok(a.op(id, 'Hangup'), 'Hangup');
    const mine = await after_(la, ma, callNote('StatusChange', { id, state: 'Released' }), 'Released (15000)');
    assert.deepEqual(dnsOf(mine.data.call), ['15001']);
    assert.deepEqual(mine.data.call.capabilities, []);
    const theirs = await after_(lb, mb, callNote('StatusChange', { id, state: 'Released' }), 'Released (15001)');
    assert.deepEqual(dnsOf(theirs.data.call), ['15000']);
    // A GET of the Released call agrees with its notification.
    assert.deepEqual(dnsOf((await a.get(`/api/v2/me/calls/${id}`)).body.call), ['15001']);
  });

  it('SingleStepTransfer (HTCC/8.5.2/API/SingleStepTransfer): the Released call lists the original party, not the target', async () => {
    const id = await connect(a, la, b, lb, '15001');
    const ma = la.received.length;
    await ok(a.op(id, 'SingleStepTransfer', { destination: { phoneNumber: '15002' } }), 'SingleStepTransfer');
    const mine = await after_(la, ma, callNote('StatusChange', { id, state: 'Released' }), 'Released');
    assert.deepEqual(dnsOf(mine.data.call), ['15001']);
    assert.deepEqual(mine.data.call.capabilities, []);
    await hangUpAll();
  });

  it('ClearCall (GWS/8.6.0/API/ClearCall): every conference party stays in the Released call', async () => {
    const id = await connect(a, la, b, lb, '15001');
    const mc = lc.received.length;
    await ok(a.op(id, 'SingleStepConference', { destination: { phoneNumber: '15002' } }), 'SingleStepConference');
    await after_(lc, mc, callNote('StatusChange', { id, state: 'Ringing' }), 'Ringing (15002)');
    await ok(c.op(id, 'Answer'), 'Answer (15002)');
    const ma = la.received.length;
    await ok(b.op(id, 'ClearCall'), 'ClearCall');
    const mine = await after_(la, ma, callNote('StatusChange', { id, state: 'Released' }), 'Released');
    assert.deepEqual(dnsOf(mine.data.call), ['15001', '15002']);
    assert.deepEqual(mine.data.call.capabilities, []);
  });

  it('InitiateTransfer (HTCC/latest/API/InitiateTransfer) and CompleteTransfer (HTCC/8.5.2/API/CompleteTransfer): held parent, then original Released before consult Released', async () => {
    const id = await connect(a, la, b, lb, '15001');
    const [ma, mc] = [la.received.length, lc.received.length];
    await ok(a.op(id, 'InitiateTransfer', { destination: { phoneNumber: '15002' } }), 'InitiateTransfer');
    const held = await after_(la, ma, callNote('StatusChange', { id, state: 'Held' }), 'Held parent');
    // The sample's list, less InitiateConference and InitiateTransfer: Conclave runs one
    // consultation per call at a time (docs/fidelity.md, deviation).
    const sample = ['UpdateUserData', 'SwapCalls', 'InitiateConference', 'SingleStepTransfer', 'InitiateTransfer', 'AttachUserData',
      'DeleteUserDataPair', 'SingleStepConference', 'DeleteUserData', 'Hangup', 'CompleteTransfer'];
    const expected = sample.filter((op) => op !== 'InitiateConference' && op !== 'InitiateTransfer');
    assert.deepEqual([...held.data.call.capabilities].sort(), [...expected].sort());
    assert.ok(!held.data.call.capabilities.includes('Retrieve'), 'no Retrieve during a transfer consultation');
    const ringing = await after_(lc, mc, callNote('StatusChange', { state: 'Ringing', callType: 'Consult' }), 'consult Ringing');
    const consultId = ringing.data.call.id as string;
    await ok(c.op(consultId, 'Answer'), 'Answer the consultation');
    await after_(la, ma, callNote('StatusChange', { id: consultId, state: 'Established' }), 'consult Established');
    await la.caughtUp();
    const m2 = la.received.length;
    // Sample 1 posts on the consult call.
    await ok(a.op(consultId, 'CompleteTransfer'), 'CompleteTransfer');
    await la.next(() => la.received.filter((x, i) => i >= m2 && callNote('StatusChange', { state: 'Released' })(x)).length >= 2, 5000, 'two Released');
    const order = la.received.slice(m2).filter(callNote('StatusChange', { state: 'Released' }));
    assert.deepEqual(order.map((x) => x.data.call.id), [id, consultId], 'the original call is released first, then the consult call');
    assert.deepEqual(dnsOf(order[0]!.data.call), ['15001'], 'the original call keeps the customer, not the consulted party');
    assert.deepEqual(dnsOf(order[1]!.data.call), ['15002'], 'the consult call keeps the consulted party');
    await hangUpAll();
  });

  it('CompleteTransfer before the consulted party answers: they ring on the parent (the held sample offers CompleteTransfer at once)', async () => {
    const id = await connect(a, la, b, lb, '15001');
    const mc = lc.received.length;
    await ok(a.op(id, 'InitiateTransfer', { destination: { phoneNumber: '15002' } }), 'InitiateTransfer');
    await after_(lc, mc, callNote('StatusChange', { state: 'Ringing', callType: 'Consult' }), 'consult Ringing');
    const m2 = lc.received.length;
    await ok(a.op(id, 'CompleteTransfer'), 'CompleteTransfer while ringing');
    await after_(lc, m2, callNote('StatusChange', { id, state: 'Ringing' }), 'rings on the parent');
    await ok(c.op(id, 'Answer'), 'the consulted party answers the transferred call');
    assert.deepEqual(dnsOf((await c.get(`/api/v2/me/calls/${id}`)).body.call), ['15001']);
    await hangUpAll();
  });

  it('InitiateConference (HTCC/latest/API/InitiateConference): the held parent offers Retrieve; CompleteConference on a transfer consultation is refused', async () => {
    const id = await connect(a, la, b, lb, '15001');
    const ma = la.received.length;
    await ok(a.op(id, 'InitiateConference', { destination: { phoneNumber: '15002' } }), 'InitiateConference');
    const held = await after_(la, ma, callNote('StatusChange', { id, state: 'Held' }), 'Held parent');
    // The sample's list as far as the page shows it, less the two Initiate* (deviation).
    for (const op of ['UpdateUserData', 'Retrieve', 'SingleStepTransfer', 'AttachUserData']) assert.ok(held.data.call.capabilities.includes(op), op);
    assert.ok(!held.data.call.capabilities.includes('SwapCalls'), 'Retrieve, not SwapCalls, while the conference consultation dials');
    await hangUpAll();

    // InitiateTransfer sample: a transfer consultation offers CompleteTransfer, not CompleteConference.
    const id2 = await connect(a, la, b, lb, '15001');
    const mc = lc.received.length;
    await ok(a.op(id2, 'InitiateTransfer', { destination: { phoneNumber: '15002' } }), 'InitiateTransfer');
    const ringing = await after_(lc, mc, callNote('StatusChange', { state: 'Ringing', callType: 'Consult' }), 'consult Ringing');
    await ok(c.op(ringing.data.call.id, 'Answer'), 'Answer');
    await Promise.all([la, lb, lc].map((l) => l.caughtUp()));
    const marks = [la, lb, lc].map((l) => l.received.length);
    const refused = await a.op(id2, 'CompleteConference');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.statusCode, 2);
    assert.match(refused.body.statusMessage, /InitiateTransfer/);
    assert.ok(!(await a.get(`/api/v2/me/calls/${id2}`)).body.call.capabilities.includes('CompleteConference'));
    await Promise.all([la, lb, lc].map((l) => l.caughtUp()));
    assert.deepEqual([la, lb, lc].map((l) => l.received.length), marks, 'a refused CompleteConference notifies nobody');
    await hangUpAll();
  });

  describe('call recording (GWS/8.6.0/API/CallRecordingStartCallRecording, …Pause…, …Stop…; GWS/8.5.1/API/CallRecordingOperations)', () => {
    it('Start, Pause, Resume, Stop: CallRecordingStateChange with recordingState and the recording capabilities', async () => {
      const id = await connect(a, la, b, lb, '15001');
      const before = (await a.get(`/api/v2/me/calls/${id}`)).body.call;
      // CallResource sample: a recordable call shows recordingState Stopped and offers StartCallRecording.
      assert.equal(before.recordingState, 'Stopped');
      assert.equal(before.capabilities.at(-1), 'StartCallRecording');
      const keys = Object.keys(before);
      assert.equal(keys[keys.indexOf('mute') + 1], 'recordingState', 'recordingState follows mute');
      assert.equal(keys[keys.indexOf('recordingState') + 1], 'supervisorListeningIn');

      const steps: [string, string, string[]][] = [
        ['StartCallRecording', 'Recording', ['PauseCallRecording', 'StopCallRecording']],
        ['PauseCallRecording', 'Paused', ['ResumeCallRecording', 'StopCallRecording']],
        ['ResumeCallRecording', 'Recording', ['PauseCallRecording', 'StopCallRecording']],
        ['StopCallRecording', 'Stopped', ['StartCallRecording']],
      ];
      for (const [op, state, tail] of steps) {
        const [ma, mb] = [la.received.length, lb.received.length];
        await ok(a.op(id, op), op);
        for (const [l, m] of [[la, ma], [lb, mb]] as const) {
          const note = await after_(l, m, callNote('CallRecordingStateChange', { id }), `${op} → ${l.user}`);
          assert.equal(note.data.messageType, 'CallStateChangeMessage');
          assert.equal(note.data.call.recordingState, state);
          assert.equal(note.data.call.state, 'Established');
          // The standard list first, then the recording operations valid now, as the samples order them.
          assert.deepEqual(note.data.call.capabilities.slice(-tail.length), tail, `${op}: capabilities end`);
          assert.equal(note.data.call.capabilities.at(-tail.length - 1), 'Hangup');
        }
      }
      // The call ends: the recording stops with it ("Start stops when the call completes").
      await ok(a.op(id, 'StartCallRecording'), 'start again');
      const ma = la.received.length;
      await ok(b.op(id, 'Hangup'), 'Hangup');
      const released = await after_(la, ma, callNote('StatusChange', { id, state: 'Released' }), 'Released');
      assert.equal(released.data.call.recordingState, 'Stopped');
      assert.deepEqual(released.data.call.capabilities, []);
    });

    it('bad input: the wrong recording state, an unrecordable call, no feature: 4xx, nothing changed, nobody notified', async () => {
      const id = await connect(a, la, b, lb, '15001');
      const unrecorded = await connect(b, lb, c, lc, '15002');
      await Promise.all([la, lb, lc].map((l) => l.caughtUp()));
      const marks = [la, lb, lc].map((l) => l.received.length);
      const cases: [GwsClient, string, string, number, number, RegExp][] = [
        [a, id, 'PauseCallRecording', 400, 2, /Stopped/],
        [a, id, 'ResumeCallRecording', 400, 2, /Stopped/],
        [a, id, 'StopCallRecording', 400, 2, /Stopped/],
        [b, unrecorded, 'StartCallRecording', 400, 2, /not recordable/],
      ];
      for (const [client, callId, op, status, code, message] of cases) {
        const reply = await client.op(callId, op);
        assert.equal(reply.status, status, op);
        assert.equal(reply.body.statusCode, code, op);
        assert.match(reply.body.statusMessage, message, op);
      }
      assert.equal((await a.get(`/api/v2/me/calls/${id}`)).body.call.recordingState, 'Stopped');
      assert.equal((await b.get(`/api/v2/me/calls/${unrecorded}`)).body.call.recordingState, undefined, 'an unrecordable call shows no recordingState');
      await Promise.all([la, lb, lc].map((l) => l.caughtUp()));
      assert.deepEqual([la, lb, lc].map((l) => l.received.length), marks, 'nobody was notified');
      await hangUpAll();
    });

    it('a user without api-voice-recording on a recorded DN: 403 statusCode 5, not offered', async () => {
      const m = lb.received.length;
      await ok(n.dial('15001'), 'norec15005 dials 15001');
      const ringing = await after_(lb, m, callNote('StatusChange', { state: 'Ringing' }), 'Ringing');
      const id = ringing.data.call.id as string;
      await ok(b.op(id, 'Answer'), 'Answer');
      const view = (await n.get(`/api/v2/me/calls/${id}`)).body.call;
      assert.equal(view.recordingState, 'Stopped');
      assert.ok(!view.capabilities.includes('StartCallRecording'));
      assert.ok((await b.get(`/api/v2/me/calls/${id}`)).body.call.capabilities.includes('StartCallRecording'), 'the other party has the feature');
      const reply = await n.op(id, 'StartCallRecording');
      assert.equal(reply.status, 403);
      assert.equal(reply.body.statusCode, 5);
      assert.match(reply.body.statusMessage, /api-voice-recording/);
      await hangUpAll();
    });
  });

  describe('SetCallDisposition (HTCC/latest/API/CallsSetCallDisposition)', () => {
    it('on an active call: AttachedDataChanged with the disposition under dispositionKey (or DispositionCode)', async () => {
      const id = await connect(a, la, b, lb, '15001');
      let ma = la.received.length;
      await ok(
        a.op(id, 'SetCallDisposition', { callUri: `${server.url}/api/v2/calls/${id}`, callUuid: id, disposition: 'Referred', dispositionKey: 'DispositionCode' }),
        'the sample request',
      );
      let note = await after_(la, ma, callNote('AttachedDataChanged', { id, state: 'Established' }), 'AttachedDataChanged');
      assert.equal(note.data.call.userData.DispositionCode, 'Referred');
      assert.ok(!note.data.call.capabilities.includes('SetCallDisposition'), 'not listed, as in every sample');
      ma = la.received.length;
      await ok(a.op(id, 'SetCallDisposition', { disposition: 'Sold', dispositionKey: 'Outcome' }), 'another key');
      note = await after_(la, ma, callNote('AttachedDataChanged', { id }), 'AttachedDataChanged (Outcome)');
      assert.equal(note.data.call.userData.Outcome, 'Sold');
      assert.equal(note.data.call.userData.DispositionCode, 'Referred');
      await ok(a.op(id, 'Hangup'), 'Hangup');
      // On a released call: accepted, and no notification.
      await Promise.all([la, lb].map((l) => l.caughtUp()));
      const marks = [la.received.length, lb.received.length];
      await ok(a.op(id, 'SetCallDisposition', { disposition: 'Late' }), 'after release');
      await Promise.all([la, lb].map((l) => l.caughtUp()));
      assert.deepEqual([la.received.length, lb.received.length], marks, 'no notification on a released call');
    });

    it('bad input: no disposition, another call named: 400, nothing changed, nobody notified', async () => {
      const id = await connect(a, la, b, lb, '15001');
      await Promise.all([la, lb].map((l) => l.caughtUp()));
      const marks = [la.received.length, lb.received.length];
      const cases: [Record<string, unknown>, number, RegExp][] = [
        [{}, 1, /disposition/],
        [{ disposition: '' }, 10, /disposition/],
        [{ disposition: 7 }, 10, /disposition/],
        [{ disposition: 'X', callUuid: 'SOMETHINGELSE' }, 10, /callUuid/],
        [{ disposition: 'X', callUri: `${server.url}/api/v2/calls/SOMETHINGELSE` }, 10, /callUri/],
      ];
      for (const [params, code, message] of cases) {
        const reply = await a.op(id, 'SetCallDisposition', params);
        assert.equal(reply.status, 400, JSON.stringify(params));
        assert.equal(reply.body.statusCode, code, JSON.stringify(params));
        assert.match(reply.body.statusMessage, message);
      }
      assert.equal((await a.get(`/api/v2/me/calls/${id}`)).body.call.userData, undefined, 'no user data was set');
      await Promise.all([la, lb].map((l) => l.caughtUp()));
      assert.deepEqual([la.received.length, lb.received.length], marks, 'nobody was notified');
      await hangUpAll();
    });
  });
});
