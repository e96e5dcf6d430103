/**
 * The resume rules of a compliance ejection (src/domain/compliance/ejection.ts), pure: what is
 * left to do in a chat follows from who is in it, whatever step an interrupted run reached; the
 * step log's open interactions and recorded verdict; done only without a problem.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Chat, ChatAgent } from '../../src/domain/chat/model.js';
import { chatPlan, openInteractions, recordedVerdict, verdictOf } from '../../src/domain/compliance/ejection.js';
import type { AuditEntry } from '../../src/domain/compliance/model.js';

const agent = (userId: string, state: ChatAgent['state'], visibility: ChatAgent['visibility'] = 'All'): ChatAgent =>
  ({ userId, participantId: `p-${userId}`, seq: 1, nickname: userId, state, visibility, via: 'invite' }) as ChatAgent;
const chatOf = (agents: ChatAgent[], connected = true): Chat =>
  ({ id: 'C', version: 1, serviceName: 's', customer: { connected } as Chat['customer'], agents, messages: [], userData: {}, rejectedBy: [], createdAt: 0, endedAt: null }) as Chat;

const U = 'flagged';
const O = 'orchestrator';

describe('chatPlan: what is left in one chat, from who is in it', () => {
  it('a conference the orchestrator is not in: intrude, remove, leave', () =>
    assert.deepEqual(chatPlan(chatOf([agent('a', 'Chatting'), agent(U, 'Chatting')]), U, O), { kind: 'eject', intrude: true }));
  it('the orchestrator already in (a crash after Intrude): remove and leave, no second Intrude', () =>
    assert.deepEqual(chatPlan(chatOf([agent('a', 'Chatting'), agent(U, 'Chatting'), agent(O, 'Chatting')]), U, O), { kind: 'eject', intrude: false }));
  it('the user gone, the orchestrator still in (a crash after the removal): leave', () =>
    assert.deepEqual(chatPlan(chatOf([agent('a', 'Chatting'), agent(U, 'LeftChat'), agent(O, 'Chatting')]), U, O), { kind: 'leave' }));
  it('the orchestrator does not count as the agent who stays: with it alone beside the user, it leaves and the user stays', () =>
    assert.deepEqual(chatPlan(chatOf([agent('a', 'LeftChat'), agent(U, 'Chatting'), agent(O, 'Chatting')]), U, O), { kind: 'leave' }));
  it('a two-party chat: skipped; nothing where neither is in', () => {
    assert.deepEqual(chatPlan(chatOf([agent(U, 'Chatting')]), U, O), { kind: 'skip' });
    // An agent the customer cannot see (a monitoring supervisor) does not make it a conference.
    assert.deepEqual(chatPlan(chatOf([agent('a', 'Chatting', 'Supervisors'), agent(U, 'Chatting')]), U, O), { kind: 'skip' });
    assert.deepEqual(chatPlan(chatOf([agent('a', 'Chatting'), agent(U, 'LeftChat')]), U, O), { kind: 'none' });
  });
  it('the customer gone: no conference left to protect', () =>
    assert.deepEqual(chatPlan(chatOf([agent('a', 'Chatting'), agent(U, 'Chatting')], false), U, O), { kind: 'skip' }));
});

const entry = (step: AuditEntry['step'], outcome: AuditEntry['outcome'], interaction: string | null = null, detail: string | null = null): AuditEntry => ({
  time: 0, flagId: 'F', interaction, interactionType: interaction === null ? null : interaction.startsWith('chat') ? 'chat' : 'call',
  participant: '15001', userId: 'u', actor: 'x', step, outcome, latencyMs: null, detail,
});

describe('the step log', () => {
  it('an interaction found and not closed is open; removed, failed, recovered close it', () => {
    const log = [entry('flagged', 'accepted'), entry('found', 'accepted', 'call1'), entry('removed', 'ejected', 'call1'), entry('found', 'accepted', 'chat1'), entry('found', 'accepted', 'call2')];
    assert.deepEqual(openInteractions(log), [{ id: 'chat1', type: 'chat' }, { id: 'call2', type: 'call' }]);
    assert.deepEqual(openInteractions([...log, entry('recovered', 'left', 'chat1'), entry('failed', 'error', 'call2')]), []);
  });
  it('a verdict is recorded only as the last entry, about no interaction', () => {
    assert.deepEqual(recordedVerdict([entry('found', 'accepted', 'call1'), entry('done', 'completed')]), { status: 'done' });
    assert.deepEqual(recordedVerdict([entry('failed', 'error', null, 'why')]), { status: 'failed', detail: 'why' });
    assert.equal(recordedVerdict([entry('done', 'completed'), entry('retried', 'retrying')]), undefined);
    assert.equal(recordedVerdict([entry('done', 'already-gone', 'call1')]), undefined);
    assert.equal(recordedVerdict([]), undefined);
  });
  it('done only without a problem; failed names each problem once', () => {
    assert.deepEqual(verdictOf([]), { status: 'done' });
    assert.deepEqual(verdictOf(['a', 'b', 'a']), { status: 'failed', detail: 'a; b' });
  });
});
