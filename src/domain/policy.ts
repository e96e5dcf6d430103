/**
 * Who may do what, beyond "is a party of the call" and "has the feature". The single place that
 * answers the seeds' authorization rules, so that later actors (monitoring supervisors, the
 * compliance orchestrator) are added here and nowhere else.
 *
 * Voice, from the seed: RemoveParticipantFromConference "can only be performed by the owner of
 * the conference call or a supervisor during monitoring". The compliance orchestrator is such a
 * supervisor: it monitors the flagged user's device, then removes them, under this same rule.
 */
import type { Actor } from './actor.js';
import type { ChatAgent } from './chat/model.js';
import type { Call } from './voice/model.js';

export const voicePolicy = {
  isConferenceOwner: (call: Call, actor: Actor): boolean => actor.dn !== null && call.ownerDn === actor.dn,

  /** A supervisor who monitors a party of this call, and is on it as such. */
  isMonitoringSupervisor: (call: Call, actor: Actor): boolean =>
    call.parties.some((p) => p.dn === actor.dn && p.monitor !== undefined && p.state !== 'Released'),

  /** Removing someone else from a conference. */
  mayRemoveParticipant(call: Call, actor: Actor): string | null {
    if (voicePolicy.isConferenceOwner(call, actor) || voicePolicy.isMonitoringSupervisor(call, actor)) return null;
    return call.ownerDn === null
      ? `call ${call.id} has no conference owner; only the owner of the conference call or a supervisor during monitoring may remove a participant`
      : `only the owner of the conference call (${call.ownerDn}) or a supervisor during monitoring may remove a participant`;
  },

} as const;

/**
 * Chat, from the seed: RemoveParticipantFromConference is for "only agents who are visible to
 * all". A consultant (visibility Agents) may not remove anyone.
 */
export const chatPolicy = {
  mayRemoveParticipant(requester: ChatAgent): string | null {
    return requester.visibility === 'All'
      ? null
      : `only agents who are visible to all may remove a participant; you joined with visibility ${requester.visibility}`;
  },
} as const;
