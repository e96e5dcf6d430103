/**
 * The GWS view of a call for one party: their own state, the *other* parties as participants,
 * and the capabilities they have now. Field order follows the seed's CometD sample.
 */
import type { DirectoryUser } from '../../../directory/directory.js';
import { toActor } from '../../../directory/directory.js';
import { contextFor, voiceCapabilities } from '../../../domain/voice/decide.js';
import { isPresent, otherPresentDns, partyOf, userDataFor, type Call, type PartyState } from '../../../domain/voice/model.js';
import type { DnDirectory } from '../../../domain/voice/operations.js';
import { isRefusal } from '../../../domain/refusals.js';
import { gwsRefs } from '../resource-ids.js';
import { callPath, callUri, deviceUri, type Urls } from './urls.js';

export interface GwsParticipant {
  e164Number: string;
  formattedPhoneNumber: string;
  phoneNumber: string;
  digits: string;
}

export interface GwsCall {
  id: string;
  state: PartyState;
  callUuid: string;
  connId: string;
  deviceUri: string;
  participants: GwsParticipant[];
  dnis: string;
  ani?: string;
  callType: Call['callType'];
  capabilities: string[];
  duration: string;
  mute: 'On' | 'Off';
  /** Only on a recordable call (CallResource sample). */
  recordingState?: NonNullable<Call['recordingState']>;
  supervisorListeningIn: boolean;
  monitoredUserMuted: boolean;
  monitoring: boolean;
  /** Omitted when empty, as GWS does. */
  userData?: Record<string, string | number>;
  uri: string;
  path: string;
  parentCallUri?: string;
  parentCallPath?: string;
}

export interface CallViewInput {
  readonly urls: Urls;
  readonly now: number;
  readonly directory: DnDirectory;
  readonly call: Call;
  readonly viewer: DirectoryUser;
  /** The call's consultation family, which the viewer's capabilities depend on. */
  readonly related: readonly Call[];
}

/** A participant: a DN, or an external number (its e164Number is the number when it is one). */
const participant = (dn: string): GwsParticipant => ({ e164Number: dn.startsWith('+') ? dn : '', formattedPhoneNumber: dn, phoneNumber: dn, digits: dn });

/** Whole seconds the call has been connected (or ringing, before it was answered). */
const durationSeconds = (call: Call, now: number): string =>
  String(Math.max(0, Math.floor(((call.endedAt ?? now) - (call.establishedAt ?? call.createdAt)) / 1000)));

export const callView = (input: CallViewInput): GwsCall => {
  const { call, viewer, urls } = input;
  const dn = viewer.phoneNumber ?? '';
  const self = partyOf(call, dn);
  const state: PartyState = self?.state ?? 'Released';
  const ctx = contextFor(call, input.related, toActor(viewer), call.id, { directory: input.directory, refs: gwsRefs });
  const view: GwsCall = {
    id: call.id,
    state,
    callUuid: call.id,
    connId: call.connId,
    deviceUri: viewer.deviceId ? deviceUri(urls, viewer.deviceId) : '',
    // A party who has left sees whom they saw when they left, as GWS's Released samples show.
    participants: (state === 'Released' ? (self?.sawAtRelease ?? []) : otherPresentDns(call, dn)).map(participant),
    dnis: call.dnis,
    callType: call.callType,
    capabilities: isRefusal(ctx) ? [] : voiceCapabilities(ctx),
    duration: durationSeconds(call, input.now),
    mute: self?.mute ?? 'Off',
    // Between mute and supervisorListeningIn, as the CallRecording samples place it.
    ...(call.recordingState !== undefined ? { recordingState: call.recordingState } : {}),
    // A listening or coaching supervisor is nobody's participant, but the agent is told.
    supervisorListeningIn: call.parties.some((p) => isPresent(p) && p.monitor?.targetDn === dn && p.monitor.mode !== 'BargeIn'),
    monitoredUserMuted: (self?.monitor ? partyOf(call, self.monitor.targetDn) : self)?.monitoredMuted ?? false,
    monitoring: self?.monitor !== undefined && state !== 'Released',
    uri: callUri(urls, call.id),
    path: callPath(call.id),
  };
  // A party who has left reads the user data as it was when they left.
  const userData = userDataFor(call, dn);
  if (Object.keys(userData).length > 0) view.userData = { ...userData };
  if (call.callType === 'Inbound') view.ani = call.ani;
  if (call.parentCallId !== null) {
    view.parentCallUri = callUri(urls, call.parentCallId);
    view.parentCallPath = callPath(call.parentCallId);
  }
  return view;
};
