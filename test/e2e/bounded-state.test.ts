/**
 * Bounded state (the issue "Trust: what an attacker, a crash and a long-running deployment
 * find"): routing offers an agent a bounded number of chats at a time; the rest wait for someone
 * free. GWS reference: chat StatusChange Invited notifications on /v2/me/chats (the offer).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chatNotes, chatOp, mark, offered, openChatWorld, setChatState, startChatSession, type ChatWorld } from '../helpers/chat-world.js';
import { quietFor } from '../helpers/wait.js';

describe('bounded state: chats offered per agent', () => {
  let world: ChatWorld;
  before(async () => {
    world = await openChatWorld(['agent15000'], { maxChatsPerAgent: 2 });
    await startChatSession(world.agent('agent15000'));
  });
  after(() => world.dispose());

  it('with a limit of 2, a third waiting chat is not offered until one of the two is let go', async () => {
    const agent = world.agent('agent15000');
    await setChatState(agent, 'Ready');
    const from = mark(agent);
    const one = await world.customer();
    await offered(agent, one.chatId, from);
    const two = await world.customer();
    await offered(agent, two.chatId, from);
    const three = await world.customer();
    await agent.listener.caughtUp();
    await quietFor(500, 'routing has had its chance to offer the third chat');
    assert.equal(chatNotes(agent, three.chatId, from).length, 0, 'the third chat is not offered while the agent has two');

    const released = mark(agent);
    assert.equal((await chatOp(agent, one.chatId, 'Reject')).body.statusCode, 0);
    await offered(agent, three.chatId, released);
  });
});

describe('bounded state: retention of ended interactions', () => {
  it('an ended call is pruned after --retention; a live one stays', async () => {
    const { startTestServer } = await import('../helpers/server.js');
    const { gws } = await import('../helpers/gws.js');
    const { waitFor } = await import('../helpers/wait.js');
    const server = await startTestServer({ retentionMs: 300, retentionSweepMs: 100 });
    try {
      const a = gws(server.url, 'agent15000');
      const calls = async (client: typeof a) => ((await client.get('/api/v2/me/calls?fields=*')).body.calls ?? []) as any[];
      assert.equal((await a.dial('15001')).body.statusCode, 0);
      const ended = (await waitFor(async () => (await calls(a))[0], 5000, 'the dialled call')).id as string;
      assert.equal((await a.op(ended, 'Hangup')).body.statusCode, 0);
      assert.equal((await server.store.getCall(ended))?.endedAt !== null, true, 'ended, still stored');
      assert.equal((await a.dial('15002')).body.statusCode, 0);
      const live = (await waitFor(async () => (await calls(a)).find((c) => c.id !== ended), 5000, 'the live call')).id as string;
      await waitFor(async () => (await server.store.getCall(ended)) === undefined, 10_000, 'the ended call is pruned', 50);
      assert.equal((await server.store.getCall(live))?.endedAt, null, 'the live call stays');
    } finally {
      await server.dispose();
    }
  });
});

describe('bounded state: a chat no agent takes', () => {
  it('ends after the wait timeout: the customer reads a notice and chatEnded true (GMS refresh), and cannot send any more', async () => {
    const { startCustomerChat } = await import('../helpers/customer.js');
    const { startTestServer } = await import('../helpers/server.js');
    const { waitFor } = await import('../helpers/wait.js');
    const server = await startTestServer({ chatWaitTimeoutMs: 300 });
    try {
      const customer = await startCustomerChat(server.url, { nickname: 'pat', firstName: 'Pat', lastName: 'Lee', emailAddress: 'pat@example.com', subject: 'Billing' }, 'customer-support');
      const ended = await waitFor(
        async () => {
          const reply = await customer.refresh(1);
          return reply.chatEnded === true ? reply : undefined;
        },
        10_000,
        'the waiting chat ends',
        50,
      );
      const notice = (ended.messages as any[]).at(-1);
      assert.equal(notice.type, 'Notice');
      assert.match(notice.text, /No agent is available/);
      const sent = await customer.send('hello?');
      assert.notEqual(sent.statusCode, 0, `a message to an ended chat is refused: ${JSON.stringify(sent)}`);
    } finally {
      await server.dispose();
    }
  });
});
