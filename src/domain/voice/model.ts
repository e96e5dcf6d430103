/**
 * The voice aggregate: one call, with one id shared by every party on it (as in GWS, where a
 * call's id equals its callUuid for all parties). Consultation calls are separate calls that
 * point at their parent.
 */
export const PARTY_STATES = ['Dialing', 'Ringing', 'Established', 'Held', 'Released'] as const;
export type PartyState = (typeof PARTY_STATES)[number];

export type CallType = 'Internal' | 'Inbound' | 'Outbound' | 'Consult';
export type MuteState = 'On' | 'Off';
export type RecordingState = 'Recording' | 'Paused' | 'Stopped';
export type UserDataValue = string | number;
export type UserData = Readonly<Record<string, UserDataValue>>;

/** How a supervisor takes part in a monitored call. */
export const MONITOR_MODES = ['ListenIn', 'Coach', 'BargeIn'] as const;
export type MonitorMode = (typeof MONITOR_MODES)[number];
/**
 * SupervisorListenIn page: `Agent` monitors only the agent's activity (the supervisor leaves a
 * call the agent leaves); `Call` follows the call across transfers (the supervisor stays).
 */
export type MonitorScope = 'Agent' | 'Call';

/**
 * The supervisor's own `mute` on a monitored call: On while listening in (SwitchToListenIn page:
 * "mute is now On"), Off once barged in (SwitchToBargeIn: "Off") and while coaching, where the
 * agent hears them.
 */
export const monitorMute = (mode: MonitorMode): MuteState => (mode === 'ListenIn' ? 'On' : 'Off');

export interface Party {
  readonly dn: string;
  readonly state: PartyState;
  readonly mute: MuteState;
  /** Present when this party is a supervisor monitoring `targetDn` on this call. */
  readonly monitor?: { readonly mode: MonitorMode; readonly targetDn: string; readonly scope?: MonitorScope };
  /** Set by the monitoring supervisor (MuteMonitoredUser): this party is muted toward the others. */
  readonly monitoredMuted?: boolean;
  /** An outside number (a customer or any external party): no user, no device, no session. */
  readonly external?: true;
  /** When this party was first connected, and when they left (ms). */
  readonly connectedAt?: number;
  readonly releasedAt?: number;
  /**
   * Who this party saw on the call when they left. GWS keeps a Released call's participants as
   * they were (CallsHangup, SingleStepTransfer, ClearCall samples): a transfer's target, added in
   * the same change, is not among them.
   */
  readonly sawAtRelease?: readonly string[];
  /**
   * The call's user data as this party last saw it, kept when they leave: a party who has left
   * reads the call as it was then, never what was attached after (the contract's "reads follow
   * membership").
   */
  readonly userDataWhenLeft?: Readonly<Record<string, string | number>>;
}

/** A supervisor who monitors a DN, as the domain needs to know it. */
export interface Monitor {
  readonly supervisorDn: string;
  readonly targetDn: string;
  readonly mode: MonitorMode;
  /** Absent: Agent (monitoring stored before scopes were told apart). */
  readonly scope?: MonitorScope;
}

/**
 * A call placed to a queue: it waits until routing offers it to a member, rings there, and is
 * delivered once that member answers. `offeredTo` is the member's DN while it rings there (and
 * after, once delivered); null while the call waits.
 */
export interface QueueRouting {
  readonly queue: string;
  readonly offeredTo: string | null;
  readonly delivered: boolean;
}

export interface Call {
  readonly id: string;
  readonly connId: string;
  /** Optimistic-concurrency version; the store bumps it on every commit. */
  readonly version: number;
  readonly callType: CallType;
  /** The DN that dialed the call (ANI) and the DN it dialed (DNIS). */
  readonly ani: string;
  readonly dnis: string;
  /** Every party that was ever on the call, in the order they joined. */
  readonly parties: readonly Party[];
  /** The DN that completed a conference or added a party to it, or null. */
  readonly ownerDn: string | null;
  /** For a consultation call: the call it consults about. */
  readonly parentCallId: string | null;
  /**
   * For a consultation call: whether it was started to transfer or to conference. The held
   * parent's capabilities differ (InitiateTransfer and InitiateConference samples).
   */
  readonly consultKind?: 'Transfer' | 'Conference';
  /** Recording of the call (StartCallRecording…): absent until recording was ever started. */
  readonly recordingState?: RecordingState;
  readonly userData: UserData;
  /** Present on a call placed to a queue. */
  readonly routing?: QueueRouting;
  readonly createdAt: number;
  readonly establishedAt: number | null;
  readonly endedAt: number | null;
}

/** What an outside number looks like: 3 to 20 digits with an optional leading '+'. */
export const EXTERNAL_NUMBER = /^\+?[0-9]{3,20}$/;
export const isExternalShaped = (n: string): boolean => EXTERNAL_NUMBER.test(n);
export const isExternal = (p: Party): boolean => p.external === true;

/**
 * A party is *live* when it is connected (talking or on hold), as opposed to ringing or gone.
 * Monitoring supervisors are never counted: a conference is made of its real parties.
 */
export const isLive = (p: Party): boolean => (p.state === 'Established' || p.state === 'Held') && !p.monitor;
export const isPresent = (p: Party): boolean => p.state !== 'Released';
export const isMonitor = (p: Party): boolean => p.monitor !== undefined;
/** Who the other parties see: real parties, and a supervisor only once they barge in. */
export const isVisibleParty = (p: Party): boolean => isPresent(p) && (!p.monitor || p.monitor.mode === 'BargeIn');

export const partyOf = (call: Call, dn: string): Party | undefined => call.parties.find((p) => p.dn === dn);
export const liveParties = (call: Call): readonly Party[] => call.parties.filter(isLive);
export const presentParties = (call: Call): readonly Party[] => call.parties.filter(isPresent);
/** Present parties that are not monitoring: the call proper. */
export const realParties = (call: Call): readonly Party[] => call.parties.filter((p) => isPresent(p) && !p.monitor);
export const isEnded = (call: Call): boolean => call.endedAt !== null;
/** A queue call that no member has (ringing or answered): routing may offer it. */
export const isWaitingCall = (call: Call): boolean => call.endedAt === null && call.routing !== undefined && call.routing.offeredTo === null;
/** The member a queue call rings at or was delivered to, while they are on it. */
export const routedAgentDn = (call: Call): string | null => {
  const dn = call.routing?.offeredTo ?? null;
  const party = dn !== null ? partyOf(call, dn) : undefined;
  return call.endedAt === null && party && isPresent(party) ? dn : null;
};

/** The DNs a given party sees as the other participants of the call. */
export const otherPresentDns = (call: Call, dn: string): string[] =>
  call.parties.filter((p) => p.dn !== dn && isVisibleParty(p)).map((p) => p.dn);

export const withParty = (call: Call, dn: string, patch: Partial<Omit<Party, 'dn'>>): Call => ({
  ...call,
  parties: call.parties.map((p) => (p.dn === dn ? { ...p, ...patch } : p)),
});

/**
 * Adds a party. A DN has one entry per call: one who left and comes back takes their old entry
 * again, so that looking a party up by DN always finds the current one.
 */
export const addParty = (call: Call, party: Party): Call =>
  call.parties.some((p) => p.dn === party.dn)
    ? { ...call, parties: call.parties.map((p) => (p.dn === party.dn ? party : p)) }
    : { ...call, parties: [...call.parties, party] };

/**
 * Releases one party. A call needs two present parties: when fewer remain, the rest are
 * released too and the call ends (a two-party call ends when either side hangs up).
 */
export const releaseParty = (call: Call, dn: string, now: number, seen: Call = call): Call => {
  const released = withParty(call, dn, { state: 'Released', releasedAt: now, sawAtRelease: otherPresentDns(seen, dn) });
  return realParties(released).length < 2 ? endCall(released, now, seen) : syncMonitors(released, []);
};

/** Ends the call: every party still present leaves, seeing whom they saw on `seen`. */
export const endCall = (call: Call, now: number, seen: Call = call): Call => ({
  ...call,
  parties: call.parties.map((p) =>
    p.state === 'Released' ? p : { ...p, state: 'Released', releasedAt: now, sawAtRelease: otherPresentDns(seen, p.dn) },
  ),
  endedAt: call.endedAt ?? now,
  // GWS: recording "stops when the call completes".
  ...(call.recordingState !== undefined ? { recordingState: 'Stopped' as const } : {}),
});

/**
 * Keeps a call's monitoring supervisors in step with who monitors whom: a supervisor who monitors
 * a real party of the call joins it (Established, in their mode); one whose target has left, or
 * who no longer monitors (`removed`), leaves it. `monitors` lists the monitoring to add; a monitor
 * party already on the call stays while its target is present. Pure and idempotent.
 */
export const syncMonitors = (call: Call, monitors: readonly Monitor[], removed: readonly string[] = [], rejoin = false): Call => {
  if (call.endedAt !== null) return call;
  const real = new Set(realParties(call).map((p) => p.dn));
  let next = call;
  for (const p of call.parties)
    if (p.monitor && p.state !== 'Released' && ((!real.has(p.monitor.targetDn) && p.monitor.scope !== 'Call') || removed.includes(p.dn)))
      next = withParty(next, p.dn, { state: 'Released', sawAtRelease: otherPresentDns(call, p.dn) });
  for (const m of monitors) {
    if (!real.has(m.targetDn) || real.has(m.supervisorDn)) continue;
    // A supervisor who left this call (Hangup, or was removed) is not pulled back in, unless
    // they start monitoring anew.
    const existing = partyOf(next, m.supervisorDn);
    if (existing && (isPresent(existing) || !rejoin)) continue;
    next = addParty(next, {
      dn: m.supervisorDn,
      state: 'Established',
      mute: monitorMute(m.mode),
      monitor: { mode: m.mode, targetDn: m.targetDn, ...(m.scope === 'Call' ? { scope: 'Call' as const } : {}) },
    });
  }
  // Unchanged calls are returned as they came, so callers can tell what to commit.
  return next;
};

/**
 * Marks each party who left in this change (present before, Released after) with the user data
 * they saw while there; a party who is back (a retrieved or re-dialled DN) loses the mark.
 */
export const rememberDepartures = (before: Call | undefined, after: Call): Call => {
  if (!after.parties.some((p) => p.state === 'Released' ? p.userDataWhenLeft === undefined : p.userDataWhenLeft !== undefined)) return after;
  const wasPresent = new Set((before?.parties ?? []).filter(isPresent).map((p) => p.dn));
  return {
    ...after,
    parties: after.parties.map((p) => {
      if (p.state !== 'Released') {
        if (p.userDataWhenLeft === undefined) return p;
        const { userDataWhenLeft: _gone, ...back } = p;
        return back;
      }
      if (p.userDataWhenLeft !== undefined || !wasPresent.has(p.dn)) return p;
      return { ...p, userDataWhenLeft: before?.userData ?? {} };
    }),
  };
};

/** The user data this viewer may read: all of it while present; as it was when they left; else none. */
export const userDataFor = (call: Call, dn: string): Readonly<Record<string, string | number>> => {
  const self = call.parties.find((p) => p.dn === dn);
  if (self === undefined) return {};
  return self.state === 'Released' ? (self.userDataWhenLeft ?? {}) : call.userData;
};
