/**
 * Bad input on the chat APIs (agent GWS and customer), end to end over real HTTP and the official
 * CometD client: every refusal is a 4xx with the contract's statusCode and a body of exactly
 * statusCode + statusMessage whose message names the problem; it changes no agent's view of any
 * chat, nor the customers' transcripts, and sends no notification.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CustomerChat } from '../helpers/customer.js';
import type { Reply } from '../helpers/gws.js';
import {
  anyChatNotes,
  caughtUpAll,
  chatOp,
  chatWith,
  credsOf,
  customerPost,
  mark,
  nextChatNote,
  openChatWorld,
  referenced,
  SERVICE,
  setChatState,
  startChatSession,
  type Agent,
  type ChatWorld,
} from '../helpers/chat-world.js';

/** HTTP status by statusCode (CONTRACT.md, "Responses"). */
const HTTP_OF: Readonly<Record<number, number>> = { 1: 400, 2: 400, 10: 400, 3: 403, 5: 403, 6: 404 };

interface Expected {
  readonly statusCode: number;
  /** What the message must say: it names the field, the value or the reason (a function when it names the world's ids). */
  readonly message: RegExp | (() => RegExp);
  /** Only for refusals made before routing (413, 415); otherwise derived from statusCode. */
  readonly http?: number;
}

type Answer = Pick<Reply, 'status' | 'body'>;

const assertRefusal = (reply: Answer, expected: Expected, what: string) => {
  const shown = JSON.stringify(reply.body)?.slice(0, 300);
  assert.notEqual(reply.status, 500, `${what}: never a 500 (${shown})`);
  assert.equal(reply.status, expected.http ?? HTTP_OF[expected.statusCode], `${what}: HTTP status (${shown})`);
  assert.ok(reply.body !== null && typeof reply.body === 'object', `${what}: a JSON body (${shown})`);
  assert.deepEqual(Object.keys(reply.body).sort(), ['statusCode', 'statusMessage'], `${what}: exactly statusCode and statusMessage (${shown})`);
  assert.equal(reply.body.statusCode, expected.statusCode, `${what}: statusCode (${shown})`);
  assert.equal(typeof reply.body.statusMessage, 'string', `${what}: statusMessage is a string`);
  const message = typeof expected.message === 'function' ? expected.message() : expected.message;
  assert.match(reply.body.statusMessage, message, `${what}: the message names the problem`);
};

/** POSTs a raw body with a content type (the customer API takes no credentials header). */
const rawPost = async (url: string, body: string, contentType: string): Promise<Answer> => {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
};

describe('chat: bad input is refused, changes nothing and notifies no one', () => {
  let w: ChatWorld;
  /** A: a chat session, Ready, in every chat below. B: a chat session, NotReady, in none. */
  let a: Agent, b: Agent;
  /** x: A is Chatting. y: A Completed it (ended). z: the customer disconnected; A is still Chatting. */
  let x: CustomerChat, y: CustomerChat, z: CustomerChat;
  const chatIds = () => [x.chatId, y.chatId, z.chatId];

  before(async () => {
    w = await openChatWorld(['agent15000', 'agent15001']);
    [a, b] = w.agents as [Agent, Agent];
    await startChatSession(a);
    await startChatSession(b);
    await setChatState(a, 'Ready');
    x = await chatWith(w, a);
    y = await chatWith(w, a);
    const from = mark(a);
    referenced(await chatOp(a, y.chatId, 'Complete'), 'A completes y');
    await nextChatNote(a, y.chatId, from, 'StatusChange', 'Completed');
    z = await chatWith(w, a);
    assert.equal((await z.disconnect()).chatEnded, true);
    // A stays Ready: a chat wrongly started by a refused request would be offered to A, and heard.
  });
  after(async () => w?.dispose());

  /** Each agent's list of chats, view of each chat and transcript of each; each customer's transcript. */
  const snapshot = async () => ({
    agents: await Promise.all(
      w.agents.map(async (agent) => ({
        user: agent.user,
        list: (await agent.client.get('/api/v2/me/chats?fields=*')).body,
        chats: await Promise.all(
          chatIds().map(async (id) => {
            const [view, messages] = await Promise.all([agent.client.get(`/api/v2/me/chats/${id}`), agent.client.get(`/api/v2/me/chats/${id}/messages`)]);
            return { id, view: [view.status, view.body], messages: [messages.status, messages.body] };
          }),
        ),
      })),
    ),
    customers: await Promise.all([x, y, z].map((c) => c.refresh(1))),
  });

  /** Sends a bad request; checks the refusal, that nothing changed and that no one was notified. */
  const refused = (name: string, send: () => Promise<Answer>, expected: Expected) =>
    it(name, async () => {
      await caughtUpAll(w.agents);
      const marks = w.agents.map(mark);
      const before = await snapshot();
      assertRefusal(await send(), expected, name);
      assert.deepEqual(await snapshot(), before, `${name}: a refused request changes nothing`);
      // Caught up after the refusal's answer: anything it had sent would be here by now.
      await caughtUpAll(w.agents);
      assert.deepEqual(
        Object.fromEntries(w.agents.map((agent, i) => [agent.user, anyChatNotes(agent, marks[i])])),
        Object.fromEntries(w.agents.map((agent) => [agent.user, []])),
        `${name}: a refused request sends no notification`,
      );
    });

  const chatPath = (id: string) => `/api/v2/me/chats/${id}`;
  const customerUrl = (chatId: string, verb: string) => `${w.server.url}/genesys/2/chat/${SERVICE}/${chatId}/${verb}`;

  describe('agent operations (POST /api/v2/me/chats/{id})', () => {
    refused('an unknown chat id', () => chatOp(a, 'NOSUCHCHAT01', 'SendMessage', { text: 'hi' }), { statusCode: 6, message: /NOSUCHCHAT01/ });
    refused('an agent who is not in the chat (operation)', () => chatOp(b, x.chatId, 'SendMessage', { text: 'hi' }), { statusCode: 6, message: () => new RegExp(x.chatId) });
    refused('an agent who is not in the chat (GET)', () => b.client.get(chatPath(x.chatId)), { statusCode: 6, message: () => new RegExp(x.chatId) });
    refused('an agent who is not in the chat (GET messages)', () => b.client.get(`${chatPath(x.chatId)}/messages`), { statusCode: 6, message: () => new RegExp(x.chatId) });
    refused('an operation on a Completed chat', () => chatOp(a, y.chatId, 'SendMessage', { text: 'anyone?' }), { statusCode: 2, message: /Completed/ });
    refused('Accept when already Chatting', () => chatOp(a, x.chatId, 'Accept'), { statusCode: 2, message: /Chatting/ });
    refused('SendMessage without text', () => chatOp(a, x.chatId, 'SendMessage'), { statusCode: 1, message: /text/ });
    refused('Leave with messageType but no text', () => chatOp(a, x.chatId, 'Leave', { messageType: 'Text' }), { statusCode: 1, message: /text/ });
    refused('Leave with treatAs but no text', () => chatOp(a, x.chatId, 'Leave', { treatAs: 'System' }), { statusCode: 1, message: /text/ });
    refused('treatAs "Loud"', () => chatOp(a, x.chatId, 'SendMessage', { text: 'hi', treatAs: 'Loud' }), { statusCode: 10, message: /treatAs/ });
    refused('SendMessage text of a wrong type', () => chatOp(a, x.chatId, 'SendMessage', { text: 42 }), { statusCode: 10, message: /text/ });
    refused('SendMessage text over 16 KiB', () => chatOp(a, x.chatId, 'SendMessage', { text: 'x'.repeat(16 * 1024 + 1) }), { statusCode: 10, message: /text/ });
    refused('a body over 64 KiB', () => chatOp(a, x.chatId, 'SendMessage', { text: 'x'.repeat(65 * 1024) }), { statusCode: 10, http: 413, message: /larger|limit|bytes/ });
    refused('malformed JSON', () => a.client.raw(chatPath(x.chatId), '{"operationName": "SendMessage", "text": ', 'application/json'), { statusCode: 10, message: /JSON/ });
    refused('a JSON array body', () => a.client.raw(chatPath(x.chatId), '["SendMessage"]', 'application/json'), { statusCode: 10, message: /object|body/ });
    refused('an unknown operationName', () => chatOp(a, x.chatId, 'Dance'), { statusCode: 10, message: /Dance/ });
    refused('no operationName', () => a.client.post(chatPath(x.chatId), { text: 'hi' }), { statusCode: 1, message: /operationName/ });
    refused('an unsupported content type', () => a.client.raw(chatPath(x.chatId), 'operationName=Leave', 'text/plain'), { statusCode: 10, http: 415, message: /Content-Type/i });
    refused('Transfer to something that is not a user', () => chatOp(a, x.chatId, 'Transfer', { targetUri: 'http://nowhere/api/v2/queues/1' }), { statusCode: 10, message: /targetUri/ });
  });

  describe('customer requests (/genesys/2/chat/…)', () => {
    const withCreds = (c: CustomerChat, patch: Record<string, string>) => ({ ...credsOf(c), ...patch });
    /** A customer request on chat x (or another chat) with x's credentials, patched. */
    const onX = (verb: 'send' | 'refresh' | 'disconnect', patch: Record<string, string>, chatId = () => x.chatId) => () =>
      customerPost(w.server.url, chatId(), verb, withCreds(x, patch));
    const start = (body: string, contentType = 'application/x-www-form-urlencoded') => () =>
      rawPost(`${w.server.url}/genesys/2/chat/${SERVICE}`, body, contentType);

    it('a wrong secureKey on refresh answers 403 with no messages', async () => {
      const reply = await onX('refresh', { secureKey: 'not-the-key', fromPosition: '1' })();
      assertRefusal(reply, { statusCode: 3, message: /secureKey/ }, 'refresh with a wrong secureKey');
      assert.equal(reply.body.messages, undefined, 'no messages leak');
    });
    refused('send with a wrong secureKey', onX('send', { secureKey: 'not-the-key', message: 'hi' }), { statusCode: 3, message: /secureKey/ });
    refused('send with a wrong alias', onX('send', { alias: '999', message: 'hi' }), { statusCode: 3, message: /alias/ });
    refused('disconnect with a wrong userId', onX('disconnect', { userId: 'NOT-THE-USER' }), { statusCode: 3, message: /userId/ });
    refused('disconnect with another chat\'s credentials', () => customerPost(w.server.url, x.chatId, 'disconnect', credsOf(y)), { statusCode: 3, message: /match/ });
    refused('send with no credentials', () => customerPost(w.server.url, x.chatId, 'send', { message: 'hi' }), { statusCode: 3, message: /secureKey/ });
    refused('an unknown chatId', onX('send', { message: 'hi' }, () => 'NOSUCHCHAT01'), { statusCode: 6, message: /NOSUCHCHAT01/ });
    refused('send after disconnect', () => customerPost(w.server.url, z.chatId, 'send', withCreds(z, { message: 'still there?' })), { statusCode: 2, message: /ended/ });
    refused('send without a message', onX('send', {}), { statusCode: 1, message: /message/ });
    refused('send with an empty message', onX('send', { message: '' }), { statusCode: 10, message: /message/ });
    refused('send with a message over 16 KiB', onX('send', { message: 'x'.repeat(16 * 1024 + 1) }), { statusCode: 10, message: /message/ });
    refused('start with neither nickname nor firstName + lastName', start('emailAddress=pat%40example.com&subject=Help'), { statusCode: 1, message: /nickname/ });
    refused('start with firstName but no lastName (and no nickname)', start('firstName=Pat'), { statusCode: 1, message: /lastName/ });
    refused('start with malformed JSON', start('{"nickname": ', 'application/json'), { statusCode: 10, message: /JSON/ });
    refused('a fromPosition that is not a number', onX('refresh', { fromPosition: 'abc' }), { statusCode: 10, message: /fromPosition/ });
    refused('a fromPosition of 0', onX('refresh', { fromPosition: '0' }), { statusCode: 10, message: /fromPosition/ });
    refused('send with an unsupported content type', () => rawPost(customerUrl(x.chatId, 'send'), new URLSearchParams({ ...credsOf(x), message: 'hi' }).toString(), 'text/plain'), { statusCode: 10, http: 415, message: /Content-Type/i });
    refused('start with an unsupported content type', start('nickname=pat', 'text/csv'), { statusCode: 10, http: 415, message: /Content-Type/i });
  });
});
