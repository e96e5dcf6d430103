/**
 * Decides a voice call operation: the one pipeline that turns (snapshot, typed operation, actor)
 * into a change or a refusal. Checks run in the contract's order — 6 (not visible), 5 (feature),
 * 1/10 (parameters), 3 (policy), 2 (state) — so the first that applies wins.
 */
import { hasFeature, type Actor } from '../actor.js';
import type { ResourceRefs } from '../refs.js';
import { isRefusal, refuse, type Refusal } from '../refusals.js';
import type { ParsedVoiceOperation, VoiceCallOperation } from './commands.js';
import { isPresent, partyOf, realParties, syncMonitors, type Call, type Monitor } from './model.js';
import { VOICE_CALL_OPERATIONS, voiceOperationSpec, type DnDirectory, type VoiceChange, type VoiceContext, type VoiceEnv } from './operations.js';

/** Everything a voice decision reads, loaded by the engine before it runs. */
export interface VoiceSnapshot {
  /** The target call, or undefined when no such call exists. */
  readonly call: Call | undefined;
  /** The target's consultation family: its parent, and the consultations of it (and of its parent). */
  readonly family: readonly Call[];
  /** Every supervisor's monitoring now in force. */
  readonly monitors: readonly Monitor[];
}

export interface VoiceWorld {
  readonly directory: DnDirectory;
  readonly refs: ResourceRefs;
}

/**
 * Brings every changed call's monitoring supervisors in step with who monitors its parties, so
 * that a monitored agent's new calls (dialled, answered, conferenced, transferred) are joined.
 */
export const withMonitors = (calls: readonly Call[], monitors: readonly Monitor[]): Call[] =>
  calls.map((call) => {
    const dns = new Set(realParties(call).map((p) => p.dn));
    return syncMonitors(call, monitors.filter((m) => dns.has(m.targetDn)));
  });

/** The calls of a family the actor is present on, by id: whom a consultation links. */
const presentFor = (calls: readonly Call[], dn: string): Map<string, Call> =>
  new Map(
    calls.filter((c) => {
      const party = c.endedAt === null ? partyOf(c, dn) : undefined;
      return party !== undefined && isPresent(party);
    }).map((c) => [c.id, c]),
  );

/** The context for one actor on one call, or the refusal that says why there is none (6). */
export const contextFor = (
  call: Call | undefined,
  family: readonly Call[],
  actor: Actor,
  callId: string,
  world: VoiceWorld,
): VoiceContext | Refusal => {
  const self = call && actor.dn !== null ? partyOf(call, actor.dn) : undefined;
  if (!call || !self || actor.dn === null) return refuse.notFound('call', callId);
  const actorCalls = presentFor([call, ...family.filter((c) => c.id !== call.id)], actor.dn);
  return { actor: { ...actor, dn: actor.dn }, call, self, actorCalls, directory: world.directory, callIdOf: world.refs.callIdOf };
};

/**
 * The one check of whether an operation is possible now, regardless of its parameters. `no` says
 * how a "no" is expressed: a full refusal for a request, or just `true` for a capability list,
 * which is rendered for every recipient of every notification and so must not build refusals
 * (messages and objects) for the operations it leaves out. Cheaper is not different: both read
 * the same conditions in the same order, so "listed exactly when accepted" holds.
 */
interface No<R> {
  feature(op: VoiceCallOperation, feature: string): R;
  forbidden(why: string): R;
  state(why: () => string): R;
}

const check = <R>(ctx: VoiceContext, op: VoiceCallOperation, no: No<R>): R | null => {
  const spec = voiceOperationSpec(op);
  if (!hasFeature(ctx.actor, spec.feature)) return no.feature(op, spec.feature);
  const actors = spec.actors ?? 'party';
  if (ctx.self.monitor && actors === 'party') return no.forbidden(`${op} is not available to a monitoring supervisor`);
  if (!ctx.self.monitor && actors === 'monitor') return no.forbidden(`${op} is only for a supervisor monitoring this call`);
  const forbidden = spec.policy?.(ctx);
  if (forbidden) return no.forbidden(forbidden);
  if (!spec.from.includes(ctx.self.state)) return no.state(() => `${op} is not valid on call ${ctx.call.id} while your party is ${ctx.self.state}`);
  const notNow = spec.when?.(ctx);
  return notNow ? no.state(() => notNow) : null;
};

const AS_REFUSAL: No<Refusal> = { feature: refuse.missingFeature, forbidden: refuse.forbidden, state: (why) => refuse.invalidState(why()) };
const AS_BLOCKED: No<true> = { feature: () => true, forbidden: () => true, state: () => true };

/** Why an operation is not possible now, regardless of its parameters; null when it is. */
export const whyNot = (ctx: VoiceContext, op: VoiceCallOperation): Refusal | null => check(ctx, op, AS_REFUSAL);

/** The operations this actor may perform on this call now: exactly those `decideVoice` accepts. */
export const voiceCapabilities = (ctx: VoiceContext): VoiceCallOperation[] =>
  VOICE_CALL_OPERATIONS.filter((op) => voiceOperationSpec(op).listed !== false && check(ctx, op, AS_BLOCKED) === null);

export interface VoiceRequest {
  readonly actor: Actor;
  readonly callId: string;
  readonly operation: ParsedVoiceOperation;
}

export const decideVoice = (snapshot: VoiceSnapshot, request: VoiceRequest, world: VoiceWorld, env: VoiceEnv): VoiceChange | Refusal => {
  const ctx = contextFor(snapshot.call, snapshot.family, request.actor, request.callId, world);
  if (isRefusal(ctx)) return ctx;
  const op = request.operation;
  if (op.name === undefined) return op.invalid;
  const spec = voiceOperationSpec(op.name);
  if (!hasFeature(ctx.actor, spec.feature)) return refuse.missingFeature(op.name, spec.feature);
  if (op.invalid) return op.invalid;
  const notNow = whyNot(ctx, op.name);
  if (notNow) return notNow;
  const change = spec.apply(ctx, op.params as never, env);
  return isRefusal(change) ? change : { ...change, calls: withMonitors(change.calls, snapshot.monitors) };
};
