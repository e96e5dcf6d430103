/**
 * Voice queues: a call placed to a queue waits until it is offered to the member logged in on
 * the voice channel who has been idle (Ready) the longest — the same rule as chat routing
 * (domain/routing.ts). An offer rings at the member's DN; Reject or no answer in time releases
 * that ringing party and the member goes NotReady; an answered call is delivered; when the
 * member leaves a delivered call they wrap up (AfterCallWork for the queue's wrapUpS, when above
 * 0). Pure: the engine loads the snapshot, and commits the result with the change that set it off.
 */
import type { AgentEvent } from '../agent/decide.js';
import type { AgentSession, ChannelState } from '../agent/model.js';
import { pickLongestIdle } from '../routing.js';
import { addParty, isPresent, isWaitingCall, partyOf, routedAgentDn, withParty, type Call } from './model.js';

export interface RoutingQueue {
  readonly name: string;
  readonly dn: string;
  /** Member user ids. */
  readonly members: readonly string[];
  readonly ringTimeoutS: number;
  readonly wrapUpS: number;
}

export interface Member {
  readonly userId: string;
  readonly userName: string;
  readonly dn: string;
  readonly session: AgentSession | undefined;
  /** Calls that have not ended on which the member is present, as loaded. */
  readonly calls: readonly Call[];
}

export interface VoiceRoutingInput {
  /** Calls as loaded: the "before" of the change. */
  readonly before: ReadonlyMap<string, Call>;
  /** Calls the command is about to commit. */
  readonly changed: readonly Call[];
  /** Other waiting queue calls, as loaded. */
  readonly waiting: readonly Call[];
  /** Sessions the command is about to commit (they win over the members' loaded ones). */
  readonly changedSessions: readonly AgentSession[];
  readonly members: readonly Member[];
  queueOf(name: string): RoutingQueue | undefined;
  readonly now: number;
  /** Written into the routed call's user data (RTenant), as chat routing does. */
  readonly tenant: string;
}

export interface VoiceRoutingResult {
  readonly calls: Call[];
  readonly sessions: AgentSession[];
  readonly events: AgentEvent[];
}

const voiceOf = (s: AgentSession | undefined): ChannelState | undefined => s?.channels?.voice ?? undefined;
const withVoice = (s: AgentSession, voice: ChannelState): AgentSession => ({ ...s, channels: { ...s.channels, voice } });

/** Whether this change touches routing at all: the engine skips the loads when it does not. */
export const touchesRouting = (changed: readonly Call[], changedSessions: readonly AgentSession[]): boolean =>
  changed.some((c) => c.routing !== undefined) || changedSessions.some((s) => voiceOf(s)?.state === 'Ready');

export const routeVoice = (input: VoiceRoutingInput): VoiceRoutingResult => {
  const { now } = input;
  const calls = new Map(input.changed.map((c) => [c.id, c]));
  const sessions = new Map<string, AgentSession>();
  const events: AgentEvent[] = [];
  const changedSessions = new Map(input.changedSessions.map((s) => [s.userId, s]));
  const sessionOf = (m: Member) => sessions.get(m.userId) ?? changedSessions.get(m.userId) ?? m.session;
  const memberByDn = new Map(input.members.map((m) => [m.dn, m]));
  const setVoice = (m: Member, voice: ChannelState, notify: boolean) => {
    const s = sessionOf(m);
    if (!s) return;
    sessions.set(m.userId, withVoice(s, voice));
    if (notify) events.push({ kind: 'agent', userId: m.userId, channels: ['voice'] });
  };

  // 1. Follow-ups of the change: an answered offer is delivered; an offer that stopped ringing
  //    unanswered (Reject, ring timeout) makes the member NotReady and the call wait again; a
  //    member who leaves a delivered call wraps up.
  for (const [id, call] of calls) {
    const routing = call.routing;
    const dn = routing?.offeredTo ?? null;
    if (!routing || dn === null) continue;
    const was = input.before.get(id);
    const party = partyOf(call, dn);
    const wasParty = was ? partyOf(was, dn) : undefined;
    const member = memberByDn.get(dn);
    if (!routing.delivered && (party?.state === 'Established' || party?.state === 'Held')) {
      calls.set(id, { ...call, routing: { ...routing, delivered: true } });
      continue;
    }
    const left = wasParty !== undefined && isPresent(wasParty) && (!party || !isPresent(party));
    if (!left || !member) continue;
    const voice = voiceOf(sessionOf(member));
    if (!routing.delivered) {
      // The caller hanging up while it rang is nobody's fault; otherwise it went unanswered.
      if (call.endedAt === null) {
        calls.set(id, { ...call, routing: { ...routing, offeredTo: null } });
        if (voice && voice.state === 'Ready') setVoice(member, { state: 'NotReady', since: now }, true);
      }
      continue;
    }
    const wrapUpS = input.queueOf(routing.queue)?.wrapUpS ?? 0;
    if (voice?.state === 'Ready' && wrapUpS > 0)
      setVoice(member, { state: 'NotReady', since: now, workMode: 'AfterCallWork', wrapUpUntil: now + wrapUpS * 1000 }, true);
  }

  // 2. Offers: every waiting call, oldest first, to the eligible member idle the longest.
  const waiting = new Map(input.waiting.map((c) => [c.id, c]));
  for (const c of calls.values()) waiting.set(c.id, c);
  const busy = new Set<string>();
  for (const m of input.members)
    for (const loaded of m.calls) {
      const call = calls.get(loaded.id) ?? loaded;
      if (routedAgentDn(call) === m.dn) busy.add(m.dn);
    }
  for (const call of calls.values()) {
    const dn = routedAgentDn(call);
    if (dn !== null) busy.add(dn);
  }
  const queued = [...waiting.values()].filter(isWaitingCall).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  for (const call of queued) {
    const queue = input.queueOf((call.routing as NonNullable<Call['routing']>).queue);
    if (!queue) continue;
    const candidates = input.members.flatMap((m) => {
      const s = sessionOf(m);
      const voice = voiceOf(s);
      const eligible =
        queue.members.includes(m.userId) &&
        voice?.state === 'Ready' &&
        !s?.device?.doNotDisturb &&
        (s?.device?.forwardTo ?? null) === null &&
        !busy.has(m.dn) &&
        // The caller (an agent dialling the queue) is not offered their own call.
        !call.parties.some((p) => p.dn === m.dn && isPresent(p));
      return eligible && voice ? [{ userId: m.userId, idleSince: voice.since, member: m }] : [];
    });
    const chosen = pickLongestIdle(candidates);
    if (!chosen) continue;
    const m = chosen.member;
    busy.add(m.dn);
    // Being offered work ends the member's idle time, as in chat routing.
    setVoice(m, { ...(voiceOf(sessionOf(m)) as ChannelState), since: now }, false);
    const offered = addParty(call, { dn: m.dn, state: 'Ringing', mute: 'Off' });
    calls.set(call.id, {
      ...offered,
      routing: { ...(call.routing as NonNullable<Call['routing']>), offeredTo: m.dn, delivered: false },
      // The routing keys the seeds' user data carries, where they mean something here.
      userData: { ...call.userData, RTargetRequested: queue.name, RTargetAgentSelected: m.userName, RTargetTypeSelected: '2', RTenant: input.tenant },
    });
  }
  return { calls: [...calls.values()], sessions: [...sessions.values()], events };
};

/** The member did not answer in time: the same as their Reject (the call waits again). */
export const decideNoAnswer = (call: Call | undefined, dn: string, now: number): Call | null => {
  if (!call || call.endedAt !== null || call.routing?.offeredTo !== dn || call.routing.delivered) return null;
  if (partyOf(call, dn)?.state !== 'Ringing') return null;
  return withParty(call, dn, { state: 'Released', releasedAt: now });
};

/** Wrap-up's end: the member goes Ready, if they are still in the wrap-up that ends now. */
export const decideWrapUpEnd = (session: AgentSession | undefined, until: number, now: number): AgentSession | null => {
  const voice = voiceOf(session);
  if (!session || !voice || voice.workMode !== 'AfterCallWork' || voice.wrapUpUntil !== until) return null;
  return withVoice(session, { state: 'Ready', since: now });
};
