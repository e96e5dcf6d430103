/**
 * Decides a voice call operation: the one pipeline that turns (state, request, actor) into a
 * change or a refusal. Checks run in the contract's order — 6 (not visible), 5 (feature),
 * 1/10 (parameters), 3 (policy), 2 (state) — so the first that applies wins.
 */
import { hasFeature, type Actor } from '../actor.js';
import { operationNameOf } from '../params.js';
import { refuse, type Refusal } from '../refusals.js';
import { partyOf, realParties, syncMonitors, type Call, type Monitor } from './model.js';
import {
  VOICE_CALL_OPERATIONS,
  voiceOperations,
  type DnDirectory,
  type VoiceCallOperation,
  type VoiceChange,
  type VoiceContext,
  type VoiceEnv,
} from './operations.js';

export interface VoiceRequest {
  readonly actor: Actor;
  readonly callId: string;
  /** The request body as the client sent it (an object with operationName). */
  readonly body: Readonly<Record<string, unknown>>;
}

export interface VoiceWorld {
  /** The target call, or undefined when no such call exists. */
  readonly call: Call | undefined;
  /** Every call the requester is present on, by id. */
  readonly actorCalls: ReadonlyMap<string, Call>;
  readonly directory: DnDirectory;
  /** Supervisors who monitor a DN (empty when none). */
  readonly monitorsOf?: (dn: string) => readonly Monitor[];
}

/**
 * Brings every changed call's monitoring supervisors in step with who monitors its parties, so
 * that a monitored agent's new calls (dialled, answered, conferenced, transferred) are joined.
 */
export const withMonitors = (calls: readonly Call[], monitorsOf: ((dn: string) => readonly Monitor[]) | undefined): Call[] =>
  calls.map((call) => (monitorsOf ? syncMonitors(call, realParties(call).flatMap((p) => monitorsOf(p.dn))) : call));

/** The context for one actor on one call, or the refusal that says why there is none (6). */
export const contextFor = (world: VoiceWorld, actor: Actor, callId: string): VoiceContext | Refusal => {
  const call = world.call;
  const self = call && actor.dn !== null ? partyOf(call, actor.dn) : undefined;
  if (!call || !self || actor.dn === null) return refuse.notFound('call', callId);
  return { actor: { ...actor, dn: actor.dn }, call, self, actorCalls: world.actorCalls, directory: world.directory };
};

/** Why an operation is not possible now, regardless of its parameters; null when it is. */
export const whyNot = (ctx: VoiceContext, op: VoiceCallOperation): Refusal | null => {
  const spec = voiceOperations[op];
  if (!hasFeature(ctx.actor, spec.feature)) return refuse.missingFeature(op, spec.feature);
  const actors = spec.actors ?? 'party';
  if (ctx.self.monitor && actors === 'party') return refuse.forbidden(`${op} is not available to a monitoring supervisor`);
  if (!ctx.self.monitor && actors === 'monitor') return refuse.forbidden(`${op} is only for a supervisor monitoring this call`);
  const forbidden = spec.policy?.(ctx);
  if (forbidden) return refuse.forbidden(forbidden);
  if (!spec.from.includes(ctx.self.state))
    return refuse.invalidState(`${op} is not valid on call ${ctx.call.id} while your party is ${ctx.self.state}`);
  const notNow = spec.when?.(ctx);
  return notNow ? refuse.invalidState(notNow) : null;
};

/** The operations this actor may perform on this call now: exactly those `decideVoice` accepts. */
export const voiceCapabilities = (ctx: VoiceContext): VoiceCallOperation[] =>
  VOICE_CALL_OPERATIONS.filter((op) => whyNot(ctx, op) === null);

export const decideVoice = (world: VoiceWorld, request: VoiceRequest, env: VoiceEnv): VoiceChange | Refusal => {
  const ctx = contextFor(world, request.actor, request.callId);
  if ('ok' in ctx) return ctx;
  const op = operationNameOf(request.body, 'a call', VOICE_CALL_OPERATIONS);
  if (!op.ok) return op;
  const name = op.name;
  const spec = voiceOperations[name];
  if (!hasFeature(ctx.actor, spec.feature)) return refuse.missingFeature(name, spec.feature);
  const params = spec.params(request.body);
  if ('ok' in params && params.ok === false) return params;
  const notNow = whyNot(ctx, name);
  if (notNow) return notNow;
  const change = spec.apply(ctx, (params as { value: unknown }).value, env);
  return change.ok ? { ...change, calls: withMonitors(change.calls, world.monitorsOf) } : change;
};
