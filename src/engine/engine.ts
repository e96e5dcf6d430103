/**
 * The engine runs commands, and is the only code that writes: load → decide (pure domain) →
 * commit with the loaded versions → publish the events. Everything in between is synchronous,
 * so in one process a command never interleaves with another; the versions protect stores that
 * several processes share. A lost race is retried on fresh state, which is where a second
 * racing removal learns that its participant has already gone.
 */
import type { Actor } from '../domain/actor.js';
import { decideChannel, decideSession } from '../domain/agent/decide.js';
import { noSession, type AgentSession } from '../domain/agent/model.js';
import { refuse, type Refusal } from '../domain/refusals.js';
import { decideMonitoring, type DeviceLookup } from '../domain/agent/monitoring.js';
import { decideDial } from '../domain/voice/dial.js';
import { decideVoice, withMonitors, type VoiceWorld } from '../domain/voice/decide.js';
import { callEvents, type CallEvent } from '../domain/voice/events.js';
import { syncMonitors, type Call } from '../domain/voice/model.js';
import type { DnDirectory, VoiceChange, VoiceEnv } from '../domain/voice/operations.js';
import { monitorOf, VersionConflict, type Store } from '../store/port.js';
import { createChatEngine, randomChatIds, type ChatEngine, type ChatEngineDeps, type ChatIds } from './chat.js';
import type { Clock, DomainEvent, EventSink, IdSource } from './ports.js';

export interface EngineDeps {
  readonly store: Store;
  readonly directory: DnDirectory & ChatEngineDeps['directory'] & DeviceLookup & { byDn(dn: string): { id: string } | undefined };
  readonly sink: EventSink;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly chatIds?: ChatIds;
}

export type Accepted<T = object> = { readonly ok: true } & T;
export type Outcome<T = object> = Accepted<T> | Refusal;

const MAX_ATTEMPTS = 3;

export interface Engine {
  /** POST /api/v2/me/calls/{id} */
  callOperation(actor: Actor, callId: string, body: Readonly<Record<string, unknown>>): Outcome;
  /** POST /api/v2/me/devices/{id}/calls (the device is the actor's own, checked at the edge). */
  dial(actor: Actor & { readonly dn: string }, body: Readonly<Record<string, unknown>>): Outcome<{ callId: string }>;
  /** POST /api/v2/me/devices/{id}: supervisor monitoring (the device is the actor's own). */
  deviceOperation(actor: Actor & { readonly dn: string }, body: Readonly<Record<string, unknown>>): Outcome;
  /** POST /api/v2/me */
  sessionOperation(actor: Actor, body: Readonly<Record<string, unknown>>): Outcome;
  /** POST /api/v2/me/channels/{channel} */
  channelOperation(actor: Actor, channel: string, body: Readonly<Record<string, unknown>>): Outcome;
  /** Chats: agent operations, the customer API, routing. */
  readonly chat: ChatEngine;
}

export const createEngine = (deps: EngineDeps): Engine => {
  const { store, directory, sink, clock, ids } = deps;

  const chat = createChatEngine({ store, directory, sink, clock, ids: deps.chatIds ?? randomChatIds, tenant: 'Conclave' });

  const env = (): VoiceEnv => ({ now: clock.now(), newCallId: ids.callId, newConnId: ids.connId });

  const actorCalls = (actor: Actor): Map<string, Call> =>
    new Map(actor.dn === null ? [] : store.presentCallsOf(actor.dn).map((c) => [c.id, c]));

  /** Runs decide+commit until it wins or is refused; conflicts are retried on fresh state. */
  const run = <T>(kind: string, id: string, attempt: () => Outcome<T> | typeof CONFLICT): Outcome<T> => {
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const outcome = attempt();
      if (outcome !== CONFLICT) return outcome;
    }
    return refuse.concurrentChange(kind, id);
  };

  const commitVoice = (before: ReadonlyMap<string, Call>, change: VoiceChange): typeof CONFLICT | readonly Call[] => {
    let committed: readonly Call[];
    try {
      committed = store.commit({ calls: change.calls }).calls;
    } catch (error) {
      if (error instanceof VersionConflict) return CONFLICT;
      throw error;
    }
    const events: CallEvent[] = committed.flatMap((call) => callEvents(before.get(call.id), call));
    if (change.dtmf) events.push({ kind: 'call', ...change.dtmf, notificationType: 'DtmfSent' });
    sink.publish(events);
    finishNextCallMonitoring(before, committed);
    return committed;
  };

  /**
   * NextCall monitoring is consumed by the first call it joins (no further call is joined) and
   * ends when the supervisor leaves that call.
   */
  const finishNextCallMonitoring = (before: ReadonlyMap<string, Call>, committed: readonly Call[]) => {
    for (const call of committed)
      for (const party of call.parties) {
        if (!party.monitor) continue;
        const was = before.get(call.id)?.parties.find((p) => p.dn === party.dn);
        const joined = party.state !== 'Released' && (!was || was.state === 'Released');
        const left = party.state === 'Released' && was !== undefined && was.state !== 'Released';
        if (!joined && !left) continue;
        const supervisor = directory.byDn(party.dn);
        const session = supervisor && store.getAgentSession(supervisor.id);
        const monitoring = session?.monitoring;
        if (!session || !monitoring || monitoring.callMode !== 'NextCall' || monitoring.targetDn !== party.monitor.targetDn) continue;
        if (joined && monitoring.consumed) continue;
        try {
          store.commit({ agentSessions: [{ ...session, monitoring: left ? null : { ...monitoring, consumed: true } }] });
          if (left) sink.publish([{ kind: 'agent', userId: session.userId, channels: ['voice'] }]);
        } catch (error) {
          // Someone else changed the supervisor's session meanwhile: their change stands.
          if (!(error instanceof VersionConflict)) throw error;
        }
      }
  };

  const agentCommand = (actor: Actor, decide: (session: AgentSession) => Outcome<{ session: AgentSession; events: readonly DomainEvent[] }>): Outcome =>
    run('agent session', actor.userId, () => {
      const session = store.getAgentSession(actor.userId) ?? noSession(actor.userId);
      const decision = decide(session);
      if (!decision.ok) return decision;
      if (decision.session === session) return { ok: true };
      try {
        store.commit({ agentSessions: [decision.session] });
      } catch (error) {
        if (error instanceof VersionConflict) return CONFLICT;
        throw error;
      }
      sink.publish(decision.events);
      // An agent who became Ready (or left) changes who can take waiting chats.
      chat.route();
      return { ok: true };
    });

  return {
    callOperation: (actor, callId, body) =>
      run('call', callId, () => {
        const mine = actorCalls(actor);
        const world: VoiceWorld = { call: mine.get(callId) ?? store.getCall(callId), actorCalls: mine, directory, monitorsOf: store.monitorsOf };
        const decision = decideVoice(world, { actor, callId, body }, env());
        if (!decision.ok) return decision;
        const before = new Map(mine);
        if (world.call) before.set(world.call.id, world.call);
        const committed = commitVoice(before, decision);
        return committed === CONFLICT ? CONFLICT : { ok: true };
      }),

    dial: (actor, body) =>
      run('device', actor.dn, () => {
        const decision = decideDial(actor, body, directory, env());
        if (!decision.ok) return decision;
        const committed = commitVoice(new Map(), { ...decision, calls: withMonitors(decision.calls, store.monitorsOf) });
        if (committed === CONFLICT) return CONFLICT;
        return { ok: true, callId: (committed[0] as Call).id };
      }),

    deviceOperation: (actor, body) =>
      run('agent session', actor.userId, () => {
        const session = store.getAgentSession(actor.userId) ?? noSession(actor.userId);
        const decision = decideMonitoring(session, actor, body, directory, clock.now());
        if (!decision.ok) return decision;
        const monitor = monitorOf(decision.session);
        // AllCalls joins the agent's calls in progress (NextCall waits for the next one); a
        // cancel leaves the calls being monitored.
        const joinNow = monitor && decision.session.monitoring?.callMode === 'AllCalls';
        const touched = monitor
          ? (joinNow ? store.presentCallsOf(monitor.targetDn) : []).map((call) => [call, syncMonitors(call, [monitor], [], true)] as const)
          : store.presentCallsOf(actor.dn).map((call) => [call, syncMonitors(call, [], [actor.dn])] as const);
        const changedCalls = touched.filter(([was, now]) => was !== now);
        try {
          store.commit({ agentSessions: [decision.session], calls: changedCalls.map(([, now]) => now) });
        } catch (error) {
          if (error instanceof VersionConflict) return CONFLICT;
          throw error;
        }
        const committedCalls = changedCalls.map(([was, now]) => [was, store.getCall(now.id) as Call] as const);
        sink.publish([...decision.events, ...committedCalls.flatMap(([was, now]) => callEvents(was, now))]);
        return { ok: true };
      }),

    sessionOperation: (actor, body) => agentCommand(actor, (s) => decideSession(s, actor, body, clock.now())),

    channelOperation: (actor, channel, body) => agentCommand(actor, (s) => decideChannel(s, actor, channel, body, clock.now())),

    chat,
  };
};

const CONFLICT = Symbol('conflict');
