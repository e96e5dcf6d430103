/**
 * examples/cloud-compliance-orchestrator.mjs as a real process against a real Conclave: the seed
 * question (seeds/cloud-eject-participant-question.txt, "eject a specific user from an active
 * conference call ... avoid a full conversation disconnect") answered with the official SDK.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CloudSdk } from '../helpers/cloud-sdk.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/cloud-compliance-orchestrator.mjs', import.meta.url));
const CUSTOMER = '+14155550100';

const run = (args: string[]): Promise<{ code: number | null; lines: any[]; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [EXAMPLE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, lines: out.split('\n').filter(Boolean).map((l) => JSON.parse(l)), stderr: err }));
  });

describe('the Cloud compliance orchestrator example (seed 004)', () => {
  let server: TestServer;
  let sdk: CloudSdk;
  let admin: GwsClient;
  const agent = (dn: string) => gws(server.url, `agent${dn}`);

  before(async () => {
    server = await startTestServer({ externalAnswerMs: 0 });
    admin = gws(server.url, 'admin');
    sdk = CloudSdk.open(server.port);
    await sdk.login('conclave-demo', 'conclave-demo');
  });
  after(async () => {
    await sdk?.close();
    await server?.dispose();
  });

  const state = async (callId: string, address: string) =>
    (await sdk.conversations('getConversationsCall', callId)).participants.find((p: any) => p.address === address)?.state;

  it('ejects only the flagged user from their conference, leaves a conference without them alone, confirms by notification', async () => {
    // A customer calls 15000, who conferences in 15001 (the flagged user).
    const callId = (await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to: '15000' })).body.callId as string;
    await agent('15000').op(callId, 'Answer');
    await agent('15000').op(callId, 'SingleStepConference', { destination: { phoneNumber: '15001' } });
    await agent('15001').op(callId, 'Answer');
    await waitFor(async () => (await state(callId, '15001')) === 'connected', 5000, '15001 in the conference');
    // Another conference, without the flagged user.
    const other = (await admin.post('/conclave/v1/sim/calls', { from: '+14155550111', to: '15002' })).body.callId as string;
    await agent('15002').op(other, 'Answer');
    await agent('15002').op(other, 'SingleStepConference', { destination: { phoneNumber: '15003' } });
    await agent('15003').op(other, 'Answer');
    await waitFor(async () => (await state(other, '15003')) === 'connected', 5000, '15003 in the other conference');

    const result = await run(['--base', `${server.url}/cloud`, '--user', 'agent15001']);
    assert.equal(result.code, 0, `${JSON.stringify(result.lines)} ${result.stderr}`);
    assert.deepEqual(result.lines.map((l) => [l.conversationId, l.outcome]), [[callId, 'removed']]);

    assert.equal(await state(callId, '15001'), 'disconnected');
    assert.equal(await state(callId, '15000'), 'connected');
    assert.equal(await state(callId, CUSTOMER), 'connected');
    for (const dn of ['15002', '15003']) assert.equal(await state(other, dn), 'connected');
    // GWS sees the same removal.
    assert.equal((await agent('15001').get(`/api/v2/me/calls/${callId}`)).body.call.state, 'Released');
  });

  it('run again for the same user (no conference left): nothing to do, exit 0; an unknown user: exit 2', async () => {
    const nothing = await run(['--base', `${server.url}/cloud`, '--user', 'agent15001']);
    assert.equal(nothing.code, 0, nothing.stderr);
    // The conference goes on without them: analytics still lists it (their segments are in it,
    // it has not ended), and the orchestrator sees they are no longer connected.
    assert.ok(nothing.lines.every((l) => l.outcome === 'not-connected'), JSON.stringify(nothing.lines));
    const unknown = await run(['--base', `${server.url}/cloud`, '--user', 'nobody']);
    assert.equal(unknown.code, 2);
  });
});
