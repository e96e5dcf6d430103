/**
 * What each party needs to hear about a change, derived from the call before and after it.
 * Deriving (rather than listing events by hand in every operation) guarantees that any change a
 * party can see is notified, and that a refused request, which changes nothing, notifies no one.
 */
import { isLive, isPresent, isVisibleParty, partyOf, type Call } from './model.js';

export type CallNotificationType =
  | 'StatusChange'
  | 'ParticipantsUpdated'
  | 'AttachedDataChanged'
  | 'DtmfSent'
  | 'MonitoredUserMutedStateChange'
  | 'CallRecordingStateChange';

export interface CallEvent {
  readonly kind: 'call';
  readonly callId: string;
  /** The DN of the party who receives it. */
  readonly dn: string;
  readonly notificationType: CallNotificationType;
  readonly digits?: string;
  /** The call as committed by the change, and as it was before (undefined for a new call). */
  readonly call: Call;
  readonly before: Call | undefined;
  /**
   * The call's consultation family as committed (parent, consultations): what a party's
   * capabilities depend on, so a view renders from the event alone.
   */
  readonly related: readonly Call[];
}

/**
 * Who else a party sees, whether each is connected, and whether a supervisor listens to this
 * party: a change here is ParticipantsUpdated.
 */
const othersKey = (call: Call, dn: string): string =>
  call.parties
    .filter((p) => p.dn !== dn && isVisibleParty(p))
    .map((p) => `${p.dn}:${isLive(p) || p.monitor ? 1 : 0}`)
    .concat(call.parties.some((p) => isPresent(p) && p.monitor?.targetDn === dn && p.monitor.mode !== 'BargeIn') ? ['listened'] : [])
    .join(',');

/** The monitored party's muting, as both the party and its monitoring supervisors see it. */
const mutedKey = (call: Call, dn: string): boolean => {
  const self = partyOf(call, dn);
  const target = self?.monitor ? partyOf(call, self.monitor.targetDn) : self;
  return target?.monitoredMuted ?? false;
};

const sameUserData = (a: Call['userData'], b: Call['userData']): boolean => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
};

export const callEvents = (before: Call | undefined, after: Call, related: readonly Call[] = []): CallEvent[] => {
  const events: CallEvent[] = [];
  const emit = (dn: string, notificationType: CallNotificationType) =>
    events.push({ kind: 'call', callId: after.id, dn, notificationType, call: after, before, related });
  for (const party of after.parties) {
    const was = before && partyOf(before, party.dn);
    // A StatusChange carries the whole call, participants included: it says everything.
    if (!was || was.state !== party.state || was.mute !== party.mute || was.monitor?.mode !== party.monitor?.mode)
      emit(party.dn, 'StatusChange');
    else if (before && isPresent(party) && othersKey(before, party.dn) !== othersKey(after, party.dn)) emit(party.dn, 'ParticipantsUpdated');
    if (!was || !before || !isPresent(was) || !isPresent(party)) continue;
    if (!sameUserData(before.userData, after.userData)) emit(party.dn, 'AttachedDataChanged');
    if (mutedKey(before, party.dn) !== mutedKey(after, party.dn)) emit(party.dn, 'MonitoredUserMutedStateChange');
    // CallRecordingOperations: every recording change is notified as CallRecordingStateChange.
    if (before.recordingState !== after.recordingState) emit(party.dn, 'CallRecordingStateChange');
  }
  return events;
};
