/**
 * The voice call operations as one table. For each operation:
 *  - `from`: the row of the transition table — the requester's party states it applies in;
 *  - its parameters' type, from the schema table in commands.ts (parsed at the dialect's edge);
 *  - `policy`: who may do it beyond being a party (statusCode 3), from the policy module;
 *  - `when`: conditions on the call that do not depend on parameters (statusCode 2);
 *  - `apply`: the change, which may still refuse for parameter-dependent reasons.
 * Capabilities (`voiceCapabilities`) and acceptance (`decideVoice`), both in decide.ts, read
 * this table, which is what keeps "listed exactly when accepted" true.
 */
import type { Actor, Feature } from '../actor.js';
import { voicePolicy } from '../policy.js';
import { isRefusal, refuse, type Refusal } from '../refusals.js';
import { VOICE_CALL_OPERATIONS, type DestinationParams, type VoiceCallOperation, type VoiceParams } from './commands.js';
import {
  addParty,
  endCall,
  isLive,
  isExternalShaped,
  isPresent,
  liveParties,
  monitorMute,
  partyOf,
  type MonitorMode,
  releaseParty,
  withParty,
  type Call,
  type Party,
  type PartyState,
} from './model.js';

export { VOICE_CALL_OPERATIONS, type VoiceCallOperation };

export interface DnDirectory {
  /** True when the DN belongs to a device in the directory. */
  isKnownDn(dn: string): boolean;
  /** How many DNs the directory has: whether any destination is left to add to a call. */
  dnCount(): number;
  /** True when this names a queue, by name or DN (a queue is neither an agent nor an external number). */
  isQueue?(ref: string): boolean;
  /** True when calls on this DN can be recorded (SIP Server's `record` option on the DN). */
  isRecordedDn?(dn: string): boolean;
  /** The queue with this name or DN (calls to it wait for routing), or undefined. */
  queueOf?(ref: string): { readonly name: string; readonly dn: string } | undefined;
}

/** A new call placed to a queue: the caller waits (Dialing) until routing offers it to a member. */
export const queuedCall = (
  queue: { readonly name: string; readonly dn: string },
  caller: { readonly dn: string; readonly external: boolean },
  userData: Call['userData'],
  env: VoiceEnv,
): Call => ({
  id: env.newCallId(),
  connId: env.newConnId(),
  version: 0,
  callType: caller.external ? 'Inbound' : 'Internal',
  ani: caller.dn,
  dnis: queue.dn,
  parties: [{ dn: caller.dn, state: 'Dialing', mute: 'Off', ...(caller.external ? { external: true as const } : {}) }],
  ownerDn: null,
  parentCallId: null,
  userData,
  routing: { queue: queue.name, offeredTo: null, delivered: false },
  createdAt: env.now,
  establishedAt: null,
  endedAt: null,
});

/**
 * A new call is recordable when one of its DNs is: it then carries recordingState Stopped and
 * offers StartCallRecording, as the CallResource sample shows. Other calls show neither, as the
 * seed's and every other sample's capabilities show.
 */
export const recordingOf = (directory: DnDirectory, dns: readonly string[]): Pick<Call, 'recordingState'> =>
  dns.some((dn) => directory.isRecordedDn?.(dn) === true) ? { recordingState: 'Stopped' } : {};

/**
 * What a destination number is: a directory DN, an external number (not a DN nor a queue DN,
 * and external-number-shaped), or neither.
 */
export const destinationKind = (directory: DnDirectory, n: string): 'dn' | 'external' | undefined => {
  if (directory.isKnownDn(n)) return 'dn';
  if (directory.isQueue?.(n)) return undefined;
  return isExternalShaped(n) ? 'external' : undefined;
};

/** The party a destination joins a call as: Ringing, and marked when it is an external number. */
export const ringingParty = (directory: DnDirectory, n: string): Party => ({
  dn: n,
  state: 'Ringing',
  mute: 'Off',
  ...(destinationKind(directory, n) === 'external' ? { external: true as const } : {}),
});

export interface VoiceContext {
  readonly actor: Actor & { readonly dn: string };
  readonly call: Call;
  readonly self: Party;
  /** Every call the requester is present on, the target included, by id. */
  readonly actorCalls: ReadonlyMap<string, Call>;
  readonly directory: DnDirectory;
  /** Reads a call id out of a call URI the client sent (the dialect owns its URLs). */
  readonly callIdOf: (uri: string) => string;
}

export interface VoiceEnv {
  readonly now: number;
  newCallId(): string;
  newConnId(): string;
}

/** What an accepted operation produces: the calls it changed or created, and explicit events. */
export interface VoiceChange {
  readonly ok: true;
  readonly calls: readonly Call[];
  readonly dtmf?: { readonly callId: string; readonly dn: string; readonly digits: string };
}

/** Who on a call may perform an operation: its parties, its monitoring supervisors, or both. */
export type OperationActors = 'party' | 'monitor' | 'any';

interface OperationSpec<P> {
  readonly feature: Feature;
  /**
   * False for an operation GWS accepts but never lists in capabilities (SetCallDisposition: no
   * sample lists it, and it is accepted on a Released call, whose capabilities are empty).
   */
  readonly listed?: false;
  /** Default 'party': a monitoring supervisor may only do what says 'monitor' or 'any'. */
  readonly actors?: OperationActors;
  readonly from: readonly PartyState[];
  readonly policy?: (ctx: VoiceContext) => string | null;
  readonly when?: (ctx: VoiceContext) => string | null;
  readonly apply: (ctx: VoiceContext, params: P, env: VoiceEnv) => VoiceChange | Refusal;
}

const changed = (...calls: Call[]): VoiceChange => ({ ok: true, calls });

/** A recording operation: valid in the recording states `from`, moving the call to `to`. */
function recording(from: readonly NonNullable<Call['recordingState']>[], to: NonNullable<Call['recordingState']>): OperationSpec<VoiceParams<'StartCallRecording'>> {
  return {
    feature: 'api-voice-recording',
    from: ['Established'],
    when: (ctx) => {
      const now = ctx.call.recordingState;
      if (now === undefined) return `call ${ctx.call.id} is not recordable (no DN on it is recorded)`;
      return from.includes(now) ? null : `the recording of call ${ctx.call.id} is ${now}`;
    },
    apply: (ctx) => changed({ ...ctx.call, recordingState: to }),
  };
}

/** The userdata key a disposition goes to when the request names none (GWS: a server option). */
export const DEFAULT_DISPOSITION_KEY = 'DispositionCode';

// ---- Shared conditions -------------------------------------------------------------------
const ANY_PRESENT: readonly PartyState[] = ['Dialing', 'Ringing', 'Established', 'Held'];

const isConference = (call: Call): boolean => liveParties(call).length >= 3;
const needsConference = (ctx: VoiceContext): string | null =>
  isConference(ctx.call)
    ? null
    : `call ${ctx.call.id} has ${liveParties(ctx.call).length} live parties; a conference needs at least three`;

/**
 * Why `dn` cannot be removed from this call whoever asks, or null: what a remover that must first
 * join the call (the compliance orchestrator, as a monitoring supervisor) checks before joining,
 * so that a removal bound to be refused leaves no trace on the call.
 */
export const removalBlocker = (call: Call, dn: string): string | null => {
  if (call.endedAt !== null) return `call ${call.id} has ended`;
  const target = partyOf(call, dn);
  if (!target || target.monitor) return `participant ${dn} is not a party of call ${call.id}`;
  if (!isLive(target)) return `participant ${dn} is not a live party of call ${call.id} (state ${target.state})`;
  return isConference(call) ? null : `call ${call.id} has ${liveParties(call).length} live parties; a conference needs at least three`;
};

/** The consultation linked to this call for the requester: parent ↔ consult, both present for them. */
const linkedCall = (ctx: VoiceContext): Call | undefined => {
  const { call, actorCalls } = ctx;
  if (call.parentCallId !== null) return actorCalls.get(call.parentCallId);
  for (const other of actorCalls.values()) if (other.parentCallId === call.id) return other;
  return undefined;
};

/** The consultation kind of the call's family, when the consultation says it (older calls do not). */
const consultKindOf = (ctx: VoiceContext): Call['consultKind'] => {
  const other = linkedCall(ctx);
  return ctx.call.parentCallId !== null ? ctx.call.consultKind : other?.consultKind;
};

/**
 * The (parent, consult) pair for Complete*. A transfer may be
 * completed while the consulted party still rings (that sample lists CompleteTransfer as soon as
 * the parent is held); a conference needs the consulted party to have answered.
 */
const consultationPair = (ctx: VoiceContext, kind: 'Transfer' | 'Conference'): { parent: Call; consult: Call } | string => {
  const other = linkedCall(ctx);
  if (!other) return `call ${ctx.call.id} has no consultation call to complete`;
  const [parent, consult] = ctx.call.parentCallId !== null ? [other, ctx.call] : [ctx.call, other];
  // Only a transfer consultation is known to refuse the other completion: the InitiateTransfer
  // sample lists CompleteTransfer without CompleteConference; the InitiateConference sample is
  // cut off before its Complete* operations, so a conference consultation keeps offering both.
  if (consult.consultKind === 'Transfer' && kind === 'Conference')
    return `the consultation call ${consult.id} was started with InitiateTransfer; complete it with CompleteTransfer`;
  const mine = partyOf(parent, ctx.actor.dn);
  if (!mine || !isLive(mine)) return `you are no longer on the parent call ${parent.id}`;
  const consulted = consult.parties.find((p) => p.dn !== ctx.actor.dn && isPresent(p));
  const reached = consulted?.state === 'Established' || (kind === 'Transfer' && consulted?.state === 'Ringing');
  if (!consulted || !reached) return `the consultation call ${consult.id} has not been answered yet`;
  const already = partyOf(parent, consulted.dn);
  if (already && isPresent(already)) return `${consulted.dn} is already on call ${parent.id}`;
  return { parent, consult };
};

/**
 * Destination operations need someone left to call. An external number is always free (there
 * are more of them than parties on any call), so there always is one.
 */
const someDestinationFree = (_ctx: VoiceContext): string | null => null;

const noOpenConsultation = (ctx: VoiceContext): string | null => {
  if (ctx.call.callType === 'Consult') return `call ${ctx.call.id} is itself a consultation call`;
  if (linkedCall(ctx)) return `call ${ctx.call.id} already has a consultation call in progress`;
  return someDestinationFree(ctx);
};

const notOnConsultation = (ctx: VoiceContext): string | null =>
  ctx.call.callType === 'Consult' ? `call ${ctx.call.id} is a consultation call` : someDestinationFree(ctx);

const checkDestination = (ctx: VoiceContext, phoneNumber: string): Refusal | null => {
  if (phoneNumber === ctx.actor.dn) return refuse.invalidParameter('destination.phoneNumber', `is your own number (${phoneNumber})`);
  if (destinationKind(ctx.directory, phoneNumber) === undefined)
    return refuse.invalidParameter('destination.phoneNumber', `'${phoneNumber}' is not a known phone number`);
  const existing = partyOf(ctx.call, phoneNumber);
  if (existing && isPresent(existing)) return refuse.invalidState(`${phoneNumber} is already on call ${ctx.call.id}`);
  return null;
};

/** A consultation named by a call URI must be the one linked to this call. */
const resolveOtherCallUri = (ctx: VoiceContext, uri: string | undefined, param: string): Call | Refusal | undefined => {
  if (uri === undefined) return undefined;
  const id = ctx.callIdOf(uri);
  const linked = linkedCall(ctx);
  if (!linked || linked.id !== id) return refuse.invalidState(`${param} '${uri}' is not linked to call ${ctx.call.id} by a consultation`);
  return linked;
};

const setUserData = (call: Call, userData: Readonly<Record<string, string | number>>): Call => ({
  ...call,
  userData: { ...call.userData, ...userData },
});

/** A monitoring supervisor changes how they take part: listening, coaching, or barged in. */
function switchTo(mode: MonitorMode): OperationSpec<VoiceParams<'SwitchToListenIn'>> {
  return {
    feature: 'api-supervisor-monitoring',
    actors: 'monitor',
    from: ['Established'],
    when: (ctx) => (ctx.self.monitor?.mode === mode ? `you are already in ${mode} mode on call ${ctx.call.id}` : null),
    apply: (ctx) => {
      const monitor = ctx.self.monitor as NonNullable<Party['monitor']>;
      return changed(withParty(ctx.call, ctx.actor.dn, { monitor: { ...monitor, mode }, mute: monitorMute(mode) }));
    },
  };
}

/** Mutes (or unmutes) the monitored agent toward the other parties. */
function muteMonitored(muted: boolean): OperationSpec<VoiceParams<'MuteMonitoredUser'>> {
  return {
    feature: 'api-supervisor-monitoring',
    actors: 'monitor',
    from: ['Established'],
    when: (ctx) => {
      const target = partyOf(ctx.call, ctx.self.monitor?.targetDn ?? '');
      return (target?.monitoredMuted ?? false) === muted ? `the monitored user is ${muted ? 'already' : 'not'} muted` : null;
    },
    apply: (ctx) => changed(withParty(ctx.call, ctx.self.monitor?.targetDn ?? '', { monitoredMuted: muted })),
  };
}

// ---- The table -----------------------------------------------------------------------------
const specs: { readonly [K in VoiceCallOperation]: OperationSpec<VoiceParams<K>> } = {
  Answer: {
    feature: 'api-voice',
    from: ['Ringing'],
    apply: (ctx, _p, env) => {
      // Answering connects the caller too (a fresh dial has the caller in Dialing).
      const call = ctx.call.parties.reduce(
        (acc, p) =>
          p.dn === ctx.actor.dn || p.state === 'Dialing' ? withParty(acc, p.dn, { state: 'Established', connectedAt: p.connectedAt ?? env.now }) : acc,
        ctx.call,
      );
      return changed({ ...call, establishedAt: call.establishedAt ?? env.now });
    },
  },
  // CallsReject: only a call delivered via a queue can be rejected; it goes back to the queue,
  // which offers it to the next member (domain/voice/routing.ts makes the rejecter NotReady).
  Reject: {
    feature: 'api-voice',
    from: ['Ringing'],
    when: (ctx) =>
      ctx.call.routing?.offeredTo === ctx.actor.dn && !ctx.call.routing.delivered
        ? null
        : `call ${ctx.call.id} did not come to you through a queue; only a queue call can be rejected`,
    apply: (ctx, _p, env) => changed(withParty(ctx.call, ctx.actor.dn, { state: 'Released', releasedAt: env.now })),
  },
  Hangup: {
    feature: 'api-voice',
    actors: 'any',
    from: ANY_PRESENT,
    apply: (ctx, _p, env) => changed(releaseParty(ctx.call, ctx.actor.dn, env.now)),
  },
  Hold: {
    feature: 'api-voice',
    from: ['Established'],
    apply: (ctx) => changed(withParty(ctx.call, ctx.actor.dn, { state: 'Held' })),
  },
  Retrieve: {
    feature: 'api-voice',
    from: ['Held'],
    // With a connected consultation, GWS offers SwapCalls instead: one active call at a time.
    // During a transfer consultation it never offers Retrieve (InitiateTransfer sample: SwapCalls,
    // no Retrieve, while the consultation still dials); during a conference one it does
    // (InitiateConference sample) until the consultation is connected.
    when: (ctx) => {
      const other = linkedCall(ctx);
      const mine = other && partyOf(other, ctx.actor.dn);
      if (other && mine && isPresent(mine) && consultKindOf(ctx) === 'Transfer')
        return `call ${ctx.call.id} has a transfer consultation ${other.id}; use SwapCalls, CompleteTransfer, or hang the consultation up`;
      return other && mine?.state === 'Established' ? `you are connected on the linked call ${other.id}; use SwapCalls` : null;
    },
    apply: (ctx) => changed(withParty(ctx.call, ctx.actor.dn, { state: 'Established' })),
  },
  InitiateConference: {
    feature: 'api-voice',
    from: ['Established', 'Held'],
    when: noOpenConsultation,
    apply: (ctx, p, env) => initiateConsultation(ctx, p, env, 'Conference'),
  },
  InitiateTransfer: {
    feature: 'api-voice',
    from: ['Established', 'Held'],
    when: noOpenConsultation,
    apply: (ctx, p, env) => initiateConsultation(ctx, p, env, 'Transfer'),
  },
  CompleteConference: {
    feature: 'api-voice',
    from: ['Established', 'Held'],
    when: (ctx) => {
      const pair = consultationPair(ctx, 'Conference');
      return typeof pair === 'string' ? pair : null;
    },
    apply: (ctx, p, env) => {
      const named = resolveOtherCallUri(ctx, p.consultCallUri, 'consultCallUri');
      if (isRefusal(named)) return named;
      const { parent, consult } = consultationPair(ctx, 'Conference') as { parent: Call; consult: Call };
      const consulted = consult.parties.find((x) => x.dn !== ctx.actor.dn && isPresent(x)) as Party;
      const joined = addParty(withParty(parent, ctx.actor.dn, { state: 'Established' }), {
        dn: consulted.dn,
        state: 'Established',
        mute: 'Off',
        connectedAt: env.now,
        ...(consulted.external ? { external: true as const } : {}),
      });
      return changed(endCall(consult, env.now), { ...joined, ownerDn: ctx.actor.dn });
    },
  },
  CompleteTransfer: {
    feature: 'api-voice',
    from: ['Established', 'Held'],
    when: (ctx) => {
      const pair = consultationPair(ctx, 'Transfer');
      return typeof pair === 'string' ? pair : null;
    },
    apply: (ctx, p, env) => {
      const named = resolveOtherCallUri(ctx, p.consultCallUri, 'consultCallUri');
      if (isRefusal(named)) return named;
      const { parent, consult } = consultationPair(ctx, 'Transfer') as { parent: Call; consult: Call };
      const consulted = consult.parties.find((x) => x.dn !== ctx.actor.dn && isPresent(x)) as Party;
      // Add the consulted party first so that releasing the requester never ends the call; one
      // still ringing goes on ringing on the parent call.
      const joined = addParty(parent, {
        dn: consulted.dn,
        state: consulted.state === 'Ringing' ? 'Ringing' : 'Established',
        mute: 'Off',
        ...(consulted.state === 'Ringing' ? {} : { connectedAt: env.now }),
        ...(consulted.external ? { external: true as const } : {}),
      });
      // The requester saw the parent as it was: the consulted party is not among them (sample).
      const transferred = releaseParty(joined, ctx.actor.dn, env.now, parent);
      const ownerLeft = transferred.ownerDn === ctx.actor.dn ? { ...transferred, ownerDn: null } : transferred;
      // CompleteTransfer page: "the original call is released", then "the consult call is released as well".
      return changed(ownerLeft, endCall(consult, env.now));
    },
  },
  SingleStepConference: {
    feature: 'api-voice',
    from: ['Established', 'Held'],
    when: notOnConsultation,
    apply: (ctx, p) => {
      const bad = checkDestination(ctx, p.destination.phoneNumber);
      if (bad) return bad;
      const rung = addParty(ctx.call, ringingParty(ctx.directory, p.destination.phoneNumber));
      const withData = p.userData ? setUserData(rung, p.userData) : rung;
      return changed({ ...withData, ownerDn: ctx.actor.dn });
    },
  },
  SingleStepTransfer: {
    feature: 'api-voice',
    from: ['Established', 'Held'],
    when: notOnConsultation,
    apply: (ctx, p, env) => {
      const bad = checkDestination(ctx, p.destination.phoneNumber);
      if (bad) return bad;
      const rung = addParty(ctx.call, ringingParty(ctx.directory, p.destination.phoneNumber));
      const withData = p.userData ? setUserData(rung, p.userData) : rung;
      // SingleStepTransfer sample: the Released call lists the original party, not the target.
      const transferred = releaseParty(withData, ctx.actor.dn, env.now, ctx.call);
      return changed(transferred.ownerDn === ctx.actor.dn ? { ...transferred, ownerDn: null } : transferred);
    },
  },
  SwapCalls: {
    feature: 'api-voice',
    from: ['Established', 'Held'],
    // The InitiateTransfer sample offers SwapCalls on the held parent while the transfer
    // consultation still dials: swapping then holds the dialing side (it is held when answered).
    when: (ctx) => {
      const other = linkedCall(ctx);
      const mine = other && partyOf(other, ctx.actor.dn);
      const wanted = ctx.self.state === 'Established' ? 'Held' : 'Established';
      const dialingTransfer = ctx.self.state === 'Held' && mine?.state === 'Dialing' && consultKindOf(ctx) === 'Transfer';
      return (mine && mine.state === wanted) || dialingTransfer
        ? null
        : `you have no ${wanted.toLowerCase()} call linked to call ${ctx.call.id} to swap with`;
    },
    apply: (ctx, p) => {
      const named = resolveOtherCallUri(ctx, p.otherCallUri, 'otherCallUri');
      if (isRefusal(named)) return named;
      const other = linkedCall(ctx) as Call;
      const flip = (s: PartyState): PartyState => (s === 'Held' ? 'Established' : 'Held'); // Dialing → Held
      const otherMine = partyOf(other, ctx.actor.dn) as Party;
      return changed(
        withParty(ctx.call, ctx.actor.dn, { state: flip(ctx.self.state) }),
        withParty(other, ctx.actor.dn, { state: flip(otherMine.state) }),
      );
    },
  },
  ClearCall: {
    feature: 'api-voice',
    from: ['Established'],
    // GWS: "This can be performed by any agent participating the conference."
    when: needsConference,
    apply: (ctx, _p, env) => changed(endCall(ctx.call, env.now)),
  },
  RemoveParticipantFromConference: {
    feature: 'api-voice',
    actors: 'any',
    from: ['Established'],
    policy: (ctx) => voicePolicy.mayRemoveParticipant(ctx.call, ctx.actor),
    when: needsConference,
    apply: (ctx, p, env) => {
      if (p.participant === ctx.actor.dn)
        return refuse.invalidState(
          ctx.self.monitor
            ? `participant ${p.participant} is you, the monitoring supervisor; use Hangup or CancelSupervisorMonitoring to leave the call`
            : `participant ${p.participant} is you, the conference owner; use Hangup to leave the call`,
        );
      const target = partyOf(ctx.call, p.participant);
      if (!target || !isLive(target))
        return refuse.invalidState(
          target
            ? `participant ${p.participant} is not a live party of call ${ctx.call.id} (state ${target.state})`
            : `participant ${p.participant} is not a party of call ${ctx.call.id}`,
        );
      return changed(releaseParty(ctx.call, p.participant, env.now));
    },
  },
  SendDtmf: {
    feature: 'api-voice',
    from: ['Dialing', 'Established'],
    apply: (ctx, p) => ({
      ok: true,
      calls: [],
      dtmf: { callId: ctx.call.id, dn: ctx.actor.dn, digits: p.digits },
    }),
  },
  MuteCall: {
    feature: 'api-voice',
    from: ['Established'],
    when: (ctx) => (ctx.self.mute === 'On' ? 'your party is already muted' : needsConference(ctx)),
    apply: (ctx) => changed(withParty(ctx.call, ctx.actor.dn, { mute: 'On' })),
  },
  UnmuteCall: {
    feature: 'api-voice',
    from: ['Established', 'Held'],
    when: (ctx) => (ctx.self.mute === 'Off' ? 'your party is not muted' : null),
    apply: (ctx) => changed(withParty(ctx.call, ctx.actor.dn, { mute: 'Off' })),
  },
  SwitchToListenIn: switchTo('ListenIn'),
  SwitchToCoach: switchTo('Coach'),
  SwitchToBargeIn: switchTo('BargeIn'),
  MuteMonitoredUser: muteMonitored(true),
  UnmuteMonitoredUser: muteMonitored(false),
  StartCallRecording: recording(['Stopped'], 'Recording'),
  PauseCallRecording: recording(['Recording'], 'Paused'),
  ResumeCallRecording: recording(['Paused'], 'Recording'),
  StopCallRecording: recording(['Recording', 'Paused'], 'Stopped'),
  SetCallDisposition: {
    feature: 'api-voice',
    listed: false,
    // SetCallDisposition page: on an active call it updates the user data; on a released call
    // GWS only tells reporting (EventUserEvent), and no notification follows.
    from: [...ANY_PRESENT, 'Released'],
    apply: (ctx, p) => {
      if (p.callUuid !== undefined && p.callUuid !== ctx.call.id)
        return refuse.invalidParameter('callUuid', `'${p.callUuid}' is not the call ${ctx.call.id} this request is posted on`);
      if (p.callUri !== undefined && ctx.callIdOf(p.callUri) !== ctx.call.id)
        return refuse.invalidParameter('callUri', `'${p.callUri}' does not name the call ${ctx.call.id} this request is posted on`);
      if (ctx.self.state === 'Released' || ctx.call.endedAt !== null) return changed();
      return changed(setUserData(ctx.call, { [p.dispositionKey ?? DEFAULT_DISPOSITION_KEY]: p.disposition }));
    },
  },
  AttachUserData: {
    feature: 'api-voice',
    from: ANY_PRESENT,
    apply: (ctx, p) => changed(setUserData(ctx.call, p.userData)),
  },
  UpdateUserData: {
    feature: 'api-voice',
    from: ANY_PRESENT,
    apply: (ctx, p) => changed(setUserData(ctx.call, p.userData)),
  },
  DeleteUserDataPair: {
    feature: 'api-voice',
    from: ANY_PRESENT,
    // Deleting an absent key is accepted and changes nothing: orchestrators retry deletions.
    apply: (ctx, p) => {
      if (!(p.key in ctx.call.userData)) return changed();
      const { [p.key]: _gone, ...rest } = ctx.call.userData;
      return changed({ ...ctx.call, userData: rest });
    },
  },
  DeleteUserData: {
    feature: 'api-voice',
    from: ANY_PRESENT,
    apply: (ctx) => changed({ ...ctx.call, userData: {} }),
  },
};

function initiateConsultation(ctx: VoiceContext, p: DestinationParams, env: VoiceEnv, kind: 'Transfer' | 'Conference'): VoiceChange | Refusal {
  const bad = checkDestination(ctx, p.destination.phoneNumber);
  if (bad) return bad;
  const consult: Call = {
    id: env.newCallId(),
    connId: env.newConnId(),
    version: 0,
    callType: 'Consult',
    ani: ctx.actor.dn,
    dnis: p.destination.phoneNumber,
    parties: [
      { dn: ctx.actor.dn, state: 'Dialing', mute: 'Off' },
      ringingParty(ctx.directory, p.destination.phoneNumber),
    ],
    ownerDn: null,
    parentCallId: ctx.call.id,
    consultKind: kind,
    ...recordingOf(ctx.directory, [ctx.actor.dn, p.destination.phoneNumber]),
    userData: { ...ctx.call.userData, ...(p.userData ?? {}) },
    createdAt: env.now,
    establishedAt: null,
    endedAt: null,
  };
  return changed(withParty(ctx.call, ctx.actor.dn, { state: 'Held' }), consult);
}

export const voiceOperations = specs;

/** Whether GWS lists the operation in capabilities when it is accepted (all but SetCallDisposition). */
export const isListedVoiceOperation = (op: VoiceCallOperation): boolean => specs[op].listed !== false;

/**
 * The spec of one operation, typed by its name. TypeScript cannot follow a mapped type through a
 * union of names, so this is the one place that asserts the table's shape.
 */
export const voiceOperationSpec = <K extends VoiceCallOperation>(name: K): OperationSpec<VoiceParams<K>> =>
  specs[name] as unknown as OperationSpec<VoiceParams<K>>;

