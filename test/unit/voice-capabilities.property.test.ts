/**
 * Property test on the pure voice domain (no server, no store): random sequences of Dial and call
 * operations by random users over four DNs. After every step it checks that
 *  - `voiceCapabilities` lists an operation exactly when `decideVoice` accepts it with some valid
 *    parameters (the contract: "in a user's capabilities exactly when that user may do it");
 *  - the call model's invariants hold (no duplicate party, ended ⇔ nobody present, a live call
 *    has two present parties, participants are symmetric, CompleteConference joins everyone).
 *
 * The world here plays the store's and the engine's part: a Map of calls, each accepted change
 * written with its version bumped, "my calls" computed exactly as the store indexes them
 * (`presentDns`), and a call's consultation family loaded as the engine loads it (`familyOf`).
 * A failure message carries the resolved trace of the (shrunk) sequence, so it is a minimal
 * reproduction that can be replayed by hand.
 */
import { familyIn } from '../helpers/voice-family.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FEATURES, type Actor } from '../../src/domain/actor.js';
import { gwsRefs } from '../../src/api/gws/resource-ids.js';
import { isRefusal, type Refusal } from '../../src/domain/refusals.js';
import { parseDialOperation, parseVoiceOperation } from '../../src/domain/voice/commands.js';
import { contextFor, decideVoice, voiceCapabilities, type VoiceSnapshot, type VoiceWorld } from '../../src/domain/voice/decide.js';
import { decideDial } from '../../src/domain/voice/dial.js';
import { otherPresentDns, partyOf, presentParties, type Call } from '../../src/domain/voice/model.js';
import {
  VOICE_CALL_OPERATIONS,
  isListedVoiceOperation,
  type DnDirectory,
  type VoiceCallOperation,
  type VoiceChange,
  type VoiceContext,
  type VoiceEnv,
} from '../../src/domain/voice/operations.js';
import { bumped, presentDns } from '../../src/store/port.js';

// ---- The fixed universe ----------------------------------------------------------------------
const DNS = ['15000', '15001', '15002', '15003'] as const;
// 15003's calls are recordable (its DN is recorded), so the recording operations are walked too.
const directory: DnDirectory = {
  isKnownDn: (dn) => (DNS as readonly string[]).includes(dn),
  dnCount: () => DNS.length,
  isRecordedDn: (dn) => dn === '15003',
};
/** The directory and the dialect's URI reader: what the engine hands `decideVoice` besides the snapshot. */
const voiceWorld: VoiceWorld = { directory, refs: gwsRefs };
const NOW = 1_700_000_000_000;
const CALL_URI_BASE = 'http://conclave.test/api/v2/me/calls/';

const actorOf = (dn: string): Actor & { dn: string } => ({
  userId: `user-${dn}`,
  userName: `agent${dn}`,
  dn,
  roles: ['ROLE_AGENT'],
  features: [...FEATURES],
});

/** Counter-based ids and a fixed clock: a run is fully determined by its steps. */
const counterEnv = (prefix: string): VoiceEnv => {
  let calls = 0;
  let conns = 0;
  return {
    now: NOW,
    newCallId: () => `${prefix}CALL${++calls}`,
    newConnId: () => `${prefix}CONN${++conns}`,
  };
};

const DESTINATION_OPS: readonly VoiceCallOperation[] = ['InitiateConference', 'InitiateTransfer', 'SingleStepConference', 'SingleStepTransfer'];
const NON_DESTINATION_OPS = VOICE_CALL_OPERATIONS.filter((op) => !DESTINATION_OPS.includes(op) && isListedVoiceOperation(op));

// ---- The world: a Map of calls standing in for the store -------------------------------------
class World {
  readonly calls = new Map<string, Call>();

  /** As the store's presentCallsOf: calls not ended on which the DN is a present party. */
  presentCallsOf(dn: string): Call[] {
    return [...this.calls.values()].filter((call) => presentDns(call).includes(dn));
  }


  familyOf(call: Call): Call[] {
    return familyIn(this.calls, call);
  }

  /** What the engine hands `decideVoice` for a target call (nobody monitors here). */
  snapshot(callId: string): VoiceSnapshot {
    const call = this.calls.get(callId);
    return { call, family: call ? this.familyOf(call) : [], monitors: [] };
  }

  /** The context for this requester on this call, or the refusal that says there is none. */
  context(dn: string, callId: string): VoiceContext | Refusal {
    const { call, family } = this.snapshot(callId);
    return contextFor(call, family, actorOf(dn), callId, voiceWorld);
  }

  decide(dn: string, callId: string, body: Record<string, unknown>, env: VoiceEnv): VoiceChange | Refusal {
    return decideVoice(this.snapshot(callId), { actor: actorOf(dn), callId, operation: parseVoiceOperation(body) }, voiceWorld, env);
  }

  /** Writes an accepted change as the store would: only at the loaded version, then bumped. */
  apply(change: VoiceChange): void {
    for (const call of change.calls) {
      const stored = this.calls.get(call.id)?.version ?? 0;
      assert.equal(call.version, stored, `a change must carry the version it was loaded at (call ${call.id})`);
    }
    for (const call of change.calls) this.calls.set(call.id, bumped(call));
  }

  /** What a party's GWS view shows (as views/call.ts): their own state and who else is there. */
  viewOf(call: Call, dn: string): { state: string; participants: string[] } {
    const state = partyOf(call, dn)?.state ?? 'Released';
    return { state, participants: state === 'Released' ? [] : otherPresentDns(call, dn) };
  }
}

const describeCall = (call: Call): string =>
  `${call.id}[${call.parties.map((p) => `${p.dn}:${p.state}${p.mute === 'On' ? '(muted)' : ''}`).join(' ')}` +
  `${call.ownerDn ? ` owner=${call.ownerDn}` : ''}${call.parentCallId ? ` parent=${call.parentCallId}` : ''}` +
  `${call.endedAt !== null ? ' ENDED' : ''}]`;

const describeWorld = (world: World): string => [...world.calls.values()].map(describeCall).join('\n  ') || '(no calls)';

// ---- Steps -------------------------------------------------------------------------------------
/**
 * A step is either a Dial or an operation on a call. An operation step picks a lasting call and
 * one of its present parties (or, now and then, any user on any call, to exercise refusals), then
 * an operation: either named at random or picked among the actor's capabilities — mostly those
 * that change who is on the call, so that runs reach conferences within 25 steps.
 * `plausible` parameters name a DN not on the call as destination, another live party as
 * participant and the linked consultation as URI; otherwise they are drawn from every DN / call.
 */
type OpChoice =
  | { readonly named: VoiceCallOperation }
  | { readonly offered: number; readonly kind: 'any' | 'progressive' };

type Step =
  | { readonly kind: 'Dial'; readonly from: string; readonly to: string }
  | {
      readonly kind: 'Op';
      readonly call: number;
      /** Index into the call's present parties, its first ringing party, or any DN at all. */
      readonly who: { readonly party: number } | { readonly ringing: true } | { readonly anyone: string };
      readonly op: OpChoice;
      readonly plausible: boolean;
      /** Picks a destination / participant / URI among the candidates (see above). */
      readonly pick: number;
      readonly withUserData: boolean;
      readonly withUri: boolean;
    };

/** Operations that build calls up rather than tear them down: what guided steps prefer. */
const PROGRESSIVE_OPS: readonly VoiceCallOperation[] = [
  'Answer', 'Hold', 'Retrieve', 'InitiateConference', 'InitiateTransfer', 'CompleteConference', 'SingleStepConference',
  'SwapCalls', 'RemoveParticipantFromConference', 'MuteCall', 'UnmuteCall',
];

const dnArb = fc.constantFrom(...DNS);
/** An outside number: not a directory DN, and shaped like a phone number. */
const EXTERNAL = '+15550009999';
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('Dial' as const), from: dnArb, to: dnArb }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('Op' as const),
      call: fc.nat({ max: 7 }),
      who: fc.oneof(
        { weight: 3, arbitrary: fc.nat({ max: 3 }).map((party) => ({ party })) },
        { weight: 3, arbitrary: fc.constant({ ringing: true as const }) },
        { weight: 1, arbitrary: dnArb.map((anyone) => ({ anyone })) },
      ),
      op: fc.oneof(
        { weight: 1, arbitrary: fc.constantFrom(...VOICE_CALL_OPERATIONS).map((named): OpChoice => ({ named })) },
        { weight: 4, arbitrary: fc.nat({ max: 19 }).map((offered): OpChoice => ({ offered, kind: 'progressive' })) },
        { weight: 2, arbitrary: fc.nat({ max: 19 }).map((offered): OpChoice => ({ offered, kind: 'any' })) },
      ),
      plausible: fc.boolean(),
      pick: fc.nat({ max: 7 }),
      withUserData: fc.boolean(),
      withUri: fc.boolean(),
    }),
  },
);
const stepsArb = fc.array(stepArb, { minLength: 1, maxLength: 25, size: 'max' });

const at = <T>(items: readonly T[], index: number): T | undefined => items[index % Math.max(items.length, 1)];

/** The consultation linked to a call for a DN (parent ↔ consult), as the domain defines it. */
const linkedCallId = (world: World, dn: string, call: Call): string | undefined => {
  const mine = world.presentCallsOf(dn);
  if (call.parentCallId !== null) return mine.find((c) => c.id === call.parentCallId)?.id;
  return mine.find((c) => c.parentCallId === call.id)?.id;
};

/** The request body a step sends for an operation. */
const bodyFor = (world: World, op: VoiceCallOperation, step: Extract<Step, { kind: 'Op' }>, by: string, call: Call): Record<string, unknown> => {
  const body: Record<string, unknown> = { operationName: op };
  const absent = DNS.filter((dn) => !presentDns(call).includes(dn));
  const otherLive = call.parties.filter((p) => p.dn !== by && (p.state === 'Established' || p.state === 'Held')).map((p) => p.dn);
  const linked = linkedCallId(world, by, call);
  const otherIds = [...world.calls.keys()].filter((id) => id !== call.id);
  const dn = (step.plausible ? at(absent, step.pick) : undefined) ?? (at(DNS, step.pick) as string);
  const participant = (step.plausible ? at(otherLive, step.pick) : undefined) ?? (at(DNS, step.pick) as string);
  const uriId = step.plausible ? linked : at(otherIds, step.pick);
  const uri = step.withUri && uriId !== undefined ? CALL_URI_BASE + uriId : undefined;
  if (DESTINATION_OPS.includes(op)) {
    body['destination'] = { phoneNumber: dn };
    if (step.withUserData) body['userData'] = { k: 'v' };
  } else if (op === 'RemoveParticipantFromConference') body['participant'] = participant;
  else if (op === 'CompleteConference' || op === 'CompleteTransfer') {
    if (uri) body['consultCallUri'] = uri;
  } else if (op === 'SwapCalls') {
    if (uri) body['otherCallUri'] = uri;
  } else if (op === 'SendDtmf') body['digits'] = '12#';
  else if (op === 'AttachUserData' || op === 'UpdateUserData') body['userData'] = { k: 'v' };
  else if (op === 'DeleteUserDataPair') body['key'] = 'k';
  return body;
};

/**
 * Every plausible valid parameter set for an operation: each known DN (and an external number)
 * as destination, each known DN as participant (a superset of "every other live party"); CompleteConference, CompleteTransfer and
 * SwapCalls without a URI and with the URI of each other call in the world; and the fixed
 * parameters (digits '12#', userData {k:'v'}, key 'k') of the rest.
 */
const candidateBodies = (op: VoiceCallOperation, otherCallIds: readonly string[]): Record<string, unknown>[] => {
  const uris = otherCallIds.map((id) => CALL_URI_BASE + id);
  // An external number is always a destination too: it is never on a call it has not joined.
  if (DESTINATION_OPS.includes(op)) return [...DNS, EXTERNAL].map((phoneNumber) => ({ operationName: op, destination: { phoneNumber } }));
  switch (op) {
    case 'RemoveParticipantFromConference':
      return DNS.map((participant) => ({ operationName: op, participant }));
    case 'CompleteConference':
    case 'CompleteTransfer':
      return [{ operationName: op }, ...uris.map((consultCallUri) => ({ operationName: op, consultCallUri }))];
    case 'SwapCalls':
      return [{ operationName: op }, ...uris.map((otherCallUri) => ({ operationName: op, otherCallUri }))];
    case 'SendDtmf':
      return [{ operationName: op, digits: '12#' }];
    case 'AttachUserData':
    case 'UpdateUserData':
      return [{ operationName: op, userData: { k: 'v' } }];
    case 'DeleteUserDataPair':
      return [{ operationName: op, key: 'k' }];
    case 'SetCallDisposition':
      return [{ operationName: op, disposition: 'Done' }];
    default:
      return [{ operationName: op }];
  }
};

/** What a step did: its line for the trace, and the accepted operation if there was one. */
interface StepResult {
  readonly line: string;
  readonly accepted?: { readonly op: VoiceCallOperation; readonly by: string; readonly change: VoiceChange };
}

const runStep = (world: World, step: Step, env: VoiceEnv): StepResult => {
  if (step.kind === 'Dial') {
    const decision = decideDial(actorOf(step.from), parseDialOperation({ operationName: 'Dial', destination: { phoneNumber: step.to } }), directory, env);
    if (!decision.ok) return { line: `${step.from} Dial ${step.to} -> refused ${decision.statusCode}` };
    world.apply(decision);
    return { line: `${step.from} Dial ${step.to} -> ${decision.calls.map((c) => c.id).join(',')}` };
  }
  const lasting = [...world.calls.values()].filter((c) => c.endedAt === null);
  const call = at(lasting.length > 0 ? lasting : [...world.calls.values()], step.call);
  if (!call) return { line: '(no call to act on)' };
  const by =
    'anyone' in step.who
      ? step.who.anyone
      : 'ringing' in step.who
        ? (call.parties.find((p) => p.state === 'Ringing')?.dn ?? call.parties[0]?.dn ?? (DNS[0] as string))
        : (at(presentDns(call), step.who.party) ?? (DNS[0] as string));
  let op: VoiceCallOperation;
  if ('named' in step.op) op = step.op.named;
  else {
    const ctx = world.context(by, call.id);
    const offered = isRefusal(ctx) ? [] : voiceCapabilities(ctx);
    const progressive = offered.filter((o) => PROGRESSIVE_OPS.includes(o));
    op = at(step.op.kind === 'progressive' && progressive.length > 0 ? progressive : offered, step.op.offered) ?? 'Answer';
  }
  const body = bodyFor(world, op, step, by, call);
  const decision = world.decide(by, call.id, body, env);
  const line = `${by} ${JSON.stringify(body)} on ${call.id}`;
  if (!decision.ok) return { line: `${line} -> refused ${decision.statusCode}: ${decision.message}` };
  world.apply(decision);
  return { line: `${line} -> ok`, accepted: { op, by, change: decision } };
};

// ---- Checks ------------------------------------------------------------------------------------
class PropertyFailure extends Error {}

const fail = (what: string, world: World, trace: readonly string[]): never => {
  throw new PropertyFailure(`${what}\nworld:\n  ${describeWorld(world)}\ntrace:\n  ${trace.join('\n  ')}`);
};

/** A party never appears twice; ended ⇔ nobody present; a call that lasts has two present parties. */
const checkCallInvariants = (world: World, trace: readonly string[]): void => {
  for (const call of world.calls.values()) {
    const dns = call.parties.map((p) => p.dn);
    if (new Set(dns).size !== dns.length) fail(`call ${call.id} lists a party twice: ${dns.join(',')}`, world, trace);
    const present = presentParties(call).length;
    if (call.endedAt !== null && present > 0) fail(`ended call ${call.id} still has ${present} present parties`, world, trace);
    if (call.endedAt === null && present < 2) fail(`call ${call.id} has not ended but has ${present} present parties`, world, trace);
  }
};

/** If A sees B on call X, B has X among their calls and sees A; a call listed for A shows A present. */
const checkSymmetry = (world: World, trace: readonly string[]): void => {
  for (const a of DNS)
    for (const call of world.presentCallsOf(a)) {
      const aView = world.viewOf(call, a);
      if (aView.state === 'Released') fail(`${a} has call ${call.id} among their calls but sees themself Released on it`, world, trace);
      for (const b of aView.participants) {
        const bView = world.viewOf(call, b);
        if (!world.presentCallsOf(b).some((c) => c.id === call.id) || !bView.participants.includes(a))
          fail(`${a} sees ${b} on ${call.id}, but ${b} sees ${JSON.stringify(bView)}`, world, trace);
      }
    }
};

/**
 * For every user, every call they are present on, every operation: listed in capabilities
 * exactly when some valid parameters are accepted.
 */
const checkCapabilities = (world: World, trace: readonly string[], ops: readonly VoiceCallOperation[]): void => {
  const probe: VoiceEnv = { now: NOW, newCallId: () => 'PROBECALL', newConnId: () => 'PROBECONN' };
  for (const dn of DNS)
    for (const call of world.presentCallsOf(dn)) {
      const ctx = world.context(dn, call.id);
      if (isRefusal(ctx)) return fail(`${dn} is present on ${call.id} but gets no context: ${ctx.message}`, world, trace);
      const listed = new Set(voiceCapabilities(ctx));
      const otherIds = [...world.calls.keys()].filter((id) => id !== call.id);
      for (const op of ops) {
        const outcomes = candidateBodies(op, otherIds).map((body) => ({ body, decision: world.decide(dn, call.id, body, probe) }));
        const accepted = outcomes.some((o) => o.decision.ok);
        if (listed.has(op) !== accepted) {
          const why = outcomes.map((o) => `${JSON.stringify(o.body)} -> ${o.decision.ok ? 'ok' : `${o.decision.statusCode} ${o.decision.message}`}`);
          fail(
            `${dn} on ${call.id}: ${op} is ${listed.has(op) ? '' : 'NOT '}in capabilities but decideVoice ${accepted ? 'accepts' : 'refuses'} it\n  ${why.join('\n  ')}`,
            world,
            trace,
          );
        }
      }
    }
};

/** After CompleteConference: the consult call is over and every present party of the parent is on it. */
const checkCompletedConference = (world: World, trace: readonly string[], last: StepResult): void => {
  if (last.accepted?.op !== 'CompleteConference') return;
  const { by, change } = last.accepted;
  const consult = change.calls.find((c) => c.callType === 'Consult');
  const parent = change.calls.find((c) => c !== consult);
  if (!consult || !parent) return fail(`CompleteConference did not change a consult call and its parent`, world, trace);
  if (world.calls.get(consult.id)?.endedAt === null) fail(`consult call ${consult.id} still lasts after CompleteConference`, world, trace);
  const stored = world.calls.get(parent.id) as Call;
  if (stored.ownerDn !== by) fail(`the completer ${by} is not the owner of ${parent.id}`, world, trace);
  const present = presentParties(stored).map((p) => p.dn);
  for (const dn of present) {
    if (!world.presentCallsOf(dn).some((c) => c.id === parent.id)) fail(`${dn} is present on ${parent.id} but does not have it`, world, trace);
    const view = world.viewOf(stored, dn);
    const others = present.filter((d) => d !== dn);
    if (view.state === 'Released' || [...view.participants].sort().join() !== [...others].sort().join())
      fail(`after CompleteConference ${dn} sees ${JSON.stringify(view)} on ${parent.id}, expected participants ${others}`, world, trace);
  }
};

type Check = (world: World, trace: readonly string[], last: StepResult) => void;

/** Drives a sequence, running `check` after every step; the trace goes into any failure. */
const drive = (steps: readonly Step[], check: Check): void => {
  const world = new World();
  const env = counterEnv('');
  const trace: string[] = [];
  for (const step of steps) {
    let result: StepResult;
    try {
      result = runStep(world, step, env);
    } catch (error) {
      // The store-like version check in World.apply: add the trace.
      if (error instanceof assert.AssertionError) fail(error.message, world, [...trace, `(failing step) ${JSON.stringify(step)}`]);
      throw error;
    }
    trace.push(result.line);
    check(world, trace, result);
  }
};

/**
 * Sequences are ≤ 25 steps. The capability checks try every operation with every candidate after
 * every step, so they get 200 runs; the cheap structural checks get more, since the sequences
 * that break them (a conference after a transfer) are rarer.
 */
const CAPABILITY_RUNS = 200;
const STRUCTURAL_RUNS = 800;
const property = (check: Check, numRuns: number) =>
  fc.assert(
    fc.property(stepsArb, (steps) => drive(steps, check)),
    { numRuns, includeErrorInReport: true },
  );

/** Replays a fixed script (a Dial has no target call); refusals are recorded, not fatal. */
type ScriptLine = readonly [by: string, callId: string | null, body: Record<string, unknown>];
const replay = (script: readonly ScriptLine[]): { world: World; trace: string[] } => {
  const world = new World();
  const env = counterEnv('');
  const trace: string[] = [];
  for (const [by, callId, body] of script) {
    const decision = callId === null ? decideDial(actorOf(by), parseDialOperation(body), directory, env) : world.decide(by, callId, body, env);
    trace.push(`${by} ${JSON.stringify(body)}${callId ? ` on ${callId}` : ''} -> ${decision.ok ? 'ok' : `refused ${decision.statusCode}: ${decision.message}`}`);
    if (decision.ok) world.apply(decision);
  }
  return { world, trace };
};

const checkEverything = (world: World, trace: readonly string[]): void => {
  checkCallInvariants(world, trace);
  checkSymmetry(world, trace);
  // SetCallDisposition is accepted but never listed (docs/fidelity.md): it is not checked here.
  checkCapabilities(world, trace, VOICE_CALL_OPERATIONS.filter(isListedVoiceOperation));
};

const dial = (from: string, to: string): ScriptLine => [from, null, { operationName: 'Dial', destination: { phoneNumber: to } }];
const op = (by: string, callId: string, operationName: VoiceCallOperation, params: Record<string, unknown> = {}): ScriptLine => [
  by,
  callId,
  { operationName, ...params },
];
const to = (phoneNumber: string) => ({ destination: { phoneNumber } });

describe('voice capabilities and call invariants (property, pure domain)', () => {
  it('a party never appears twice; an ended call has nobody present; a lasting call has two present parties', () => {
    property(checkCallInvariants, STRUCTURAL_RUNS);
  });

  it('participants are symmetric: if A sees B on a call, B has that call and sees A', () => {
    property(checkSymmetry, STRUCTURAL_RUNS);
  });

  it('after CompleteConference every present party of the parent has it, with the others as participants', () => {
    property(checkCompletedConference, STRUCTURAL_RUNS);
  });

  it('capabilities list exactly the accepted operations (operations without a destination)', () => {
    property((world, trace) => checkCapabilities(world, trace, NON_DESTINATION_OPS), CAPABILITY_RUNS);
  });

  it('capabilities list exactly the accepted operations (destination operations, every known DN and an external number tried)', () => {
    property((world, trace) => checkCapabilities(world, trace, DESTINATION_OPS), CAPABILITY_RUNS);
  });
});

/** The shrunk counterexamples the properties found, replayed as fixed regression scenarios. */
describe('voice model: replayed counterexamples', () => {
  it('a party transferred away and conferenced back in is one party again, and can answer', () => {
    const { world, trace } = replay([
      dial('15000', '15001'),
      op('15001', 'CALL1', 'Answer'),
      op('15000', 'CALL1', 'SingleStepTransfer', to('15002')),
      op('15001', 'CALL1', 'SingleStepConference', to('15000')),
    ]);
    const answer = world.decide('15000', 'CALL1', { operationName: 'Answer' }, counterEnv('X'));
    assert.ok(answer.ok, `15000, rung back in, cannot answer: ${answer.ok ? '' : answer.message}\n  ${trace.join('\n  ')}`);
    checkEverything(world, trace);
  });

  it('a DN already ringing on the parent is not joined a second time by CompleteConference', () => {
    const { world, trace } = replay([
      dial('15003', '15000'),
      op('15000', 'CALL1', 'Answer'),
      op('15003', 'CALL1', 'InitiateConference', to('15001')),
      op('15003', 'CALL1', 'SingleStepConference', to('15001')),
      op('15001', 'CALL2', 'Answer'),
      op('15003', 'CALL1', 'CompleteConference'),
    ]);
    checkEverything(world, trace);
  });

  it('a party transferred away and consulted back in sees the completed conference', () => {
    const { world, trace } = replay([
      dial('15003', '15000'),
      op('15000', 'CALL1', 'Answer'),
      op('15003', 'CALL1', 'SingleStepTransfer', to('15001')),
      op('15001', 'CALL1', 'Answer'),
      op('15001', 'CALL1', 'InitiateConference', to('15003')),
      op('15003', 'CALL2', 'Answer'),
      op('15001', 'CALL1', 'CompleteConference'),
    ]);
    const view = world.viewOf(world.calls.get('CALL1') as Call, '15003');
    assert.deepEqual(view, { state: 'Established', participants: ['15000', '15001'] }, `15003's view of CALL1\n  ${trace.join('\n  ')}\n  ${describeWorld(world)}`);
    checkEverything(world, trace);
  });

  it('destination operations stay offered when every known DN is on the call: an external number is still free', () => {
    const { world, trace } = replay([
      dial('15000', '15003'),
      op('15003', 'CALL1', 'Answer'),
      op('15000', 'CALL1', 'SingleStepConference', to('15002')),
      op('15003', 'CALL1', 'SingleStepConference', to('15001')),
    ]);
    checkEverything(world, trace);
  });
});
