/**
 * Chat flows end to end: real customers over the customer API, agents over GWS with the official
 * CometD client, a real SQLite file. Routing (wait, Ready, longest idle first, Reject), Accept and
 * messages both ways, Consult vs Invite visibility, Transfer, Leave, the customer's disconnect,
 * transcript paging, and transcripts that survive a restart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Notification } from '../helpers/cometd.js';
import type { CustomerChat } from '../helpers/customer.js';
import { tempDataFile } from '../helpers/server.js';
import { clockMovesOn } from '../helpers/wait.js';
import {
  accept,
  agentTranscript,
  anyChatNotes,
  bringIn,
  chatIdOf,
  chatNotes,
  chatOp,
  chatWith,
  credsOf,
  customerPost,
  customerTexts,
  DEFAULT_CUSTOMER,
  mark,
  nextChatNote,
  offered,
  openChatWorld,
  referenced,
  caughtUpAll,
  setChatState,
  startChatSession,
  transcript,
  type Agent,
  type ChatWorld,
} from '../helpers/chat-world.js';

const AGENTS = ['agent15000', 'agent15001', 'agent15002', 'agent15003'] as const;

/** Each scenario gets its own server, so routing never sees another scenario's agents or chats. */
const scenario = (name: string, body: (w: ChatWorld, a: Agent, b: Agent, c: Agent, d: Agent) => Promise<void>) =>
  it(name, async () => {
    const w = await openChatWorld(AGENTS);
    try {
      await body(w, ...(w.agents as [Agent, Agent, Agent, Agent]));
    } finally {
      await w.dispose();
    }
  });

/** A is Ready and takes the customer's chat; B and C have chat sessions but stay NotReady; D has no session. */
const conversation = async (w: ChatWorld, a: Agent, b: Agent, c: Agent, fields?: Record<string, string>): Promise<CustomerChat> => {
  for (const agent of [a, b, c]) await startChatSession(agent);
  await setChatState(a, 'Ready');
  const customer = await chatWith(w, a, fields);
  await setChatState(a, 'NotReady');
  return customer;
};

/** The chats an agent was offered (StatusChange, Invited), in order. */
const offeredChats = (a: Agent): string[] =>
  anyChatNotes(a).filter((d) => d.notificationType === 'StatusChange' && d.chat.state === 'Invited').map((d) => d.chat.id);

const say = async (a: Agent, chatId: string, text: string) => referenced(await chatOp(a, chatId, 'SendMessage', { text }), `${a.user} says '${text}'`);

const customerSays = async (customer: CustomerChat, message: string) => assert.equal((await customer.send(message)).statusCode, 0, `customer says '${message}'`);

/** Waits until the agent hears a NewMessages notification containing a message that matches. */
const hears = async (a: Agent, chatId: string, from: number, match: (m: any) => boolean, what: string) => {
  const isIt = (n: Notification) =>
    n.channel === '/v2/me/chats' && n.data.notificationType === 'NewMessages' && chatIdOf(n) === chatId && n.data.messages.some(match);
  const found = await a.listener.next((n) => a.listener.received.indexOf(n) >= from && isIt(n), 5000, what);
  return found.data.messages.find(match);
};

const participantsOf = (chat: any) => chat.participants.map((p: any) => [p.nickname, p.type, p.visibility]);

describe('chat routing', () => {
  scenario('a chat waits while no agent is Ready, then goes to the first agent who sends Ready, with the customer\'s fields in userData', async (w, a, b, c) => {
    await startChatSession(a);
    await startChatSession(b);
    const customer = await w.customer({ ...DEFAULT_CUSTOMER, 'userData[Order]': '42', 'userData[Segment]': 'gold' });
    await caughtUpAll(w.agents);
    assert.equal((await transcript(customer)).chatEnded, false, 'the chat has not ended while it waits');
    for (const agent of w.agents) assert.deepEqual(anyChatNotes(agent), [], `${agent.user} is offered nothing while no one is Ready`);
    assert.deepEqual((await a.client.get('/api/v2/me/chats?fields=*')).body, { statusCode: 0, chats: [] });

    const from = mark(a);
    await setChatState(a, 'Ready');
    const chat = await offered(a, customer.chatId, from);
    assert.equal(chat.state, 'Invited');
    assert.deepEqual(chat.capabilities, ['Accept', 'Reject']);
    const { RTargetAgentSelected, FirstName, LastName, EmailAddress, Subject, Order, Segment } = chat.userData;
    assert.deepEqual(
      { RTargetAgentSelected, FirstName, LastName, EmailAddress, Subject, Order, Segment },
      { RTargetAgentSelected: 'test_consult', FirstName: 'Pat', LastName: 'Lee', EmailAddress: 'pat@example.com', Subject: 'Billing', Order: '42', Segment: 'gold' },
    );
    const listed = (await a.client.get('/api/v2/me/chats?fields=*')).body.chats;
    assert.deepEqual(listed.map((x: any) => [x.id, x.state]), [[customer.chatId, 'Invited']]);

    await caughtUpAll(w.agents);
    assert.deepEqual(anyChatNotes(b), [], 'a NotReady agent is never offered a chat');
    assert.deepEqual(anyChatNotes(c), [], 'an agent without a session is never offered a chat');
  });

  scenario('the agent Ready longest gets the first chat, the other the second ("longest idle first")', async (w, a, b, c, d) => {
    for (const agent of [a, b, c]) await startChatSession(agent);
    await setChatState(b, 'Ready');
    // Who has been Ready (idle) longest is decided by the server's time stamps: each change below
    // is stamped strictly later than the one before.
    await clockMovesOn();
    await setChatState(a, 'Ready');
    const chats: string[] = [];
    for (let i = 0; i < 3; i++) {
      chats.push((await w.customer()).chatId);
      await clockMovesOn();
    }
    await caughtUpAll(w.agents);
    assert.deepEqual(offeredChats(b), [chats[0], chats[2]], 'B, Ready longest, gets the first chat, and the third (idle longest again)');
    assert.deepEqual(offeredChats(a), [chats[1]], 'A gets the second chat');
    assert.deepEqual(anyChatNotes(c), [], 'a NotReady agent is never offered a chat');
    assert.deepEqual(anyChatNotes(d), [], 'an agent without a session is never offered a chat');
  });

  scenario('Reject: the rejecting agent is Completed, the next Ready agent is offered it, and the rejecter never again', async (w, a, b, c) => {
    for (const agent of [a, b, c]) await startChatSession(agent);
    await setChatState(a, 'Ready');
    await clockMovesOn(); // A is Ready strictly earlier than B: A is offered the chat first
    await setChatState(b, 'Ready');
    const customer = await w.customer();
    const chatId = customer.chatId;
    await offered(a, chatId);

    const fromA = mark(a);
    const referenceId = referenced(await chatOp(a, chatId, 'Reject'), 'A rejects');
    const done = await nextChatNote(a, chatId, fromA, 'StatusChange', 'Completed');
    assert.deepEqual(done.chat.capabilities, []);
    assert.equal(done.referenceId, referenceId);
    await offered(b, chatId);

    referenced(await chatOp(b, chatId, 'Reject'), 'B rejects');
    await nextChatNote(b, chatId, 0, 'StatusChange', 'Completed');
    await caughtUpAll(w.agents);
    assert.equal((await transcript(customer)).chatEnded, false, 'the chat still waits for an agent');

    await setChatState(c, 'Ready');
    await offered(c, chatId);
    await caughtUpAll(w.agents);
    assert.deepEqual(offeredChats(a), [chatId], 'A (Ready all along) is never offered the chat again');
    assert.deepEqual(offeredChats(b), [chatId], 'B (Ready all along) is never offered the chat again');
  });
});

describe('chat conversation', () => {
  scenario('Accept: StatusChange, ParticipantsUpdated, NewMessages; messages reach the customer and the agent', async (w, a) => {
    await startChatSession(a);
    await setChatState(a, 'Ready');
    const customer = await w.customer();
    const chatId = customer.chatId;
    await offered(a, chatId);
    const from = mark(a);
    referenced(await chatOp(a, chatId, 'Accept'), 'A accepts');
    await nextChatNote(a, chatId, from, 'NewMessages');
    const notes = chatNotes(a, chatId, from);
    assert.deepEqual(notes.map((n) => n.notificationType), ['StatusChange', 'ParticipantsUpdated', 'NewMessages']);
    assert.equal(notes[0].chat.state, 'Chatting');
    assert.deepEqual(participantsOf(notes[1].chat), [['test_consult', 'Agent', 'All'], ['pat', 'Customer', 'All']]);
    // ChatAccept page: the third notification is "the chat history up to the point of joining".
    assert.deepEqual(notes[2].messages.map((m: any) => [m.type, m.from.nickname, m.from.type]), [
      ['ParticipantJoined', 'pat', 'Customer'],
      ['ParticipantJoined', 'test_consult', 'Agent'],
    ]);

    await say(a, chatId, 'Hello, how can I help?');
    const seen = (await transcript(customer)).messages;
    assert.ok(seen.some((m) => m.type === 'ParticipantJoined' && m.from.type === 'Agent' && m.from.nickname === 'test_consult'), 'the customer sees the agent join');
    assert.deepEqual(await customerTexts(customer), [['test_consult', 'Hello, how can I help?']]);

    const fromCustomer = mark(a);
    await customerSays(customer, 'My bill is wrong');
    const heard = await hears(a, chatId, fromCustomer, (m) => m.text === 'My bill is wrong', 'the customer\'s message');
    assert.deepEqual([heard.type, heard.from.type, heard.from.nickname, heard.visibility], ['Text', 'Customer', 'pat', 'All']);
  });

  scenario('Consult gives visibility Agents, Invite gives All; the customer sees only what is visible to all', async (w, a, b, c) => {
    const customer = await conversation(w, a, b, c);
    const chatId = customer.chatId;

    // Consult: B (a chat session, NotReady) joins visible to agents only.
    await bringIn(a, b, chatId, 'Consult', 3);
    const joined = chatNotes(a, chatId).filter((n) => n.notificationType === 'ParticipantsUpdated').pop();
    assert.deepEqual(participantsOf(joined.chat), [['test_consult', 'Agent', 'All'], ['chat_consult', 'Agent', 'Agents'], ['pat', 'Customer', 'All']]);

    const fromA = mark(a);
    await say(b, chatId, 'psst, check the refund rules');
    const heard = await hears(a, chatId, fromA, (m) => m.text === 'psst, check the refund rules', 'the consultant\'s message');
    assert.equal(heard.visibility, 'Agents');
    const fromB = mark(b);
    referenced(await chatOp(a, chatId, 'SendToAgents', { text: 'agents only' }), 'A sends to agents');
    await hears(b, chatId, fromB, (m) => m.text === 'agents only', 'A\'s message to agents');
    assert.deepEqual(await customerTexts(customer), [], 'the customer sees neither the consultant nor messages to agents');
    assert.ok(!(await transcript(customer)).messages.some((m) => m.from.nickname === 'chat_consult'), 'the consultant is invisible to the customer');

    // Invite: C (a chat session, NotReady) joins visible to all; everyone already in hears the new list.
    const fromBoth = [mark(a), mark(b)];
    await bringIn(a, c, chatId, 'Invite', 4);
    const all = [['test_consult', 'Agent', 'All'], ['chat_consult', 'Agent', 'Agents'], ['agent15002', 'Agent', 'All'], ['pat', 'Customer', 'All']];
    for (const [i, agent] of [a, b].entries()) {
      const update = await nextChatNote(agent, chatId, fromBoth[i] as number, 'ParticipantsUpdated');
      assert.deepEqual(participantsOf(update.chat), all, `${agent.user} hears everyone`);
    }
    await say(c, chatId, 'Hi, I am from billing');
    assert.deepEqual(await customerTexts(customer), [['agent15002', 'Hi, I am from billing']]);
  });

  scenario('Consult and Invite: the requester hears the outcome with the referenceId the request answered', async (w, a, b, c) => {
    const customer = await conversation(w, a, b, c);
    for (const [target, how] of [[b, 'Consult'], [c, 'Invite']] as const) {
      // The previous round's outcome (ParticipantsUpdated, NewMessages) must land before the mark.
      await caughtUpAll([a]);
      const from = mark(a);
      const referenceId = referenced(await chatOp(a, customer.chatId, how, { targetUri: target.uri }), `A ${how}s ${target.user}`);
      await offered(target, customer.chatId);
      await caughtUpAll([a]);
      for (const note of chatNotes(a, customer.chatId, from))
        assert.equal(note.referenceId, referenceId, `A's ${note.notificationType} after ${how} carries its referenceId`);
      await accept(target, customer.chatId);
      const update = await nextChatNote(a, customer.chatId, from, 'ParticipantsUpdated');
      assert.equal(update.referenceId, referenceId, `the ParticipantsUpdated that reports the ${how} carries its referenceId: ${JSON.stringify(update)}`);
    }
  });

  scenario('Transfer to an agent: the transferrer is Completed, the target is offered it, accepts and chats with the customer', async (w, a, b, c) => {
    const customer = await conversation(w, a, b, c);
    const chatId = customer.chatId;
    const fromA = mark(a);
    const fromB = mark(b);
    const referenceId = referenced(await chatOp(a, chatId, 'Transfer', { targetUri: b.uri }), 'A transfers to B');
    const done = await nextChatNote(a, chatId, fromA, 'StatusChange', 'Completed');
    assert.equal(done.referenceId, referenceId);
    assert.deepEqual(done.chat.capabilities, []);
    assert.deepEqual((await offered(b, chatId, fromB)).capabilities, ['Accept', 'Reject']);
    assert.equal((await transcript(customer)).chatEnded, false, 'the chat goes on during the transfer');

    await accept(b, chatId);
    await say(b, chatId, 'I will take it from here');
    assert.deepEqual(await customerTexts(customer), [['chat_consult', 'I will take it from here']]);
    const fromB2 = mark(b);
    await customerSays(customer, 'Thanks');
    await hears(b, chatId, fromB2, (m) => m.text === 'Thanks' && m.from.type === 'Customer', 'the customer\'s message');
  });

  scenario('Invite, Consult and Transfer to an agent with no chat session are refused with statusCode 2', async (w, a, b, c, d) => {
    const customer = await conversation(w, a, b, c);
    for (const how of ['Invite', 'Consult', 'Transfer']) {
      const reply = await chatOp(a, customer.chatId, how, { targetUri: d.uri });
      assert.equal(reply.status, 400, `${how}: ${JSON.stringify(reply.body)}`);
      assert.deepEqual(Object.keys(reply.body).sort(), ['statusCode', 'statusMessage']);
      assert.equal(reply.body.statusCode, 2, how);
      assert.match(reply.body.statusMessage, /session/, `${how}: the message says the target has no chat session`);
    }
    await caughtUpAll(w.agents);
    assert.deepEqual(anyChatNotes(d), []);
    assert.equal((await a.client.get(`/api/v2/me/chats/${customer.chatId}`)).body.chat.state, 'Chatting', 'A is still chatting');
  });
});

describe('leaving a chat', () => {
  scenario('Leave when alone: the agent goes LeftChat and the chat ends for the customer', async (w, a, b, c) => {
    const customer = await conversation(w, a, b, c);
    const from = mark(a);
    referenced(await chatOp(a, customer.chatId, 'Leave'), 'A leaves');
    await nextChatNote(a, customer.chatId, from, 'StatusChange', 'LeftChat');
    const seen = await transcript(customer);
    assert.equal(seen.chatEnded, true);
    assert.ok(seen.messages.some((m) => m.type === 'ParticipantLeft' && m.from.nickname === 'test_consult'), 'the customer sees the agent leave');
  });

  scenario('Leave while another agent visible to all is in: the agent is Completed and the chat goes on', async (w, a, b, c) => {
    const customer = await conversation(w, a, b, c);
    const chatId = customer.chatId;
    await bringIn(a, b, chatId, 'Invite', 3);
    const [fromA, fromB] = [mark(a), mark(b)];
    referenced(await chatOp(a, chatId, 'Leave'), 'A leaves');
    await nextChatNote(a, chatId, fromA, 'StatusChange', 'Completed');
    const update = await nextChatNote(b, chatId, fromB, 'ParticipantsUpdated');
    assert.deepEqual(participantsOf(update.chat), [['chat_consult', 'Agent', 'All'], ['pat', 'Customer', 'All']]);
    await hears(b, chatId, fromB, (m) => m.type === 'ParticipantLeft' && m.from.nickname === 'test_consult', 'A leaving');
    assert.equal((await transcript(customer)).chatEnded, false);
    await say(b, chatId, 'Still here');
    assert.deepEqual(await customerTexts(customer), [['chat_consult', 'Still here']]);
  });

  scenario('the customer disconnects: every agent hears ParticipantLeft from the customer; the chat has ended', async (w, a, b, c) => {
    const customer = await conversation(w, a, b, c);
    const chatId = customer.chatId;
    await bringIn(a, b, chatId, 'Invite', 3);
    const [fromA, fromB] = [mark(a), mark(b)];
    const reply = await customer.disconnect();
    assert.equal(reply.statusCode, 0);
    assert.equal(reply.chatEnded, true);
    for (const [agent, from] of [[a, fromA], [b, fromB]] as const) {
      const left = await hears(agent, chatId, from, (m) => m.type === 'ParticipantLeft' && m.from.type === 'Customer', 'the customer leaving');
      assert.equal(left.from.nickname, 'pat');
    }
    assert.equal((await transcript(customer)).chatEnded, true);
  });
});

describe('chat transcripts', () => {
  scenario('GET …/messages pages with startIndex and count, and holds consult-only messages for agents', async (w, a, b, c) => {
    const customer = await conversation(w, a, b, c);
    const chatId = customer.chatId;
    await customerSays(customer, 'one');
    await say(a, chatId, 'two');
    await customerSays(customer, 'three');
    const all = await agentTranscript(a, chatId);
    assert.deepEqual(all.map((m) => [m.index, m.type, m.from.type, m.text]), [
      [1, 'ParticipantJoined', 'Customer', undefined],
      [2, 'ParticipantJoined', 'Agent', undefined],
      [3, 'Text', 'Customer', 'one'],
      [4, 'Text', 'Agent', 'two'],
      [5, 'Text', 'Customer', 'three'],
    ]);
    assert.deepEqual(await agentTranscript(a, chatId, '?startIndex=2&count=2'), all.slice(1, 3));

    await bringIn(a, b, chatId, 'Consult', 3);
    await say(b, chatId, 'consult-only');
    for (const agent of [a, b]) {
      const note = (await agentTranscript(agent, chatId)).find((m) => m.text === 'consult-only');
      assert.ok(note, `${agent.user}'s transcript has the consult-only message`);
      assert.deepEqual([note.visibility, note.from.nickname], ['Agents', 'chat_consult']);
    }
    assert.ok(!(await transcript(customer)).messages.some((m) => m.text === 'consult-only'), 'the customer does not see it');
  });

  it('survives a restart: the agents\' and the customer\'s transcripts are the same on a new server over the same file', async () => {
    const data = tempDataFile();
    /** URIs carry the server's port, which changes with the restart. */
    const portless = (value: unknown, url: string) => JSON.parse(JSON.stringify(value).split(url).join('BASE'));
    try {
      const first = await openChatWorld(AGENTS, { data: data.file });
      let chatId = '';
      let creds = { userId: '', secureKey: '', alias: '' };
      const before: Record<string, unknown> = {};
      try {
        const [a, b, c] = first.agents as [Agent, Agent, Agent];
        const customer = await conversation(first, a, b, c);
        chatId = customer.chatId;
        creds = credsOf(customer);
        await customerSays(customer, 'hello');
        await say(a, chatId, 'hi pat');
        await bringIn(a, b, chatId, 'Consult', 3);
        await say(b, chatId, 'a note for agents');
        referenced(await chatOp(b, chatId, 'Leave'), 'B leaves');
        await customerSays(customer, 'thanks');
        for (const agent of [a, b]) before[agent.user] = portless(await agentTranscript(agent, chatId), first.server.url);
        before['customer'] = (await transcript(customer)).messages;
        assert.equal((before['agent15000'] as unknown[]).length, 8, 'the transcript has 8 messages');
      } finally {
        await first.dispose();
      }

      const second = await openChatWorld(AGENTS, { data: data.file });
      try {
        const [a, b] = second.agents as [Agent, Agent];
        for (const agent of [a, b])
          assert.deepEqual(portless(await agentTranscript(agent, chatId), second.server.url), before[agent.user], `${agent.user}'s transcript, same session`);
        assert.equal((await a.client.get(`/api/v2/me/chats/${chatId}`)).body.chat.state, 'Chatting');
        assert.deepEqual((await a.client.post('/api/v2/me', { operationName: 'EndContactCenterSession' })).body, { statusCode: 0 });
        await startChatSession(a);
        assert.deepEqual(portless(await agentTranscript(a, chatId), second.server.url), before['agent15000'], 'the transcript, new session');
        const refreshed = await customerPost(second.server.url, chatId, 'refresh', { ...creds, fromPosition: '1' });
        assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
        assert.deepEqual(refreshed.body.messages, before['customer'], 'the customer\'s transcript');
      } finally {
        await second.dispose();
      }
    } finally {
      data.remove();
    }
  });
});
