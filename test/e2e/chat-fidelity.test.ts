/**
 * Chat fidelity to the GWS reference pages (docs.genesys.com GWS 8.5.2/8.6.0, HTCC latest): a
 * consultation completed by Transfer or by Invite (ChatConsult), the history delivered on Accept
 * (ChatAccept), SendNicknameUpdatedNotice (ChatSendNicknameUpdatedNotice). Real HTTP, the
 * official CometD client, the customer chat API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  bringIn,
  caughtUpAll,
  chatNotes,
  chatOp,
  chatWith,
  mark,
  nextChatNote,
  offered,
  openChatWorld,
  setChatState,
  startChatSession,
  transcript,
  type Agent,
  type ChatWorld,
} from '../helpers/chat-world.js';

describe('chat fidelity (GWS reference pages)', () => {
  let world: ChatWorld;
  let a: Agent, b: Agent;

  before(async () => {
    world = await openChatWorld(['agent15000', 'agent15001']);
    [a, b] = [world.agent('agent15000'), world.agent('agent15001')];
    for (const agent of [a, b]) await startChatSession(agent);
  });
  after(async () => world?.dispose());

  /** A customer's chat with `a`, then `b` consulted in (seen by agents only). */
  const consulted = async () => {
    await setChatState(a, 'Ready');
    const customer = await chatWith(world, a);
    await setChatState(a, 'NotReady');
    await bringIn(a, b, customer.chatId, 'Consult', 3);
    const seen = (await a.client.get(`/api/v2/me/chats/${customer.chatId}`)).body.chat.participants;
    assert.equal(seen.find((p: any) => p.nickname === b.nickname)?.visibility, 'Agents', 'the consultant is seen by agents only');
    return customer;
  };

  const visibilityOf = async (who: Agent, reader: Agent, chatId: string) =>
    (await reader.client.get(`/api/v2/me/chats/${chatId}`)).body.chat.participants.find((p: any) => p.nickname === who.nickname)?.visibility;

  it('ChatConsult, then Transfer to the consultant: they take over, visible to all; the originator completes', async () => {
    const customer = await consulted();
    const [ma, mb] = [mark(a), mark(b)];
    const reply = await chatOp(a, customer.chatId, 'Transfer', { targetUri: b.uri });
    assert.equal(reply.body.statusCode, 0, JSON.stringify(reply.body));
    await nextChatNote(a, customer.chatId, ma, 'StatusChange', 'Completed');
    const update = await nextChatNote(b, customer.chatId, mb, 'ParticipantsUpdated');
    assert.deepEqual(update.chat.participants.map((p: any) => [p.type, p.visibility]).sort(), [['Agent', 'All'], ['Customer', 'All']], 'the consultant and the customer');
    assert.equal(update.chat.participants.find((p: any) => p.type === 'Agent').nickname, b.nickname);
    assert.equal(await visibilityOf(b, b, customer.chatId), 'All');
    // The customer now sees the consultant join, and is still served.
    const t = await transcript(customer);
    assert.equal(t.chatEnded, false);
    assert.ok(t.messages.some((m: any) => m.type === 'ParticipantJoined' && m.from.nickname === b.nickname), 'the customer sees the consultant join');
    await chatOp(b, customer.chatId, 'Complete');
  });

  it('ChatConsult, then Invite the consultant (conference): both stay, the consultant visible to all', async () => {
    const customer = await consulted();
    const caps = (await a.client.get(`/api/v2/me/chats/${customer.chatId}`)).body.chat.capabilities;
    assert.ok(caps.includes('Invite'), 'Invite is offered to conference the consultant in');
    const mb = mark(b);
    const reply = await chatOp(a, customer.chatId, 'Invite', { targetUri: b.uri });
    assert.equal(reply.body.statusCode, 0, JSON.stringify(reply.body));
    await nextChatNote(b, customer.chatId, mb, 'ParticipantsUpdated');
    assert.equal(await visibilityOf(b, a, customer.chatId), 'All');
    assert.equal((await a.client.get(`/api/v2/me/chats/${customer.chatId}`)).body.chat.state, 'Chatting', 'the originator stays');
    const t = await transcript(customer);
    assert.ok(t.messages.some((m: any) => m.type === 'ParticipantJoined' && m.from.nickname === b.nickname));
    // Bad input: conferencing them in a second time is refused, and nobody is notified.
    await caughtUpAll([a, b]);
    const marks = [mark(a), mark(b)];
    const again = await chatOp(a, customer.chatId, 'Invite', { targetUri: b.uri });
    assert.equal(again.status, 400);
    assert.equal(again.body.statusCode, 2);
    await caughtUpAll([a, b]);
    assert.deepEqual([mark(a), mark(b)], marks, 'nobody notified');
    for (const agent of [a, b]) await chatOp(agent, customer.chatId, 'Complete');
  });

  it('ChatAccept: StatusChange, ParticipantsUpdated, then the chat history up to joining as NewMessages', async () => {
    await setChatState(a, 'Ready');
    const from = mark(a);
    const customer = await world.customer();
    await offered(a, customer.chatId, from);
    await customer.send('hello?');
    await customer.send('anyone there?');
    const m = mark(a);
    assert.equal((await chatOp(a, customer.chatId, 'Accept')).body.statusCode, 0);
    await setChatState(a, 'NotReady');
    const history = await nextChatNote(a, customer.chatId, m, 'NewMessages');
    const notes = chatNotes(a, customer.chatId, m).map((n) => n.notificationType);
    assert.deepEqual(notes.slice(0, 3), ['StatusChange', 'ParticipantsUpdated', 'NewMessages']);
    assert.equal(history.messageType, 'MessageLogUpdated');
    const kinds = history.messages.map((x: any) => [x.type, x.text ?? null]);
    assert.deepEqual(kinds, [['ParticipantJoined', null], ['Text', 'hello?'], ['Text', 'anyone there?'], ['ParticipantJoined', null]], 'the whole history, ending with the agent joining');
    assert.deepEqual(history.messages.map((x: any) => x.index), [1, 2, 3, 4]);
    await chatOp(a, customer.chatId, 'Complete');
  });

  it('SendNicknameUpdatedNotice: a NicknameUpdated message (MessageLogUpdated sample) and the new nickname', async () => {
    await setChatState(a, 'Ready');
    const customer = await chatWith(world, a);
    await setChatState(a, 'NotReady');
    const m = mark(a);
    const reply = await chatOp(a, customer.chatId, 'SendNicknameUpdatedNotice', { noticeText: 'NewNickname' });
    assert.deepEqual(reply.body.statusCode, 0);
    const note = await nextChatNote(a, customer.chatId, m, 'NewMessages');
    assert.deepEqual(Object.keys(note).filter((k) => k !== 'referenceId').sort(), ['chatPath', 'chatUri', 'messageType', 'messages', 'notificationType']);
    assert.equal(note.messageType, 'MessageLogUpdated');
    const [message] = note.messages;
    assert.deepEqual(Object.keys(message), ['index', 'noticeText', 'from', 'timestamp', 'visibility', 'type', 'timestampSeconds'], 'the sample key order');
    assert.equal(message.type, 'NicknameUpdated');
    assert.equal(message.noticeText, 'NewNickname');
    assert.equal(message.visibility, 'All');
    assert.equal(message.from.nickname, 'NewNickname');
    assert.equal(message.from.type, 'Agent');
    const me = (await a.client.get(`/api/v2/me/chats/${customer.chatId}`)).body.chat;
    assert.equal(me.participants.find((p: any) => p.type === 'Agent').nickname, 'NewNickname');
    assert.ok(!me.capabilities.includes('SendNicknameUpdatedNotice'), 'not listed, as in every sample');
    // The customer sees it too.
    const t = await transcript(customer);
    assert.ok(t.messages.some((x: any) => x.type === 'NicknameUpdated'));

    // Bad input: no noticeText, an empty one, a number: 400, nothing changed, nobody notified.
    await caughtUpAll([a]);
    const before_ = mark(a);
    const count = (await a.client.get(`/api/v2/me/chats/${customer.chatId}/messages`)).body.messages.length;
    for (const [params, code] of [[{}, 1], [{ noticeText: '' }, 10], [{ noticeText: 5 }, 10]] as const) {
      const bad = await chatOp(a, customer.chatId, 'SendNicknameUpdatedNotice', params);
      assert.equal(bad.status, 400, JSON.stringify(params));
      assert.equal(bad.body.statusCode, code, JSON.stringify(params));
      assert.match(bad.body.statusMessage, /noticeText/);
    }
    assert.equal((await a.client.get(`/api/v2/me/chats/${customer.chatId}/messages`)).body.messages.length, count);
    await caughtUpAll([a]);
    assert.equal(mark(a), before_, 'nobody notified');
    await chatOp(a, customer.chatId, 'Complete');
  });
});
