/**
 * Conclave calls in the Genesys Cloud models (purecloud-platform-client-v2 262, index.d.ts):
 *  - CallConversation / CallMediaParticipant (GET /conversations/calls/{id}, topic
 *    v2.users.{id}.conversations.calls): call state *flat* on each participant;
 *  - Conversation / Participant (GET /conversations/{id}, topics v2.users.{id}.conversations and
 *    v2.routing.queues.{id}.conversations): state, held, muted, confined *inside calls[]*, and no
 *    participant-level state (notes "Things to watch" 1).
 * Every view is rendered from a Call alone (a committed snapshot), never from the store.
 */
import { createHash } from 'node:crypto';
import type { Directory } from '../../directory/directory.js';
import type { Call, Party, PartyState } from '../../domain/voice/model.js';
import { partyOf } from '../../domain/voice/model.js';
import type { CloudQueues } from './queues.js';

const uuidOf = (seed: string): string => {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

/** A stable participant id for a DN on a call (UUID-shaped, as Cloud's are). */
export const participantId = (callId: string, dn: string): string => uuidOf(`conclave:participant:${callId}:${dn}`);
/** The id of a participant's one call leg (Participant.calls[0].id). */
const legId = (callId: string, dn: string): string => uuidOf(`conclave:leg:${callId}:${dn}`);

const CLOUD_STATE: Readonly<Record<PartyState, string>> = {
  Dialing: 'dialing',
  Ringing: 'alerting',
  Established: 'connected',
  Held: 'connected',
  Released: 'disconnected',
};

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? undefined : new Date(ms).toISOString());

/** The parties a Cloud view shows: monitoring supervisors are nobody's participants in GWS either. */
export const cloudParties = (call: Call): readonly Party[] => call.parties.filter((p) => !p.monitor);

/**
 * `purpose`: an outside number is the `customer` of an Inbound call and an `external` party of any
 * other (an Outbound call, or a number an agent brought in); everyone else is an `agent`.
 */
export const purposeOf = (call: Call, party: Party): 'agent' | 'customer' | 'external' =>
  party.external ? (call.callType === 'Inbound' ? 'customer' : 'external') : 'agent';

/** Direction from the organisation's side: an Inbound call is inbound for all, Outbound outbound. */
const directionOf = (call: Call, party: Party): 'inbound' | 'outbound' => {
  if (call.callType === 'Inbound') return 'inbound';
  if (call.callType === 'Outbound') return 'outbound';
  return party.dn === call.ani ? 'outbound' : 'inbound';
};

/**
 * Wrap-up codes live in the call's attached data, one key pair per participant (Cloud PATCH
 * `wrapup`; GWS has no wrap-up code of its own, so GWS desktops see the same pair as user data).
 */
export const wrapupKeys = (dn: string) => ({ code: `wrapup.${dn}.code`, notes: `wrapup.${dn}.notes` });
const wrapupOf = (call: Call, party: Party) => {
  const keys = wrapupKeys(party.dn);
  const code = call.userData[keys.code];
  if (code === undefined) return undefined;
  const notes = call.userData[keys.notes];
  return { code: String(code), name: String(code), ...(notes !== undefined ? { notes: String(notes) } : {}) };
};

const nameOf = (party: Party, directory: Directory) => {
  const user = party.external ? undefined : directory.byDn(party.dn);
  return { user, name: user ? `${user.firstName} ${user.lastName}`.trim() : party.dn };
};

const endOf = (call: Call, party: Party) => (party.state === 'Released' ? iso(party.releasedAt ?? call.endedAt ?? call.createdAt) : undefined);

/** The Address objects of a call leg (self, other), as the calls tutorial reads them. */
const address = (dn: string, name: string) => ({ name, nameRaw: name, addressNormalized: `tel:${dn}`, addressRaw: dn, addressDisplayable: dn });
const otherDn = (call: Call, party: Party) => (party.dn === call.ani ? call.dnis : call.ani);

/** CallMediaParticipant: flat, as GET /conversations/calls/{id} and the `.calls` topic show it. */
export const participantView = (call: Call, party: Party, directory: Directory) => {
  const { user, name } = nameOf(party, directory);
  const wrapup = wrapupOf(call, party);
  const endTime = endOf(call, party);
  return {
    id: participantId(call.id, party.dn),
    name,
    address: party.dn,
    startTime: iso(call.createdAt),
    ...(party.connectedAt !== undefined ? { connectedTime: iso(party.connectedAt) } : {}),
    ...(endTime ? { endTime, disconnectType: 'endpoint' } : {}),
    purpose: purposeOf(call, party),
    state: CLOUD_STATE[party.state],
    direction: directionOf(call, party),
    held: party.state === 'Held',
    muted: party.mute === 'On' || party.monitoredMuted === true,
    // Conclave has one kind of hold (`held`); nobody is ever confined (docs/cloud.md).
    confined: false,
    recording: false,
    recordingState: 'none',
    ani: call.ani,
    dnis: call.dnis,
    wrapupRequired: false,
    ...(wrapup ? { wrapup } : {}),
    ...(user ? { user: { id: user.id, name, selfUri: `/api/v2/users/${user.id}` } } : {}),
  };
};

/**
 * The `acd` participant of a call routed through a queue, as Cloud shows the queue's leg: connected
 * while the call waits or rings at a member, disconnected (`transfer`) once a member answers it or
 * the call ends. Rendered from Call.routing alone; it has no device, so nobody can act on it.
 */
const acdTimes = (call: Call) => {
  const routing = call.routing as NonNullable<Call['routing']>;
  const answered = routing.delivered && routing.offeredTo !== null ? partyOf(call, routing.offeredTo)?.connectedAt : undefined;
  const end = answered ?? (call.endedAt ?? undefined);
  return { start: iso(call.createdAt), end: end === undefined ? undefined : iso(end) };
};

const acdParticipant = (call: Call, queues: CloudQueues | undefined, nested: boolean) => {
  const queue = queues?.queueOf(call);
  if (!queue) return [];
  const { start, end } = acdTimes(call);
  const state = end ? 'disconnected' : 'connected';
  const common = {
    id: participantId(call.id, `acd:${queue.id}`),
    startTime: start,
    ...(end ? { endTime: end } : {}),
    name: queue.name,
    queueId: queue.id,
    ...(nested ? { queueName: queue.name } : {}),
    purpose: 'acd',
    address: call.dnis,
    ani: call.ani,
    dnis: call.dnis,
    wrapupRequired: false,
  };
  if (!nested) return [{ ...common, state, direction: 'inbound', held: false, muted: false, confined: false, recording: false, recordingState: 'none', ...(end ? { disconnectType: 'transfer' } : {}) }];
  return [
    {
      ...common,
      attributes: {},
      calls: [
        {
          id: uuidOf(`conclave:leg:${call.id}:acd:${queue.id}`),
          state,
          direction: 'inbound',
          recording: false,
          recordingState: 'none',
          muted: false,
          confined: false,
          held: false,
          self: address(call.dnis, queue.name),
          other: address(call.ani, call.ani),
          provider: 'Conclave',
          ...(end ? { disconnectedTime: end, disconnectType: 'transfer' } : {}),
        },
      ],
    },
  ];
};

/** CallConversation (GET /conversations/calls/{id}, and the `.conversations.calls` topic). */
export const callConversationView = (call: Call, directory: Directory, queues?: CloudQueues) => ({
  id: call.id,
  participants: [...acdParticipant(call, queues, false), ...cloudParties(call).map((p) => participantView(call, p, directory))],
  recordingState: 'none',
  maxParticipants: directory.dnCount(),
  selfUri: `/api/v2/conversations/calls/${call.id}`,
});

/** Participant with calls[] (Conversation, and the `.conversations` topics). */
const nestedParticipant = (call: Call, party: Party, directory: Directory) => {
  const { user, name } = nameOf(party, directory);
  const wrapup = wrapupOf(call, party);
  const endTime = endOf(call, party);
  const other = otherDn(call, party);
  return {
    id: participantId(call.id, party.dn),
    startTime: iso(call.createdAt),
    ...(party.connectedAt !== undefined ? { connectedTime: iso(party.connectedAt) } : {}),
    ...(endTime ? { endTime } : {}),
    name,
    ...(user ? { userId: user.id, userUri: `/api/v2/users/${user.id}` } : {}),
    purpose: purposeOf(call, party),
    address: party.dn,
    ani: call.ani,
    dnis: call.dnis,
    wrapupRequired: false,
    ...(wrapup ? { wrapup } : {}),
    attributes: {},
    calls: [
      {
        id: legId(call.id, party.dn),
        state: CLOUD_STATE[party.state],
        direction: directionOf(call, party),
        recording: false,
        recordingState: 'none',
        muted: party.mute === 'On' || party.monitoredMuted === true,
        confined: false,
        held: party.state === 'Held',
        self: address(party.dn, name),
        other: address(other, nameOf({ ...party, dn: other, external: cloudParties(call).find((p) => p.dn === other)?.external }, directory).name),
        provider: 'Conclave',
        ...(party.connectedAt !== undefined ? { connectedTime: iso(party.connectedAt) } : {}),
        ...(endTime ? { disconnectedTime: endTime, disconnectType: 'endpoint' } : {}),
        ...(wrapup ? { wrapup } : {}),
      },
    ],
  };
};

/** Conversation (GET /conversations/{id}): startTime/endTime at the top, participants with calls[]. */
export const conversationView = (call: Call, directory: Directory, queues?: CloudQueues) => ({
  id: call.id,
  startTime: iso(call.createdAt),
  ...(call.endedAt !== null ? { endTime: iso(call.endedAt) } : {}),
  address: call.dnis,
  participants: [...acdParticipant(call, queues, true), ...cloudParties(call).map((p) => nestedParticipant(call, p, directory))],
  recordingState: 'NONE',
  maxParticipants: directory.dnCount(),
  selfUri: `/api/v2/conversations/${call.id}`,
});

/** ConversationEventTopicConversation: as the Conversation, with no conversation-level times. */
export const conversationEventView = (call: Call, directory: Directory, queues?: CloudQueues) => ({
  id: call.id,
  maxParticipants: directory.dnCount(),
  participants: [...acdParticipant(call, queues, true), ...cloudParties(call).map((p) => nestedParticipant(call, p, directory))],
  recordingState: 'none',
  address: call.dnis,
});

/** ConversationCallEventTopicCallConversation: flat participants, no selfUri. */
export const callConversationEventView = (call: Call, directory: Directory, queues?: CloudQueues) => {
  const { selfUri: _selfUri, ...rest } = callConversationView(call, directory, queues);
  return rest;
};
