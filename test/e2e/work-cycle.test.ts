/**
 * The agent's voice work cycle, each operation from its GWS reference page (see
 * /work/notes/gws-reference.md §1), over real HTTP with the official CometD client:
 * POST /api/v2/me/channels/voice Ready | NotReady | AfterCallWork | AuxWork, and
 * POST /api/v2/me/devices/{id} DoNotDisturbOn | DoNotDisturbOff | ForwardCallsOn | ForwardCallsOff,
 * each answered {"statusCode":0} and notified as a DeviceStateChangeMessage on /v2/me/devices.
 * Every bad input is a 4xx that names the problem, changes nothing and notifies nobody.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callNote, listen, type Listener, type Notification } from '../helpers/cometd.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CUSTOMER = '+14155550100';

describe('the voice work cycle (AgentState* and device pages)', () => {
  let server: TestServer;
  let a: GwsClient, b: GwsClient, admin: GwsClient;
  let la: Listener, lb: Listener;
  let device: string;

  before(async () => {
    server = await startTestServer({ externalAnswerMs: -1 });
    [a, b, admin] = ['agent15000', 'agent15001', 'admin'].map((u) => gws(server.url, u)) as [GwsClient, GwsClient, GwsClient];
    [la, lb] = (await Promise.all(['agent15000', 'agent15001'].map((u) => listen(server.url, u)))) as [Listener, Listener];
    device = await a.deviceId();
  });
  after(async () => {
    await Promise.all([la, lb].map((l) => l?.disconnect()));
    await server?.dispose();
  });

  /** Posts an operation, expects {"statusCode":0}, and returns what agent15000 heard for it. */
  const step = async (path: string, body: Record<string, unknown>): Promise<{ devices: Notification[]; channels: Notification[] }> => {
    await la.caughtUp();
    const mark = la.received.length;
    const reply = await a.post(path, body);
    assert.deepEqual([reply.status, reply.body], [200, { statusCode: 0 }], JSON.stringify(body));
    const heard = (await la.caughtUp()).slice(mark);
    return { devices: heard.filter((n) => n.channel === '/v2/me/devices'), channels: heard.filter((n) => n.channel === '/v2/me/channels') };
  };
  const voice = (body: Record<string, unknown>) => step('/api/v2/me/channels/voice', body);
  const onDevice = (body: Record<string, unknown>) => step(`/api/v2/me/devices/${device}`, body);
  const only = (notes: Notification[]) => {
    assert.equal(notes.length, 1, JSON.stringify(notes));
    assert.equal(notes[0]!.data.messageType, 'DeviceStateChangeMessage');
    return notes[0]!.data.devices[0];
  };

  it('StartContactCenterSession with voice, then Ready (AgentStateReady): DeviceStateChangeMessage with userState Ready', async () => {
    assert.deepEqual((await a.post('/api/v2/me', { operationName: 'StartContactCenterSession', channels: ['voice'] })).body, { statusCode: 0 });
    const heard = await voice({ operationName: 'Ready' });
    const dev = only(heard.devices);
    // The sample's field order: id, deviceState, userState, phoneNumber, e164Number, telephonyNetwork, doNotDisturb, …, capabilities.
    assert.deepEqual(Object.keys(dev).slice(0, 7), ['id', 'deviceState', 'userState', 'phoneNumber', 'e164Number', 'telephonyNetwork', 'doNotDisturb']);
    assert.deepEqual(dev.userState, { id: 'Ready', displayName: 'Ready', state: 'Ready' });
    assert.equal(dev.doNotDisturb, 'Off');
    assert.equal(dev.id, device);
    assert.deepEqual(dev.capabilities, ['Dial', 'ForwardCallsOn', 'DoNotDisturbOn']);
    // And the channels message: the voice channel lists exactly the work-cycle operations it accepts.
    assert.equal(heard.channels.length, 1);
    const channel = heard.channels[0]!.data.channels.find((c: { channel: string }) => c.channel === 'voice');
    assert.deepEqual(channel.userState, { id: 'Ready', displayName: 'Ready', state: 'Ready' });
    assert.deepEqual(channel.capabilities, ['Ready', 'NotReady', 'AfterCallWork', 'AuxWork']);
  });

  it('Ready with workmode (AgentStateReady: ManualIn | AutoIn) shows the work mode', async () => {
    assert.deepEqual(only((await voice({ operationName: 'Ready', workmode: 'ManualIn' })).devices).userState, { id: 'Ready', displayName: 'Ready', state: 'Ready', workMode: 'ManualIn' });
  });

  it('NotReady (AgentStateNotReady): userState Not Ready; with reasonCode and agentWorkMode (the issue\'s parameters)', async () => {
    assert.deepEqual(only((await voice({ operationName: 'NotReady' })).devices).userState, { id: 'NotReady', displayName: 'Not Ready', state: 'NotReady' });
    assert.deepEqual(only((await voice({ operationName: 'NotReady', reasonCode: 'Lunch' })).devices).userState, {
      id: 'NotReady', displayName: 'Not Ready', state: 'NotReady', reason: 'Lunch',
    });
    assert.deepEqual(only((await voice({ operationName: 'NotReady', reasonCode: 'Lunch', agentWorkMode: 'AuxWork' })).devices).userState, {
      id: 'AuxWork', displayName: 'AuxWork', state: 'NotReady', reason: 'Lunch', workMode: 'AuxWork',
    });
  });

  it('AfterCallWork (AgentStateAfterCallWork, with the page\'s "wrapUpTime": "0") and AuxWork (AgentStateAuxWork)', async () => {
    assert.deepEqual(only((await voice({ operationName: 'AfterCallWork', wrapUpTime: '0' })).devices).userState, {
      id: 'AfterCallWork', displayName: 'AfterCallWork', state: 'NotReady', workMode: 'AfterCallWork',
    });
    assert.deepEqual(only((await voice({ operationName: 'AuxWork' })).devices).userState, { id: 'AuxWork', displayName: 'AuxWork', state: 'NotReady', workMode: 'AuxWork' });
    // Repeating the state one is in is accepted and changes nothing: no notification.
    const again = await voice({ operationName: 'AuxWork' });
    assert.deepEqual([again.devices, again.channels], [[], []]);
  });

  it('DoNotDisturbOn / DoNotDisturbOff on the device (AgentStateDoNotDisturbOn/Off)', async () => {
    const on = await onDevice({ operationName: 'DoNotDisturbOn' });
    const dev = only(on.devices);
    assert.equal(dev.doNotDisturb, 'On');
    assert.deepEqual(dev.capabilities, ['Dial', 'DoNotDisturbOff', 'ForwardCallsOn'], 'the sample: DoNotDisturbOff, ForwardCallsOn');
    assert.deepEqual(on.channels, [], 'a device setting is a device message only');
    const off = only((await onDevice({ operationName: 'DoNotDisturbOff' })).devices);
    assert.equal(off.doNotDisturb, 'Off');
    assert.deepEqual(off.capabilities, ['Dial', 'ForwardCallsOn', 'DoNotDisturbOn']);
  });

  it('ForwardCallsOn (destination) puts forwardTo after doNotDisturb; incoming calls ring there; ForwardCallsOff drops it', async () => {
    const dev = only((await onDevice({ operationName: 'ForwardCallsOn', destination: '15001' })).devices);
    assert.equal(dev.forwardTo, '15001');
    const keys = Object.keys(dev);
    assert.equal(keys.indexOf('forwardTo'), keys.indexOf('doNotDisturb') + 1);
    assert.deepEqual(dev.capabilities, ['Dial', 'ForwardCallsOff', 'DoNotDisturbOn'], 'the ForwardCallsOn sample: ForwardCallsOff, DoNotDisturbOn');

    // A customer calls 15000: it rings at 15001.
    await lb.caughtUp();
    const mark = lb.received.length;
    const callId = (await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to: '15000' })).body.callId as string;
    const rung = await lb.next((n) => lb.received.indexOf(n) >= mark && callNote('StatusChange', { id: callId, state: 'Ringing' })(n), 5000, 'the forward destination rung');
    assert.equal(rung.data.call.dnis, '15000', 'the number the customer dialled');
    assert.equal((await server.store.getCall(callId))?.parties.some((p) => p.dn === '15000'), false, 'the forwarded device is not rung');
    await admin.post(`/conclave/v1/sim/calls/${callId}`, { action: 'hangup' });

    const off = only((await onDevice({ operationName: 'ForwardCallsOff' })).devices);
    assert.equal(off.forwardTo, undefined);
    assert.deepEqual(off.capabilities, ['Dial', 'ForwardCallsOn', 'DoNotDisturbOn']);
  });

  it('the device lists exactly the settings it accepts, in every combination', async () => {
    const settings = ['DoNotDisturbOn', 'DoNotDisturbOff', 'ForwardCallsOn', 'ForwardCallsOff'];
    const params = (op: string) => (op === 'ForwardCallsOn' ? { destination: '15002' } : {});
    const listed = async () => (await a.get('/api/v2/me/devices?fields=*')).body.devices[0].capabilities as string[];
    const undo: Record<string, string> = { DoNotDisturbOn: 'DoNotDisturbOff', DoNotDisturbOff: 'DoNotDisturbOn', ForwardCallsOn: 'ForwardCallsOff', ForwardCallsOff: 'ForwardCallsOn' };
    for (const setup of [[], ['DoNotDisturbOn'], ['ForwardCallsOn'], ['DoNotDisturbOn', 'ForwardCallsOn']]) {
      for (const s of setup) assert.equal((await a.post(`/api/v2/me/devices/${device}`, { operationName: s, ...params(s) })).status, 200);
      for (const op of settings) {
        const offered = (await listed()).includes(op);
        const reply = await a.post(`/api/v2/me/devices/${device}`, { operationName: op, ...params(op) });
        assert.equal(reply.status === 200, offered, `${op} after ${JSON.stringify(setup)}: listed ${offered}, answered ${JSON.stringify(reply.body)}`);
        if (reply.status === 200) await a.post(`/api/v2/me/devices/${device}`, { operationName: undo[op], ...params(undo[op]!) });
      }
      for (const s of [...setup].reverse()) await a.post(`/api/v2/me/devices/${device}`, { operationName: undo[s] });
    }
    assert.deepEqual(await listed(), ['Dial', 'ForwardCallsOn', 'DoNotDisturbOn']);
  });

  it('bad input to every work-cycle operation: 4xx naming the problem, nothing changed, nobody notified', async () => {
    const cases: [string, Record<string, unknown>, number, RegExp][] = [
      ['/api/v2/me/channels/voice', { operationName: 'Ready', workmode: 'Sideways' }, 400, /workmode/],
      ['/api/v2/me/channels/voice', { operationName: 'NotReady', reasonCode: '' }, 400, /reasonCode/],
      ['/api/v2/me/channels/voice', { operationName: 'NotReady', reasonCode: 'x'.repeat(65) }, 400, /reasonCode/],
      ['/api/v2/me/channels/voice', { operationName: 'NotReady', agentWorkMode: 'Lunch' }, 400, /agentWorkMode/],
      ['/api/v2/me/channels/voice', { operationName: 'AfterCallWork', wrapUpTime: 'soon' }, 400, /wrapUpTime/],
      ['/api/v2/me/channels/voice', { operationName: 'AfterCallWork', wrapUpTime: 5 }, 400, /wrapUpTime/],
      ['/api/v2/me/channels/voice', { operationName: 'Busy' }, 400, /Busy/],
      ['/api/v2/me/channels/chat', { operationName: 'AuxWork' }, 400, /AuxWork/],
      ['/api/v2/me/channels/voice', {}, 400, /operationName/],
      [`/api/v2/me/devices/${'_DEVICE_'}`, { operationName: 'ForwardCallsOn' }, 400, /destination/],
      [`/api/v2/me/devices/${'_DEVICE_'}`, { operationName: 'ForwardCallsOn', destination: 'home' }, 400, /destination/],
      [`/api/v2/me/devices/${'_DEVICE_'}`, { operationName: 'ForwardCallsOn', destination: '15000' }, 400, /your own number/],
      [`/api/v2/me/devices/${'_DEVICE_'}`, { operationName: 'ForwardCallsOn', destination: '7000' }, 400, /queue/],
      [`/api/v2/me/devices/${'_DEVICE_'}`, { operationName: 'ForwardCallsOn', destination: '12' }, 400, /not a known phone number/],
      [`/api/v2/me/devices/${'_DEVICE_'}`, { operationName: 'ForwardCallsOff' }, 400, /not forwarded/],
      [`/api/v2/me/devices/${'_DEVICE_'}`, { operationName: 'DoNotDisturbOff' }, 400, /not on/],
      [`/api/v2/me/devices/${'_DEVICE_'}`, { operationName: 'DoNotDisturb' }, 400, /DoNotDisturb/],
      ['/api/v2/me/devices/not-my-device', { operationName: 'DoNotDisturbOn' }, 404, /device/],
    ];
    await Promise.all([la.caughtUp(), lb.caughtUp()]);
    const marks = [la.received.length, lb.received.length];
    const stateBefore = await server.store.getAgentSession(server.directory.byUserName('agent15000')!.id);
    for (const [path, body, status, message] of cases) {
      const reply = await a.post(path.replace('_DEVICE_', device), body);
      assert.equal(reply.status, status, `${path} ${JSON.stringify(body)}: ${JSON.stringify(reply.body)}`);
      assert.match(reply.body.statusMessage, message, `${path} ${JSON.stringify(body)}`);
    }
    // Not logged in on voice: the channel operations are refused (2).
    const notIn = await b.post('/api/v2/me/channels/voice', { operationName: 'AuxWork' });
    assert.deepEqual([notIn.status, notIn.body.statusCode], [400, 2]);
    assert.match(notIn.body.statusMessage, /not logged in on the voice channel/);
    assert.deepEqual(await server.store.getAgentSession(server.directory.byUserName('agent15000')!.id), stateBefore, 'nothing changed');
    const heard = await Promise.all([la.caughtUp(), lb.caughtUp()]);
    assert.deepEqual(heard[0].slice(marks[0]), [], 'agent15000 heard nothing');
    assert.deepEqual(heard[1].slice(marks[1]), [], 'agent15001 heard nothing');
  });

  it('Reject of an unknown call is 404, of a call one is not ringing on 400; nobody is notified', async () => {
    await la.caughtUp();
    const mark = la.received.length;
    const unknown = await a.op('NOSUCHCALL0000000000000000000000', 'Reject');
    assert.equal(unknown.status, 404);
    const established = (await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to: '15000' })).body.callId as string;
    await la.next((n) => la.received.indexOf(n) >= mark && callNote('StatusChange', { id: established, state: 'Ringing' })(n));
    await a.op(established, 'Answer');
    await la.next((n) => la.received.indexOf(n) >= mark && callNote('StatusChange', { id: established, state: 'Established' })(n));
    const mark2 = (await la.caughtUp()).length;
    const refused = await a.op(established, 'Reject');
    assert.deepEqual([refused.status, refused.body.statusCode], [400, 2]);
    assert.deepEqual((await la.caughtUp()).slice(mark2), []);
    await a.op(established, 'Hangup');
  });
});
