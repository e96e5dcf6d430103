/**
 * A small world for the chat end-to-end tests: a real server, agents (GWS client + the official
 * CometD client each), customers over the customer API, and helpers to route, accept and watch
 * a chat's notifications.
 */
import assert from 'node:assert/strict';
import type { ServerOptions } from '../../src/server.js';
import { listen, type Listener, type Notification } from './cometd.js';
import { postForm, startCustomerChat, type CustomerChat } from './customer.js';
import { gws, type GwsClient, type Reply } from './gws.js';
import { startTestServer, type TestServer } from './server.js';

export interface Agent {
  readonly user: string;
  readonly id: string;
  /** The user's URI (…/api/v2/users/{id}), as Invite/Consult/Transfer take it. */
  readonly uri: string;
  readonly nickname: string;
  readonly client: GwsClient;
  readonly listener: Listener;
}

export interface ChatWorld {
  readonly server: TestServer;
  readonly agents: readonly Agent[];
  agent(user: string): Agent;
  /** A customer starts a chat on service `customer-support`. */
  customer(fields?: Record<string, string>): Promise<CustomerChat>;
  dispose(): Promise<void>;
}

export const SERVICE = 'customer-support';
export const DEFAULT_CUSTOMER = { nickname: 'pat', firstName: 'Pat', lastName: 'Lee', emailAddress: 'pat@example.com', subject: 'Billing' };

export const openChatWorld = async (users: readonly string[], options: ServerOptions = {}): Promise<ChatWorld> => {
  const server = await startTestServer(options);
  const agents = await Promise.all(
    users.map(async (user): Promise<Agent> => {
      const client = gws(server.url, user);
      const me = (await client.get('/api/v2/me')).body.user;
      const nickname = server.directory.byUserName(user)?.nickname ?? user;
      return { user, id: me.id, uri: me.uri, nickname, client, listener: await listen(server.url, user) };
    }),
  );
  return {
    server,
    agents,
    agent: (user) => {
      const found = agents.find((a) => a.user === user);
      assert.ok(found, `agent ${user} is in the world`);
      return found;
    },
    customer: (fields = DEFAULT_CUSTOMER) => startCustomerChat(server.url, fields, SERVICE),
    dispose: async () => {
      await Promise.all(agents.map((a) => a.listener.disconnect()));
      await server.dispose();
    },
  };
};

export const startChatSession = async (a: Agent) => {
  const reply = await a.client.post('/api/v2/me', { operationName: 'StartContactCenterSession', channels: ['chat'] });
  assert.deepEqual(reply.body, { statusCode: 0 }, `${a.user} starts a chat session`);
};

export const setChatState = async (a: Agent, state: 'Ready' | 'NotReady') =>
  assert.deepEqual((await a.client.post('/api/v2/me/channels/chat', { operationName: state })).body, { statusCode: 0 }, `${a.user} goes ${state}`);

export const chatOp = (a: Agent, chatId: string, operationName: string, params: Record<string, unknown> = {}): Promise<Reply> =>
  a.client.post(`/api/v2/me/chats/${chatId}`, { operationName, ...params });

/** Asserts an accepted operation that answers `{statusCode: 0, referenceId: N}`; returns N. */
export const referenced = (reply: Reply, what: string): number => {
  assert.equal(reply.status, 200, `${what}: ${JSON.stringify(reply.body)}`);
  assert.deepEqual(Object.keys(reply.body).sort(), ['referenceId', 'statusCode'], `${what}: ${JSON.stringify(reply.body)}`);
  assert.equal(reply.body.statusCode, 0, what);
  assert.ok(Number.isInteger(reply.body.referenceId), `${what}: referenceId is an integer`);
  return reply.body.referenceId as number;
};

/** The chat a /v2/me/chats notification is about (a chat view's id, or the end of chatUri). */
export const chatIdOf = (n: Notification): string | undefined => n.data?.chat?.id ?? (n.data?.chatUri as string | undefined)?.split('/').pop();

/** The chat notifications (their data) an agent received about one chat, from a mark on. */
export const chatNotes = (a: Agent, chatId: string, from = 0): any[] =>
  a.listener.received.slice(from).filter((n) => n.channel === '/v2/me/chats' && chatIdOf(n) === chatId).map((n) => n.data);

/** Every chat notification an agent received, whatever the chat, from a mark on. */
export const anyChatNotes = (a: Agent, from = 0): any[] => a.listener.received.slice(from).filter((n) => n.channel === '/v2/me/chats').map((n) => n.data);

export const mark = (a: Agent) => a.listener.received.length;

/** Waits for a chat notification of a type (and chat state) at or after a mark; returns its data. */
export const nextChatNote = async (a: Agent, chatId: string, from: number, notificationType: string, state?: string): Promise<any> => {
  const received = a.listener.received;
  const note = await a.listener.next(
    (n) =>
      received.indexOf(n) >= from &&
      n.channel === '/v2/me/chats' &&
      chatIdOf(n) === chatId &&
      n.data.notificationType === notificationType &&
      (state === undefined || n.data.chat?.state === state),
    5000,
    `${notificationType}${state ? ` (${state})` : ''} on chat ${chatId}`,
  );
  return note.data;
};

/**
 * Waits until every agent's listener has caught up with the server (Listener.caughtUp): every
 * notification the requests answered so far sent them has been received, so a mark taken now
 * starts after them, and what has not arrived was not sent.
 */
export const caughtUpAll = (agents: readonly Agent[]) => Promise.all(agents.map((a) => a.listener.caughtUp()));

/** The agent is offered the chat (StatusChange, Invited); returns the notification's chat view. */
export const offered = async (a: Agent, chatId: string, from = 0): Promise<any> => (await nextChatNote(a, chatId, from, 'StatusChange', 'Invited')).chat;

/** The agent accepts the offered chat and waits until they are Chatting. */
export const accept = async (a: Agent, chatId: string): Promise<number> => {
  const from = mark(a);
  const referenceId = referenced(await chatOp(a, chatId, 'Accept'), `${a.user} accepts ${chatId}`);
  await nextChatNote(a, chatId, from, 'StatusChange', 'Chatting');
  return referenceId;
};

/** A customer's chat, routed to `agent` (who must be the only Ready agent, or the one routing picks) and accepted. */
export const chatWith = async (world: ChatWorld, agent: Agent, fields?: Record<string, string>): Promise<CustomerChat> => {
  const from = mark(agent);
  const customer = await world.customer(fields);
  await offered(agent, customer.chatId, from);
  await accept(agent, customer.chatId);
  return customer;
};

/** Brings `target` into the chat with Invite or Consult from `by`, and waits until everyone in it heard the join. */
export const bringIn = async (by: Agent, target: Agent, chatId: string, how: 'Invite' | 'Consult', participants: number): Promise<number> => {
  const from = mark(target);
  const byFrom = mark(by);
  const referenceId = referenced(await chatOp(by, chatId, how, { targetUri: target.uri }), `${by.user} ${how} ${target.user}`);
  await offered(target, chatId, from);
  await accept(target, chatId);
  const update = await nextChatNote(by, chatId, byFrom, 'ParticipantsUpdated');
  assert.equal(update.chat.participants.length, participants, `${by.user} hears ${participants} participants`);
  return referenceId;
};

/** A chat's customer-side request with explicit fields (for credentials and bad input). */
export const customerPost = (baseUrl: string, chatId: string, verb: 'send' | 'refresh' | 'disconnect', fields: Record<string, string>) =>
  postForm(`${baseUrl}/genesys/2/chat/${SERVICE}/${chatId}/${verb}`, fields);

export const credsOf = (c: CustomerChat) => ({ userId: c.userId, secureKey: c.secureKey, alias: c.alias });

/** The customer's transcript (all messages) and whether the chat ended for them. */
export const transcript = async (c: CustomerChat): Promise<{ messages: any[]; chatEnded: boolean }> => {
  const reply = await c.refresh(1);
  assert.equal(reply.statusCode, 0, `customer refresh: ${JSON.stringify(reply)}`);
  return { messages: reply.messages, chatEnded: reply.chatEnded };
};

/** The texts the customer sees, as [nickname, text] pairs. */
export const customerTexts = async (c: CustomerChat): Promise<string[][]> =>
  (await transcript(c)).messages.filter((m) => m.type === 'Message').map((m) => [m.from.nickname, m.text]);

/** The agent's view of the chat's transcript (GET /api/v2/me/chats/{id}/messages). */
export const agentTranscript = async (a: Agent, chatId: string, query = ''): Promise<any[]> => {
  const reply = await a.client.get(`/api/v2/me/chats/${chatId}/messages${query}`);
  assert.equal(reply.status, 200, `${a.user} reads the transcript of ${chatId}: ${JSON.stringify(reply.body)}`);
  assert.equal(reply.body.statusCode, 0);
  return reply.body.messages;
};
