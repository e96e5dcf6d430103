/**
 * The console in a real Chromium (Debian's /usr/bin/chromium through playwright-core), against a
 * real Conclave on loopback, with the official CometD client on the agents' side. Follows
 * CONTRACT.md "The console": sign in with "User name" / "Password" / "Sign in" (ROLE_ADMIN or
 * ROLE_SUPERVISOR); live calls, chats, agent states and flags with no reload; "Remove" on each
 * remote party of a conference; "Start call" with "From" / "To"; raising a flag. Every control is
 * found by its role and accessible name, as a user of assistive technology would find it.
 * Without Chromium (a dev machine without root: scripts/ensure-chromium.sh) the suite skips, saying why.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { callNote, listen, type Listener, type Notification } from '../helpers/cometd.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const CUSTOMER = '+14155550100';
const OUTSIDE = '+442071838750';
const SKIP = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: run scripts/ensure-chromium.sh as root (apt-get install chromium) to run the console's browser tests`;
if (SKIP) console.log(`# console tests skipped: ${SKIP}`);

const partiesOf = (n: Notification): string[] => (n.data.call.participants as { phoneNumber: string }[]).map((p) => p.phoneNumber).sort();

describe('the console in a real Chromium', { skip: SKIP }, () => {
  let server: TestServer;
  let context: BrowserContext;
  let profile: string;
  let a: GwsClient, b: GwsClient, admin: GwsClient;
  let la: Listener, lb: Listener, lc: Listener;
  /** Every URL any page of the browser asked for, and every page error or console error. */
  const requests: string[] = [];
  const problems: string[] = [];
  /** Console errors a test expects (a refused sign-in's 401 is logged by Chromium as a failed resource). */
  let expectedConsoleError: RegExp | undefined;

  before(async () => {
    server = await startTestServer({ externalAnswerMs: 0 });
    [a, b, admin] = ['agent15000', 'agent15001', 'admin'].map((u) => gws(server.url, u)) as [GwsClient, GwsClient, GwsClient];
    [la, lb, lc] = (await Promise.all(['agent15000', 'agent15001', 'agent15002'].map((u) => listen(server.url, u)))) as [Listener, Listener, Listener];
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'conclave-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1280, height: 900 },
    });
    context.on('request', (r) => requests.push(r.url()));
    context.on('page', (page) => watch(page));
  });
  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await Promise.all([la, lb, lc].map((l) => l?.disconnect()));
    await server?.dispose();
  });

  const watch = (page: Page) => {
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !expectedConsoleError?.test(message.text())) problems.push(`console error: ${message.text()}`);
    });
  };

  /** A fresh page (its own cookies: a new context would need a new profile, so sign out at the end). */
  const openPage = async (): Promise<Page> => {
    await context.clearCookies();
    const page = await context.newPage();
    const response = await page.goto(`${server.url}/`);
    assert.equal(response?.url(), `${server.url}/console/`, 'GET / redirects to /console/');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    return page;
  };

  const signIn = async (page: Page, user: string, password = user) => {
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  const party = (page: Page, dn: string) => page.getByRole('listitem', { name: `Party ${dn}` });
  const since = (l: Listener, from: number, match: (n: Notification) => boolean) => (n: Notification) => l.received.indexOf(n) >= from && match(n);

  it('signs an admin in and shows the live picture: calls, agents and their states per channel, flags', async () => {
    const page = await openPage();
    await signIn(page, 'admin');
    await page.getByRole('heading', { name: /^Calls/ }).waitFor();
    await page.getByRole('row', { name: 'Agent agent15000' }).waitFor();
    // An agent logs in on voice through GWS: the page shows it without a reload.
    assert.equal((await a.post('/api/v2/me', { operationName: 'StartContactCenterSession', channels: ['voice'] })).status, 200);
    assert.equal((await a.post('/api/v2/me/channels/voice', { operationName: 'Ready' })).status, 200);
    await page.getByRole('row', { name: 'Agent agent15000' }).getByText('Ready', { exact: true }).waitFor();
    assert.match(await page.getByRole('row', { name: 'Agent agent15001' }).innerText(), /Logged out/);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.close();
  });

  it('a conference built through GWS appears without reload; Remove on a party removes it and the owner hears ParticipantsUpdated', async () => {
    const page = await openPage();
    await signIn(page, 'admin');
    await page.getByRole('heading', { name: /^Calls/ }).waitFor();

    // A customer calls 15000 (simulation API), 15000 answers and conferences in 15001, then OUTSIDE.
    const markA = la.received.length;
    const created = await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to: '15000', userData: { account: 'A-42' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const callId = created.body.callId as string;
    await la.next(since(la, markA, callNote('StatusChange', { id: callId, state: 'Ringing' })));
    await party(page, '15000').getByText('Ringing').waitFor();
    assert.deepEqual((await a.op(callId, 'Answer')).body, { statusCode: 0 });
    const markB = lb.received.length;
    assert.deepEqual((await a.op(callId, 'SingleStepConference', { destination: { phoneNumber: '15001' } })).body, { statusCode: 0 });
    await lb.next(since(lb, markB, callNote('StatusChange', { id: callId, state: 'Ringing' })));
    assert.deepEqual((await b.op(callId, 'Answer')).body, { statusCode: 0 });
    const markA2 = la.received.length;
    assert.deepEqual((await a.op(callId, 'SingleStepConference', { destination: { phoneNumber: OUTSIDE } })).body, { statusCode: 0 });
    await la.next(since(la, markA2, (n) => callNote('ParticipantsUpdated', { id: callId })(n) && partiesOf(n).includes(OUTSIDE)), 5000, 'the external party connected');

    const call = page.getByRole('article', { name: `Call ${callId}` });
    for (const dn of [CUSTOMER, '15000', '15001', OUTSIDE]) await call.getByRole('listitem', { name: `Party ${dn}` }).getByText('Connected').waitFor();
    assert.match(await party(page, '15000').innerText(), /owner/);
    assert.match(await party(page, OUTSIDE).innerText(), /external/);
    // The owner has no Remove (removing oneself is hanging up); every other live party has one.
    assert.equal(await party(page, '15000').getByRole('button', { name: 'Remove' }).count(), 0);
    for (const dn of [CUSTOMER, '15001', OUTSIDE]) assert.equal(await party(page, dn).getByRole('button', { name: 'Remove' }).count(), 1, dn);

    await la.caughtUp();
    const mark = la.received.length;
    await party(page, '15001').getByRole('button', { name: 'Remove' }).click();
    const updated = await la.next(since(la, mark, callNote('ParticipantsUpdated', { id: callId })), 5000, 'ParticipantsUpdated after Remove');
    assert.ok(!partiesOf(updated).includes('15001'), JSON.stringify(partiesOf(updated)));
    assert.ok(partiesOf(updated).includes(CUSTOMER) && partiesOf(updated).includes(OUTSIDE));
    await page.locator(`li.gone[aria-label^="Party 15001"]`).getByText('Left').waitFor();
    assert.equal(await party(page, '15001').getByRole('button', { name: 'Remove' }).count(), 0);
    await page.getByRole('status').filter({ hasText: 'Remove 15001: done' }).waitFor();

    if (process.env['CONCLAVE_SCREENSHOT'] === '1') {
      const shot = await page.screenshot({ fullPage: true });
      writeFileSync(new URL('../../../docs/console.png', import.meta.url), shot);
    }

    // An external party is removed the same way (the orchestrator monitors an agent of the call).
    const mark2 = la.received.length;
    await party(page, OUTSIDE).getByRole('button', { name: 'Remove' }).click();
    const updated2 = await la.next(since(la, mark2, (n) => callNote('ParticipantsUpdated', { id: callId })(n) && !partiesOf(n).includes(OUTSIDE)), 5000, 'the external party removed');
    // A party's own view lists the others: the owner now sees only the customer.
    assert.deepEqual(partiesOf(updated2), [CUSTOMER]);
    await page.locator(`li.gone[aria-label^="Party ${OUTSIDE}"]`).waitFor();

    // The customer hangs up (the simulation API's hangup) from the page: the call ends and leaves the page.
    const mark3 = la.received.length;
    await party(page, CUSTOMER).getByRole('button', { name: 'Hang up' }).click();
    await la.next(since(la, mark3, callNote('StatusChange', { id: callId, state: 'Released' })), 5000, 'the call released');
    await call.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.close();
  });

  it('starting a customer call from the page rings the agent', async () => {
    const page = await openPage();
    await signIn(page, 'admin');
    await page.getByLabel('From', { exact: true }).fill('+15105550123');
    await page.getByLabel('To', { exact: true }).fill('15002');
    await page.getByLabel('Attached data').fill('order=991\nchannel=web');
    const mark = lc.received.length;
    await page.getByRole('button', { name: 'Start call' }).click();
    const ringing = await lc.next(since(lc, mark, callNote('StatusChange', { state: 'Ringing', callType: 'Inbound' })), 5000, 'Ringing at 15002');
    assert.equal(ringing.data.call.ani, '+15105550123');
    assert.deepEqual(ringing.data.call.userData, { order: 991, channel: 'web' });
    await party(page, '15002').getByText('Ringing').waitFor();
    // A bad destination is refused in words on the page, and rings no one.
    await page.getByLabel('To', { exact: true }).fill('99999');
    expectedConsoleError = /status of 400/;
    await page.getByRole('button', { name: 'Start call' }).click();
    await page.getByRole('alert').filter({ hasText: "'99999' is not a known agent DN" }).waitFor();
    expectedConsoleError = undefined;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.close();
  });

  it('raising a compliance flag from the page shows it pending, then done, with its audit trail', async () => {
    const page = await openPage();
    await signIn(page, 'admin');
    await page.getByLabel('User', { exact: true }).fill('agent15003');
    await page.getByLabel('Reason').fill('recording consent withdrawn');
    await page.getByRole('button', { name: 'Raise flag' }).click();
    const row = page.getByRole('row', { name: 'Flag on agent15003' });
    await row.getByText('Done').waitFor();
    assert.match(await row.innerText(), /recording consent withdrawn/);
    await page.getByRole('list', { name: 'Audit trail' }).getByText(/completed/).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.close();
  });

  it('a supervisor signs in to a read-only console', async () => {
    const page = await openPage();
    await signIn(page, 'super15010');
    await page.getByRole('heading', { name: /^Calls/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Start call' }).count(), 0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.close();
  });

  it('refused sign-ins (a wrong password, an agent) show why and no data', async () => {
    const page = await openPage();
    expectedConsoleError = /status of 40[13]/;
    for (const [user, password, why] of [
      ['admin', 'wrong', 'invalid user name or password'],
      ['agent15000', 'agent15000', 'ROLE_ADMIN'],
    ] as const) {
      await signIn(page, user, password);
      await page.getByRole('alert').filter({ hasText: why }).waitFor();
      assert.equal(await page.getByRole('heading', { name: /^Calls/ }).count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Sign in' }).count(), 1);
    }
    expectedConsoleError = undefined;
    const cookies = await context.cookies();
    assert.deepEqual(cookies.filter((c) => c.name === 'JSESSIONID'), [], 'no session cookie after a refused sign-in');
    await page.close();
  });

  it('every console request is authenticated: the stream and the reads refuse no session, a bad one and an agent', async () => {
    for (const path of ['/conclave/v1/events', '/conclave/v1/console/state']) {
      const none = await fetch(`${server.url}${path}`);
      assert.equal(none.status, 401, path);
      assert.equal(none.headers.get('www-authenticate'), null, 'no Basic challenge: the browser would prompt');
      assert.equal(((await none.json()) as { statusCode: number }).statusCode, 20);
      const forged = await fetch(`${server.url}${path}`, { headers: { cookie: 'JSESSIONID=forged.value' } });
      assert.equal(forged.status, 401, path);
      assert.equal((await a.get(path)).status, 403, path);
    }
    // The sign-in sets an HttpOnly, SameSite=Strict cookie that opens the stream.
    const signedIn = await fetch(`${server.url}/conclave/v1/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userName: 'admin', password: 'admin' }),
    });
    assert.equal(signedIn.status, 200);
    const cookie = signedIn.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^JSESSIONID=[^;]+; Path=\/; HttpOnly; SameSite=Strict$/);
    const stream = await fetch(`${server.url}/conclave/v1/events`, { headers: { cookie: cookie.split(';')[0] as string } });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
    await stream.body?.cancel();
  });

  it('a bad Remove is a clear 4xx that changes nothing', async () => {
    const cookie = await (async () => {
      const r = await fetch(`${server.url}/conclave/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userName":"admin","password":"admin"}' });
      return (r.headers.get('set-cookie') ?? '').split(';')[0] as string;
    })();
    const remove = (callId: string, body: unknown) =>
      fetch(`${server.url}/conclave/v1/console/calls/${callId}/remove`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const created = await admin.post('/conclave/v1/sim/calls', { from: CUSTOMER, to: '15003' });
    const callId = created.body.callId as string;
    const before = await server.store.getCall(callId);
    for (const [body, status, words] of [
      [{}, 400, "'participant' is missing"],
      [{ participant: '15001' }, 400, "'15001' is not a party"],
    ] as const) {
      const reply = await remove(callId, body);
      assert.equal(reply.status, status);
      assert.match(((await reply.json()) as { statusMessage: string }).statusMessage, new RegExp(words));
    }
    const missing = await remove('NOSUCHCALL', { participant: '15001' });
    assert.equal(missing.status, 404);
    // A supervisor may watch but not act.
    assert.equal((await gws(server.url, 'super15010').post(`/conclave/v1/console/calls/${callId}/remove`, { participant: CUSTOMER })).status, 403);
    assert.deepEqual(await server.store.getCall(callId), before, 'nothing changed');
    await admin.post(`/conclave/v1/sim/calls/${callId}`, { action: 'hangup' });
  });

  it('no request left 127.0.0.1, and no page or console error happened', async () => {
    await waitFor(() => requests.length > 0, 1000, 'the browser to have made requests');
    const elsewhere = requests.filter((url) => !url.startsWith('data:') && new URL(url).hostname !== '127.0.0.1');
    assert.deepEqual(elsewhere, []);
    assert.ok(requests.some((url) => url.endsWith('/console/vendor/preact-htm.js')), 'preact + htm came from Conclave');
    assert.deepEqual(problems, []);
  });
});
