/**
 * The compliance orchestrator: for a flag, every active conference the flagged user is in loses
 * exactly that participant, and everyone else stays connected. It acts through the engine as a
 * person would — on voice as a supervisor monitoring the user's device who then removes them
 * from the monitored call; on chat by intruding with BargeIn, removing, and leaving — so the
 * policy module decides, as for anyone. Two-party calls and chats are left alone (skipped).
 * A flag may also name an external number (a customer): that party is removed the same way, the
 * orchestrator monitoring an agent of each conference, since an outside number has no device.
 * Flags are persisted before work starts and marked done after, so a restart resumes them; every
 * step is an audit entry.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Directory, DirectoryUser } from '../directory/directory.js';
import { toActor } from '../directory/directory.js';
import type { Actor } from '../domain/actor.js';
import { agentOf, chattingAgents, type Chat } from '../domain/chat/model.js';
import type { AuditEntry, AuditOutcome, AuditStep, Flag } from '../domain/compliance/model.js';
import { operation } from '../domain/commands/parse.js';
import { MONITORING_SCHEMAS } from '../domain/agent/commands.js';
import { CHAT_SCHEMAS, INTRUDE_SCHEMAS } from '../domain/chat/commands.js';
import { isRefusal, refuse, type Refusal } from '../domain/refusals.js';
import { VOICE_CALL_SCHEMAS } from '../domain/voice/commands.js';
import { isExternalShaped, isLive, liveParties, partyOf, type Call } from '../domain/voice/model.js';
import type { Store } from '../store/port.js';
import type { Engine, Outcome } from './engine.js';
import type { Clock } from './ports.js';

export interface ComplianceDeps {
  readonly engine: Engine;
  readonly store: Store;
  readonly directory: Directory;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The orchestrator's own directory user (a supervisor with a device). */
  readonly self: DirectoryUser;
  /**
   * Told after each audit entry is stored and after a flag is marked done (the console's event
   * stream): flags and the audit are not engine events, so no sink would otherwise hear of them.
   */
  readonly onChange?: (change: { readonly flag: Flag; readonly entry?: AuditEntry }) => void;
  /**
   * Whether this process carries flags out (default: always). In a cluster only the holder of
   * the lease does (docs/cluster.md); another node records the flag and the holder picks it up.
   */
  readonly runsHere?: () => boolean;
}

export interface FlagRequest {
  readonly user: string;
  readonly reason: string;
  readonly source: string;
}

export interface Compliance {
  /** Records a flag (or finds the same one still pending) and schedules its ejection. */
  raise(request: FlagRequest, raisedBy: string): Promise<{ ok: true; flag: Flag; duplicate: boolean } | Refusal>;
  /** Resolves a user by user name, user id or DN. */
  resolveUser(ref: string): DirectoryUser | undefined;
  /** Re-runs flags left pending by a crash (or by a node that held the lease before this one). */
  resume(): Promise<void>;
  /** Schedules pending flags this process has not scheduled yet (raised on another node). */
  pickUp(): Promise<void>;
  /** Resolves when every scheduled flag has been carried out (tests, shutdown). */
  idle(): Promise<void>;
  /**
   * Removes one party from one call the same way (as a monitoring supervisor), in turn with
   * flags: the Genesys Cloud dialect's PATCH participant {state: disconnected}.
   */
  removeFromCall(callId: string, dn: string): Promise<Outcome>;
}

/** Failures worth another try: a lost race (19) or an internal error (4). */
const TRANSIENT = new Set([19, 4]);
const RETRY_DELAYS_MS = [10, 40, 160];

export const createCompliance = (deps: ComplianceDeps): Compliance => {
  const { engine, store, directory, clock, logger } = deps;
  const actor = toActor(deps.self) as Actor & { dn: string };
  let queue: Promise<void> = Promise.resolve();

  /** A listener that throws must not stop an ejection. */
  const tell = (change: { flag: Flag; entry?: AuditEntry }) => {
    try {
      deps.onChange?.(change);
    } catch (error) {
      logger.error({ err: error }, 'a compliance change listener failed');
    }
  };

  const resolveUser = (ref: string) => directory.byUserName(ref) ?? directory.byId(ref) ?? directory.byDn(ref);
  /** An external number (a customer) flagged by its number: it is its own id, name and DN. */
  const externalUser = (ref: string) =>
    isExternalShaped(ref) && !directory.queueOf(ref) ? { id: ref, userName: ref, phoneNumber: ref as string | null } : undefined;

  const audit = async (flag: Flag, step: AuditStep, outcome: AuditOutcome, extra: Partial<AuditEntry> = {}): Promise<void> => {
    const entry: AuditEntry = {
      time: clock.now(),
      flagId: flag.id,
      interaction: null,
      interactionType: null,
      participant: flag.dn ?? flag.userId,
      userId: flag.userId,
      actor: actor.userName,
      step,
      outcome,
      latencyMs: null,
      detail: null,
      ...extra,
    };
    await store.appendAudit(entry);
    tell({ flag, entry });
  };

  /** Runs an engine command, retrying transient refusals with backoff (each retry audited). */
  const withRetry = async <T>(flag: Flag, interaction: Partial<AuditEntry>, run: () => Promise<Outcome<T>>): Promise<Outcome<T>> => {
    let outcome = await run();
    for (const delay of RETRY_DELAYS_MS) {
      if (!isRefusal(outcome) || !TRANSIENT.has(outcome.statusCode)) return outcome;
      await audit(flag, 'retried', 'retrying', { ...interaction, detail: outcome.message });
      await new Promise((resolve) => setTimeout(resolve, delay));
      outcome = await run();
    }
    return outcome;
  };

  const removeCall = (callId: string, dn: string) =>
    engine.execute({
      type: 'CallOperation',
      actor,
      callId,
      operation: operation<typeof VOICE_CALL_SCHEMAS, 'RemoveParticipantFromConference'>('RemoveParticipantFromConference', { participant: dn }),
    });
  const cancelMonitoring = () =>
    engine.execute({ type: 'DeviceOperation', actor, operation: operation<typeof MONITORING_SCHEMAS, 'CancelSupervisorMonitoring'>('CancelSupervisorMonitoring', {}) });
  const chatOperation = (chatId: string, op: ReturnType<typeof operation<typeof CHAT_SCHEMAS, keyof typeof CHAT_SCHEMAS>>) =>
    engine.execute({ type: 'ChatOperation', actor, chatId, operation: op });

  const ejectFromCalls = async (flag: Flag) => {
    const dn = flag.dn;
    if (dn === null) return;
    const mine = (await store.presentCallsOf(dn)).filter((c) => isLive(partyOf(c, dn) ?? { dn, state: 'Released', mute: 'Off' }));
    const conferences = mine.filter((c) => liveParties(c).length >= 3);
    for (const call of mine.filter((c) => !conferences.includes(c)))
      await audit(flag, 'skipped', 'two-party', { interaction: call.id, interactionType: 'call', detail: 'a two-party call is left alone' });
    if (conferences.length === 0) return;

    // A directory user is removed by monitoring their own device. An external party has none:
    // the orchestrator monitors an agent of each conference instead (its owner where it can).
    const byTarget = new Map<string, Call[]>();
    const unmonitorable: Call[] = [];
    for (const call of conferences) {
      const target = directory.byDn(dn) ? dn : agentToMonitor(call, dn);
      if (target === undefined) unmonitorable.push(call);
      else byTarget.set(target, [...(byTarget.get(target) ?? []), call]);
    }
    for (const call of unmonitorable)
      await audit(flag, 'failed', 'error', { interaction: call.id, interactionType: 'call', detail: 'no agent of the call to monitor' });
    for (const [target, group] of byTarget) {
      const monitored = await asMonitorOf(target, async () => {
        for (const { id } of group) {
          const where = { interaction: id, interactionType: 'call' as const };
          await audit(flag, 'found', 'accepted', where);
          const removed = await withRetry(flag, where, () => removeCall(id, dn));
          if (!isRefusal(removed)) await audit(flag, 'removed', 'ejected', { ...where, latencyMs: clock.now() - flag.createdAt });
          else if (gone(await store.getCall(id), dn)) await audit(flag, 'done', 'already-gone', { ...where, detail: removed.message });
          else await audit(flag, 'failed', 'error', { ...where, detail: removed.message });
        }
      });
      if (isRefusal(monitored))
        for (const call of group) await audit(flag, 'failed', 'error', { interaction: call.id, interactionType: 'call', detail: monitored.message });
    }
  };

  /** A live agent of the call (not `dn`, not external, not monitoring) whose device can be monitored: the owner first. */
  const agentToMonitor = (call: Call, dn: string): string | undefined => {
    const candidates = liveParties(call).filter((p) => p.dn !== dn && !p.external && p.dn !== actor.dn && directory.byDn(p.dn)?.deviceId);
    return (candidates.find((p) => p.dn === call.ownerDn) ?? candidates[0])?.dn;
  };

  /** Monitors `dn`'s device as a supervisor for the duration of `work`, then stops. */
  const asMonitorOf = async (dn: string, work: () => Promise<void>): Promise<Outcome> => {
    const device = directory.byDn(dn)?.deviceId ?? '';
    const monitor = () =>
      engine.execute({
        type: 'DeviceOperation',
        actor,
        operation: operation<typeof MONITORING_SCHEMAS, 'ListenIn'>('ListenIn', {
          // The device's id is all the domain reads out of targetDeviceUri.
          targetDeviceUri: device,
          supervisorMonitoringScope: 'Agent',
          supervisorMonitoringMode: 'AllCalls',
        }),
      });
    let started = await monitor();
    if (isRefusal(started) && started.statusCode === 2) {
      // Monitoring left over from an interrupted run: start afresh on this user.
      await cancelMonitoring();
      started = await monitor();
    }
    if (isRefusal(started)) return started;
    try {
      await work();
    } finally {
      await cancelMonitoring();
    }
    return { ok: true };
  };

  const ejectFromChats = async (flag: Flag) => {
    for (const chat of await store.chatsOfAgent(flag.userId)) {
      if (agentOf(chat, flag.userId)?.state !== 'Chatting') continue;
      const where = { interaction: chat.id, interactionType: 'chat' as const, participant: flag.userId };
      if (!isChatConference(chat, flag.userId)) {
        await audit(flag, 'skipped', 'two-party', { ...where, detail: 'a chat with one agent is left alone' });
        continue;
      }
      await audit(flag, 'found', 'accepted', where);
      const joined = await withRetry(flag, where, () =>
        engine.execute({
          type: 'Intrude',
          actor,
          agentUserId: flag.userId,
          chatId: chat.id,
          operation: operation<typeof INTRUDE_SCHEMAS, 'Intrude'>('Intrude', { supervisorVisibilityMode: 'BargeIn' }),
        }),
      );
      if (isRefusal(joined)) {
        await audit(flag, 'failed', 'error', { ...where, detail: joined.message });
        continue;
      }
      const removed = await withRetry(flag, where, () =>
        chatOperation(chat.id, operation<typeof CHAT_SCHEMAS, 'RemoveParticipantFromConference'>('RemoveParticipantFromConference', { targetPath: `/users/${flag.userId}` })),
      );
      if (!isRefusal(removed)) await audit(flag, 'removed', 'ejected', { ...where, latencyMs: clock.now() - flag.createdAt });
      else if (agentOf((await store.getChat(chat.id)) as Chat, flag.userId)?.state !== 'Chatting')
        await audit(flag, 'done', 'already-gone', { ...where, detail: removed.message });
      else await audit(flag, 'failed', 'error', { ...where, detail: removed.message });
      await chatOperation(chat.id, operation<typeof CHAT_SCHEMAS, 'Leave'>('Leave', {}));
    }
  };

  const carryOut = async (flag: Flag) => {
    try {
      await ejectFromCalls(flag);
      await ejectFromChats(flag);
      await audit(flag, 'done', 'completed');
    } catch (error) {
      logger.error({ err: error, flagId: flag.id }, 'compliance ejection failed');
      await audit(flag, 'failed', 'error', { detail: (error as Error).message }).catch(() => undefined);
    } finally {
      await store
        .saveFlag({ ...flag, status: 'done' })
        .then(() => tell({ flag: { ...flag, status: 'done' } }))
        .catch((error: unknown) => logger.error({ err: error, flagId: flag.id }, 'could not mark the flag done'));
    }
  };

  /**
   * Runs work after what is queued, whatever became of it: one flag that throws must not stop
   * every later one (a rejected link would reject the rest of the chain for ever).
   */
  const enqueue = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work, work);
    queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };

  // Each flag is carried out once per process, however often resume or pickUp sees it pending.
  const scheduled = new Set<string>();
  const schedule = (flag: Flag) => {
    if (scheduled.has(flag.id)) return;
    scheduled.add(flag.id);
    void enqueue(() => carryOut(flag));
  };
  const runsHere = deps.runsHere ?? (() => true);

  let raising: Promise<void> = Promise.resolve();
  const raise = async (request: FlagRequest, raisedBy: string): Promise<{ ok: true; flag: Flag; duplicate: boolean } | Refusal> => {
    const user = resolveUser(request.user) ?? externalUser(request.user);
    if (!user) return refuse.notFound('user', request.user);
    const same = (await store.pendingFlags()).find((f) => f.userId === user.id && f.reason === request.reason && f.source === request.source);
    if (same) return { ok: true, flag: same, duplicate: true };
    const flag: Flag = {
      id: randomUUID(),
      userId: user.id,
      userName: user.userName,
      dn: user.phoneNumber,
      reason: request.reason,
      source: request.source,
      raisedBy,
      createdAt: clock.now(),
      status: 'pending',
    };
    await store.saveFlag(flag);
    await audit(flag, 'flagged', 'accepted', { actor: raisedBy, detail: request.reason });
    if (runsHere()) schedule(flag);
    return { ok: true, flag, duplicate: false };
  };

  return {
    resolveUser,
    raise: (request, raisedBy) => {
      // Raises run one at a time, so the same flag raised twice at once is found pending.
      const result = raising.then(() => raise(request, raisedBy));
      raising = result.then(
        () => undefined,
        () => undefined,
      );
      return result;
    },
    async resume() {
      for (const flag of await store.pendingFlags()) {
        if (scheduled.has(flag.id)) continue;
        await audit(flag, 'retried', 'retrying', { detail: 'resumed after restart' });
        schedule(flag);
      }
    },
    async pickUp() {
      for (const flag of await store.pendingFlags()) schedule(flag);
    },
    idle: () => queue,
    removeFromCall: (callId, dn) =>
      enqueue(async () => {
        let outcome: Outcome = refuse.internal('not run');
        // An external number has no device to monitor: monitor an agent of the call instead, as a flag does.
        const external = directory.byDn(dn) === undefined;
        const call = external ? await store.getCall(callId) : undefined;
        if (external && call === undefined) return refuse.notFound('call', callId);
        const target = call ? agentToMonitor(call, dn) : dn;
        if (target === undefined) return refuse.invalidState(`no agent of call ${callId} can be monitored to remove ${dn}`);
        const monitored = await asMonitorOf(target, async () => {
          outcome = await removeCall(callId, dn);
        });
        return isRefusal(monitored) ? monitored : outcome;
      }),
  };
};

const gone = (call: Call | undefined, dn: string): boolean => {
  const party = call && partyOf(call, dn);
  return !party || !isLive(party);
};

/** A chat conference: the customer is there and another agent visible to all stays with them. */
const isChatConference = (chat: Chat, userId: string): boolean =>
  chat.customer.connected && chat.endedAt === null && chattingAgents(chat).some((a) => a.userId !== userId && a.visibility === 'All');
