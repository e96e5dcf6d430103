/**
 * Model-based tests (fast-check `fc.commands` / `fc.modelRun`) of the PURE voice and chat domains
 * against small reference models. No server, no store: the "real" system is a Map of calls (or
 * one chat) written exactly as the store writes accepted changes (version checked, then bumped).
 *
 * Voice: the model is, per lasting call, the map DN → party state of its present parties, its
 * owner, its parent (consultation) and whether it is a consultation; a DN's calls are derived
 * from it. Commands: Dial, Answer, Hangup, Hold, Retrieve, SingleStepConference,
 * InitiateConference, CompleteConference, RemoveParticipantFromConference — each drawn among
 * the attempts the model says are valid (its precondition) — plus a Probe that makes any
 * attempt, valid or not, and a Restart that round-trips the Map through JSON. After every
 * command:
 *  - the real acceptance equals the model's prediction;
 *  - capabilities ⇔ acceptance for the operation just run: it is listed exactly when the model
 *    says some parameters would be accepted, and an accepted operation was listed;
 *  - no DN twice on a call; the present parties, their states, parent links and owner agree
 *    with the model; participants are symmetric; a DN's calls are the model's;
 *  - after CompleteConference, completer and consulted party are on the parent only;
 *  - Restart loses nothing: same JSON, same capabilities for every party afterwards.
 *
 * Chat (smaller): one chat, four agents (three with a chat session), routing with
 * offerToAgent, the agent operations through decideChat (Accept, Reject, SendMessage,
 * SendToAgents, Invite, Consult, Transfer, Leave, Complete, RemoveParticipantFromConference),
 * the customer's send/disconnect, and a JSON restart. Core invariants, checked after every
 * command: message indexes are 1..n; an agent appears once; the participants the customer sees
 * are visible to All; states, visibilities and message visibilities agree with the model;
 * capabilities ⇔ acceptance for the operation just run, and every agent's capabilities (without
 * a target) are exactly the operations the model accepts. Reported separately, each with its
 * own property and the shrunk counterexamples replayed as fixed scenarios:
 *  - every message keeps its author (the customer or an agent of the chat);
 *  - the customer sees only messages from the customer or from agents visible to All;
 *  - targeted operations are listed exactly when some target would be accepted (the contract's
 *    "listed exactly when accepted", read strictly).
 *
 * Runtime: ~2–3 s by default. CONCLAVE_LONG_TESTS=1 runs ten times as many sequences, each up to
 * twice as long (~20 s).
 */
import { familyIn } from '../helpers/voice-family.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FEATURES, type Actor } from '../../src/domain/actor.js';
import { isRefusal, type Refusal } from '../../src/domain/refusals.js';
import { gwsRefs } from '../../src/api/gws/resource-ids.js';
import { parseDialOperation, parseVoiceOperation } from '../../src/domain/voice/commands.js';
import { contextFor, decideVoice, voiceCapabilities, type VoiceSnapshot, type VoiceWorld } from '../../src/domain/voice/decide.js';
import { decideDial } from '../../src/domain/voice/dial.js';
import { otherPresentDns, presentParties, type Call } from '../../src/domain/voice/model.js';
import type { DnDirectory, VoiceChange, VoiceEnv } from '../../src/domain/voice/operations.js';
import { parseChatOperation, parseCustomerSend, parseStartChat } from '../../src/domain/chat/commands.js';
import { chatCapabilities, chatContextFor, decideChat, type ChatWorld } from '../../src/domain/chat/decide.js';
import { customerDisconnect, customerSend, startChat } from '../../src/domain/chat/customer.js';
import { visibleParticipants } from '../../src/domain/chat/events.js';
import { visibleTo, type Chat, type Visibility } from '../../src/domain/chat/model.js';
import type { ChatDirectory, ChatEnv, ChatOperation } from '../../src/domain/chat/operations.js';
import { offerToAgent, pickAgent } from '../../src/domain/chat/routing.js';
import { bumped, presentDns } from '../../src/store/port.js';

const LONG = process.env['CONCLAVE_LONG_TESTS'] === '1';
const NOW = 1_700_000_000_000;

// =================================================================================================
// Voice
// =================================================================================================

const DNS = ['15000', '15001', '15002', '15003', '15004'] as const;
const EXTERNAL = '+15550009999';
const dnDirectory: DnDirectory = { isKnownDn: (dn) => (DNS as readonly string[]).includes(dn), dnCount: () => DNS.length };
const voiceWorld: VoiceWorld = { directory: dnDirectory, refs: gwsRefs };
const voiceActor = (dn: string): Actor & { dn: string } => ({
  userId: `user-${dn}`,
  userName: `agent${dn}`,
  dn,
  roles: ['ROLE_AGENT'],
  features: [...FEATURES],
});

const VOICE_OPS = [
  'Answer',
  'Hangup',
  'Hold',
  'Retrieve',
  'SingleStepConference',
  'InitiateConference',
  'CompleteConference',
  'RemoveParticipantFromConference',
] as const;
type VoiceOp = (typeof VOICE_OPS)[number];

type PartyState = 'Dialing' | 'Ringing' | 'Established' | 'Held';
interface ModelCall {
  readonly id: string;
  /** The present parties and their states. */
  readonly parties: Map<string, PartyState>;
  owner: string | null;
  readonly parent: string | null;
  readonly consult: boolean;
}
interface VoiceModel {
  /** Lasting calls only; an ended call is removed. */
  readonly calls: Map<string, ModelCall>;
  readonly ended: Set<string>;
  seq: number;
}

/** The real system: the calls as the store keeps them. */
class VoiceReal {
  calls = new Map<string, Call>();
  private seq = 0;
  readonly trace: string[] = [];
  readonly env: VoiceEnv = { now: NOW, newCallId: () => `CALL${++this.seq}`, newConnId: () => `CONN${this.seq}` };

  presentCallsOf(dn: string): Call[] {
    return [...this.calls.values()].filter((c) => presentDns(c).includes(dn));
  }
  familyOf(call: Call): Call[] {
    return familyIn(this.calls, call);
  }
  /** What the engine hands `decideVoice` for a target call (nobody monitors here). */
  snapshot(callId: string): VoiceSnapshot {
    const call = this.calls.get(callId);
    return { call, family: call ? this.familyOf(call) : [], monitors: [] };
  }
  capabilities(dn: string, callId: string): string[] | null {
    const { call, family } = this.snapshot(callId);
    const ctx = contextFor(call, family, voiceActor(dn), callId, voiceWorld);
    return isRefusal(ctx) ? null : voiceCapabilities(ctx);
  }
  apply(change: VoiceChange): void {
    for (const call of change.calls)
      assert.equal(call.version, this.calls.get(call.id)?.version ?? 0, `a change carries the version it was loaded at (${call.id})`);
    for (const call of change.calls) this.calls.set(call.id, bumped(call));
  }
  describe(): string {
    return (
      [...this.calls.values()]
        .map(
          (c) =>
            `${c.id}[${c.parties.map((p) => `${p.dn}:${p.state}`).join(' ')}${c.ownerDn ? ` owner=${c.ownerDn}` : ''}` +
            `${c.parentCallId ? ` parent=${c.parentCallId}` : ''}${c.endedAt !== null ? ' ENDED' : ''}]`,
        )
        .join(' ') || '(no calls)'
    );
  }
}

const callNumber = (id: string) => Number(id.replace(/\D/g, ''));
const byNumber = (a: string, b: string) => callNumber(a) - callNumber(b);
const isLiveState = (s: PartyState | undefined) => s === 'Established' || s === 'Held';

/** The consultation linked to a call for a DN (parent ↔ consult), both lasting and with the DN present. */
const linkedIn = (m: VoiceModel, call: ModelCall, dn: string): ModelCall | undefined => {
  if (call.parent !== null) {
    const parent = m.calls.get(call.parent);
    return parent && parent.parties.has(dn) ? parent : undefined;
  }
  for (const other of m.calls.values()) if (other.parent === call.id && other.parties.has(dn)) return other;
  return undefined;
};

/** The (parent, consult, consulted DN) that CompleteConference would join, or undefined. */
const completion = (m: VoiceModel, call: ModelCall, dn: string): { parent: ModelCall; consult: ModelCall; consulted: string } | undefined => {
  const other = linkedIn(m, call, dn);
  if (!other) return undefined;
  const [parent, consult] = call.parent !== null ? [other, call] : [call, other];
  if (!isLiveState(parent.parties.get(dn))) return undefined;
  const consulted = [...consult.parties.keys()].find((d) => d !== dn);
  if (consulted === undefined || consult.parties.get(consulted) !== 'Established') return undefined;
  if (parent.parties.has(consulted)) return undefined;
  return { parent, consult, consulted };
};

interface Attempt {
  readonly dn: string;
  readonly callId: string;
  readonly op: VoiceOp;
  readonly body: Readonly<Record<string, unknown>>;
}

const bodiesFor = (op: VoiceOp): Record<string, unknown>[] => {
  // An external number is a destination too (it rings, and never answers: nobody acts for it here).
  if (op === 'SingleStepConference' || op === 'InitiateConference')
    return [...DNS, EXTERNAL].map((phoneNumber) => ({ operationName: op, destination: { phoneNumber } }));
  if (op === 'RemoveParticipantFromConference') return DNS.map((participant) => ({ operationName: op, participant }));
  return [{ operationName: op }];
};

/** The model's prediction: is this attempt accepted? */
const predictVoice = (m: VoiceModel, a: Attempt): boolean => {
  const call = m.calls.get(a.callId);
  const state = call?.parties.get(a.dn);
  if (!call || !state) return false;
  const connected = state === 'Established' || state === 'Held';
  switch (a.op) {
    case 'Answer':
      return state === 'Ringing';
    case 'Hangup':
      return true;
    case 'Hold':
      return state === 'Established';
    case 'Retrieve':
      return state === 'Held' && linkedIn(m, call, a.dn)?.parties.get(a.dn) !== 'Established';
    case 'SingleStepConference':
    case 'InitiateConference': {
      const dest = (a.body['destination'] as { phoneNumber: string }).phoneNumber;
      if (!connected || call.consult || dest === a.dn || call.parties.has(dest)) return false;
      return a.op === 'SingleStepConference' || linkedIn(m, call, a.dn) === undefined;
    }
    case 'CompleteConference':
      return connected && completion(m, call, a.dn) !== undefined;
    case 'RemoveParticipantFromConference': {
      const target = a.body['participant'] as string;
      const live = [...call.parties.values()].filter(isLiveState).length;
      return state === 'Established' && call.owner === a.dn && live >= 3 && target !== a.dn && isLiveState(call.parties.get(target));
    }
  }
};

/** Applies an accepted attempt to the model. */
const applyVoice = (m: VoiceModel, a: Attempt): void => {
  const call = m.calls.get(a.callId) as ModelCall;
  const end = (c: ModelCall) => {
    m.calls.delete(c.id);
    m.ended.add(c.id);
  };
  const release = (c: ModelCall, dn: string) => {
    c.parties.delete(dn);
    if (c.owner === dn) c.owner = null;
    if (c.parties.size < 2) end(c);
  };
  switch (a.op) {
    case 'Answer':
      call.parties.set(a.dn, 'Established');
      for (const [dn, s] of call.parties) if (s === 'Dialing') call.parties.set(dn, 'Established');
      return;
    case 'Hangup':
      return release(call, a.dn);
    case 'Hold':
      call.parties.set(a.dn, 'Held');
      return;
    case 'Retrieve':
      call.parties.set(a.dn, 'Established');
      return;
    case 'SingleStepConference':
      call.parties.set((a.body['destination'] as { phoneNumber: string }).phoneNumber, 'Ringing');
      call.owner = a.dn;
      return;
    case 'InitiateConference': {
      call.parties.set(a.dn, 'Held');
      const id = `CALL${++m.seq}`;
      const dest = (a.body['destination'] as { phoneNumber: string }).phoneNumber;
      m.calls.set(id, { id, parties: new Map([[a.dn, 'Dialing'], [dest, 'Ringing']]), owner: null, parent: call.id, consult: true });
      return;
    }
    case 'CompleteConference': {
      const { parent, consult, consulted } = completion(m, call, a.dn) as NonNullable<ReturnType<typeof completion>>;
      end(consult);
      parent.parties.set(a.dn, 'Established');
      parent.parties.set(consulted, 'Established');
      parent.owner = a.dn;
      return;
    }
    case 'RemoveParticipantFromConference':
      return release(call, a.body['participant'] as string);
  }
};

/** Every attempt of an operation on every lasting call by every present party, in a stable order. */
const attemptsOf = (m: VoiceModel, op: VoiceOp): Attempt[] =>
  [...m.calls.keys()].sort(byNumber).flatMap((callId) => {
    const call = m.calls.get(callId) as ModelCall;
    return [...call.parties.keys()].sort().flatMap((dn) => bodiesFor(op).map((body) => ({ dn, callId, op, body })));
  });

// ---- Checks after every command ----------------------------------------------------------------
const voiceFail = (what: string, r: VoiceReal): never =>
  assert.fail(`${what}\n  state: ${r.describe()}\n  trace:\n    ${r.trace.join('\n    ')}`);

const checkVoiceInvariants = (m: VoiceModel, r: VoiceReal): void => {
  for (const call of r.calls.values()) {
    const dns = call.parties.map((p) => p.dn);
    if (new Set(dns).size !== dns.length) voiceFail(`call ${call.id} lists a DN twice: ${dns.join(',')}`, r);
    if (!m.calls.has(call.id) && call.endedAt === null) voiceFail(`call ${call.id} lasts but the model has it ended or unknown`, r);
  }
  for (const mc of m.calls.values()) {
    const call = r.calls.get(mc.id);
    if (!call || call.endedAt !== null) return voiceFail(`the model has ${mc.id} lasting, the real one ${call ? 'ended' : 'does not exist'}`, r);
    const real = Object.fromEntries(presentParties(call).map((p) => [p.dn, p.state]));
    const model = Object.fromEntries(mc.parties);
    try {
      assert.deepEqual(real, model);
    } catch {
      voiceFail(`present parties of ${mc.id}: real ${JSON.stringify(real)}, model ${JSON.stringify(model)}`, r);
    }
    if (call.parentCallId !== mc.parent) voiceFail(`${mc.id}: parent ${call.parentCallId}, model ${mc.parent}`, r);
    if ((call.callType === 'Consult') !== mc.consult) voiceFail(`${mc.id}: callType ${call.callType}, model consult=${mc.consult}`, r);
    // The owner: while the real owner is on the call, it is the model's owner.
    if (call.ownerDn !== null && mc.parties.has(call.ownerDn) && call.ownerDn !== mc.owner)
      voiceFail(`${mc.id}: owner ${call.ownerDn}, model ${mc.owner}`, r);
    if (mc.owner !== null && call.ownerDn !== mc.owner) voiceFail(`${mc.id}: owner ${call.ownerDn}, model ${mc.owner}`, r);
  }
  for (const dn of DNS) {
    const real = r.presentCallsOf(dn).map((c) => c.id).sort(byNumber);
    const model = [...m.calls.values()].filter((c) => c.parties.has(dn)).map((c) => c.id).sort(byNumber);
    if (real.join() !== model.join()) voiceFail(`${dn}'s calls: real ${real}, model ${model}`, r);
    // Participants are symmetric: if dn sees b on a call, b has the call and sees dn.
    for (const call of r.presentCallsOf(dn))
      for (const b of otherPresentDns(call, dn))
        if (!r.presentCallsOf(b).some((c) => c.id === call.id) || !otherPresentDns(call, b).includes(dn))
          voiceFail(`${dn} sees ${b} on ${call.id} but ${b} does not see ${dn}`, r);
  }
};

// ---- Commands ----------------------------------------------------------------------------------
type VoiceCommand = fc.Command<VoiceModel, VoiceReal>;

/** How many times each operation was accepted: a guard against a vacuous run. */
const voiceCoverage = new Map<string, number>();

/** Runs one attempt on both sides and checks acceptance and capabilities against the model. */
const runAttempt = (m: VoiceModel, r: VoiceReal, a: Attempt): void => {
  const listedBefore = r.capabilities(a.dn, a.callId);
  const predicted = predictVoice(m, a);
  // There is always an external number not yet on the call: possibility tries one too.
  const onCall = m.calls.get(a.callId)?.parties ?? new Map();
  let fresh = 0;
  while (onCall.has(`+1555000${fresh}`)) fresh++;
  const extra = a.op === 'SingleStepConference' || a.op === 'InitiateConference' ? [{ operationName: a.op, destination: { phoneNumber: `+1555000${fresh}` } }] : [];
  const possible = [...bodiesFor(a.op), ...extra].some((body) => predictVoice(m, { ...a, body }));
  const decision = decideVoice(r.snapshot(a.callId), { actor: voiceActor(a.dn), callId: a.callId, operation: parseVoiceOperation(a.body) }, voiceWorld, r.env);
  const line = `${a.dn} ${JSON.stringify(a.body)} on ${a.callId} -> ${decision.ok ? 'ok' : `refused ${(decision as Refusal).statusCode}: ${(decision as Refusal).message}`}`;
  r.trace.push(line);
  if (decision.ok !== predicted) voiceFail(`the model predicted ${predicted ? 'acceptance' : 'a refusal'}: ${line}`, r);
  const listed = listedBefore?.includes(a.op) ?? false;
  if (decision.ok && !listed) voiceFail(`accepted but not in capabilities ${JSON.stringify(listedBefore)}: ${line}`, r);
  if (listed !== possible)
    voiceFail(`${a.op} is ${listed ? '' : 'NOT '}in ${a.dn}'s capabilities on ${a.callId} but the model says it is ${possible ? '' : 'not '}possible`, r);
  if (!decision.ok) return;
  voiceCoverage.set(a.op, (voiceCoverage.get(a.op) ?? 0) + 1);
  r.apply(decision);
  applyVoice(m, a);
  if (a.op === 'CompleteConference') {
    const parentId = r.calls.get(a.callId)?.parentCallId ?? a.callId;
    const consultId = [...(decision as VoiceChange).calls].find((c) => c.callType === 'Consult')?.id;
    const parent = m.calls.get(parentId);
    for (const dn of parent ? [...parent.parties.keys()] : []) {
      const mine = r.presentCallsOf(dn).map((c) => c.id);
      if (!mine.includes(parentId) || (consultId !== undefined && mine.includes(consultId)))
        voiceFail(`after CompleteConference ${dn} has calls ${mine}; expected the parent ${parentId} and not the consult ${consultId}`, r);
    }
  }
  checkVoiceInvariants(m, r);
};

class DialCommand implements VoiceCommand {
  constructor(
    readonly from: number,
    readonly to: number,
  ) {}
  check = () => true;
  run(m: VoiceModel, r: VoiceReal): void {
    const from = DNS[this.from % DNS.length] as string;
    const to = DNS[this.to % DNS.length] as string;
    const decision = decideDial(voiceActor(from), parseDialOperation({ operationName: 'Dial', destination: { phoneNumber: to } }), dnDirectory, r.env);
    r.trace.push(`${from} Dial ${to} -> ${decision.ok ? decision.calls.map((c) => c.id).join() : `refused ${decision.statusCode}`}`);
    if (decision.ok !== (from !== to)) voiceFail(`Dial ${from} -> ${to}: ${decision.ok ? 'accepted' : 'refused'}`, r);
    if (!decision.ok) return;
    r.apply(decision);
    const id = `CALL${++m.seq}`;
    if (decision.calls[0]?.id !== id) voiceFail(`Dial created ${decision.calls[0]?.id}, the model expected ${id}`, r);
    m.calls.set(id, { id, parties: new Map([[from, 'Dialing'], [to, 'Ringing']]), owner: null, parent: null, consult: false });
    checkVoiceInvariants(m, r);
  }
  toString = () => `Dial(${DNS[this.from % DNS.length]}→${DNS[this.to % DNS.length]})`;
}

/** A valid attempt of one operation: drawn among those the model says are accepted. */
class ValidOpCommand implements VoiceCommand {
  constructor(
    readonly op: VoiceOp,
    readonly pick: number,
  ) {}
  private choose(m: VoiceModel): Attempt | undefined {
    const valid = attemptsOf(m, this.op).filter((a) => predictVoice(m, a));
    return valid[this.pick % Math.max(valid.length, 1)];
  }
  check = (m: Readonly<VoiceModel>) => this.choose(m as VoiceModel) !== undefined;
  run(m: VoiceModel, r: VoiceReal): void {
    const a = this.choose(m) as Attempt;
    runAttempt(m, r, a);
  }
  toString = () => `${this.op}#${this.pick}`;
}

/** Any attempt at all (most are refused): the model must predict which. */
class ProbeCommand implements VoiceCommand {
  constructor(
    readonly dn: number,
    readonly call: number,
    readonly op: number,
    readonly body: number,
  ) {}
  check = () => true;
  run(m: VoiceModel, r: VoiceReal): void {
    const ids = [...r.calls.keys()].sort(byNumber);
    const callId = ids.length > 0 ? (ids[this.call % ids.length] as string) : 'CALL999';
    const op = VOICE_OPS[this.op % VOICE_OPS.length] as VoiceOp;
    const bodies = bodiesFor(op);
    const a: Attempt = { dn: DNS[this.dn % DNS.length] as string, callId, op, body: bodies[this.body % bodies.length] as Record<string, unknown> };
    runAttempt(m, r, a);
  }
  toString = () => `Probe(${this.dn},${this.call},${this.op},${this.body})`;
}

/** Serializes the calls to JSON and reads them back, as a restart over the store would. */
class VoiceRestartCommand implements VoiceCommand {
  check = () => true;
  run(m: VoiceModel, r: VoiceReal): void {
    const capabilitiesOf = () =>
      DNS.flatMap((dn) => r.presentCallsOf(dn).map((c) => `${dn}@${c.id}:${(r.capabilities(dn, c.id) ?? []).join(',')}`));
    const before = JSON.stringify([...r.calls]);
    const caps = capabilitiesOf();
    r.calls = new Map(JSON.parse(before) as [string, Call][]);
    r.trace.push('(restart)');
    if (JSON.stringify([...r.calls]) !== before) voiceFail('the calls differ after a JSON round trip', r);
    assert.deepEqual(capabilitiesOf(), caps, 'every party has the same capabilities after a restart');
    checkVoiceInvariants(m, r);
  }
  toString = () => 'Restart';
}

const pickArb = fc.nat({ max: 50 });
const voiceCommandArbs = [
  fc.tuple(fc.nat({ max: 4 }), fc.nat({ max: 4 })).map(([from, to]) => new DialCommand(from, to) as VoiceCommand),
  ...VOICE_OPS.map((op) => pickArb.map((pick) => new ValidOpCommand(op, pick) as VoiceCommand)),
  ...VOICE_OPS.filter((op) => op === 'SingleStepConference' || op === 'InitiateConference' || op === 'CompleteConference' || op === 'Answer').map((op) =>
    pickArb.map((pick) => new ValidOpCommand(op, pick) as VoiceCommand),
  ),
  fc.tuple(fc.nat({ max: 4 }), fc.nat({ max: 20 }), fc.nat({ max: 7 }), fc.nat({ max: 4 })).map(([d, c, o, b]) => new ProbeCommand(d, c, o, b) as VoiceCommand),
  fc.constant(new VoiceRestartCommand() as VoiceCommand),
];

const voiceSetup = () => ({ model: { calls: new Map(), ended: new Set(), seq: 0 } as VoiceModel, real: new VoiceReal() });

describe('voice state machine against a reference model (fc.commands, pure domain)', () => {
  it('acceptance, capabilities, parties and restarts agree with the model', () => {
    fc.assert(
      fc.property(fc.commands(voiceCommandArbs, { maxCommands: LONG ? 80 : 40, size: 'max' }), (commands) => fc.modelRun(voiceSetup, commands)),
      { numRuns: LONG ? 3000 : 300, includeErrorInReport: true },
    );
    for (const op of VOICE_OPS) assert.ok((voiceCoverage.get(op) ?? 0) > 0, `the runs accepted ${op} at least once: ${JSON.stringify([...voiceCoverage])}`);
  });
});

// =================================================================================================
// Chat
// =================================================================================================

const hexId = (n: number) => n.toString(16).padStart(32, '0');
const AGENTS = [hexId(1), hexId(2), hexId(3), hexId(4)] as const;
/** Known to the directory, but not a chat agent (no api-multimedia). */
const NOT_AGENT = hexId(5);
const TARGETS = [...AGENTS, NOT_AGENT];
const WITH_SESSION = new Set([AGENTS[0], AGENTS[1], AGENTS[2]] as string[]);
const chatDirectory: ChatDirectory = {
  chatUser: (id) => ((AGENTS as readonly string[]).includes(id) ? { id, nickname: `nick-${id.slice(-1)}` } : undefined),
};
/** What the engine hands the chat domain: the directory, who has a chat session, the URI reader. */
const chatWorld: ChatWorld = { directory: chatDirectory, chatSessions: WITH_SESSION, userIdOf: gwsRefs.userIdOf };
const chatActor = (userId: string): Actor => ({ userId, userName: `user-${userId.slice(-1)}`, dn: null, roles: ['ROLE_AGENT'], features: [...FEATURES] });
const short = (userId: string) => `u${userId.slice(-1)}`;

const CHAT_OPS = [
  'Accept',
  'Reject',
  'SendMessage',
  'SendToAgents',
  'Invite',
  'Consult',
  'Transfer',
  'Leave',
  'Complete',
  'RemoveParticipantFromConference',
] as const satisfies readonly ChatOperation[];
type ChatOp = (typeof CHAT_OPS)[number];
const TARGETED: ReadonlySet<ChatOp> = new Set(['Invite', 'Consult', 'Transfer', 'RemoveParticipantFromConference']);

type AgentState = 'Invited' | 'Chatting' | 'LeftChat' | 'Completed';
interface ChatModel {
  readonly agents: Map<string, { state: AgentState; visibility: Visibility }>;
  /** The visibility of each message, in order. */
  readonly messages: Visibility[];
  connected: boolean;
  ended: boolean;
  readonly rejected: Set<string>;
}

class ChatReal {
  chat: Chat;
  constructor(readonly checks: ChatChecks) {
    const params = parseStartChat({ nickname: 'pat' });
    assert.ok(!isRefusal(params), 'the customer starts a chat');
    this.chat = startChat('svc', params, { chatId: 'CHAT1', participantId: 'P0', userId: 'CU', secureKey: 'K', alias: '1' }, NOW);
  }
  private seq = 0;
  readonly trace: string[] = [];
  readonly env: ChatEnv = { now: NOW, newParticipantId: () => `P${++this.seq}` };
  /** Writes a change as the store would. */
  commit(next: Chat): void {
    assert.equal(next.version, this.chat.version, 'a change carries the version it was loaded at');
    this.chat = next === this.chat ? next : bumped(next);
  }
  describe(): string {
    const c = this.chat;
    return `agents[${c.agents.map((a) => `${short(a.userId)}:${a.state}/${a.visibility}`).join(' ')}] messages=${c.messages.length} customer=${c.customer.connected ? 'in' : 'gone'}${c.endedAt !== null ? ' ENDED' : ''}`;
  }
}

const engaged = (s: AgentState) => s === 'Invited' || s === 'Chatting';
/** In this model only Consult makes an agent visible to agents only. */
const isConsultantModel = (a: { state: AgentState; visibility: Visibility }) => a.state === 'Chatting' && a.visibility === 'Agents';
const isWaitingModel = (m: ChatModel) => !m.ended && m.connected && ![...m.agents.values()].some((a) => engaged(a.state));

/** The model's prediction for an agent's operation (target: a user id for targeted operations). */
const predictChat = (m: ChatModel, userId: string, op: ChatOp, target: string | undefined): boolean => {
  const self = m.agents.get(userId);
  if (!self) return false;
  const othersChatting = [...m.agents].some(([id, a]) => id !== userId && a.state === 'Chatting');
  switch (op) {
    case 'Accept':
      return self.state === 'Invited' && !m.ended;
    case 'Reject':
      return self.state === 'Invited';
    case 'SendMessage':
    case 'Leave':
      return self.state === 'Chatting';
    case 'SendToAgents':
      return self.state === 'Chatting' && othersChatting;
    case 'Complete':
      return self.state === 'Chatting' || self.state === 'LeftChat';
    case 'Invite':
    case 'Consult':
    case 'Transfer': {
      if (self.state !== 'Chatting' || m.ended || target === undefined || target === userId) return false;
      const existing = m.agents.get(target);
      // ChatConsult: Transfer or Invite to the consultant completes the consultation.
      if (op !== 'Consult' && existing && isConsultantModel(existing)) return true;
      return (AGENTS as readonly string[]).includes(target) && !(existing && engaged(existing.state)) && WITH_SESSION.has(target);
    }
    case 'RemoveParticipantFromConference':
      return (
        self.state === 'Chatting' &&
        self.visibility === 'All' &&
        othersChatting &&
        target !== undefined &&
        target !== userId &&
        m.agents.get(target)?.state === 'Chatting'
      );
  }
};

/** What the capability row shows (operation-level, before any parameter): the contract's "possible". */
const possibleChat = (m: ChatModel, userId: string, op: ChatOp): boolean => {
  // A Transfer to a queue (queueName) needs no agent: it is possible whenever the agent chats with a customer.
  if (op === 'Transfer') return m.agents.get(userId)?.state === 'Chatting' && !m.ended;
  return TARGETED.has(op) ? TARGETS.some((t) => predictChat(m, userId, op, t)) : predictChat(m, userId, op, undefined);
};

const endIfUnserved = (m: ChatModel) => {
  const served = [...m.agents.values()].some((a) => engaged(a.state) && a.visibility === 'All');
  if (!m.ended && !served && [...m.agents.values()].some((a) => a.state !== 'Invited')) m.ended = true;
};

const applyChat = (m: ChatModel, userId: string, op: ChatOp, target: string | undefined, text: boolean): void => {
  const self = m.agents.get(userId) as { state: AgentState; visibility: Visibility };
  const leave = (final: 'auto' | 'Completed') => {
    // Parting words are visible as their author is: a consultant's never reach the customer.
    if (text) m.messages.push(self.visibility);
    m.messages.push(self.visibility);
    const stillServed = [...m.agents].some(([id, a]) => id !== userId && engaged(a.state) && a.visibility === 'All');
    self.state = final === 'Completed' || stillServed ? 'Completed' : 'LeftChat';
    endIfUnserved(m);
  };
  switch (op) {
    case 'Accept':
      self.state = 'Chatting';
      m.messages.push(self.visibility);
      return;
    case 'Reject':
      self.state = 'Completed';
      m.rejected.add(userId);
      return;
    case 'SendMessage':
      m.messages.push(self.visibility);
      return;
    case 'SendToAgents':
      m.messages.push('Agents');
      return;
    case 'Invite':
    case 'Consult': {
      const consultant = m.agents.get(target as string);
      if (op === 'Invite' && consultant && isConsultantModel(consultant)) {
        // Completing a consultation: they become visible to all, and everyone sees them join.
        consultant.visibility = 'All';
        m.messages.push('All');
        return;
      }
      m.agents.set(target as string, { state: 'Invited', visibility: op === 'Consult' ? 'Agents' : 'All' });
      return;
    }
    case 'Transfer': {
      const consultant = m.agents.get(target as string);
      if (consultant && isConsultantModel(consultant)) {
        consultant.visibility = 'All';
        m.messages.push('All');
      } else m.agents.set(target as string, { state: 'Invited', visibility: 'All' });
      return leave('Completed');
    }
    case 'Leave':
      return leave('auto');
    case 'Complete':
      if (self.state === 'LeftChat') self.state = 'Completed';
      else leave('Completed');
      return;
    case 'RemoveParticipantFromConference': {
      if (text) m.messages.push('All');
      const removed = m.agents.get(target as string) as { state: AgentState; visibility: Visibility };
      removed.state = 'LeftChat';
      m.messages.push(removed.visibility);
      return;
    }
  }
};

const chatFail = (what: string, r: ChatReal): never => assert.fail(`${what}\n  state: ${r.describe()}\n  trace:\n    ${r.trace.join('\n    ')}`);

/** Which of the separately reported chat invariants a property checks (the core ones always). */
interface ChatChecks {
  /** Every message's author (its `from`) is still the customer or an agent of the chat. */
  readonly authors: boolean;
  /** What the customer can see comes only from the customer or from agents visible to All. */
  readonly customerSeesAllOnly: boolean;
  /** Targeted operations are listed exactly when some target would be accepted. */
  readonly strictTargets: boolean;
}
const CORE: ChatChecks = { authors: false, customerSeesAllOnly: false, strictTargets: false };

const checkChatInvariants = (m: ChatModel, r: ChatReal, checks: ChatChecks): void => {
  const chat = r.chat;
  // Every agent's capabilities agree with the model: exactly the accepted operations (those
  // without a target), and (strict) targeted ones exactly when some target would be accepted.
  for (const userId of m.agents.keys()) {
    const ctx = chatContextFor(chat, chatActor(userId), chat.id, chatWorld);
    const listed = new Set(isRefusal(ctx) ? [] : (chatCapabilities(ctx) as string[]));
    for (const op of CHAT_OPS)
      if ((!TARGETED.has(op) || checks.strictTargets) && listed.has(op) !== possibleChat(m, userId, op))
        chatFail(`${op} is ${listed.has(op) ? '' : 'NOT '}in ${short(userId)}'s capabilities [${[...listed]}], but the model says it is ${listed.has(op) ? 'not ' : ''}possible${TARGETED.has(op) ? ' with any target' : ''}`, r);
  }
  const indexes = chat.messages.map((x) => x.index);
  if (indexes.some((index, i) => index !== i + 1)) chatFail(`message indexes are not 1..n: ${indexes}`, r);
  const ids = chat.agents.map((a) => a.userId);
  if (new Set(ids).size !== ids.length) chatFail(`an agent appears twice: ${ids.map(short)}`, r);
  const visibilities = chat.messages.map((x) => x.visibility);
  if (visibilities.join() !== m.messages.join()) chatFail(`message visibilities ${visibilities}, model ${m.messages}`, r);
  for (const [id, a] of m.agents) {
    const real = chat.agents.find((x) => x.userId === id);
    if (real?.state !== a.state || real.visibility !== a.visibility)
      chatFail(`${short(id)} is ${real?.state}/${real?.visibility}, model ${a.state}/${a.visibility}`, r);
  }
  if (chat.agents.length !== m.agents.size) chatFail(`${chat.agents.length} agents, model ${m.agents.size}`, r);
  if (chat.customer.connected !== m.connected || (chat.endedAt !== null) !== m.ended)
    chatFail(`customer connected=${chat.customer.connected} ended=${chat.endedAt !== null}, model ${m.connected}/${m.ended}`, r);
  for (const a of visibleParticipants(chat, 'customer'))
    if (a.visibility !== 'All') chatFail(`the customer's participants include ${short(a.userId)}, visible to ${a.visibility}`, r);
  const author = (from: string) => (from === chat.customer.participantId ? 'customer' : chat.agents.find((a) => a.participantId === from));
  if (checks.authors)
    for (const message of chat.messages)
      if (author(message.from) === undefined)
        chatFail(`message ${message.index} (${message.type}, visibility ${message.visibility}) is from ${message.from}, who is no longer the customer or an agent of the chat: its author is lost`, r);
  if (checks.customerSeesAllOnly)
    for (const message of chat.messages.filter((x) => visibleTo('customer', x))) {
      // A message keeps the visibility it was sent with; its author may be visible otherwise now
      // (someone routed earlier may come back as a consultant).
      const from = author(message.from);
      if (from !== 'customer' && from !== undefined && message.visibility !== 'All')
        chatFail(
          `the customer sees message ${message.index} (${message.type}${message.text !== undefined ? ` '${message.text}'` : ''}) from ${short(from.userId)}, who is visible to ${from.visibility} only`,
          r,
        );
    }
};

type ChatCommand = fc.Command<ChatModel, ChatReal>;

class RouteCommand implements ChatCommand {
  constructor(readonly rotate: number) {}
  private candidates() {
    const ready = [AGENTS[0], AGENTS[1], AGENTS[2]] as string[];
    const rotated = [...ready.slice(this.rotate % 3), ...ready.slice(0, this.rotate % 3)];
    return rotated.map((userId, i) => ({ userId, nickname: `nick-${userId.slice(-1)}`, idleSince: i }));
  }
  private expected(m: ChatModel) {
    return this.candidates().find((c) => !m.rejected.has(c.userId) && !(m.agents.has(c.userId) && m.agents.get(c.userId)?.state !== 'Completed'));
  }
  check = (m: Readonly<ChatModel>) => isWaitingModel(m as ChatModel);
  run(m: ChatModel, r: ChatReal): void {
    const picked = pickAgent(r.chat, this.candidates());
    const expected = this.expected(m);
    r.trace.push(`route -> ${picked ? short(picked.userId) : 'nobody'}`);
    if (picked?.userId !== expected?.userId) chatFail(`routing picked ${picked && short(picked.userId)}, model ${expected && short(expected.userId)}`, r);
    if (!picked) return;
    r.commit(offerToAgent(r.chat, picked, r.env.newParticipantId(), 'T'));
    m.agents.set(picked.userId, { state: 'Invited', visibility: 'All' });
    checkChatInvariants(m, r, r.checks);
  }
  toString = () => `Route#${this.rotate}`;
}

/** How many times each chat operation was accepted: a guard against a vacuous run. */
const chatCoverage = new Map<string, number>();

interface ChatAttempt {
  readonly userId: string;
  readonly op: ChatOp;
  readonly target: string | undefined;
  readonly text: boolean;
}

/** Runs one agent operation on both sides and checks it against the model. */
const runChatAttempt = (m: ChatModel, r: ChatReal, a: ChatAttempt): void => {
  const withText = a.text && ['Transfer', 'Leave', 'Complete', 'RemoveParticipantFromConference'].includes(a.op);
  const body: Record<string, unknown> = { operationName: a.op };
  if (a.target !== undefined) body['targetUri'] = `http://conclave.test/api/v2/users/${a.target}`;
  if (a.op === 'SendMessage') body['text'] = 'hello';
  if (a.op === 'SendToAgents') body['text'] = 'psst';
  if (withText) body['text'] = 'bye';
  const what = `${short(a.userId)} ${a.op}${a.target ? ` ${short(a.target)}` : ''}${withText ? ' +text' : ''}`;

  const ctx = chatContextFor(r.chat, chatActor(a.userId), r.chat.id, chatWorld);
  const capabilities = isRefusal(ctx) ? [] : (chatCapabilities(ctx) as string[]);
  const listed = capabilities.includes(a.op);
  const predicted = predictChat(m, a.userId, a.op, a.target);
  const possible = possibleChat(m, a.userId, a.op);
  const decision = decideChat(r.chat, chatActor(a.userId), r.chat.id, parseChatOperation(body), chatWorld, r.env);
  const line = `${what} -> ${decision.ok ? 'ok' : `refused ${decision.statusCode}: ${decision.message}`}`;
  r.trace.push(line);
  if (decision.ok !== predicted) chatFail(`the model predicted ${predicted ? 'acceptance' : 'a refusal'}: ${line}`, r);
  if (decision.ok && !listed) chatFail(`accepted but not in capabilities ${JSON.stringify(capabilities)}: ${line}`, r);
  if (!TARGETED.has(a.op) && listed !== decision.ok) chatFail(`${a.op} is ${listed ? '' : 'NOT '}listed but ${line}`, r);
  if (r.checks.strictTargets && TARGETED.has(a.op) && listed !== possible)
    chatFail(`${a.op} is ${listed ? '' : 'NOT '}in ${short(a.userId)}'s capabilities, but ${possible ? 'some' : 'no'} target would be accepted (${line})`, r);
  if (!decision.ok) return;
  chatCoverage.set(a.op, (chatCoverage.get(a.op) ?? 0) + 1);
  r.commit(decision.chat);
  applyChat(m, a.userId, a.op, a.target, withText);
  checkChatInvariants(m, r, r.checks);
};

/** Any agent operation (many are refused): the model must predict which. */
class AgentOpCommand implements ChatCommand {
  constructor(
    readonly op: ChatOp,
    readonly agent: number,
    readonly target: number,
    readonly text: boolean,
  ) {}
  check = () => true;
  run(m: ChatModel, r: ChatReal): void {
    // Mostly an agent who is in the chat; now and then anyone.
    const inChat = [...m.agents.keys()].sort();
    const pool = inChat.length > 0 && this.agent % 5 !== 4 ? inChat : [...AGENTS];
    const userId = pool[this.agent % pool.length] as string;
    const target = TARGETED.has(this.op) ? (TARGETS[this.target % TARGETS.length] as string) : undefined;
    runChatAttempt(m, r, { userId, op: this.op, target, text: this.text });
  }
  toString = () => `${this.op}(agent#${this.agent}, target#${this.target}${this.text ? ', text' : ''})`;
}

/** An agent operation the model says is accepted, drawn among all of them. */
class ValidChatOpCommand implements ChatCommand {
  constructor(
    readonly pick: number,
    readonly text: boolean,
  ) {}
  private choose(m: ChatModel): ChatAttempt | undefined {
    const valid = [...m.agents.keys()].sort().flatMap((userId) =>
      CHAT_OPS.flatMap((op) =>
        (TARGETED.has(op) ? TARGETS : [undefined]).filter((target) => predictChat(m, userId, op, target)).map((target) => ({ userId, op, target, text: this.text })),
      ),
    );
    // Mostly operations that build the conference up, so that runs reach several agents.
    const building = valid.filter((a) => !['Leave', 'Complete', 'Transfer', 'Reject'].includes(a.op));
    const pool = this.pick % 4 !== 0 && building.length > 0 ? building : valid;
    return pool[this.pick % Math.max(pool.length, 1)];
  }
  check = (m: Readonly<ChatModel>) => this.choose(m as ChatModel) !== undefined;
  run(m: ChatModel, r: ChatReal): void {
    const a = this.choose(m) as ChatAttempt;
    runChatAttempt(m, r, a);
  }
  toString = () => `Valid#${this.pick}${this.text ? '+text' : ''}`;
}

class CustomerCommand implements ChatCommand {
  constructor(readonly verb: 'send' | 'disconnect') {}
  check = () => true;
  run(m: ChatModel, r: ChatReal): void {
    if (this.verb === 'send') {
      const params = parseCustomerSend({ message: 'hi' });
      if (isRefusal(params)) return chatFail(`the customer's message is refused: ${params.message}`, r);
      const next = customerSend(r.chat, params, NOW);
      r.trace.push(`customer send -> ${isRefusal(next) ? `refused ${next.statusCode}` : 'ok'}`);
      if (isRefusal(next) !== m.ended) chatFail(`customer send ${isRefusal(next) ? 'refused' : 'accepted'}, model ended=${m.ended}`, r);
      if (isRefusal(next)) return;
      r.commit(next);
      m.messages.push('All');
    } else {
      r.trace.push('customer disconnect');
      r.commit(customerDisconnect(r.chat, NOW));
      if (m.connected) {
        m.messages.push('All');
        m.connected = false;
        for (const a of m.agents.values()) if (a.state === 'Invited') a.state = 'Completed';
        m.ended = true;
      }
    }
    checkChatInvariants(m, r, r.checks);
  }
  toString = () => `Customer ${this.verb}`;
}

class ChatRestartCommand implements ChatCommand {
  check = () => true;
  run(m: ChatModel, r: ChatReal): void {
    const before = JSON.stringify(r.chat);
    const capabilities = () =>
      AGENTS.map((id) => {
        const ctx = chatContextFor(r.chat, chatActor(id), r.chat.id, chatWorld);
        return isRefusal(ctx) ? '-' : chatCapabilities(ctx).join(',');
      });
    const caps = capabilities();
    r.chat = JSON.parse(before) as Chat;
    r.trace.push('(restart)');
    assert.equal(JSON.stringify(r.chat), before, 'the chat is the same after a JSON round trip');
    assert.deepEqual(capabilities(), caps, 'every agent has the same capabilities after a restart');
    checkChatInvariants(m, r, r.checks);
  }
  toString = () => 'Restart';
}

const chatCommandArbs = [
  ...[1, 2].map(() => fc.nat({ max: 2 }).map((rotate) => new RouteCommand(rotate) as ChatCommand)),
  fc
    .tuple(fc.constantFrom(...CHAT_OPS), fc.nat({ max: 9 }), fc.nat({ max: 9 }), fc.boolean())
    .map(([op, agent, target, text]) => new AgentOpCommand(op, agent, target, text) as ChatCommand),
  ...[1, 2, 3, 4, 5].map(() => fc.tuple(fc.nat({ max: 60 }), fc.boolean()).map(([pick, text]) => new ValidChatOpCommand(pick, text) as ChatCommand)),
  // The customer mostly writes; a disconnect ends the chat, so it is rarer.
  fc.constantFrom('send' as const, 'send' as const, 'send' as const, 'disconnect' as const).map((verb) => new CustomerCommand(verb) as ChatCommand),
  fc.constant(new ChatRestartCommand() as ChatCommand),
];

const chatProperty = (checks: ChatChecks) => {
  fc.assert(
    fc.property(fc.commands(chatCommandArbs, { maxCommands: LONG ? 60 : 30, size: 'max' }), (commands) =>
      fc.modelRun(() => ({ model: { agents: new Map(), messages: ['All'], connected: true, ended: false, rejected: new Set() } as ChatModel, real: new ChatReal(checks) }), commands),
    ),
    { numRuns: LONG ? 2000 : 200, includeErrorInReport: true },
  );
  for (const op of CHAT_OPS) assert.ok((chatCoverage.get(op) ?? 0) > 0, `the runs accepted ${op} at least once: ${JSON.stringify([...chatCoverage])}`);
};

describe('chat state machine against a reference model (fc.commands, pure domain)', () => {
  it('indexes are 1..n, an agent appears once, states, visibilities and capabilities agree with the model', () => {
    chatProperty(CORE);
  });

  it("every message keeps its author: the customer or an agent of the chat", () => {
    chatProperty({ ...CORE, authors: true });
  });

  it('the customer sees only messages from the customer or from agents visible to All', () => {
    chatProperty({ ...CORE, customerSeesAllOnly: true });
  });

  it('Invite/Consult/Transfer/RemoveParticipantFromConference are listed exactly when some target would be accepted', () => {
    chatProperty({ ...CORE, strictTargets: true });
  });
});

/** The shrunk counterexamples the chat properties found, replayed as fixed scenarios. */
describe('chat model: replayed counterexamples', () => {
  const newModel = (): ChatModel => ({ agents: new Map(), messages: ['All'], connected: true, ended: false, rejected: new Set() });
  type Step = (m: ChatModel, r: ChatReal) => void;
  const route = (rotate: number): Step => (m, r) => new RouteCommand(rotate).run(m, r);
  const by = (agent: number, op: ChatOp, target?: number, text = false): Step => (m, r) =>
    runChatAttempt(m, r, { userId: AGENTS[agent - 1] as string, op, target: target === undefined ? undefined : (AGENTS[target - 1] as string), text });
  const replayChat = (checks: ChatChecks, steps: readonly Step[]) => {
    const m = newModel();
    const r = new ChatReal(checks);
    for (const step of steps) step(m, r);
  };

  it('an agent routed the chat again after a rejected transfer keeps authorship of their earlier messages', () => {
    replayChat({ ...CORE, authors: true }, [route(1), by(2, 'Accept'), by(2, 'Transfer', 1), by(1, 'Reject'), route(1)]);
  });

  it('an agent invited back after leaving keeps authorship of their earlier messages', () => {
    replayChat({ ...CORE, authors: true }, [route(0), by(1, 'Accept'), by(1, 'Consult', 3), by(3, 'Accept'), by(3, 'Complete'), by(1, 'Transfer', 3)]);
  });

  it("a consultant's text when transferring is not shown to the customer", () => {
    replayChat({ ...CORE, customerSeesAllOnly: true }, [route(1), by(2, 'Accept'), by(2, 'Consult', 1), by(1, 'Accept'), by(1, 'Transfer', 3, true)]);
  });

  it("a consultant's text when leaving is not shown to the customer", () => {
    replayChat({ ...CORE, customerSeesAllOnly: true }, [route(1), by(2, 'Accept'), by(2, 'Consult', 1), by(1, 'Accept'), by(1, 'Leave', undefined, true)]);
  });

  it('Invite is not listed when every agent who could be invited is already in the chat', () => {
    replayChat({ ...CORE, strictTargets: true }, [route(0), by(1, 'Accept'), by(1, 'Invite', 2), by(1, 'Invite', 3)]);
  });
});
