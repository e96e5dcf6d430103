/**
 * Crash-safe ejection (CONTRACT.md, "Hardening promises outside checks rely on", last bullet): a
 * SIGKILL at any step of a compliance ejection, then a restart on the same SQLite file, ends with
 * the flag `done` (the agent gone from the call conference and the chat conference, the
 * orchestrator out of every chat and monitoring nobody) or `failed` with a reason — never with the
 * orchestrator left in a chat — and the customer and the other agents still connected.
 *
 * `conclave serve` runs as a real process; the test hook CONCLAVE_TEST_CRASH_AFTER_STEP=N
 * (src/cli.ts) makes it SIGKILL itself right after the orchestrator commits its N-th step. A first
 * run with N=0 only lists the steps (on stderr), so every N of this ejection is tried, whatever
 * their number. The flows follow the GWS reference pages for RemoveParticipantFromConference
 * (voice and chat), ListenIn/CancelSupervisorMonitoring and Intrude.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COMPLIANCE_USER_NAME, demoDirectory, withComplianceUser } from '../../src/directory/directory.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { postForm, startCustomerChat, type CustomerChat } from '../helpers/customer.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { waitFor } from '../helpers/wait.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const LISTENING = /^conclave listening on (http:\/\/127\.0\.0\.1:\d+)$/m;
const STEP = /^conclave: test hook: step (\d+): (.*)$/gm;
const COMPLIANCE_ID = withComplianceUser(demoDirectory()).byUserName(COMPLIANCE_USER_NAME)!.id;

interface Serve {
  readonly child: ChildProcess;
  readonly url: Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The steps the test hook reported so far: [number, what]. */
  steps(): [number, string][];
  stderr(): string;
}

const children = new Set<ChildProcess>();
let work: string;
before(() => (work = mkdtempSync(join(tmpdir(), 'conclave-crash-'))));
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

const serve = (data: string, crashAfter?: number): Serve => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['CONCLAVE_HOST', 'PORT', 'CONCLAVE_DATA', 'CONCLAVE_DIRECTORY', 'LOG_LEVEL', 'CONCLAVE_TEST_CRASH_AFTER_STEP']) delete env[name];
  if (crashAfter !== undefined) env['CONCLAVE_TEST_CRASH_AFTER_STEP'] = String(crashAfter);
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', data, '--log-level', 'silent'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  const url = Promise.race([
    waitFor(() => LISTENING.exec(out)?.[1], 20_000, () => `the listening line; stderr: ${err}`),
    exited.then((exit) => Promise.reject(new Error(`exited ${JSON.stringify(exit)} before listening: ${err}`))),
  ]);
  url.catch(() => undefined);
  return { child, url, exited, stderr: () => err, steps: () => [...err.matchAll(STEP)].map((m) => [Number(m[1]), m[2]!] as [number, string]) };
};

/** Graceful stop: the restart's own shutdown is not under test. */
const stop = async (s: Serve) => {
  s.child.kill('SIGTERM');
  const exit = await s.exited;
  assert.equal(exit.code, 0, `the restarted server stops cleanly: ${JSON.stringify(exit)}; ${s.stderr()}`);
};

const ok = (reply: { body: any }, what: string) => assert.equal(reply.body?.statusCode, 0, `${what}: ${JSON.stringify(reply.body)}`);
const call = async (c: GwsClient, id: string) => (await c.get(`/api/v2/me/calls/${id}`)).body.call;
const chat = async (c: GwsClient, id: string) => (await c.get(`/api/v2/me/chats/${id}`)).body.chat;
const dnsOf = (view: any): string[] => view.participants.map((p: any) => p.phoneNumber).sort();

interface World {
  readonly callId: string;
  readonly customer: CustomerChat;
  readonly a: GwsClient;
  readonly b: GwsClient;
  readonly c: GwsClient;
}

/**
 * agent15001 in a 3-party call (15000, 15001, 15002) and in a chat conference (the customer,
 * agent15000, and agent15001 invited and accepted): one ejection with every kind of step.
 */
const openWorld = async (url: string): Promise<World> => {
  const [a, b, c] = ['agent15000', 'agent15001', 'agent15002'].map((u) => gws(url, u)) as [GwsClient, GwsClient, GwsClient];
  ok(await a.dial('15001'), 'dial');
  const callId = (await b.get('/api/v2/me/calls')).body.uris[0].split('/').pop() as string;
  ok(await b.op(callId, 'Answer'), 'answer');
  ok(await a.op(callId, 'SingleStepConference', { destination: { phoneNumber: '15002' } }), 'conference');
  ok(await c.op(callId, 'Answer'), 'answer the conference');

  for (const x of [a, b]) ok(await x.post('/api/v2/me', { operationName: 'StartContactCenterSession', channels: ['chat'] }), 'chat session');
  ok(await a.post('/api/v2/me/channels/chat', { operationName: 'Ready' }), 'Ready');
  const customer = await startCustomerChat(url, { nickname: 'pat' });
  await waitFor(async () => (await chat(a, customer.chatId))?.state === 'Invited', 5000, 'the chat offered to agent15000');
  const path = `/api/v2/me/chats/${customer.chatId}`;
  ok(await a.post(path, { operationName: 'Accept' }), 'accept');
  ok(await a.post('/api/v2/me/channels/chat', { operationName: 'NotReady' }), 'NotReady');
  const bId = (await b.get('/api/v2/me')).body.user.id as string;
  ok(await a.post(path, { operationName: 'Invite', targetUri: `${url}/api/v2/users/${bId}` }), 'invite');
  ok(await b.post(path, { operationName: 'Accept' }), 'accept the invitation');
  return { callId, customer, a, b, c };
};

/** The flag's entries once its last one is its verdict (done or failed, about no interaction). */
const verdictEntries = (url: string) =>
  waitFor(
    async () => {
      const entries = (await gws(url, 'admin').get('/conclave/v1/compliance/audit?user=agent15001')).body.entries as any[];
      const last = entries.at(-1);
      return last && last.interaction === null && (last.step === 'done' || last.step === 'failed') ? entries : undefined;
    },
    20_000,
    'the flag to reach its verdict',
  );

/** Everything the promise says, checked on the restarted server and then on the file itself. */
const expectSettled = async (s: Serve, data: string, w: World, label: string) => {
  const url = await s.url;
  const { a, b, c, callId, customer } = { ...w, a: gws(url, 'agent15000'), b: gws(url, 'agent15001'), c: gws(url, 'agent15002') };
  const entries = await verdictEntries(url);
  const flagId = entries.at(-1).flagId as string;

  // The customer and the other agents are undisturbed: the call goes on between 15000 and 15002, the chat with agent15000.
  for (const [x, other] of [[a, '15002'], [c, '15000']] as const) {
    const view = await call(x, callId);
    assert.equal(view.state, 'Established', `${label}: ${x.user} still talks`);
    assert.deepEqual(dnsOf(view), [other], `${label}: ${x.user} sees only ${other}`);
    assert.equal(view.supervisorListeningIn, false, `${label}: nobody listens in on ${x.user}`);
  }
  const theirs = await chat(a, customer.chatId);
  assert.equal(theirs.state, 'Chatting', `${label}: agent15000 still chats`);
  assert.deepEqual(theirs.participants.map((p: any) => p.type).sort(), ['Agent', 'Customer'], `${label}: only agent15000 and the customer are left`);
  // The restart listens on another port: the customer asks there, with the same credentials.
  const { userId, secureKey, alias } = customer;
  const seen = (await postForm(`${url}/genesys/2/chat/customer-support/${customer.chatId}/refresh`, { userId, secureKey, alias, fromPosition: '1' })).body;
  assert.equal(seen.chatEnded, false, `${label}: the customer is still connected`);

  // The flagged agent is out of both.
  assert.deepEqual(((await b.get('/api/v2/me/calls?fields=*')).body.calls as any[]).filter((x) => x.state !== 'Released'), [], `${label}: 15001 has no call`);
  assert.notEqual((await chat(b, customer.chatId))?.state, 'Chatting', `${label}: agent15001 left the chat`);

  await stop(s);
  const store = openSqliteStore(data);
  try {
    const flag = await store.getFlag(flagId);
    assert.ok(flag, `${label}: the flag is stored`);
    assert.ok(flag.status === 'done' || (flag.status === 'failed' && typeof flag.detail === 'string' && flag.detail !== ''), `${label}: ${JSON.stringify(flag)}`);
    // Here nothing stands in the way, so done is the honest outcome: a failed flag would be a bug.
    assert.equal(flag.status, 'done', `${label}: ${JSON.stringify(flag)}; audit ${JSON.stringify(entries.map((e) => [e.step, e.outcome, e.detail]))}`);
    assert.deepEqual(await store.pendingFlags(), []);
    assert.equal((await store.getAgentSession(COMPLIANCE_ID))?.monitoring ?? null, null, `${label}: the orchestrator monitors nobody`);
    const inChats = (await store.chatsOfAgent(COMPLIANCE_ID)).filter((x) => x.agents.some((p) => p.userId === COMPLIANCE_ID && p.state === 'Chatting'));
    assert.deepEqual(inChats.map((x) => x.id), [], `${label}: the orchestrator is in no chat`);
  } finally {
    await store.close();
  }
  return entries;
};

/** A step without the ids that differ from run to run. */
const nameOf = (what: string) => what.replace(/ (call|chat) [^ ]+$/, ' $1').replace(/^ListenIn \d+$/, 'ListenIn');

const raiseFlag = (url: string) =>
  // The process may die before it answers (the flag's first steps are taken before the 202).
  gws(url, 'admin')
    .post('/conclave/v1/compliance/flags', { user: 'agent15001', reason: 'crash test', source: 'e2e' })
    .catch(() => undefined);

describe('compliance: a SIGKILL at any step of an ejection, then a restart on the same file', () => {
  let steps: [number, string][] = [];

  it('lists the steps of an ejection from a call conference and a chat conference (N=0: no crash)', async () => {
    const data = join(work, 'steps.db');
    const s = serve(data, 0);
    const w = await openWorld(await s.url);
    await raiseFlag(await s.url);
    await waitFor(() => s.steps().some(([, what]) => what === 'flag done'), 20_000, () => `the flag saved done; stderr: ${s.stderr()}`);
    steps = s.steps();
    const names = steps.map(([, what]) => nameOf(what));
    assert.deepEqual(names, [
      'flag pending',
      'audit flagged accepted',
      'ListenIn',
      'audit found accepted call',
      'RemoveParticipantFromConference call',
      'audit removed ejected call',
      'CancelSupervisorMonitoring',
      'audit found accepted chat',
      'Intrude chat',
      'RemoveParticipantFromConference chat',
      'audit removed ejected chat',
      'Leave chat',
      'audit done completed',
      'flag done',
    ]);
    assert.deepEqual(steps.map(([n]) => n), names.map((_, i) => i + 1));
    await expectSettled(s, data, w, 'no crash');
  });

  it('after every step N: killed there, restarted, the flag ends done and nobody else is disturbed', async (t) => {
    assert.ok(steps.length > 0, 'the steps are listed by the case before (run it with that case)');
    for (const [n, what] of steps) {
      const data = join(work, `crash-${n}.db`);
      const first = serve(data, n);
      const w = await openWorld(await first.url);
      await raiseFlag(await first.url);
      const exit = await first.exited;
      assert.equal(exit.signal, 'SIGKILL', `step ${n} (${what}): killed by the hook; ${first.stderr()}`);
      const last = first.steps().at(-1);
      assert.deepEqual([last?.[0], nameOf(last?.[1] ?? '')], [n, nameOf(what)], `step ${n}: the same steps as without a crash`);
      const second = serve(data);
      const entries = await expectSettled(second, data, w, `after step ${n} (${what})`);
      t.diagnostic(`step ${n} (${what}): ${entries.map((e) => `${e.step}/${e.outcome}`).join(' ')}`);
    }
  });
});
