/**
 * Who may do what, as one table per medium: every voice call operation (VOICE_CALL_OPERATIONS)
 * and every chat operation (CHAT_OPERATIONS) against every kind of actor, over real HTTP. Each
 * cell says the statusCode the contract's order (6, 5, 1/10, 3, 2) gives; each cell also checks
 * that the operation is in the actor's `capabilities` exactly when it is accepted (for actors who
 * can see the interaction; the others get 6 on GET as well).
 *
 * Accepted cells change state, so each gets a fresh conference (or chat); refused cells change
 * nothing, so an actor's refused cells share one. Mismatches are collected and reported together
 * as one table, so that one failing cell does not hide the others.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDirectory, type Directory } from '../../src/directory/directory.js';
import { DEMO_DIRECTORY } from '../../src/directory/demo.js';
import { CHAT_OPERATIONS, UNLISTED_CHAT_OPERATIONS, type ChatOperation } from '../../src/domain/chat/operations.js';
import { isListedVoiceOperation, VOICE_CALL_OPERATIONS, type VoiceCallOperation } from '../../src/domain/voice/operations.js';
import { gws, type GwsClient, type Reply } from '../helpers/gws.js';
import { postForm } from '../helpers/customer.js';
import { startTestServer, tempDataFile, type TestServer } from '../helpers/server.js';

/** HTTP status by statusCode (CONTRACT.md "Responses"). */
const HTTP: Record<number, number> = { 0: 200, 1: 400, 2: 400, 10: 400, 11: 400, 3: 403, 5: 403, 6: 404, 18: 409, 19: 409, 20: 401, 4: 500 };

/**
 * The demo directory plus: novoice15004 (an agent with a device but only api-multimedia),
 * super15011 (a second supervisor), and nochat (an agent without api-multimedia, except in the
 * directory `withChatForNochat`, used once to let them join a chat before a restart).
 */
const directoryFor = (withChatForNochat: boolean): Directory =>
  buildDirectory(
    {
      users: [
        ...DEMO_DIRECTORY.users,
        { userName: 'novoice15004', password: 'novoice15004', roles: ['ROLE_AGENT'], phoneNumber: '15004', features: ['api-multimedia'] },
        { userName: 'super15011', password: 'super15011', roles: ['ROLE_SUPERVISOR', 'ROLE_AGENT'], phoneNumber: '15011' },
        {
          userName: 'nochat', password: 'nochat', roles: ['ROLE_AGENT'],
          features: withChatForNochat ? ['api-voice', 'api-multimedia', 'api-supervisor-monitoring'] : ['api-voice', 'api-supervisor-monitoring'],
        },
      ],
    },
    'authorization matrix directory',
  );

const expectOk = async (reply: Promise<Reply> | Reply, what: string): Promise<Reply> => {
  const r = await reply;
  assert.equal(r.body?.statusCode, 0, `${what}: ${JSON.stringify(r.body)}`);
  assert.equal(r.status, 200, what);
  return r;
};

/** Renders the mismatches as one readable list for the assertion message. */
const report = (title: string, mismatches: string[]) =>
  assert.deepEqual(mismatches, [], `${title}: ${mismatches.length} cell(s) disagree:\n  ${mismatches.join('\n  ')}`);

// =================================================================================================
// Voice
// =================================================================================================
const VOICE_ACTORS = ['owner', 'party', 'monSup', 'sup', 'unrelated', 'admin', 'noVoice', 'noVoiceRinging'] as const;
type VoiceActor = (typeof VOICE_ACTORS)[number];

/**
 * Who each actor is, on a conference 15000 ↔ 15001 + 15002 (SingleStepConference by 15000):
 *  owner          agent15000, the conference owner
 *  party          agent15001, another party
 *  monSup         super15010 after ListenIn (Agent, AllCalls) on 15000's device: on the call
 *  sup            super15010 without monitoring: not on the call
 *  unrelated      agent15003, not on the call
 *  admin          admin (ROLE_ADMIN, no device)
 *  noVoice        novoice15004 (no api-voice), not on the call
 *  noVoiceRinging novoice15004, rung into the conference by the owner (SingleStepConference): a
 *                 (ringing) party of the call who lacks the feature
 */
const VOICE_USER: Record<VoiceActor, string> = {
  owner: 'agent15000', party: 'agent15001', monSup: 'super15010', sup: 'super15010',
  unrelated: 'agent15003', admin: 'admin', noVoice: 'novoice15004', noVoiceRinging: 'novoice15004',
};

type Row = readonly [owner: number, party: number, monSup: number, sup: number, unrelated: number, admin: number, noVoice: number, noVoiceRinging: number];

/**
 * The expected statusCode per (operation, actor), reasoned from CONTRACT.md and the code
 * (src/domain/voice/{decide,operations}.ts, src/domain/policy.ts):
 *  - not a party of the call (sup, unrelated, admin, noVoice): 6, whatever the operation;
 *  - a party without the operation's feature (noVoiceRinging): 5 (the monitoring operations need
 *    api-supervisor-monitoring, which novoice15004 lacks as well);
 *  - parties (owner, party): the capability rules of docs/decisions.md; an operation only for a
 *    monitoring supervisor (Switch*, Mute/UnmuteMonitoredUser) is 3; RemoveParticipant by a
 *    non-owner is 3; state-dependent ones (Answer, Retrieve, Complete*, SwapCalls, UnmuteCall)
 *    on an established conference without consultation are 2;
 *  - the monitoring supervisor: only Hangup, RemoveParticipantFromConference and the monitoring
 *    operations are theirs ('any'/'monitor' in the table); the party operations are 3; switching
 *    to the mode they are in and unmuting an unmuted user are 2.
 */
//                                            owner party monSup sup unrel admin noV noVRing
const VOICE_TABLE: Record<VoiceCallOperation, Row> = {
  UpdateUserData:                             [0,    0,    3,     6,  6,    6,    6,  5],
  SendDtmf:                                   [0,    0,    3,     6,  6,    6,    6,  5],
  InitiateConference:                         [0,    0,    3,     6,  6,    6,    6,  5],
  Hold:                                       [0,    0,    3,     6,  6,    6,    6,  5],
  SingleStepTransfer:                         [0,    0,    3,     6,  6,    6,    6,  5],
  InitiateTransfer:                           [0,    0,    3,     6,  6,    6,    6,  5],
  AttachUserData:                             [0,    0,    3,     6,  6,    6,    6,  5],
  DeleteUserDataPair:                         [0,    0,    3,     6,  6,    6,    6,  5],
  SingleStepConference:                       [0,    0,    3,     6,  6,    6,    6,  5],
  DeleteUserData:                             [0,    0,    3,     6,  6,    6,    6,  5],
  Hangup:                                     [0,    0,    0,     6,  6,    6,    6,  5],
  Answer:                                     [2,    2,    3,     6,  6,    6,    6,  5],
  Reject:                                     [2,    2,    3,     6,  6,    6,    6,  5],
  Retrieve:                                   [2,    2,    3,     6,  6,    6,    6,  5],
  CompleteConference:                         [2,    2,    3,     6,  6,    6,    6,  5],
  CompleteTransfer:                           [2,    2,    3,     6,  6,    6,    6,  5],
  SwapCalls:                                  [2,    2,    3,     6,  6,    6,    6,  5],
  RemoveParticipantFromConference:            [0,    3,    0,     6,  6,    6,    6,  5],
  ClearCall:                                  [0,    0,    3,     6,  6,    6,    6,  5],
  MuteCall:                                   [0,    0,    3,     6,  6,    6,    6,  5],
  UnmuteCall:                                 [2,    2,    3,     6,  6,    6,    6,  5],
  SwitchToListenIn:                           [3,    3,    2,     6,  6,    6,    6,  5],
  SwitchToCoach:                              [3,    3,    0,     6,  6,    6,    6,  5],
  SwitchToBargeIn:                            [3,    3,    0,     6,  6,    6,    6,  5],
  MuteMonitoredUser:                          [3,    3,    0,     6,  6,    6,    6,  5],
  UnmuteMonitoredUser:                        [3,    3,    2,     6,  6,    6,    6,  5],
  // The demo directory records no DN: recording is refused (2) on its calls.
  StartCallRecording:                         [2,    2,    3,     6,  6,    6,    6,  5],
  PauseCallRecording:                         [2,    2,    3,     6,  6,    6,    6,  5],
  ResumeCallRecording:                        [2,    2,    3,     6,  6,    6,    6,  5],
  StopCallRecording:                          [2,    2,    3,     6,  6,    6,    6,  5],
  SetCallDisposition:                         [0,    0,    3,     6,  6,    6,    6,  5],
};

/** Plausible parameters for each operation (valid, so that only authorization and state decide). */
const voiceParams = (op: VoiceCallOperation): Record<string, unknown> => {
  switch (op) {
    case 'InitiateConference': case 'InitiateTransfer': case 'SingleStepConference': case 'SingleStepTransfer':
      return { destination: { phoneNumber: '15003' } };
    case 'RemoveParticipantFromConference': return { participant: '15002' };
    case 'SendDtmf': return { digits: '123#' };
    case 'AttachUserData': case 'UpdateUserData': return { userData: { Matrix: 'yes' } };
    case 'DeleteUserDataPair': return { key: 'Matrix' };
    case 'SetCallDisposition': return { disposition: 'Matrix' };
    default: return {};
  }
};

describe('authorization matrix', () => {
  it('voice: every call operation × every actor', async () => {
    const server = await startTestServer({ directory: directoryFor(false) });
    try {
      const users = ['agent15000', 'agent15001', 'agent15002', 'agent15003', 'super15010', 'admin', 'novoice15004'];
      const c = Object.fromEntries(users.map((u) => [u, gws(server.url, u)])) as Record<string, GwsClient>;
      const device = async (u: string) => (c[u] as GwsClient).deviceId();
      const superDevice = await device('super15010');
      const target15000 = `${server.url}/api/v2/devices/${await device('agent15000')}`;
      const sup = c['super15010'] as GwsClient;
      const callsOf = async (u: string): Promise<any[]> => (await (c[u] as GwsClient).get('/api/v2/me/calls?fields=*')).body.calls;

      /** A fresh conference owned by 15000, set up for the actor; returns its call id. */
      const setUp = async (actor: VoiceActor): Promise<string> => {
        await expectOk(c.agent15000!.dial('15001'), '15000 dials 15001');
        const ringing = (await callsOf('agent15001')).filter((x) => x.state === 'Ringing');
        assert.equal(ringing.length, 1, '15001 has one ringing call');
        const callId = ringing[0].id as string;
        await expectOk(c.agent15001!.op(callId, 'Answer'), '15001 answers');
        await expectOk(c.agent15000!.op(callId, 'SingleStepConference', { destination: { phoneNumber: '15002' } }), '15000 conferences 15002');
        await expectOk(c.agent15002!.op(callId, 'Answer'), '15002 answers');
        if (actor === 'monSup') {
          await expectOk(
            sup.post(`/api/v2/me/devices/${superDevice}`, { operationName: 'ListenIn', targetDeviceUri: target15000, supervisorMonitoringScope: 'Agent', supervisorMonitoringMode: 'AllCalls' }),
            'super15010 listens in on 15000',
          );
          const monitored = await sup.get(`/api/v2/me/calls/${callId}`);
          assert.equal(monitored.body.call?.monitoring, true, 'the supervisor is on the conference, monitoring');
        }
        if (actor === 'noVoiceRinging') {
          await expectOk(c.agent15000!.op(callId, 'SingleStepConference', { destination: { phoneNumber: '15004' } }), '15000 rings 15004 in');
          assert.equal((await c.novoice15004!.get(`/api/v2/me/calls/${callId}`)).body.call?.state, 'Ringing');
        }
        return callId;
      };

      /** Nobody monitors, and nobody is on a call. */
      const tearDown = async () => {
        const dev = (await sup.get('/api/v2/me/devices?fields=*')).body.devices[0];
        if (dev.supervisorMonitoringState) await expectOk(sup.post(`/api/v2/me/devices/${superDevice}`, { operationName: 'CancelSupervisorMonitoring' }), 'cancel monitoring');
        for (const u of ['agent15000', 'agent15001', 'agent15002', 'agent15003', 'super15010'])
          for (const call of await callsOf(u)) await expectOk(c[u]!.op(call.id, 'Hangup'), `tear-down: ${u} hangs up ${call.id}`);
        for (const u of [...users.filter((x) => x !== 'admin')]) assert.deepEqual(await callsOf(u), [], `tear-down: ${u} has no call`);
      };

      const mismatches: string[] = [];
      let cells = 0;
      /** Runs one cell on the given call; returns the statusCode answered. */
      const cell = async (op: VoiceCallOperation, actor: VoiceActor, callId: string): Promise<number> => {
        cells++;
        const expected = VOICE_TABLE[op][VOICE_ACTORS.indexOf(actor)] as number;
        const client = c[VOICE_USER[actor]] as GwsClient;
        const where = `${op} × ${actor}`;
        const seen = await client.get(`/api/v2/me/calls/${callId}`);
        const reply = await client.op(callId, op, voiceParams(op));
        const got = reply.body?.statusCode as number;
        if (got !== expected) mismatches.push(`${where}: expected ${expected}, got ${got} (${reply.body?.statusMessage ?? ''})`);
        if (reply.status !== HTTP[got]) mismatches.push(`${where}: statusCode ${got} answered with HTTP ${reply.status}, contract says ${HTTP[got]}`);
        if (got === 0 && JSON.stringify(reply.body) !== JSON.stringify({ statusCode: 0 }))
          mismatches.push(`${where}: success body is ${JSON.stringify(reply.body)}, not exactly {"statusCode":0}`);
        if (got !== 0 && Object.keys(reply.body).sort().join() !== 'statusCode,statusMessage')
          mismatches.push(`${where}: failure body keys ${Object.keys(reply.body)}`);
        // SetCallDisposition is never listed (no GWS sample lists it): only its answer is checked.
        if (seen.status === 200 && isListedVoiceOperation(op)) {
          const listed = (seen.body.call.capabilities as string[]).includes(op);
          if (listed !== (got === 0)) mismatches.push(`${where}: answered ${got} but ${listed ? 'listed' : 'not listed'} in capabilities [${seen.body.call.capabilities}]`);
        } else if (seen.status !== 200 && (seen.body?.statusCode !== 6 || got !== 6)) {
          mismatches.push(`${where}: GET answered ${seen.status} ${JSON.stringify(seen.body)} while the operation answered ${got}`);
        }
        return got;
      };

      await tearDown();
      for (const actor of VOICE_ACTORS) {
        const accepted = VOICE_CALL_OPERATIONS.filter((op) => VOICE_TABLE[op][VOICE_ACTORS.indexOf(actor)] === 0);
        const refused = VOICE_CALL_OPERATIONS.filter((op) => !accepted.includes(op));
        // Refused cells share one conference: a refusal changes nothing. An unexpected success
        // does change it, so the conference is rebuilt after one.
        let callId = await setUp(actor);
        for (const op of refused) {
          if ((await cell(op, actor, callId)) === 0) {
            await tearDown();
            callId = await setUp(actor);
          }
        }
        await tearDown();
        for (const op of accepted) {
          const fresh = await setUp(actor);
          await cell(op, actor, fresh);
          await tearDown();
        }
      }
      assert.equal(cells, VOICE_CALL_OPERATIONS.length * VOICE_ACTORS.length, 'every cell ran');
      report('voice authorization matrix', mismatches);
    } finally {
      await server.dispose();
    }
  });

  // ===============================================================================================
  // Chat
  // ===============================================================================================
  it('chat: every chat operation × every actor', async () => {
    const CHAT_ACTORS = ['routed', 'invited', 'consultant', 'bargeIn', 'monitor', 'unrelated', 'admin', 'noChat', 'noChatParty'] as const;
    type ChatActor = (typeof CHAT_ACTORS)[number];
    /**
     * On a chat routed to agent15000 (visibility All), with agent15001 invited (All), agent15002
     * consulted (Agents), super15010 intruded with BargeIn (All) and super15011 with Monitor
     * (Supervisors), all Chatting; agent15003 has a chat session but is not in the chat; admin
     * and nochat (no api-multimedia) are not in it. noChatParty is nochat in a chat they joined
     * while they still had api-multimedia (the directory changed across a restart).
     */
    const CHAT_USER: Record<ChatActor, string> = {
      routed: 'agent15000', invited: 'agent15001', consultant: 'agent15002', bargeIn: 'super15010', monitor: 'super15011',
      unrelated: 'agent15003', admin: 'admin', noChat: 'nochat', noChatParty: 'nochat',
    };
    type ChatRow = readonly [routed: number, invited: number, consultant: number, bargeIn: number, monitor: number, unrelated: number, admin: number, noChat: number, noChatParty: number];
    /**
     * Expected statusCodes, from CONTRACT.md and src/domain/chat/{decide,operations,intrude}.ts:
     * outsiders 6; a participant without api-multimedia 5; Accept/Reject are for Invited agents
     * (2 while Chatting); RemoveParticipantFromConference needs visibility All (3 for the
     * consultant and the monitoring supervisor); SwitchTo* are for intruding supervisors only (3
     * for agents) and 2 into the mode one is in. Everything else is open to every agent in the
     * chat, whatever their visibility.
     */
    //                                                routed inv cons barge mon unrel admin noC noCP
    const CHAT_TABLE: Record<ChatOperation, ChatRow> = {
      Accept:                                         [2,     2,  2,   2,    2,  6,    6,    6,  5],
      Reject:                                         [2,     2,  2,   2,    2,  6,    6,    6,  5],
      Transfer:                                       [0,     0,  0,   0,    0,  6,    6,    6,  5],
      Leave:                                          [0,     0,  0,   0,    0,  6,    6,    6,  5],
      Invite:                                         [0,     0,  0,   0,    0,  6,    6,    6,  5],
      Consult:                                        [0,     0,  0,   0,    0,  6,    6,    6,  5],
      SetInFocus:                                     [0,     0,  0,   0,    0,  6,    6,    6,  5],
      SetDisposition:                                 [0,     0,  0,   0,    0,  6,    6,    6,  5],
      AttachUserData:                                 [0,     0,  0,   0,    0,  6,    6,    6,  5],
      DeleteUserData:                                 [0,     0,  0,   0,    0,  6,    6,    6,  5],
      UpdateUserData:                                 [0,     0,  0,   0,    0,  6,    6,    6,  5],
      SendToAgents:                                   [0,     0,  0,   0,    0,  6,    6,    6,  5],
      SendStartTypingToAgentsNotification:            [0,     0,  0,   0,    0,  6,    6,    6,  5],
      SendStopTypingToAgentsNotification:             [0,     0,  0,   0,    0,  6,    6,    6,  5],
      Complete:                                       [0,     0,  0,   0,    0,  6,    6,    6,  5],
      SendMessage:                                    [0,     0,  0,   0,    0,  6,    6,    6,  5],
      SendStartTypingNotification:                    [0,     0,  0,   0,    0,  6,    6,    6,  5],
      SendStopTypingNotification:                     [0,     0,  0,   0,    0,  6,    6,    6,  5],
      RemoveParticipantFromConference:                [0,     0,  3,   0,    3,  6,    6,    6,  5],
      SendUrl:                                        [0,     0,  0,   0,    0,  6,    6,    6,  5],
      SendNicknameUpdatedNotice:                      [0,     0,  0,   0,    0,  6,    6,    6,  5],
      SwitchToMonitor:                                [3,     3,  3,   0,    2,  6,    6,    6,  5],
      SwitchToCoach:                                  [3,     3,  3,   0,    0,  6,    6,    6,  5],
      SwitchToBargeIn:                                [3,     3,  3,   2,    0,  6,    6,    6,  5],
    };

    const data = tempDataFile();
    const userIds = new Map<string, string>();
    const users = ['agent15000', 'agent15001', 'agent15002', 'agent15003', 'super15010', 'super15011', 'admin', 'nochat'];
    let server: TestServer | undefined;
    try {
      // ---- Phase 1: nochat still has api-multimedia and joins a chat by Invite. --------------
      // Every case's chat is routed to agent15000 and most stay open: no limit on offers per agent here.
      server = await startTestServer({ directory: directoryFor(true), data: data.file, maxChatsPerAgent: Number.MAX_SAFE_INTEGER });
      let c = Object.fromEntries(users.map((u) => [u, gws(server!.url, u)])) as Record<string, GwsClient>;
      for (const u of users) userIds.set(u, (await c[u]!.get('/api/v2/me')).body.user.id);
      const uri = (u: string) => `${server!.url}/api/v2/users/${userIds.get(u)}`;
      for (const u of ['agent15000', 'agent15001', 'agent15002', 'agent15003', 'super15010', 'super15011', 'nochat'])
        await expectOk(c[u]!.post('/api/v2/me', { operationName: 'StartContactCenterSession', channels: ['chat'] }), `${u} starts a chat session`);
      await expectOk(c.agent15000!.post('/api/v2/me/channels/chat', { operationName: 'Ready' }), 'agent15000 goes Ready');

      const chatOp = (u: string, chatId: string, operationName: string, params: Record<string, unknown> = {}) =>
        c[u]!.post(`/api/v2/me/chats/${chatId}`, { operationName, ...params });
      /** A customer's chat, routed to agent15000 (the only Ready agent) and accepted. */
      const routedChat = async (): Promise<string> => {
        const started = await postForm(`${server!.url}/genesys/2/chat/matrix`, { nickname: 'pat', firstName: 'Pat', lastName: 'Lee', emailAddress: 'pat@example.com', subject: 'Matrix' });
        assert.equal(started.status, 200, JSON.stringify(started.body));
        const chatId = started.body.chatId as string;
        const offered = await c.agent15000!.get(`/api/v2/me/chats/${chatId}`);
        assert.equal(offered.body.chat?.state, 'Invited', `routed to agent15000: ${JSON.stringify(offered.body)}`);
        await expectOk(chatOp('agent15000', chatId, 'Accept'), 'agent15000 accepts');
        return chatId;
      };
      const join = async (by: string, who: string, chatId: string, how: 'Invite' | 'Consult') => {
        await expectOk(chatOp(by, chatId, how, { targetUri: uri(who) }), `${by} ${how} ${who}`);
        await expectOk(chatOp(who, chatId, 'Accept'), `${who} accepts`);
      };

      const nochatChat = await routedChat();
      await join('agent15000', 'nochat', nochatChat, 'Invite');
      assert.equal((await c.nochat!.get(`/api/v2/me/chats/${nochatChat}`)).body.chat.state, 'Chatting');
      await server.dispose();
      server = undefined;

      // ---- Phase 2: the same store; nochat has lost api-multimedia. -------------------------
      server = await startTestServer({ directory: directoryFor(false), data: data.file, maxChatsPerAgent: Number.MAX_SAFE_INTEGER });
      c = Object.fromEntries(users.map((u) => [u, gws(server!.url, u)])) as Record<string, GwsClient>;
      assert.ok(!server.directory.byUserName('nochat')?.features.includes('api-multimedia'));

      /** A fresh chat with every in-chat actor in it, as described above. */
      const fullChat = async (): Promise<string> => {
        const chatId = await routedChat();
        await join('agent15000', 'agent15001', chatId, 'Invite');
        await join('agent15000', 'agent15002', chatId, 'Consult');
        const intrude = (u: string, mode: string) =>
          c[u]!.post(`/api/v2/users/${userIds.get('agent15000')}/chats/${chatId}`, { operationName: 'Intrude', supervisorVisibilityMode: mode });
        await expectOk(intrude('super15010', 'BargeIn'), 'super15010 barges in');
        await expectOk(intrude('super15011', 'Monitor'), 'super15011 monitors');
        const view = (await c.agent15000!.get(`/api/v2/me/chats/${chatId}`)).body.chat;
        assert.deepEqual(view.participants.map((p: any) => p.visibility).sort(), ['All', 'All', 'All', 'Agents', 'All'].sort(), 'the routed agent sees all but the monitor');
        return chatId;
      };

      const chatParams = (op: ChatOperation, actor: ChatActor): Record<string, unknown> => {
        switch (op) {
          case 'Transfer': case 'Invite': case 'Consult': return { targetUri: uri('agent15003') };
          case 'RemoveParticipantFromConference': return { targetUri: uri(actor === 'invited' ? 'agent15002' : 'agent15001') };
          case 'SetDisposition': return { disposition: 'Resolved' };
          case 'AttachUserData': case 'UpdateUserData': return { userData: { Matrix: 'yes' } };
          case 'DeleteUserData': return { keys: ['Matrix'] };
          case 'SendToAgents': return { text: 'to agents' };
          case 'SendMessage': return { text: 'hello' };
          case 'SendUrl': return { url: 'https://example.com/help' };
          case 'SendNicknameUpdatedNotice': return { noticeText: 'Matrix' };
          default: return {};
        }
      };

      const mismatches: string[] = [];
      let cells = 0;
      const cell = async (op: ChatOperation, actor: ChatActor, chatId: string): Promise<number> => {
        cells++;
        const expected = CHAT_TABLE[op][CHAT_ACTORS.indexOf(actor)] as number;
        const u = CHAT_USER[actor];
        const where = `${op} × ${actor}`;
        const seen = await c[u]!.get(`/api/v2/me/chats/${chatId}`);
        const reply = await chatOp(u, chatId, op, chatParams(op, actor));
        const got = reply.body?.statusCode as number;
        if (got !== expected) mismatches.push(`${where}: expected ${expected}, got ${got} (${reply.body?.statusMessage ?? ''})`);
        if (reply.status !== HTTP[got]) mismatches.push(`${where}: statusCode ${got} answered with HTTP ${reply.status}, contract says ${HTTP[got]}`);
        if (got === 0) {
          // RemoveParticipantFromConference answers exactly {"statusCode":0} (seed); the others a referenceId.
          const keys = Object.keys(reply.body).sort().join();
          const wanted = op === 'RemoveParticipantFromConference' ? 'statusCode' : 'referenceId,statusCode';
          if (keys !== wanted) mismatches.push(`${where}: success body ${JSON.stringify(reply.body)}, expected keys ${wanted}`);
        } else if (Object.keys(reply.body).sort().join() !== 'statusCode,statusMessage') {
          mismatches.push(`${where}: failure body keys ${Object.keys(reply.body)}`);
        }
        if (seen.status === 200) {
          const capabilities = seen.body.chat.capabilities as string[];
          const listed = capabilities.includes(op);
          // SendUrl and SendNicknameUpdatedNotice are accepted but never listed (no GWS sample lists them).
          const shouldList = (UNLISTED_CHAT_OPERATIONS as readonly string[]).includes(op) ? false : got === 0;
          if (listed !== shouldList) mismatches.push(`${where}: answered ${got} but ${listed ? 'listed' : 'not listed'} in capabilities [${capabilities}]`);
        } else if (seen.status !== 200 && (seen.body?.statusCode !== 6 || got !== 6)) {
          mismatches.push(`${where}: GET answered ${seen.status} ${JSON.stringify(seen.body)} while the operation answered ${got}`);
        }
        return got;
      };

      for (const actor of CHAT_ACTORS) {
        const accepted = CHAT_OPERATIONS.filter((op) => CHAT_TABLE[op][CHAT_ACTORS.indexOf(actor)] === 0);
        const refused = CHAT_OPERATIONS.filter((op) => !accepted.includes(op));
        const setUp = () => (actor === 'noChatParty' ? Promise.resolve(nochatChat) : fullChat());
        let chatId = await setUp();
        for (const op of refused) if ((await cell(op, actor, chatId)) === 0) chatId = await setUp();
        for (const op of accepted) await cell(op, actor, await setUp());
      }
      assert.equal(cells, CHAT_OPERATIONS.length * CHAT_ACTORS.length, 'every cell ran');
      report('chat authorization matrix', mismatches);
    } finally {
      await server?.dispose();
      data.remove();
    }
  });
});
