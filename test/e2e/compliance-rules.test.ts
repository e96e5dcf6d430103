/**
 * Compliance rules: a chat message that matches a pattern flags the agent who sent it; a user
 * data key set on a call flags the user its value names. Bad rules files are refused with the
 * rule and field named.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseRules, RulesError } from '../../src/domain/compliance/rules.js';
import { startCustomerChat } from '../helpers/customer.js';
import { gws, type GwsClient } from '../helpers/gws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const RULES = parseRules(
  {
    rules: [
      { name: 'card-number', type: 'chat-message', pattern: '\\b(?:\\d[ -]?){15}\\d\\b', reason: 'card number in chat' },
      { name: 'crm-eject', type: 'attached-data', key: 'ComplianceEject', reason: 'flagged by the CRM' },
    ],
  },
  'test rules',
);

describe('compliance rules', () => {
  let server: TestServer;
  let a: GwsClient, b: GwsClient, c: GwsClient, admin: GwsClient;
  const ids: Record<string, string> = {};

  before(async () => {
    server = await startTestServer({ complianceRules: RULES });
    [a, b, c, admin] = ['agent15000', 'agent15001', 'agent15002', 'admin'].map((u) => gws(server.url, u)) as [GwsClient, GwsClient, GwsClient, GwsClient];
    for (const x of [a, b, c]) ids[x.user] = (await x.get('/api/v2/me')).body.user.id;
  });
  after(async () => server?.dispose());

  const audit = async (user: string) => (await admin.get(`/conclave/v1/compliance/audit?user=${user}`)).body.entries as any[];

  it('an agent who types a card number in a chat conference is ejected from it', async () => {
    for (const x of [a, b]) await x.post('/api/v2/me', { operationName: 'StartContactCenterSession', channels: ['chat'] });
    await a.post('/api/v2/me/channels/chat', { operationName: 'Ready' });
    const customer = await startCustomerChat(server.url, { nickname: 'Chris' });
    const chat = (path = '') => `/api/v2/me/chats/${customer.chatId}${path}`;
    await waitFor(
      async () => ((await a.get('/api/v2/me/chats?fields=*')).body.chats as any[]).some((x) => x.id === customer.chatId && x.state === 'Invited'),
      5000,
      'the chat to be offered to agent15000',
    );
    assert.equal((await a.post(chat(), { operationName: 'Accept' })).body.statusCode, 0);
    assert.equal((await a.post(chat(), { operationName: 'Invite', targetUri: `${server.url}/api/v2/users/${ids['agent15001']}` })).body.statusCode, 0);
    assert.equal((await b.post(chat(), { operationName: 'Accept' })).body.statusCode, 0);
    assert.equal((await b.post(chat(), { operationName: 'SendMessage', text: 'no card here, just 1234' })).body.statusCode, 0);
    await server.compliance.idle();
    assert.deepEqual(await audit('agent15001'), [], 'an innocent message flags no one');

    assert.equal((await b.post(chat(), { operationName: 'SendMessage', text: 'your card is 4111 1111 1111 1111' })).body.statusCode, 0);
    await server.compliance.idle();
    assert.equal((await b.get(chat())).body.chat.state, 'LeftChat');
    assert.equal((await a.get(chat())).body.chat.state, 'Chatting');
    const entries = await audit('agent15001');
    assert.deepEqual(entries.map((e) => [e.step, e.outcome]), [['flagged', 'accepted'], ['found', 'accepted'], ['removed', 'ejected'], ['done', 'completed']]);
    assert.equal(entries[0].actor, 'rule:card-number');
    assert.equal(entries[0].detail, 'card number in chat');
  });

  it('setting the attached-data key on a call ejects the user it names from that conference', async () => {
    await a.dial('15001');
    const callId = (await b.get('/api/v2/me/calls')).body.uris[0].split('/').pop() as string;
    await b.op(callId, 'Answer');
    await a.op(callId, 'SingleStepConference', { destination: { phoneNumber: '15002' } });
    await c.op(callId, 'Answer');
    assert.equal((await a.op(callId, 'AttachUserData', { userData: { ComplianceEject: '15002' } })).body.statusCode, 0);
    await server.compliance.idle();
    const view = (await a.get(`/api/v2/me/calls/${callId}`)).body.call;
    assert.deepEqual(view.participants.map((p: any) => p.phoneNumber), ['15001']);
    assert.equal(view.state, 'Established');
    const removed = (await audit('agent15002')).filter((e) => e.step === 'removed');
    assert.deepEqual(removed.map((e) => e.interaction), [callId]);
  });

  it('refuses bad rules files, naming the rule and the field', () => {
    const bad: [unknown, RegExp][] = [
      [{ rules: [{ name: 'x', type: 'chat-message' }] }, /rules\[0\]/],
      [{ rules: [{ name: 'x', type: 'chat-message', pattern: '([' }] }, /rules\[0\] \(x\)\.pattern/],
      [{ rules: [{ name: 'x', type: 'telepathy', key: 'k' }] }, /rules\[0\]/],
      [{ rules: [{ name: 'x', type: 'attached-data', key: 'k' }, { name: 'x', type: 'attached-data', key: 'j' }] }, /'x' is used twice/],
      [{ rule: [] }, /document|rule/],
    ];
    for (const [doc, message] of bad) assert.throws(() => parseRules(doc, 'f.yaml'), (e: unknown) => e instanceof RulesError && message.test(e.message) && e.message.startsWith('f.yaml'));
  });
});
