/**
 * Supervision end to end, over real HTTP and the official CometD client.
 *
 * Voice: super15010 monitors agent 15000 (ListenIn / Coach / BargeIn on its own device, scope
 * Agent, AllCalls or NextCall). A monitoring supervisor joins the agent's calls in progress and
 * later ones, is told so on /v2/me/devices and /v2/me/calls (monitoring: true), is in nobody's
 * participants unless they barge in, and may remove a participant from a conference exactly as
 * the owner may. Without monitoring they may not (6 before ever monitoring, 3 once they are a
 * released party of the call).
 *
 * Chat: super15010 intrudes into agent15000's chat (POST /api/v2/users/{id}/chats/{chatId}
 * Intrude). Barged in (visible to all) they may remove an agent; monitoring or coaching they may
 * not (3). A monitoring supervisor and their messages (visibility Supervisors) are invisible to
 * the agents and the customer.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { callNote, listen, type Listener, type Notification } from '../helpers/cometd.js';
import { gws, type GwsClient, type Reply } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  agentTranscript,
  bringIn,
  caughtUpAll,
  chatNotes,
  chatOp,
  chatWith,
  mark,
  nextChatNote,
  openChatWorld,
  referenced,
  setChatState,
  startChatSession,
  transcript,
  type Agent,
  type ChatWorld,
} from '../helpers/chat-world.js';

const OK = { statusCode: 0 };

const expectOk = async (reply: Promise<Reply> | Reply, what: string): Promise<void> => {
  const r = await reply;
  assert.deepEqual(r.body, OK, `${what}: ${JSON.stringify(r.body)}`);
  assert.equal(r.status, 200, what);
};

/** A refusal: the HTTP status, exactly {statusCode, statusMessage}, and optionally the message. */
const expectRefused = async (reply: Promise<Reply> | Reply, statusCode: number, httpStatus: number, what: string, message?: RegExp): Promise<Reply> => {
  const r = await reply;
  assert.equal(r.body?.statusCode, statusCode, `${what}: ${JSON.stringify(r.body)}`);
  assert.equal(r.status, httpStatus, `${what}: HTTP status`);
  assert.deepEqual(Object.keys(r.body).sort(), ['statusCode', 'statusMessage'], `${what}: a failed body has exactly statusCode and statusMessage`);
  if (message) assert.match(r.body.statusMessage, message, what);
  return r;
};

const dnsOf = (call: any): string[] => call.participants.map((p: any) => p.phoneNumber);
const sortedDnsOf = (call: any): string[] => dnsOf(call).sort();

// =================================================================================================
describe('supervision: voice monitoring', () => {
  const USERS = ['agent15000', 'agent15001', 'agent15002', 'agent15003', 'super15010'] as const;
  type User = (typeof USERS)[number];
  let server: TestServer;
  let c: Record<User, GwsClient>;
  let l: Record<User, Listener>;
  let devices: Record<User, string>;

  before(async () => {
    server = await startTestServer();
    c = Object.fromEntries(USERS.map((u) => [u, gws(server.url, u)])) as Record<User, GwsClient>;
    const listeners = await Promise.all(USERS.map((u) => listen(server.url, u)));
    l = Object.fromEntries(USERS.map((u, i) => [u, listeners[i]])) as Record<User, Listener>;
    const ids = await Promise.all(USERS.map((u) => c[u].deviceId()));
    devices = Object.fromEntries(USERS.map((u, i) => [u, ids[i]])) as Record<User, string>;
  });
  after(async () => {
    await Promise.all(Object.values(l ?? {}).map((x) => x.disconnect()));
    await server?.dispose();
  });

  const deviceUri = (u: User) => `${server.url}/api/v2/devices/${devices[u]}`;
  const superDevice = (body: Record<string, unknown>) => c.super15010.post(`/api/v2/me/devices/${devices.super15010}`, body);
  const startMonitoring = (operationName: 'ListenIn' | 'Coach' | 'BargeIn', mode: 'AllCalls' | 'NextCall' = 'AllCalls', target: User = 'agent15000') =>
    superDevice({ operationName, targetDeviceUri: deviceUri(target), supervisorMonitoringScope: 'Agent', supervisorMonitoringMode: mode });
  const cancelMonitoring = () => superDevice({ operationName: 'CancelSupervisorMonitoring' });
  const superDeviceView = async () => (await c.super15010.get('/api/v2/me/devices?fields=*')).body.devices[0];

  const callsOf = async (u: User): Promise<any[]> => {
    const reply = await c[u].get('/api/v2/me/calls?fields=*');
    assert.equal(reply.body.statusCode, 0, `${u} GET calls: ${JSON.stringify(reply.body)}`);
    return reply.body.calls;
  };
  const callOf = async (u: User, callId: string): Promise<any> => {
    const reply = await c[u].get(`/api/v2/me/calls/${callId}`);
    assert.equal(reply.body.statusCode, 0, `${u} GET call ${callId}: ${JSON.stringify(reply.body)}`);
    return reply.body.call;
  };
  const marks = (): Record<User, number> => Object.fromEntries(USERS.map((u) => [u, l[u].received.length])) as Record<User, number>;
  /** Every listener has caught up: what the requests so far sent them has arrived (Listener.caughtUp). */
  const caughtUp = () => Promise.all(USERS.map((u) => l[u].caughtUp()));
  /** The first notification to `u` at or after `from` that matches. */
  const next = async (u: User, from: number, match: (n: Notification) => boolean, what: string): Promise<any> =>
    (await l[u].next((n) => l[u].received.indexOf(n) >= from && match(n), 5000, what)).data;
  const callNotesSince = (u: User, from: number, callId?: string) =>
    l[u].received.slice(from).filter((n) => n.channel === '/v2/me/calls' && (callId === undefined || n.data.call.id === callId)).map((n) => n.data);
  const isDeviceNote = (n: Notification) => n.channel === '/v2/me/devices' && n.data.messageType === 'DeviceStateChangeMessage';

  /** `from` dials `to`, who answers; returns the call id. */
  const twoPartyCall = async (from: User, to: User): Promise<string> => {
    const before = new Set((await callsOf(to)).map((x) => x.id));
    await expectOk(c[from].dial(to.slice(-5)), `${from} dials ${to}`);
    const ringing = (await callsOf(to)).filter((x) => !before.has(x.id) && x.state === 'Ringing');
    assert.equal(ringing.length, 1, `${to} has one new ringing call`);
    const callId = ringing[0].id as string;
    await expectOk(c[to].op(callId, 'Answer'), `${to} answers`);
    return callId;
  };

  /** 15000 calls 15001, then conferences 15002 in with SingleStepConference: 15000 owns it. */
  const conference = async (): Promise<string> => {
    const callId = await twoPartyCall('agent15000', 'agent15001');
    await expectOk(c.agent15000.op(callId, 'SingleStepConference', { destination: { phoneNumber: '15002' } }), '15000 conferences 15002 in');
    await expectOk(c.agent15002.op(callId, 'Answer'), '15002 answers');
    for (const u of ['agent15000', 'agent15001', 'agent15002'] as const) {
      const view = await callOf(u, callId);
      assert.equal(view.state, 'Established', `${u} is Established`);
      assert.equal(dnsOf(view).length, 2, `${u} sees two others`);
    }
    return callId;
  };

  afterEach(async () => {
    // Every test starts with nobody monitoring and nobody on a call.
    if ((await superDeviceView()).supervisorMonitoringState) await expectOk(cancelMonitoring(), 'cleanup: cancel monitoring');
    for (const u of USERS)
      for (const call of await callsOf(u)) {
        const reply = await c[u].op(call.id, 'Hangup');
        assert.ok(reply.body.statusCode === 0 || reply.body.statusCode === 6, `cleanup: ${u} hangs up ${call.id}: ${JSON.stringify(reply.body)}`);
      }
    for (const u of USERS) assert.deepEqual(await callsOf(u), [], `cleanup: ${u} has no call left`);
    await caughtUp();
  });

  it('ListenIn (AllCalls) joins a conference in progress; the monitoring supervisor removes a participant like the owner', async () => {
    const callId = await conference();
    await caughtUp();
    const m = marks();
    await expectOk(startMonitoring('ListenIn'), 'super15010 listens in on 15000');

    // The supervisor's device says what they monitor.
    const device = await next('super15010', m.super15010, (n) => isDeviceNote(n) && n.data.devices[0].supervisorMonitoringState !== undefined, 'DeviceStateChangeMessage with supervisorMonitoringState');
    assert.deepEqual(device.devices[0].supervisorMonitoringState, { state: 'ListenIn', mode: 'AllCalls', scope: 'Agent', targetDeviceUri: deviceUri('agent15000') });
    assert.equal(device.devices[0].id, devices.super15010);
    assert.ok(device.devices[0].capabilities.includes('CancelSupervisorMonitoring'), `device capabilities: ${device.devices[0].capabilities}`);
    assert.deepEqual((await superDeviceView()).supervisorMonitoringState, device.devices[0].supervisorMonitoringState, 'GET devices agrees');

    // The supervisor receives the call, flagged monitoring, and may remove a participant.
    const joined = await next('super15010', m.super15010, callNote('StatusChange', { id: callId, state: 'Established' }), 'the monitored call');
    assert.equal(joined.call.monitoring, true);
    assert.equal(joined.phoneNumber, '15010');
    assert.ok(joined.call.capabilities.includes('RemoveParticipantFromConference'), `supervisor capabilities: ${joined.call.capabilities}`);
    assert.ok(joined.call.capabilities.includes('Hangup'));
    assert.ok(!joined.call.capabilities.includes('Hold'), 'a listening supervisor cannot hold the call');
    const superCalls = await callsOf('super15010');
    assert.deepEqual(superCalls.map((x) => [x.id, x.monitoring]), [[callId, true]]);
    assert.ok(superCalls[0].capabilities.includes('RemoveParticipantFromConference'));

    // The monitored agent is told; the supervisor is in nobody's participants.
    const told = await next('agent15000', m.agent15000, callNote('ParticipantsUpdated', { id: callId }), '15000 hears that a supervisor listens in');
    assert.equal(told.call.supervisorListeningIn, true);
    assert.deepEqual(sortedDnsOf(told.call), ['15001', '15002']);
    await caughtUp();
    for (const u of ['agent15000', 'agent15001', 'agent15002'] as const) {
      const view = await callOf(u, callId);
      assert.ok(!dnsOf(view).includes('15010'), `${u} does not see the listening supervisor: ${dnsOf(view)}`);
      assert.equal(view.supervisorListeningIn, u === 'agent15000', `${u}'s supervisorListeningIn`);
      assert.equal(view.monitoring, false);
    }
    assert.deepEqual(callNotesSince('agent15001', m.agent15001), [], '15001 hears nothing of the supervisor');
    assert.deepEqual(callNotesSince('agent15002', m.agent15002), [], '15002 hears nothing of the supervisor');

    // The supervisor removes 15001: the same answer and notifications as an owner's removal.
    const r = marks();
    const reply = await c.super15010.op(callId, 'RemoveParticipantFromConference', { participant: '15001' });
    assert.deepEqual(reply.body, OK);
    assert.equal(reply.status, 200);
    const owner = await next('agent15000', r.agent15000, callNote('ParticipantsUpdated', { id: callId }), '15000 ParticipantsUpdated');
    assert.deepEqual(dnsOf(owner.call), ['15002'], 'the owner sees exactly 15002');
    assert.equal(owner.call.state, 'Established');
    const removed = await next('agent15001', r.agent15001, callNote('StatusChange', { id: callId, state: 'Released' }), '15001 Released');
    assert.deepEqual(removed.call.capabilities, []);
    assert.equal(removed.phoneNumber, '15001');
    const third = await next('agent15002', r.agent15002, callNote('ParticipantsUpdated', { id: callId }), '15002 ParticipantsUpdated');
    assert.deepEqual(dnsOf(third.call), ['15000']);
    assert.equal(third.call.state, 'Established');
    await caughtUp();
    assert.deepEqual(callNotesSince('agent15000', r.agent15000).map((d) => d.notificationType), ['ParticipantsUpdated'], '15000: one notification');
    assert.deepEqual(callNotesSince('agent15001', r.agent15001).map((d) => d.notificationType), ['StatusChange'], '15001: one notification');
    assert.deepEqual(callNotesSince('agent15002', r.agent15002).map((d) => d.notificationType), ['ParticipantsUpdated'], '15002: one notification');
    assert.ok(!(await callsOf('agent15001')).some((x) => x.id === callId), '15001 no longer has the call');
    assert.equal((await callOf('agent15000', callId)).state, 'Established');
  });

  it('a supervisor who does not monitor may not remove: 6 before ever monitoring, 3 after CancelSupervisorMonitoring', async () => {
    const callId = await conference();
    await expectRefused(c.super15010.op(callId, 'RemoveParticipantFromConference', { participant: '15001' }), 6, 404, 'before monitoring');
    await expectRefused(c.super15010.get(`/api/v2/me/calls/${callId}`), 6, 404, 'the call is not visible to the supervisor');

    let m = marks();
    await expectOk(startMonitoring('ListenIn'), 'listen in');
    await next('super15010', m.super15010, callNote('StatusChange', { id: callId, state: 'Established' }), 'the monitored call');
    m = marks();
    await expectOk(cancelMonitoring(), 'cancel');
    const left = await next('super15010', m.super15010, callNote('StatusChange', { id: callId, state: 'Released' }), 'the supervisor leaves the call');
    assert.equal(left.call.monitoring, false);
    assert.deepEqual(left.call.capabilities, []);
    const device = await next('super15010', m.super15010, isDeviceNote, 'DeviceStateChangeMessage');
    assert.equal(device.devices[0].supervisorMonitoringState, undefined, 'no supervisorMonitoringState after Cancel');
    const toldAgent = await next('agent15000', m.agent15000, callNote('ParticipantsUpdated', { id: callId }), '15000 hears the supervisor left');
    assert.equal(toldAgent.call.supervisorListeningIn, false);

    // Still visible to them, as a released party.
    const view = await callOf('super15010', callId);
    assert.equal(view.state, 'Released');
    assert.deepEqual(view.capabilities, []);
    await caughtUp();
    const quiet = marks();
    const before = await callOf('agent15000', callId);
    // CONTRACT: "3: forbidden for this actor on this resource (… not the conference owner and not
    // a monitoring supervisor)"; order 6, 5, 1/10, 3, 2. The policy (decide.ts whyNot) is checked
    // before the party's state, so the released supervisor is refused with 3, not 2.
    await expectRefused(c.super15010.op(callId, 'RemoveParticipantFromConference', { participant: '15001' }), 3, 403, 'after Cancel', /owner|monitoring/);
    const afterView = await callOf('agent15000', callId);
    assert.deepEqual(sortedDnsOf(afterView), ['15001', '15002'], 'nothing changed');
    assert.deepEqual({ ...afterView, duration: 0 }, { ...before, duration: 0 });
    await caughtUp();
    for (const u of USERS) assert.deepEqual(callNotesSince(u, quiet[u]), [], `${u}: a refused request sends no notification`);
  });

  it('AllCalls: later calls of the monitored agent are joined, other agents\' calls are not', async () => {
    let m = marks();
    await expectOk(startMonitoring('ListenIn', 'AllCalls'), 'listen in (no call in progress)');
    await next('super15010', m.super15010, (n) => isDeviceNote(n) && n.data.devices[0].supervisorMonitoringState?.mode === 'AllCalls', 'device AllCalls');
    assert.deepEqual(await callsOf('super15010'), []);

    m = marks();
    const first = await twoPartyCall('agent15000', 'agent15003');
    const joined = await next('super15010', m.super15010, (n) => callNote('StatusChange', { id: first })(n) && n.data.call.monitoring === true, 'the new call, monitored');
    assert.equal(joined.call.monitoring, true);
    assert.equal((await callOf('super15010', first)).state, 'Established');
    assert.equal((await callOf('agent15000', first)).supervisorListeningIn, true);
    assert.ok(!dnsOf(await callOf('agent15003', first)).includes('15010'));

    // Another agent's call is not joined.
    const other = await twoPartyCall('agent15001', 'agent15002');
    await caughtUp();
    assert.deepEqual((await callsOf('super15010')).map((x) => x.id), [first], 'only the monitored agent\'s call');
    assert.equal((await callOf('agent15001', other)).supervisorListeningIn, false);

    // The first call ends; monitoring goes on, and the next call is joined too.
    m = marks();
    await expectOk(c.agent15003.op(first, 'Hangup'), '15003 hangs up');
    await next('super15010', m.super15010, callNote('StatusChange', { id: first, state: 'Released' }), 'the supervisor leaves the ended call');
    assert.equal((await superDeviceView()).supervisorMonitoringState?.mode, 'AllCalls', 'AllCalls monitoring goes on');
    m = marks();
    await expectOk(c.agent15001.op(other, 'Hangup'), '15001 hangs up');
    const second = await twoPartyCall('agent15003', 'agent15000');
    const again = await next('super15010', m.super15010, callNote('StatusChange', { id: second }), 'the second call');
    assert.equal(again.call.monitoring, true);
    assert.deepEqual((await callsOf('super15010')).map((x) => [x.id, x.monitoring]), [[second, true]]);
  });

  it('NextCall: only the next call is joined; when it ends monitoring is off and a further call is not joined', async () => {
    let m = marks();
    await expectOk(startMonitoring('ListenIn', 'NextCall'), 'listen in, next call');
    const on = await next('super15010', m.super15010, (n) => isDeviceNote(n) && n.data.devices[0].supervisorMonitoringState !== undefined, 'device NextCall');
    assert.deepEqual(on.devices[0].supervisorMonitoringState, { state: 'ListenIn', mode: 'NextCall', scope: 'Agent', targetDeviceUri: deviceUri('agent15000') });

    m = marks();
    const callId = await twoPartyCall('agent15000', 'agent15003');
    const joined = await next('super15010', m.super15010, callNote('StatusChange', { id: callId }), 'the next call');
    assert.equal(joined.call.monitoring, true);

    m = marks();
    await expectOk(c.agent15003.op(callId, 'Hangup'), 'the next call ends');
    await next('super15010', m.super15010, callNote('StatusChange', { id: callId, state: 'Released' }), 'the supervisor leaves');
    const off = await next('super15010', m.super15010, (n) => isDeviceNote(n), 'DeviceStateChangeMessage: monitoring over');
    assert.equal(off.devices[0].supervisorMonitoringState, undefined, `monitoring is off: ${JSON.stringify(off.devices[0])}`);
    assert.ok(off.devices[0].capabilities.includes('ListenIn'), 'the device offers ListenIn again');
    assert.equal((await superDeviceView()).supervisorMonitoringState, undefined);

    m = marks();
    const further = await twoPartyCall('agent15000', 'agent15001');
    await caughtUp();
    assert.deepEqual(callNotesSince('super15010', m.super15010), [], 'the supervisor hears nothing of a further call');
    assert.deepEqual(await callsOf('super15010'), []);
    assert.equal((await callOf('agent15000', further)).supervisorListeningIn, false);
    await expectRefused(cancelMonitoring(), 2, 400, 'nothing to cancel after NextCall ended');
  });

  it('BargeIn: the supervisor is a participant; SwitchToListenIn / SwitchToBargeIn; MuteMonitoredUser / UnmuteMonitoredUser', async () => {
    const callId = await conference();
    await caughtUp();
    let m = marks();
    await expectOk(startMonitoring('BargeIn'), 'barge in');
    const joined = await next('super15010', m.super15010, callNote('StatusChange', { id: callId, state: 'Established' }), 'the monitored call');
    assert.equal(joined.call.monitoring, true);
    assert.deepEqual(sortedDnsOf(joined.call), ['15000', '15001', '15002']);
    assert.ok(joined.call.capabilities.includes('SwitchToListenIn'));
    assert.ok(!joined.call.capabilities.includes('SwitchToBargeIn'), 'already barged in');
    for (const u of ['agent15000', 'agent15001', 'agent15002'] as const) {
      const seen = await next(u, m[u], callNote('ParticipantsUpdated', { id: callId }), `${u} sees the supervisor barge in`);
      assert.ok(dnsOf(seen.call).includes('15010'), `${u}'s participants include 15010: ${dnsOf(seen.call)}`);
      const view = await callOf(u, callId);
      assert.deepEqual(sortedDnsOf(view), ['15000', '15001', '15002', '15010'].filter((d) => d !== u.slice(-5)));
      // supervisorListeningIn while barged in is not asserted: CONTRACT.md says "the monitored
      // agent's view has supervisorListeningIn: true" for monitoring in general, while the code
      // (views/call.ts) gives false for BargeIn. Reported as an open question.
      if (u !== 'agent15000') assert.equal(view.supervisorListeningIn, false, `${u} is not the monitored agent`);
    }

    await caughtUp();
    m = marks();
    await expectOk(c.super15010.op(callId, 'SwitchToListenIn'), 'switch to listen in');
    for (const u of ['agent15000', 'agent15001', 'agent15002'] as const) {
      const seen = await next(u, m[u], callNote('ParticipantsUpdated', { id: callId }), `${u} no longer sees the supervisor`);
      assert.ok(!dnsOf(seen.call).includes('15010'), `${u}: ${dnsOf(seen.call)}`);
      assert.equal(seen.call.supervisorListeningIn, u === 'agent15000');
    }
    const listening = await callOf('super15010', callId);
    assert.ok(listening.capabilities.includes('SwitchToBargeIn') && !listening.capabilities.includes('SwitchToListenIn'), `${listening.capabilities}`);

    // Coach: still in nobody's participants, and the monitored agent is told.
    await caughtUp();
    m = marks();
    await expectOk(c.super15010.op(callId, 'SwitchToCoach'), 'switch to coach');
    const coaching = await next('super15010', m.super15010, callNote('StatusChange', { id: callId }), 'the supervisor hears the mode change');
    assert.ok(coaching.call.capabilities.includes('SwitchToListenIn') && !coaching.call.capabilities.includes('SwitchToCoach'), `${coaching.call.capabilities}`);
    for (const u of ['agent15000', 'agent15001', 'agent15002'] as const) {
      const view = await callOf(u, callId);
      assert.ok(!dnsOf(view).includes('15010'), `${u} does not see the coaching supervisor`);
      assert.equal(view.supervisorListeningIn, u === 'agent15000', `${u}'s supervisorListeningIn while coached`);
    }

    await caughtUp();
    m = marks();
    await expectOk(c.super15010.op(callId, 'SwitchToBargeIn'), 'switch to barge in');
    for (const u of ['agent15000', 'agent15001', 'agent15002'] as const) {
      const seen = await next(u, m[u], callNote('ParticipantsUpdated', { id: callId }), `${u} sees the supervisor again`);
      assert.ok(dnsOf(seen.call).includes('15010'), `${u}: ${dnsOf(seen.call)}`);
    }

    await caughtUp();
    m = marks();
    await expectOk(c.super15010.op(callId, 'MuteMonitoredUser'), 'mute the monitored user');
    for (const u of ['super15010', 'agent15000'] as const) {
      const muted = await next(u, m[u], callNote('MonitoredUserMutedStateChange', { id: callId }), `${u} MonitoredUserMutedStateChange`);
      assert.equal(muted.call.monitoredUserMuted, true, u);
    }
    const superView = await callOf('super15010', callId);
    assert.ok(superView.capabilities.includes('UnmuteMonitoredUser') && !superView.capabilities.includes('MuteMonitoredUser'), `${superView.capabilities}`);
    await caughtUp();
    for (const u of ['agent15001', 'agent15002'] as const)
      assert.ok(!callNotesSince(u, m[u]).some((d) => d.notificationType === 'MonitoredUserMutedStateChange'), `${u} is not the monitored user`);

    m = marks();
    await expectOk(c.super15010.op(callId, 'UnmuteMonitoredUser'), 'unmute the monitored user');
    for (const u of ['super15010', 'agent15000'] as const) {
      const unmuted = await next(u, m[u], callNote('MonitoredUserMutedStateChange', { id: callId }), `${u} MonitoredUserMutedStateChange (unmute)`);
      assert.equal(unmuted.call.monitoredUserMuted, false, u);
    }
    assert.equal((await callOf('agent15000', callId)).monitoredUserMuted, false);
  });

  it('refusals: role, target, state, and what a monitoring supervisor may not do', async () => {
    const agentDevice = devices.agent15001;
    await expectRefused(
      c.agent15001.post(`/api/v2/me/devices/${agentDevice}`, {
        operationName: 'ListenIn', targetDeviceUri: deviceUri('agent15000'), supervisorMonitoringScope: 'Agent', supervisorMonitoringMode: 'AllCalls',
      }),
      5, 403, 'an agent may not listen in', /ROLE_SUPERVISOR/,
    );
    await expectRefused(startMonitoring('ListenIn', 'AllCalls', 'super15010'), 10, 400, 'ListenIn on own device', /targetDeviceUri/);
    await expectRefused(
      superDevice({ operationName: 'ListenIn', targetDeviceUri: `${server.url}/api/v2/devices/00000000-0000-0000-0000-000000000000`, supervisorMonitoringScope: 'Agent', supervisorMonitoringMode: 'AllCalls' }),
      10, 400, 'ListenIn on an unknown device', /targetDeviceUri/,
    );
    await expectRefused(cancelMonitoring(), 2, 400, 'Cancel when not monitoring');
    assert.equal((await superDeviceView()).supervisorMonitoringState, undefined, 'refusals changed nothing');

    await expectOk(startMonitoring('ListenIn'), 'listen in on 15000');
    await expectRefused(startMonitoring('ListenIn', 'AllCalls', 'agent15001'), 2, 400, 'monitoring someone else while monitoring', /already/);
    await expectRefused(startMonitoring('BargeIn'), 2, 400, 'monitoring the same agent again while monitoring');
    assert.equal((await superDeviceView()).supervisorMonitoringState?.targetDeviceUri, deviceUri('agent15000'));

    const callId = await conference();
    const superView = await callOf('super15010', callId);
    assert.equal(superView.monitoring, true);
    assert.ok(!superView.capabilities.includes('Hold'));
    await caughtUp();
    const quiet = marks();
    await expectRefused(c.super15010.op(callId, 'Hold'), 3, 403, 'a monitoring supervisor may not Hold', /monitoring supervisor/);
    assert.equal((await callOf('super15010', callId)).state, 'Established');
    await caughtUp();
    for (const u of USERS) assert.deepEqual(callNotesSince(u, quiet[u]), [], `${u}: a refused Hold sends nothing`);

    await expectOk(cancelMonitoring(), 'cancel');
    await expectRefused(cancelMonitoring(), 2, 400, 'Cancel twice');
  });
});

// =================================================================================================
describe('supervision: chat intrusion', () => {
  let w: ChatWorld;
  let a0: Agent, a1: Agent, a3: Agent, sup: Agent;

  before(async () => {
    w = await openChatWorld(['agent15000', 'agent15001', 'agent15003', 'super15010']);
    [a0, a1, a3, sup] = ['agent15000', 'agent15001', 'agent15003', 'super15010'].map((u) => w.agent(u)) as [Agent, Agent, Agent, Agent];
    for (const a of [a0, a1, a3, sup]) await startChatSession(a);
    // Only agent15000 is Ready: every customer's chat is routed to them.
    await setChatState(a0, 'Ready');
  });
  after(async () => {
    await w?.dispose();
  });

  /** A customer's chat routed to agent15000, with agent15001 invited (visible to all). */
  const chatConference = async () => {
    const customer = await chatWith(w, a0);
    await bringIn(a0, a1, customer.chatId, 'Invite', 3);
    await caughtUpAll(w.agents);
    return customer;
  };
  const intrude = (who: Agent, into: Agent, chatId: string, supervisorVisibilityMode: string) =>
    who.client.post(`/api/v2/users/${into.id}/chats/${chatId}`, { operationName: 'Intrude', supervisorVisibilityMode });
  const viewOf = async (a: Agent, chatId: string) => {
    const reply = await a.client.get(`/api/v2/me/chats/${chatId}`);
    assert.equal(reply.body.statusCode, 0, `${a.user} GET chat: ${JSON.stringify(reply.body)}`);
    return reply.body.chat;
  };
  const nicknames = (chat: any): string[] => chat.participants.map((p: any) => p.nickname);
  const LEFT_CHAT_CAPABILITIES = ['SetInFocus', 'Complete', 'SetDisposition', 'AttachUserData', 'DeleteUserData', 'UpdateUserData'];

  it('a supervisor who barges in may remove an agent: {statusCode:0}, and the removed agent hears what the seed shows', async () => {
    const customer = await chatConference();
    const chatId = customer.chatId;
    const m0 = mark(a0);
    const ms = mark(sup);
    referenced(await intrude(sup, a0, chatId, 'BargeIn'), 'super15010 barges in');
    const joined = await nextChatNote(sup, chatId, ms, 'StatusChange', 'Chatting');
    assert.ok(joined.chat.capabilities.includes('RemoveParticipantFromConference'), `supervisor capabilities: ${joined.chat.capabilities}`);
    const seen = await nextChatNote(a0, chatId, m0, 'ParticipantsUpdated');
    const supEntry = seen.chat.participants.find((p: any) => p.nickname === sup.nickname);
    assert.ok(supEntry, `agent15000 sees the barged-in supervisor: ${nicknames(seen.chat)}`);
    assert.equal(supEntry.visibility, 'All');
    assert.ok((await transcript(customer)).messages.some((m) => m.type === 'ParticipantJoined' && m.from.nickname === sup.nickname), 'the customer sees the supervisor join');

    await caughtUpAll(w.agents);
    const marks = [mark(a0), mark(a1), mark(sup)];
    const reply = await chatOp(sup, chatId, 'RemoveParticipantFromConference', { targetUri: a1.uri });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, OK);

    await nextChatNote(a1, chatId, marks[1] as number, 'StatusChange', 'LeftChat');
    await caughtUpAll(w.agents);
    const removed = chatNotes(a1, chatId, marks[1]);
    assert.deepEqual(removed.map((n) => n.notificationType), ['ParticipantsUpdated', 'NewMessages', 'StatusChange'], 'the removed agent hears the seed order');
    assert.equal(removed[0].chat.state, 'LeftChat');
    assert.deepEqual(removed[0].chat.capabilities, LEFT_CHAT_CAPABILITIES);
    assert.deepEqual(nicknames(removed[0].chat).sort(), [a0.nickname, sup.nickname, 'pat'].sort(), 'those still in the chat');
    assert.deepEqual(removed[1].messages.map((m: any) => [m.type, m.from.nickname, m.visibility]), [['ParticipantLeft', a1.nickname, 'All']]);
    assert.equal(removed[2].chat.state, 'LeftChat');
    assert.deepEqual(removed[2].chat.capabilities, LEFT_CHAT_CAPABILITIES);
    for (const n of removed) assert.equal(n.referenceId, undefined, 'no referenceId, as the seed shows');

    for (const [a, from] of [[a0, marks[0]], [sup, marks[2]]] as const) {
      const notes = chatNotes(a, chatId, from);
      assert.deepEqual(notes.map((n) => n.notificationType), ['ParticipantsUpdated', 'NewMessages'], `${a.user} hears the removal`);
      assert.ok(!nicknames(notes[0].chat).includes(a1.nickname));
      assert.deepEqual(notes[1].messages.map((m: any) => [m.type, m.from.nickname, m.visibility]), [['ParticipantLeft', a1.nickname, 'All']]);
    }
    const seenByCustomer = await transcript(customer);
    assert.ok(seenByCustomer.messages.some((m) => m.type === 'ParticipantLeft' && m.from.nickname === a1.nickname));
    assert.equal(seenByCustomer.chatEnded, false);
  });

  it('Monitor: invisible to agents and the customer, whispers to supervisors only, may not remove (3); Coach may not remove (3); SwitchTo* change visibility', async () => {
    const customer = await chatConference();
    const chatId = customer.chatId;
    const [m0, m1, ms] = [mark(a0), mark(a1), mark(sup)];
    referenced(await intrude(sup, a0, chatId, 'Monitor'), 'super15010 monitors');
    const joined = await nextChatNote(sup, chatId, ms, 'StatusChange', 'Chatting');
    assert.ok(!joined.chat.capabilities.includes('RemoveParticipantFromConference'), `a monitoring supervisor may not remove: ${joined.chat.capabilities}`);
    assert.ok(joined.chat.capabilities.includes('SwitchToBargeIn') && !joined.chat.capabilities.includes('SwitchToMonitor'));
    await caughtUpAll(w.agents);
    assert.deepEqual(chatNotes(a0, chatId, m0), [], 'agent15000 hears nothing of the monitoring supervisor');
    assert.deepEqual(chatNotes(a1, chatId, m1), [], 'agent15001 hears nothing of the monitoring supervisor');
    for (const a of [a0, a1]) assert.ok(!nicknames(await viewOf(a, chatId)).includes(sup.nickname), `${a.user} does not list the supervisor`);
    const supSelf = (await viewOf(sup, chatId)).participants.find((p: any) => p.nickname === sup.nickname);
    assert.equal(supSelf?.visibility, 'Supervisors', 'the supervisor sees themself with visibility Supervisors');
    assert.ok(!(await transcript(customer)).messages.some((m) => m.from.nickname === sup.nickname), 'the customer never sees the supervisor');
    for (const a of [a0, a1]) assert.ok(!(await agentTranscript(a, chatId)).some((m) => m.from.nickname === sup.nickname), `${a.user}'s transcript has no supervisor entry`);

    // A whisper: visibility Supervisors, seen by the supervisor only.
    const [w0, w1] = [mark(a0), mark(a1)];
    const ws = mark(sup);
    referenced(await chatOp(sup, chatId, 'SendMessage', { text: 'supervisors only' }), 'the supervisor whispers');
    const own = await nextChatNote(sup, chatId, ws, 'NewMessages');
    assert.deepEqual(own.messages.map((m: any) => [m.text, m.visibility]), [['supervisors only', 'Supervisors']]);
    await caughtUpAll(w.agents);
    assert.deepEqual(chatNotes(a0, chatId, w0), [], 'agent15000 does not hear the whisper');
    assert.deepEqual(chatNotes(a1, chatId, w1), [], 'agent15001 does not hear the whisper');
    for (const a of [a0, a1]) assert.ok(!(await agentTranscript(a, chatId)).some((m) => m.text === 'supervisors only'), `${a.user}'s transcript`);
    assert.ok(!(await transcript(customer)).messages.some((m) => m.text === 'supervisors only'), 'the customer does not see the whisper');
    assert.ok((await agentTranscript(sup, chatId)).some((m) => m.text === 'supervisors only' && m.visibility === 'Supervisors'));

    // Monitor may not remove; nothing changes.
    await caughtUpAll(w.agents);
    const q = [mark(a0), mark(a1), mark(sup)];
    const r = await chatOp(sup, chatId, 'RemoveParticipantFromConference', { targetUri: a1.uri });
    await expectRefused(r, 3, 403, 'Monitor removes', /visible to all/);
    await caughtUpAll(w.agents);
    assert.deepEqual([chatNotes(a0, chatId, q[0]), chatNotes(a1, chatId, q[1]), chatNotes(sup, chatId, q[2])], [[], [], []], 'a refusal sends nothing');
    assert.equal((await viewOf(a1, chatId)).state, 'Chatting');

    // Coach: agents see the supervisor (visibility Agents), the customer still does not; still no removal.
    const c0 = mark(a0);
    referenced(await chatOp(sup, chatId, 'SwitchToCoach'), 'switch to coach');
    const coached = await nextChatNote(a0, chatId, c0, 'ParticipantsUpdated');
    assert.equal(coached.chat.participants.find((p: any) => p.nickname === sup.nickname)?.visibility, 'Agents');
    await expectRefused(chatOp(sup, chatId, 'RemoveParticipantFromConference', { targetUri: a1.uri }), 3, 403, 'Coach removes', /visible to all/);
    assert.ok(!(await viewOf(sup, chatId)).capabilities.includes('RemoveParticipantFromConference'));
    assert.ok(!(await transcript(customer)).messages.some((m) => m.from.nickname === sup.nickname), 'the customer still never sees the coach');

    // SwitchToMonitor: invisible again.
    const s0 = mark(a0);
    referenced(await chatOp(sup, chatId, 'SwitchToMonitor'), 'switch back to monitor');
    const hidden = await nextChatNote(a0, chatId, s0, 'ParticipantsUpdated');
    assert.ok(!nicknames(hidden.chat).includes(sup.nickname), `${nicknames(hidden.chat)}`);

    // SwitchToBargeIn: visible to all, and now the supervisor may remove.
    const b0 = mark(a0);
    referenced(await chatOp(sup, chatId, 'SwitchToBargeIn'), 'switch to barge in');
    const barged = await nextChatNote(a0, chatId, b0, 'ParticipantsUpdated');
    assert.equal(barged.chat.participants.find((p: any) => p.nickname === sup.nickname)?.visibility, 'All');
    assert.ok((await viewOf(sup, chatId)).capabilities.includes('RemoveParticipantFromConference'));
    assert.deepEqual((await chatOp(sup, chatId, 'RemoveParticipantFromConference', { targetUri: a1.uri })).body, OK);
    assert.equal((await viewOf(a1, chatId)).state, 'LeftChat');
  });

  it('Intrude refusals: a plain agent (5), a chat the named user is not in (6); Intrude with Coach may not remove (3)', async () => {
    const customer = await chatConference();
    const chatId = customer.chatId;
    await expectRefused(intrude(a3, a0, chatId, 'BargeIn'), 5, 403, 'a plain agent intrudes', /ROLE_SUPERVISOR/);
    await expectRefused(intrude(a1, a0, chatId, 'Monitor'), 5, 403, 'an agent of the chat intrudes', /ROLE_SUPERVISOR/);
    await expectRefused(intrude(sup, a3, chatId, 'BargeIn'), 6, 404, 'the named user is not in the chat');
    await expectRefused(intrude(sup, a0, '0001nosuchchat', 'BargeIn'), 6, 404, 'no such chat');
    assert.deepEqual(nicknames(await viewOf(a0, chatId)).sort(), [a0.nickname, a1.nickname, 'pat'].sort(), 'refusals changed nothing');

    referenced(await intrude(sup, a0, chatId, 'Coach'), 'super15010 coaches');
    const coachView = await viewOf(sup, chatId);
    assert.ok(!coachView.capabilities.includes('RemoveParticipantFromConference'));
    await expectRefused(chatOp(sup, chatId, 'RemoveParticipantFromConference', { targetUri: a1.uri }), 3, 403, 'Coach removes', /visible to all/);
    assert.equal((await viewOf(a1, chatId)).state, 'Chatting');
  });
});
