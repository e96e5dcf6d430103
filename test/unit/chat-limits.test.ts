/**
 * Bounded state, in the pure domain: a transcript holds at most MAX_TRANSCRIPT_MESSAGES messages;
 * what a participant says is then refused with a clear reason (statusCode 2), while joins and
 * leaves are still recorded so that a full chat can be left and ended.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { customerDisconnect, customerSend } from '../../src/domain/chat/customer.js';
import { MAX_TRANSCRIPT_MESSAGES, transcriptFull, type Chat, type ChatMessage } from '../../src/domain/chat/model.js';
import { isRefusal } from '../../src/domain/refusals.js';

const T0 = 1_700_000_000_000;
const chatWith = (count: number): Chat => ({
  id: 'CH1',
  version: 1,
  serviceName: 'svc',
  customer: {
    participantId: 'P0', seq: 0, nickname: 'pat', firstName: 'Pat', lastName: 'Lee', emailAddress: '', subject: '',
    userId: 'U', secureKey: 'K', alias: '1', connected: true,
  },
  agents: [],
  messages: Array.from({ length: count }, (_, i): ChatMessage => ({ index: i + 1, type: 'Text', from: 'P0', visibility: 'All', time: T0, text: `m${i}` })),
  userData: {},
  rejectedBy: [],
  createdAt: T0,
  endedAt: null,
});

describe('chat transcript limit', () => {
  it('the customer may send up to the limit, and is then refused naming the limit; nothing is appended', () => {
    const almost = chatWith(MAX_TRANSCRIPT_MESSAGES - 1);
    const last = customerSend(almost, { message: 'the last one' }, T0);
    assert.ok(!isRefusal(last));
    assert.equal(last.messages.length, MAX_TRANSCRIPT_MESSAGES);
    const refused = customerSend(last, { message: 'one too many' }, T0);
    assert.ok(isRefusal(refused));
    assert.equal(refused.statusCode, 2);
    assert.match(refused.message, new RegExp(`full \\(at most ${MAX_TRANSCRIPT_MESSAGES} messages\\)`));
    assert.doesNotMatch(refused.message, /one too many/, 'never the words of the request');
  });

  it('a full chat can still be left: ParticipantLeft is recorded', () => {
    const full = chatWith(MAX_TRANSCRIPT_MESSAGES);
    const left = customerDisconnect(full, T0);
    assert.equal(transcriptFull(full, left), null);
    assert.equal(left.messages.at(-1)?.type, 'ParticipantLeft');
    assert.notEqual(left.endedAt, null);
  });
});
