/** Dial: POST /api/v2/me/devices/{id}/calls — the one voice operation that creates a call. */
import { hasFeature, type Actor } from '../actor.js';
import { refuse, type Refusal } from '../refusals.js';
import type { ParsedDialOperation } from './commands.js';
import type { Call } from './model.js';
import { destinationKind, queuedCall, ringingParty, recordingOf, type DnDirectory, type VoiceChange, type VoiceEnv } from './operations.js';

export const decideDial = (
  actor: Actor & { readonly dn: string },
  operation: ParsedDialOperation,
  directory: DnDirectory,
  env: VoiceEnv,
  /** Where the destination's device forwards its calls, if it does (ForwardCallsOn). */
  forwardTo: string | null = null,
): VoiceChange | Refusal => {
  if (operation.name === undefined) return operation.invalid;
  if (!hasFeature(actor, 'api-voice')) return refuse.missingFeature('Dial', 'api-voice');
  if (operation.invalid) return operation.invalid;
  const params = operation.params;
  const to = params.destination.phoneNumber;
  if (to === actor.dn) return refuse.invalidParameter('destination.phoneNumber', `is your own number (${to})`);
  const queue = directory.queueOf?.(to);
  if (queue) return { ok: true, calls: [queuedCall(queue, { dn: actor.dn, external: false }, params.userData ?? {}, env)] };
  const kind = destinationKind(directory, to);
  if (kind === undefined) return refuse.invalidParameter('destination.phoneNumber', `'${to}' is not a known phone number`);
  const call: Call = {
    id: env.newCallId(),
    connId: env.newConnId(),
    version: 0,
    // A call to an outside number is Outbound; the far end answers by itself (engine/external-answer.ts).
    callType: kind === 'external' ? 'Outbound' : 'Internal',
    ani: actor.dn,
    dnis: to,
    parties: [
      { dn: actor.dn, state: 'Dialing', mute: 'Off' },
      // A forwarded device's calls ring at the forward destination (not back at the caller).
      ringingParty(directory, forwardTo !== null && forwardTo !== actor.dn ? forwardTo : to),
    ],
    ownerDn: null,
    parentCallId: null,
    userData: params.userData ?? {},
    ...recordingOf(directory, [actor.dn, to]),
    createdAt: env.now,
    establishedAt: null,
    endedAt: null,
  };
  return { ok: true, calls: [call] };
};
