/** The agent's own commands: contact-center session, channel states, supervisor monitoring. */
import { DEVICE_SETTING_OPERATIONS, type ParsedMonitoringOperation } from '../../domain/agent/commands.js';
import { decideChannel, decideDeviceSetting, decideSession, type AgentChange } from '../../domain/agent/decide.js';
import { decideWrapUpEnd } from '../../domain/voice/routing.js';
import { decideMonitoring } from '../../domain/agent/monitoring.js';
import { noSession, type AgentSession } from '../../domain/agent/model.js';
import { isRefusal, refuse, type Refusal } from '../../domain/refusals.js';
import { syncMonitors, type Call } from '../../domain/voice/model.js';
import { monitorOf } from '../../store/port.js';
import type { CommandOf } from '../commands.js';
import { byId, plan, type Handler, type HandlerDeps, type Plan } from './plan.js';
import { mergeById, routeVoiceWith, routeWith } from './routing.js';

const isDeviceSetting = (name: string): name is (typeof DEVICE_SETTING_OPERATIONS)[number] =>
  (DEVICE_SETTING_OPERATIONS as readonly string[]).includes(name);
import { familyOf } from './voice.js';

export const createAgentHandlers = (deps: HandlerDeps) => {
  const { store, clock, directory } = deps;
  const userKey = (c: { actor: { userId: string } }) => ({ key: `user:${c.actor.userId}`, kind: 'agent session', id: c.actor.userId });
  const sessionOf = async (userId: string) => (await store.getAgentSession(userId)) ?? noSession(userId);

  /** An agent's state change, and the chats it lets routing offer (to them or anyone). */
  const agentPlan = async (session: AgentSession, decision: AgentChange | Refusal): Promise<Plan<object> | Refusal> => {
    if (isRefusal(decision)) return decision;
    if (decision.session === session) return plan({ answer: () => ({}) });
    const routed = await routeWith(deps, [], [decision.session]);
    const chatSessions = routed.chats.length > 0 ? new Set(await store.chatSessionUserIds()) : new Set<string>();
    // Going Ready on voice (or DND off) may let a waiting queue call through, in this batch.
    const voice = await routeVoiceWith(deps, new Map(), [], mergeById((s) => s.userId, [decision.session], routed.sessions));
    return plan({
      sessions: voice.sessions,
      chats: routed.chats,
      calls: voice.calls,
      before: {
        calls: byId(voice.loadedCalls, (c) => c.id),
        chats: byId(routed.loadedChats, (c) => c.id),
        sessions: byId([...voice.loadedSessions, ...routed.loadedSessions, session], (s) => s.userId),
      },
      chatSessions,
      agentEvents: [...decision.events, ...voice.agentEvents],
      agentEventsFirst: true,
      answer: () => (decision.unserved ? { unserved: decision.unserved, started: Object.keys(decision.session.channels ?? {}) } : {}),
    });
  };

  const session: Handler<CommandOf<'SessionOperation'>, object> = {
    key: userKey,
    async plan(c) {
      const current = await sessionOf(c.actor.userId);
      return agentPlan(current, decideSession(current, c.actor, c.operation, clock.now()));
    },
  };

  const channel: Handler<CommandOf<'ChannelOperation'>, object> = {
    key: userKey,
    async plan(c) {
      const current = await sessionOf(c.actor.userId);
      return agentPlan(current, decideChannel(current, c.actor, c.channel, c.operation, clock.now()));
    },
  };

  const device: Handler<CommandOf<'DeviceOperation'>, object> = {
    key: userKey,
    async plan(c) {
      const current = await sessionOf(c.actor.userId);
      const op = c.operation;
      if (op.name !== undefined && isDeviceSetting(op.name))
        return agentPlan(current, decideDeviceSetting(current, c.actor, op as Parameters<typeof decideDeviceSetting>[2], directory));
      const decision = decideMonitoring(current, c.actor, op as ParsedMonitoringOperation, { dnOfDevice: directory.dnOfDevice, deviceIdOf: deps.refs.deviceIdOf, deviceOfDn: (dn) => directory.byDn(dn)?.deviceId ?? undefined }, clock.now());
      if (isRefusal(decision)) return decision;
      const monitor = monitorOf(decision.session);
      // AllCalls joins the agent's calls in progress (NextCall waits for the next one); a
      // cancel leaves the calls being monitored.
      const joinNow = monitor && decision.session.monitoring?.callMode === 'AllCalls';
      const loaded = monitor ? (joinNow ? await store.presentCallsOf(monitor.targetDn) : []) : await store.presentCallsOf(c.actor.dn);
      const touched = loaded.map((call) => [call, monitor ? syncMonitors(call, [monitor], [], true) : syncMonitors(call, [], [c.actor.dn])] as const);
      const changed = touched.filter(([was, now]) => was !== now);
      const families = (await Promise.all(changed.map(([was]) => familyOf(store, was)))).flat();
      return plan({
        sessions: [decision.session],
        calls: changed.map(([, now]) => now),
        before: { calls: byId<Call>([...families, ...loaded], (x) => x.id), chats: new Map(), sessions: byId([current], (s) => s.userId) },
        agentEvents: decision.events,
        agentEventsFirst: true,
        answer: () => ({}),
      });
    },
  };

  /** A wrap-up's end (engine/routing-timers.ts): back to Ready, unless the agent moved on. */
  const wrapUpEnd: Handler<CommandOf<'WrapUpEnd'>, object> = {
    key: (c) => ({ key: `user:${c.userId}`, kind: 'agent session', id: c.userId }),
    async plan(c) {
      const current = await sessionOf(c.userId);
      const next = decideWrapUpEnd(current, c.until, clock.now());
      if (!next) return refuse.invalidState(`${c.userId} is no longer wrapping up until ${c.until}`);
      return agentPlan(current, { ok: true, session: next, events: [{ kind: 'agent', userId: c.userId, channels: ['voice'] }] });
    },
  };

  return { SessionOperation: session, ChannelOperation: channel, DeviceOperation: device, WrapUpEnd: wrapUpEnd };
};
