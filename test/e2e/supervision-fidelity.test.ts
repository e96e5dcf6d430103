/**
 * Supervision details as the GWS pages give them: HTCC/latest SupervisorListenIn (= GWS/8.5.2),
 * HTCC/8.5.2 SupervisorCoach, SupervisorBargeIn — defaults scope Call and mode AllCalls, the
 * target named by `phoneNumber`; GWS/8.5.2 SupervisorSwitchToListenin / SupervisorSwitchToBargeIn
 * — the supervisor's `mute` On while listening, Off when barged in; scope Call follows the call
 * across a transfer, scope Agent leaves with the agent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callNote, listen, type Listener, type Notification } from '../helpers/cometd.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('supervision details (GWS supervisor pages)', () => {
  let server: TestServer;
  let a: GwsClient, b: GwsClient, s: GwsClient;
  let lb: Listener, ls: Listener;
  let superDevice: string;

  before(async () => {
    server = await startTestServer();
    [a, b, s] = ['agent15000', 'agent15001', 'super15010'].map((u) => gws(server.url, u)) as [GwsClient, GwsClient, GwsClient];
    [lb, ls] = (await Promise.all(['agent15001', 'super15010'].map((u) => listen(server.url, u)))) as [Listener, Listener];
    superDevice = await s.deviceId();
  });
  after(async () => {
    await Promise.all([lb, ls].map((l) => l?.disconnect()));
    await server?.dispose();
  });

  const device = (body: Record<string, unknown>) => s.post(`/api/v2/me/devices/${superDevice}`, body);
  const stateOf = async () => (await s.get('/api/v2/me/devices?fields=*')).body.devices[0].supervisorMonitoringState;
  const after_ = (l: Listener, mark: number, match: (n: Notification) => boolean, what: string) => l.next((x) => l.received.indexOf(x) >= mark && match(x), 5000, what);
  const ok = async (reply: Promise<{ body: any }>, what: string) => assert.deepEqual((await reply).body, { statusCode: 0 }, what);

  const callFromA = async (): Promise<string> => {
    const m = lb.received.length;
    await ok(a.dial('15001'), 'dial');
    const ringing = await after_(lb, m, callNote('StatusChange', { state: 'Ringing' }), 'Ringing');
    await ok(b.op(ringing.data.call.id, 'Answer'), 'Answer');
    return ringing.data.call.id;
  };
  const cleanUp = async () => {
    if (await stateOf()) await ok(device({ operationName: 'CancelSupervisorMonitoring' }), 'cancel');
    for (const c of [a, b, s]) for (const call of (await c.get('/api/v2/me/calls?fields=*')).body.calls) await c.op(call.id, 'Hangup');
  };

  it('ListenIn by phoneNumber, scope and mode omitted: scope Call, mode AllCalls, the device of that number', async () => {
    await ok(device({ operationName: 'ListenIn', phoneNumber: '15000' }), 'ListenIn by phoneNumber');
    const aDevice = await a.deviceId();
    assert.deepEqual(await stateOf(), { state: 'ListenIn', mode: 'AllCalls', scope: 'Call', targetDeviceUri: `${server.url}/api/v2/devices/${aDevice}` });
    await cleanUp();
  });

  it("the supervisor's mute: On while listening in, Off once barged in, On again after SwitchToListenIn", async () => {
    const aDevice = await a.deviceId();
    await ok(device({ operationName: 'ListenIn', targetDeviceUri: `${server.url}/api/v2/devices/${aDevice}` }), 'ListenIn');
    const m = ls.received.length;
    const callId = await callFromA();
    const joined = await after_(ls, m, callNote('StatusChange', { id: callId, state: 'Established' }), 'supervisor joins');
    assert.equal(joined.data.call.mute, 'On');
    assert.equal(joined.data.call.monitoring, true);
    assert.ok(joined.data.call.capabilities.includes('SwitchToBargeIn'));
    const m2 = ls.received.length;
    await ok(s.op(callId, 'SwitchToBargeIn'), 'SwitchToBargeIn');
    const barged = await after_(ls, m2, callNote('StatusChange', { id: callId }), 'StatusChange after SwitchToBargeIn');
    assert.equal(barged.data.call.mute, 'Off');
    assert.ok(barged.data.call.capabilities.includes('SwitchToListenIn'));
    const m3 = ls.received.length;
    await ok(s.op(callId, 'SwitchToListenIn'), 'SwitchToListenIn');
    const back = await after_(ls, m3, callNote('StatusChange', { id: callId }), 'StatusChange after SwitchToListenIn');
    assert.equal(back.data.call.mute, 'On');
    await cleanUp();
  });

  for (const [scope, stays] of [['Call', true], ['Agent', false]] as const)
    it(`scope ${scope}: after the agent transfers the call away the supervisor ${stays ? 'stays on it' : 'leaves it'}`, async () => {
      const aDevice = await a.deviceId();
      await ok(device({ operationName: 'ListenIn', targetDeviceUri: `${server.url}/api/v2/devices/${aDevice}`, supervisorMonitoringScope: scope }), 'ListenIn');
      const m = ls.received.length;
      const callId = await callFromA();
      await after_(ls, m, callNote('StatusChange', { id: callId, state: 'Established' }), 'supervisor joins');
      const m2 = ls.received.length;
      await ok(a.op(callId, 'SingleStepTransfer', { destination: { phoneNumber: '15002' } }), 'SingleStepTransfer');
      if (!stays) await after_(ls, m2, callNote('StatusChange', { id: callId, state: 'Released' }), 'supervisor released');
      await ls.caughtUp();
      const view = (await s.get(`/api/v2/me/calls/${callId}`)).body.call;
      assert.equal(view.state, stays ? 'Established' : 'Released');
      await cleanUp();
    });

  it('bad input: no target, an unknown number, a number that is not the device: 400, nothing changed, nobody notified', async () => {
    await ls.caughtUp();
    const m = ls.received.length;
    const aDevice = await a.deviceId();
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{ operationName: 'ListenIn' }, 1, /targetDeviceUri/],
      [{ operationName: 'Coach', phoneNumber: '99999' }, 10, /phoneNumber/],
      [{ operationName: 'BargeIn', phoneNumber: '15010' }, 10, /own device/],
      [{ operationName: 'ListenIn', targetDeviceUri: `${server.url}/api/v2/devices/${aDevice}`, phoneNumber: '15001' }, 10, /phoneNumber/],
      [{ operationName: 'ListenIn', phoneNumber: '15000', supervisorMonitoringScope: 'Everything' }, 10, /supervisorMonitoringScope/],
    ];
    for (const [body, code, message] of cases) {
      const reply = await device(body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(reply.body.statusCode, code, JSON.stringify(body));
      assert.match(reply.body.statusMessage, message, JSON.stringify(body));
    }
    assert.equal(await stateOf(), undefined, 'not monitoring');
    await ls.caughtUp();
    assert.equal(ls.received.length, m, 'nobody notified');
  });
});
