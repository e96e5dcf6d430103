/** Conclave calls as Genesys Cloud CallConversation / CallMediaParticipant objects. */
import { createHash } from 'node:crypto';
import type { Directory } from '../../directory/directory.js';
import type { Call, Party, PartyState } from '../../domain/voice/model.js';

/** A stable participant id for a DN on a call (UUID-shaped, as Cloud's are). */
export const participantId = (callId: string, dn: string): string => {
  const h = createHash('sha256').update(`conclave:participant:${callId}:${dn}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

const CLOUD_STATE: Readonly<Record<PartyState, string>> = {
  Dialing: 'dialing',
  Ringing: 'alerting',
  Established: 'connected',
  Held: 'connected',
  Released: 'disconnected',
};

const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());

export const participantView = (call: Call, party: Party, directory: Directory) => {
  const user = directory.byDn(party.dn);
  return {
    id: participantId(call.id, party.dn),
    name: user ? `${user.firstName} ${user.lastName}`.trim() : party.dn,
    address: party.dn,
    startTime: iso(call.createdAt),
    ...(party.connectedAt !== undefined ? { connectedTime: iso(party.connectedAt) } : {}),
    ...(party.state === 'Released' ? { endTime: iso(party.releasedAt ?? call.endedAt ?? call.createdAt) } : {}),
    purpose: 'agent',
    state: CLOUD_STATE[party.state],
    direction: party.dn === call.ani ? 'outbound' : 'inbound',
    held: party.state === 'Held',
    muted: party.mute === 'On' || party.monitoredMuted === true,
    confined: false,
    recording: false,
    ...(user ? { user: { id: user.id, selfUri: `/api/v2/users/${user.id}` } } : {}),
  };
};

export const conversationView = (call: Call, directory: Directory) => ({
  id: call.id,
  // Monitoring supervisors are nobody's participants in GWS; the same here.
  participants: call.parties.filter((p) => !p.monitor).map((p) => participantView(call, p, directory)),
  recordingState: 'none',
  maxParticipants: directory.dnCount(),
  selfUri: `/api/v2/conversations/calls/${call.id}`,
});
