/** Voice commands: call operations and Dial. */
import { nextCallFollowUps } from '../../domain/agent/monitoring.js';
import type { AgentSession } from '../../domain/agent/model.js';
import { isRefusal, refuse } from '../../domain/refusals.js';
import { decideNoAnswer } from '../../domain/voice/routing.js';
import { decideDial } from '../../domain/voice/dial.js';
import { decideExternal, decideInbound } from '../../domain/voice/external.js';
import { decideVoice, withMonitors } from '../../domain/voice/decide.js';
import type { Call, Monitor } from '../../domain/voice/model.js';
import type { VoiceEnv } from '../../domain/voice/operations.js';
import { monitorOf, type Store } from '../../store/port.js';
import type { CommandOf } from '../commands.js';
import { byId, plan, type Handler, type HandlerDeps } from './plan.js';
import { routeVoiceWith } from './routing.js';

export type VoiceHandlerDeps = HandlerDeps;

/**
 * A call's consultation family: its parent, and the consultations of the call and of its parent.
 * Linked calls are all a decision (or a party's capabilities) can depend on besides the call.
 */
export const familyOf = async (store: Store, call: Call): Promise<Call[]> => {
  const parent = call.parentCallId !== null ? await store.getCall(call.parentCallId) : undefined;
  const family = new Map<string, Call>();
  if (parent) family.set(parent.id, parent);
  for (const root of parent ? [call, parent] : [call]) for (const c of await store.consultationsOf(root.id)) family.set(c.id, c);
  family.delete(call.id);
  return [...family.values()];
};

export const monitorsIn = (sessions: readonly AgentSession[]): Monitor[] => sessions.flatMap((s) => monitorOf(s) ?? []);

export const createVoiceHandlers = (deps: HandlerDeps) => {
  const { store, directory, clock, ids } = deps;
  const env = (): VoiceEnv => ({ now: clock.now(), newCallId: ids.callId, newConnId: ids.connId });
  const world = { directory, refs: deps.refs };

  /**
   * The change plus what it sets off, in the same batch: supervisors' NextCall monitoring
   * consumed or ended, and queue routing (offers, Reject/no-answer NotReady, wrap-up).
   */
  const voicePlan = async <A>(loaded: readonly Call[], changed: readonly Call[], monitoring: readonly AgentSession[], answer: A, dtmf?: Plan['dtmf']) => {
    const before = byId(loaded, (c) => c.id);
    const followUps = nextCallFollowUps(before, changed, monitoring);
    const routed = await routeVoiceWith(deps, before, changed, followUps.sessions);
    return plan({
      calls: routed.calls,
      sessions: routed.sessions,
      before: {
        calls: new Map([...before, ...byId(routed.loadedCalls, (c) => c.id)]),
        chats: new Map(),
        sessions: new Map([...byId(routed.loadedSessions, (s) => s.userId), ...byId(monitoring, (s) => s.userId)]),
      },
      agentEvents: [...followUps.ended.map((userId) => ({ kind: 'agent' as const, userId, channels: ['voice' as const] })), ...routed.agentEvents],
      ...(dtmf ? { dtmf } : {}),
      answer: () => answer,
    });
  };

  /** Where the device at this DN forwards its calls (ForwardCallsOn), or null. */
  const forwardOf = async (dn: string): Promise<string | null> => {
    const user = directory.byDn(dn);
    return user ? ((await store.getAgentSession(user.id))?.device?.forwardTo ?? null) : null;
  };

  const callOperation: Handler<CommandOf<'CallOperation'>, object> = {
    key: (c) => ({ key: `call:${c.callId}`, kind: 'call', id: c.callId }),
    async plan(c) {
      const call = await store.getCall(c.callId);
      const family = call ? await familyOf(store, call) : [];
      const monitoring = await store.monitoringSessions();
      const decision = decideVoice({ call, family, monitors: monitorsIn(monitoring) }, c, world, env());
      if (isRefusal(decision)) return decision;
      return voicePlan(call ? [call, ...family] : family, decision.calls, monitoring, {}, decision.dtmf);
    },
  };

  const dial: Handler<CommandOf<'Dial'>, { callId: string }> = {
    key: (c) => ({ key: `dn:${c.actor.dn}`, kind: 'device', id: c.actor.dn }),
    async plan(c) {
      const to = c.operation.invalid ? undefined : c.operation.params.destination.phoneNumber;
      const decision = decideDial(c.actor, c.operation, directory, env(), to !== undefined ? await forwardOf(to) : null);
      if (isRefusal(decision)) return decision;
      const monitoring = await store.monitoringSessions();
      const calls = withMonitors(decision.calls, monitorsIn(monitoring));
      const p = voicePlan([], calls, monitoring, { callId: (calls[0] as Call).id });
      return p;
    },
  };

  const inboundCall: Handler<CommandOf<'InboundCall'>, { callId: string }> = {
    key: (c) => ({ key: `dn:${c.to}`, kind: 'device', id: c.to }),
    async plan(c) {
      const decision = decideInbound(c, directory, env(), await forwardOf(c.to));
      if (isRefusal(decision)) return decision;
      const monitoring = await store.monitoringSessions();
      const calls = withMonitors(decision.calls, monitorsIn(monitoring));
      return voicePlan([], calls, monitoring, { callId: (calls[0] as Call).id });
    },
  };

  const externalParty: Handler<CommandOf<'ExternalParty'>, object> = {
    key: (c) => ({ key: `call:${c.callId}`, kind: 'call', id: c.callId }),
    async plan(c) {
      const call = await store.getCall(c.callId);
      const decision = decideExternal(call, c, env());
      if (isRefusal(decision)) return decision;
      const family = await familyOf(store, call as Call);
      const monitoring = await store.monitoringSessions();
      const calls = withMonitors(decision.calls, monitorsIn(monitoring));
      return voicePlan([call as Call, ...family], calls, monitoring, {}, decision.dtmf);
    },
  };

  /** A routed call rang unanswered for the queue's ringTimeoutS (engine/routing-timers.ts). */
  const ringTimeout: Handler<CommandOf<'RingTimeout'>, object> = {
    key: (c) => ({ key: `call:${c.callId}`, kind: 'call', id: c.callId }),
    async plan(c) {
      const call = await store.getCall(c.callId);
      const released = decideNoAnswer(call, c.dn, clock.now());
      // Answered, rejected or ended meanwhile: nothing to do.
      if (!released) return refuse.invalidState(`call ${c.callId} no longer rings at ${c.dn} for a queue`);
      const family = await familyOf(store, call as Call);
      const monitoring = await store.monitoringSessions();
      return voicePlan([call as Call, ...family], [released], monitoring, {});
    },
  };

  return { CallOperation: callOperation, Dial: dial, InboundCall: inboundCall, ExternalParty: externalParty, RingTimeout: ringTimeout };
};

type Plan = import('./plan.js').Plan<unknown>;
