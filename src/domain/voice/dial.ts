/** Dial: POST /api/v2/me/devices/{id}/calls — the one voice operation that creates a call. */
import Type, { type Static } from 'typebox';
import { hasFeature, type Actor } from '../actor.js';
import { compileParams, operationNameOf } from '../params.js';
import { refuse, type Refusal } from '../refusals.js';
import type { Call } from './model.js';
import type { DnDirectory, VoiceChange, VoiceEnv } from './operations.js';

export const DEVICE_CALL_OPERATIONS = ['Dial'] as const;

const DialParams = Type.Object({
  operationName: Type.String(),
  destination: Type.Object({ phoneNumber: Type.String({ minLength: 1, maxLength: 64 }) }),
  location: Type.Optional(Type.String({ maxLength: 256 })),
  userData: Type.Optional(
    Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.Union([Type.String({ maxLength: 4096 }), Type.Number()])),
  ),
});
const dialParams = compileParams<typeof DialParams, Static<typeof DialParams>>(DialParams);

export const decideDial = (
  actor: Actor & { readonly dn: string },
  body: Readonly<Record<string, unknown>>,
  directory: DnDirectory,
  env: VoiceEnv,
): VoiceChange | Refusal => {
  const op = operationNameOf(body, `a device's calls`, DEVICE_CALL_OPERATIONS);
  if (!op.ok) return op;
  if (!hasFeature(actor, 'api-voice')) return refuse.missingFeature('Dial', 'api-voice');
  const params = dialParams(body);
  if (params.ok === false) return params;
  const to = params.value.destination.phoneNumber;
  if (to === actor.dn) return refuse.invalidParameter('destination.phoneNumber', `is your own number (${to})`);
  if (!directory.isKnownDn(to)) return refuse.invalidParameter('destination.phoneNumber', `'${to}' is not a known phone number`);
  const call: Call = {
    id: env.newCallId(),
    connId: env.newConnId(),
    version: 0,
    callType: 'Internal',
    ani: actor.dn,
    dnis: to,
    parties: [
      { dn: actor.dn, state: 'Dialing', mute: 'Off' },
      { dn: to, state: 'Ringing', mute: 'Off' },
    ],
    ownerDn: null,
    parentCallId: null,
    userData: params.value.userData ?? {},
    createdAt: env.now,
    establishedAt: null,
    endedAt: null,
  };
  return { ok: true, calls: [call] };
};
