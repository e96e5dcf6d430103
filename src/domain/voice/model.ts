/**
 * The voice aggregate: one call, with one id shared by every party on it (as in GWS, where a
 * call's id equals its callUuid for all parties). Consultation calls are separate calls that
 * point at their parent.
 */
export const PARTY_STATES = ['Dialing', 'Ringing', 'Established', 'Held', 'Released'] as const;
export type PartyState = (typeof PARTY_STATES)[number];

export type CallType = 'Internal' | 'Inbound' | 'Outbound' | 'Consult';
export type MuteState = 'On' | 'Off';
export type UserDataValue = string | number;
export type UserData = Readonly<Record<string, UserDataValue>>;

export interface Party {
  readonly dn: string;
  readonly state: PartyState;
  readonly mute: MuteState;
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
  readonly userData: UserData;
  readonly createdAt: number;
  readonly establishedAt: number | null;
  readonly endedAt: number | null;
}

/** A party is *live* when it is connected (talking or on hold), as opposed to ringing or gone. */
export const isLive = (p: Party): boolean => p.state === 'Established' || p.state === 'Held';
export const isPresent = (p: Party): boolean => p.state !== 'Released';

export const partyOf = (call: Call, dn: string): Party | undefined => call.parties.find((p) => p.dn === dn);
export const liveParties = (call: Call): readonly Party[] => call.parties.filter(isLive);
export const presentParties = (call: Call): readonly Party[] => call.parties.filter(isPresent);
export const isEnded = (call: Call): boolean => call.endedAt !== null;

/** The DNs a given party sees as the other participants of the call. */
export const otherPresentDns = (call: Call, dn: string): string[] =>
  presentParties(call)
    .filter((p) => p.dn !== dn)
    .map((p) => p.dn);

export const withParty = (call: Call, dn: string, patch: Partial<Omit<Party, 'dn'>>): Call => ({
  ...call,
  parties: call.parties.map((p) => (p.dn === dn ? { ...p, ...patch } : p)),
});

export const addParty = (call: Call, party: Party): Call => ({ ...call, parties: [...call.parties, party] });

/**
 * Releases one party. A call needs two present parties: when fewer remain, the rest are
 * released too and the call ends (a two-party call ends when either side hangs up).
 */
export const releaseParty = (call: Call, dn: string, now: number): Call => {
  const released = withParty(call, dn, { state: 'Released' });
  return presentParties(released).length < 2 ? endCall(released, now) : released;
};

export const endCall = (call: Call, now: number): Call => ({
  ...call,
  parties: call.parties.map((p) => (p.state === 'Released' ? p : { ...p, state: 'Released' })),
  endedAt: call.endedAt ?? now,
});

/** Reads a call id out of a GWS call URI or path (`.../calls/{id}`), or takes a bare id. */
export const callIdFromUri = (uri: string): string => {
  const trimmed = uri.replace(/[?#].*$/, '').replace(/\/+$/, '');
  const at = trimmed.lastIndexOf('/');
  return at >= 0 ? trimmed.slice(at + 1) : trimmed;
};
