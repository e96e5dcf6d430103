/**
 * `conclave comply`, the standalone orchestrator, run as a real process against a running
 * Conclave through both backends: GWS v2 (as a monitoring supervisor) and Genesys Cloud (the
 * official SDK). Only the flagged user leaves; GWS clients hear it as ParticipantsUpdated.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { callNote, listen, type Listener } from '../helpers/cometd.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

const comply = (args: string[]): Promise<{ code: number | null; steps: any[]; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'comply', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ code, steps: out.split('\n').filter(Boolean).map((l) => JSON.parse(l)), stderr: err }));
  });

describe('conclave comply', () => {
  let server: TestServer;
  let a: GwsClient, b: GwsClient, c: GwsClient, d: GwsClient;
  let la: Listener;

  before(async () => {
    server = await startTestServer();
    [a, b, c, d] = ['agent15000', 'agent15001', 'agent15002', 'agent15003'].map((u) => gws(server.url, u)) as [GwsClient, GwsClient, GwsClient, GwsClient];
    la = await listen(server.url, 'agent15000');
  });
  after(async () => {
    await la?.disconnect();
    await server?.dispose();
  });

  /** 15000 ↔ 15001, then 15002 conferenced in: returns the call id. */
  const conference = async () => {
    await a.dial('15001');
    const ringing = (await b.get('/api/v2/me/calls?fields=*')).body.calls.find(
      (x: any) => x.state === 'Ringing' && x.participants.some((p: any) => p.phoneNumber === '15000'),
    );
    const callId = ringing.id as string;
    await b.op(callId, 'Answer');
    await a.op(callId, 'SingleStepConference', { destination: { phoneNumber: '15002' } });
    await c.op(callId, 'Answer');
    // Let the conference's own notifications land before a test marks where it starts reading.
    await la.caughtUp();
    return callId;
  };

  const assertOnlyFlaggedLeft = async (callId: string, mark: number) => {
    const note = await la.next((n) => la.received.indexOf(n) >= mark && callNote('ParticipantsUpdated', { id: callId })(n), 5000);
    assert.deepEqual(note.data.call.participants.map((p: any) => p.phoneNumber), ['15002']);
    assert.equal((await a.get(`/api/v2/me/calls/${callId}`)).body.call.state, 'Established');
    assert.equal((await c.get(`/api/v2/me/calls/${callId}`)).body.call.state, 'Established');
    assert.ok(!(await b.get('/api/v2/me/calls')).body.uris.some((u: string) => u.endsWith(callId)));
  };

  it('GWS backend: ejects as a monitoring supervisor, skips a two-party call', async () => {
    const callId = await conference();
    await d.dial('15001');
    const mark = la.received.length;
    const run = await comply(['--backend', 'gws', '--url', server.url, '--user', 'agent15001', '--username', 'super15010', '--password', 'super15010']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.steps.filter((s) => s.interaction === callId).map((s) => [s.step, s.outcome]), [['found', 'accepted'], ['removed', 'ejected']]);
    assert.ok(run.steps.some((s) => s.step === 'skipped' && s.outcome === 'two-party'), 'the ringing two-party call is left alone');
    assert.equal(run.steps.at(-1).step, 'done');
    await assertOnlyFlaggedLeft(callId, mark);
    const device = (await gws(server.url, 'super15010').get('/api/v2/me/devices?fields=*')).body.devices[0];
    assert.equal(device.supervisorMonitoringState, undefined, 'monitoring stopped');
    await a.op(callId, 'Hangup');
    await d.op((await d.get('/api/v2/me/calls')).body.uris[0].split('/').pop(), 'Hangup');
  });

  it('Cloud backend: ejects with the official SDK (PATCH participant disconnected)', async () => {
    const callId = await conference();
    const mark = la.received.length;
    const run = await comply(['--backend', 'cloud', '--url', server.url, '--user', '15001', '--client-id', 'conclave-demo', '--client-secret', 'conclave-demo']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.steps.filter((s) => s.interaction === callId).map((s) => [s.step, s.outcome]), [['found', 'accepted'], ['removed', 'ejected']]);
    await assertOnlyFlaggedLeft(callId, mark);
  });

  it('fails clearly: bad credentials exit 1 with a failed step; bad flags exit 2', async () => {
    const bad = await comply(['--backend', 'gws', '--url', server.url, '--user', 'agent15001', '--username', 'super15010', '--password', 'wrong']);
    assert.equal(bad.code, 1);
    assert.equal(bad.steps.at(-1).step, 'failed');
    assert.match(bad.steps.at(-1).detail, /statusCode 20/);
    const usage = await comply(['--backend', 'telex', '--url', server.url, '--user', 'x']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--backend must be gws or cloud/);
  });
});
