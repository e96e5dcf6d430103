/**
 * The outside world's side of a call: an external party (a customer, any outside number) calls
 * in, answers, hangs up or sends DTMF. Pure decisions like the rest of the domain; the engine
 * runs them for the simulation API and for the far end that answers by itself.
 */
import { refuse, type Refusal } from '../refusals.js';
import { isExternalShaped, isPresent, releaseParty, withParty, type Call, type Party, type UserData } from './model.js';
import { destinationKind, queuedCall, ringingParty, recordingOf, type DnDirectory, type VoiceChange, type VoiceEnv } from './operations.js';

export const EXTERNAL_ACTIONS = ['answer', 'hangup', 'dtmf'] as const;
export type ExternalAction = (typeof EXTERNAL_ACTIONS)[number];

export interface InboundRequest {
  readonly from: string;
  readonly to: string;
  readonly userData: UserData;
}

/** An inbound call from an external number, ringing at an agent's DN. */
export const decideInbound = (request: InboundRequest, directory: DnDirectory, env: VoiceEnv, forwardTo: string | null = null): VoiceChange | Refusal => {
  const { from, to } = request;
  if (!isExternalShaped(from) || destinationKind(directory, from) !== 'external')
    return refuse.invalidParameter('from', `'${from}' is not an external number (3 to 20 digits with an optional leading '+', not a directory DN)`);
  const queue = directory.queueOf?.(to);
  if (queue) return { ok: true, calls: [queuedCall(queue, { dn: from, external: true }, request.userData, env)] };
  if (!directory.isKnownDn(to)) return refuse.invalidParameter('to', `'${to}' is not a known agent DN, queue name or queue DN`);
  const call: Call = {
    id: env.newCallId(),
    connId: env.newConnId(),
    version: 0,
    callType: 'Inbound',
    ani: from,
    dnis: to,
    parties: [
      { dn: from, state: 'Dialing', mute: 'Off', external: true },
      // A forwarded device's calls ring at the forward destination (ForwardCallsOn).
      forwardTo !== null && forwardTo !== from ? ringingParty(directory, forwardTo) : { dn: to, state: 'Ringing', mute: 'Off' },
    ],
    ownerDn: null,
    parentCallId: null,
    userData: request.userData,
    ...recordingOf(directory, [from, to]),
    createdAt: env.now,
    establishedAt: null,
    endedAt: null,
  };
  return { ok: true, calls: [call] };
};

export interface ExternalRequest {
  readonly callId: string;
  /** Which external party acts; when absent, the call's present external party. */
  readonly number?: string;
  readonly action: ExternalAction;
  readonly digits?: string;
}

/** The external party of a call: the one named, or the first still present. */
const externalParty = (call: Call, number: string | undefined): Party | undefined =>
  number !== undefined
    ? call.parties.find((p) => p.dn === number && p.external)
    : (call.parties.find((p) => p.external && isPresent(p)) ?? call.parties.find((p) => p.external));

export const decideExternal = (call: Call | undefined, request: ExternalRequest, env: VoiceEnv): VoiceChange | Refusal => {
  if (!call || call.endedAt !== null) return refuse.notFound('call', request.callId);
  const party = externalParty(call, request.number);
  if (!party) return refuse.notFound('external party of call', request.callId);
  const state = party.state;
  switch (request.action) {
    case 'answer': {
      if (state !== 'Ringing') return refuse.invalidState(`the external party ${party.dn} of call ${call.id} is ${state}, not Ringing`);
      // As Answer does: the answering party and the caller's Dialing party are connected.
      const connected = call.parties.reduce(
        (acc, p) =>
          p.dn === party.dn || p.state === 'Dialing' ? withParty(acc, p.dn, { state: 'Established', connectedAt: p.connectedAt ?? env.now }) : acc,
        call,
      );
      return { ok: true, calls: [{ ...connected, establishedAt: connected.establishedAt ?? env.now }] };
    }
    case 'hangup':
      if (!isPresent(party)) return refuse.invalidState(`the external party ${party.dn} has already left call ${call.id}`);
      return { ok: true, calls: [releaseParty(call, party.dn, env.now)] };
    case 'dtmf': {
      const digits = request.digits ?? '';
      if (!/^[0-9*#A-Da-d]{1,64}$/.test(digits)) return refuse.invalidParameter('digits', 'must be 1 to 64 of 0-9, *, #, A-D');
      if (state !== 'Established' && state !== 'Dialing')
        return refuse.invalidState(`the external party ${party.dn} of call ${call.id} is ${state}; DTMF needs a connected party`);
      return { ok: true, calls: [], dtmf: { callId: call.id, dn: party.dn, digits } };
    }
  }
};

