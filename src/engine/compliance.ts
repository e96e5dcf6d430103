/**
 * The compliance orchestrator: for a flag, every active conference the flagged user is in loses
 * exactly that participant, and everyone else stays connected. It acts through the engine as a
 * person would — on voice as a supervisor monitoring the user's device who then removes them
 * from the monitored call; on chat by intruding with BargeIn, removing, and leaving — so the
 * policy module decides, as for anyone. Two-party calls and chats are left alone (skipped).
 * A flag may also name an external number (a customer): that party is removed the same way, the
 * orchestrator monitoring an agent of each conference, since an outside number has no device.
 * Flags are persisted before work starts, so a restart resumes them. Every step is chosen from
 * the real state (domain/compliance/ejection.ts), so a run resumed from any point continues from
 * there: monitoring left over is cancelled, a chat the orchestrator is still in is finished and
 * left. A flag is `done` only when the user and the orchestrator are out of every conference it
 * was to leave, checked against the state at the end; otherwise `failed` with why. Every step is
 * an audit entry (compliance-steps.ts: the step log).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Directory, DirectoryUser } from '../directory/directory.js';
import { toActor } from '../directory/directory.js';
import type { Actor } from '../domain/actor.js';
import { agentOf, type Chat } from '../domain/chat/model.js';
import type { AuditEntry, Flag } from '../domain/compliance/model.js';
import { chatPlan, openInteractions, recordedVerdict, verdictOf, type Verdict } from '../domain/compliance/ejection.js';
import { operation } from '../domain/commands/parse.js';
import { MONITORING_SCHEMAS } from '../domain/agent/commands.js';
import { CHAT_SCHEMAS, INTRUDE_SCHEMAS } from '../domain/chat/commands.js';
import { isRefusal, refuse, type Refusal } from '../domain/refusals.js';
import { VOICE_CALL_SCHEMAS } from '../domain/voice/commands.js';
import { removalBlocker } from '../domain/voice/operations.js';
import { isExternalShaped, isLive, liveParties, partyOf, type Call } from '../domain/voice/model.js';
import type { Store } from '../store/port.js';
import type { Engine, Outcome } from './engine.js';
import type { Clock } from './ports.js';
import { createStepLog, type AfterStep, type StepLog } from './compliance-steps.js';
import { createKeyedQueue, type KeyedQueue } from './keyed-queue.js';

export interface ComplianceDeps {
  readonly engine: Engine;
  readonly store: Store;
  readonly directory: Directory;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * The orchestrator's own directory users (supervisors with devices), one per lane: flags on
   * different users are carried out concurrently, one lane each, since one supervisor monitors
   * one agent at a time. The first is `conclave-compliance`, which a lone flag always uses.
   */
  readonly lanes: readonly DirectoryUser[];
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
  /** Told after each step is committed (a test hook: the shell may stop the process there). */
  readonly afterStep?: AfterStep;
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

/** What one run of a flag has learnt, and what it must check before calling it done. */
interface Run {
  readonly flag: Flag;
  /** Interactions an interrupted run had found but not closed: their `found` is in the log already. */
  readonly open: Map<string, 'call' | 'chat'>;
  /** Interactions this run wrote a closing entry for. */
  readonly closed: Set<string>;
  /** The conferences the flagged party was to leave: checked against the state at the end. */
  readonly calls: Set<string>;
  readonly chats: Set<string>;
  /** Why the flag cannot be done, as found along the way. */
  readonly problems: string[];
}

/** One orchestrator identity and its queue: what a lane carries out, it carries out in order. */
interface Lane {
  carryOut(flag: Flag, resumed: boolean): Promise<void>;
  removeFromCall(callId: string, dn: string): Promise<Outcome>;
  /** Cancels monitoring and leaves chats an interrupted run of this lane left behind. */
  cleanUp(): Promise<void>;
  enqueue<T>(work: () => Promise<T>): Promise<T>;
  idle(): Promise<void>;
}

interface Shared {
  readonly deps: ComplianceDeps;
  /** The step log whose entries name `actor`; every lane's steps are numbered in one sequence. */
  readonly stepLog: (actor: string) => StepLog;
  /**
   * Interactions being worked on, by any lane: a lane holds the calls (or chats) a flag is to
   * leave while it decides and removes, so two flags whose users share a conference are carried
   * out one after the other and the second sees what the first left (a two-party call: skipped).
   */
  readonly interactions: KeyedQueue;
}

/** Runs `work` holding every key, taken in sorted order (so two holders never wait on each other). */
const holding = <T>(queue: KeyedQueue, keys: readonly string[], work: () => Promise<T>): Promise<T> => {
  const sorted = [...new Set(keys)].sort();
  const take = (i: number): Promise<T> => (i === sorted.length ? work() : queue.run(sorted[i] as string, () => take(i + 1)));
  return take(0);
};

const createLane = (shared: Shared, self: DirectoryUser): Lane => {
  const { deps } = shared;
  const { engine, store, directory, clock, logger } = deps;
  const actor = toActor(self) as Actor & { dn: string };
  const selfId = self.id;
  let queue: Promise<void> = Promise.resolve();
  const log = shared.stepLog(actor.userName);
  const audit = log.audit;

  /** Audits an entry about one interaction of a run, noting a closing step. */
  const close = async (run: Run, step: 'removed' | 'skipped' | 'failed' | 'recovered' | 'done', outcome: AuditEntry['outcome'], extra: Partial<AuditEntry> & { interaction: string }) => {
    run.closed.add(extra.interaction);
    await audit(run.flag, step, outcome, extra);
  };
  const failed = async (run: Run, where: Partial<AuditEntry> & { interaction: string }, detail: string) => {
    run.problems.push(detail);
    await close(run, 'failed', 'error', { ...where, detail });
  };

  /**
   * Runs an engine command, retrying transient refusals with backoff (each retry audited when
   * there is a flag to audit it under).
   */
  const withRetry = async <T>(flag: Flag | undefined, interaction: Partial<AuditEntry>, run: () => Promise<Outcome<T>>): Promise<Outcome<T>> => {
    let outcome = await run();
    for (const delay of RETRY_DELAYS_MS) {
      if (!isRefusal(outcome) || !TRANSIENT.has(outcome.statusCode)) return outcome;
      if (flag) await audit(flag, 'retried', 'retrying', { ...interaction, detail: outcome.message });
      await new Promise((resolve) => setTimeout(resolve, delay));
      outcome = await run();
    }
    return outcome;
  };

  const removeCall = (callId: string, dn: string) =>
    log.act(`RemoveParticipantFromConference call ${callId}`, () =>
      engine.execute({
        type: 'CallOperation',
        actor,
        callId,
        operation: operation<typeof VOICE_CALL_SCHEMAS, 'RemoveParticipantFromConference'>('RemoveParticipantFromConference', { participant: dn }),
      }),
    );
  const cancelMonitoring = () =>
    log.act('CancelSupervisorMonitoring', () =>
      engine.execute({ type: 'DeviceOperation', actor, operation: operation<typeof MONITORING_SCHEMAS, 'CancelSupervisorMonitoring'>('CancelSupervisorMonitoring', {}) }),
    );
  const chatOperation = (chatId: string, op: ReturnType<typeof operation<typeof CHAT_SCHEMAS, keyof typeof CHAT_SCHEMAS>>) =>
    log.act(`${op.name} chat ${chatId}`, () => engine.execute({ type: 'ChatOperation', actor, chatId, operation: op }));
  const leaveChat = (flag: Flag | undefined, chatId: string) =>
    withRetry(flag, { interaction: chatId, interactionType: 'chat' }, () => chatOperation(chatId, operation<typeof CHAT_SCHEMAS, 'Leave'>('Leave', {})));

  /** Cancels monitoring an interrupted run left (the orchestrator monitors only while it removes someone). */
  const cancelLeftoverMonitoring = async (flag?: Flag): Promise<void> => {
    const monitoring = (await store.getAgentSession(selfId))?.monitoring;
    if (!monitoring) return;
    const cancelled = await withRetry(flag, {}, cancelMonitoring);
    if (!flag) return;
    const detail = `monitoring of ${monitoring.targetDn} left by an interrupted run`;
    // Not a `failed` entry: with no interaction, that is the flag's verdict (the check at the end fails the flag).
    if (isRefusal(cancelled)) await audit(flag, 'recovered', 'error', { detail: `could not cancel the ${detail}: ${cancelled.message}` });
    else await audit(flag, 'recovered', 'left', { detail: `cancelled the ${detail}` });
  };

  /** Undoes what an interrupted run of this lane left: monitoring, and any chat it is still in. */
  const cleanUp = async (): Promise<void> => {
    await cancelLeftoverMonitoring();
    for (const chat of await store.chatsOfAgent(selfId)) if (agentOf(chat, selfId)?.state === 'Chatting') await leaveChat(undefined, chat.id);
  };

  const liveCallsOf = async (dn: string) => (await store.presentCallsOf(dn)).filter((c) => isLive(partyOf(c, dn) ?? { dn, state: 'Released', mute: 'Off' }));

  const ejectFromCalls = async (run: Run) => {
    const dn = run.flag.dn;
    if (dn === null) return;
    const seen = new Set((await liveCallsOf(dn)).map((c) => c.id));
    if (seen.size === 0) return;
    // Decided and carried out holding those calls, on their state read once they are held.
    await holding(shared.interactions, [...seen].map((id) => `call:${id}`), async () =>
      ejectFromHeldCalls(run, dn, (await liveCallsOf(dn)).filter((c) => seen.has(c.id))),
    );
  };

  const ejectFromHeldCalls = async (run: Run, dn: string, mine: readonly Call[]) => {
    const { flag } = run;
    const conferences = mine.filter((c) => liveParties(c).length >= 3);
    for (const call of mine.filter((c) => !conferences.includes(c)))
      await close(run, 'skipped', 'two-party', { interaction: call.id, interactionType: 'call', detail: 'a two-party call is left alone' });
    if (conferences.length === 0) return;
    for (const call of conferences) run.calls.add(call.id);

    // A directory user is removed by monitoring their own device. An external party has none:
    // the orchestrator monitors an agent of each conference instead (its owner where it can).
    const byTarget = new Map<string, Call[]>();
    const unmonitorable: Call[] = [];
    for (const call of conferences) {
      const target = directory.byDn(dn) ? dn : agentToMonitor(call, dn);
      if (target === undefined) unmonitorable.push(call);
      else byTarget.set(target, [...(byTarget.get(target) ?? []), call]);
    }
    for (const call of unmonitorable) await failed(run, { interaction: call.id, interactionType: 'call' }, `no agent of call ${call.id} to monitor`);
    for (const [target, group] of byTarget) {
      const monitored = await asMonitorOf(flag, target, async () => {
        for (const { id } of group) {
          const where = { interaction: id, interactionType: 'call' as const };
          if (!run.open.has(id)) await audit(flag, 'found', 'accepted', where);
          const removed = await withRetry(flag, where, () => removeCall(id, dn));
          if (!isRefusal(removed)) await close(run, 'removed', 'ejected', { ...where, latencyMs: clock.now() - flag.createdAt });
          else if (gone(await store.getCall(id), dn)) await close(run, 'done', 'already-gone', { ...where, detail: removed.message });
          else await failed(run, where, removed.message);
        }
      });
      if (isRefusal(monitored))
        for (const call of group) await failed(run, { interaction: call.id, interactionType: 'call' }, `could not monitor ${target}: ${monitored.message}`);
    }
  };

  /** A live agent of the call (not `dn`, not external, not monitoring) whose device can be monitored: the owner first. */
  const agentToMonitor = (call: Call, dn: string): string | undefined => {
    const candidates = liveParties(call).filter((p) => p.dn !== dn && !p.external && p.dn !== actor.dn && directory.byDn(p.dn)?.deviceId);
    return (candidates.find((p) => p.dn === call.ownerDn) ?? candidates[0])?.dn;
  };

  /** Monitors `dn`'s device as a supervisor for the duration of `work`, then stops. */
  const asMonitorOf = async (flag: Flag | undefined, dn: string, work: () => Promise<void>): Promise<Outcome> => {
    const device = directory.byDn(dn)?.deviceId ?? '';
    const monitor = () =>
      log.act(`ListenIn ${dn}`, () =>
        engine.execute({
          type: 'DeviceOperation',
          actor,
          operation: operation<typeof MONITORING_SCHEMAS, 'ListenIn'>('ListenIn', {
            // The device's id is all the domain reads out of targetDeviceUri.
            targetDeviceUri: device,
            supervisorMonitoringScope: 'Agent',
            supervisorMonitoringMode: 'AllCalls',
          }),
        }),
      );
    let started = await monitor();
    if (isRefusal(started) && started.statusCode === 2) {
      // Monitoring left over (cancelled at the start of every run, so only after a lost race): start afresh on this user.
      await cancelMonitoring();
      started = await monitor();
    }
    if (isRefusal(started)) return started;
    try {
      await work();
    } finally {
      await withRetry(flag, {}, cancelMonitoring);
    }
    return { ok: true };
  };

  /** The user's chats, and any chat this lane is still in (an interrupted run's): it leaves them all. */
  const chatsToVisit = async (userId: string) => {
    const chats = new Map<string, Chat>();
    for (const chat of [...(await store.chatsOfAgent(userId)), ...(await store.chatsOfAgent(selfId))]) chats.set(chat.id, chat);
    return chats;
  };

  const ejectFromChats = async (run: Run) => {
    const seen = await chatsToVisit(run.flag.userId);
    if (seen.size === 0) return;
    await holding(shared.interactions, [...seen.keys()].map((id) => `chat:${id}`), async () => {
      const now = await chatsToVisit(run.flag.userId);
      for (const id of now.keys()) if (!seen.has(id)) now.delete(id);
      await ejectFromHeldChats(run, now);
    });
  };

  const ejectFromHeldChats = async (run: Run, chats: Map<string, Chat>) => {
    const { flag } = run;
    for (const chat of chats.values()) {
      const plan = chatPlan(chat, flag.userId, selfId);
      const where = { interaction: chat.id, interactionType: 'chat' as const, participant: flag.userId };
      if (plan.kind === 'none') continue;
      if (plan.kind === 'skip') {
        await close(run, 'skipped', 'two-party', { ...where, detail: 'a chat with one agent is left alone' });
        continue;
      }
      if (plan.kind === 'leave') {
        const left = await leaveChat(flag, chat.id);
        if (isRefusal(left)) await failed(run, where, `could not leave chat ${chat.id}: ${left.message}`);
        else await close(run, 'recovered', 'left', { ...where, detail: 'left a chat an interrupted run had intruded into' });
        continue;
      }
      run.chats.add(chat.id);
      if (!run.open.has(chat.id)) await audit(flag, 'found', 'accepted', where);
      if (plan.intrude) {
        const joined = await withRetry(flag, where, () =>
          log.act(`Intrude chat ${chat.id}`, () =>
            engine.execute({
              type: 'Intrude',
              actor,
              agentUserId: flag.userId,
              chatId: chat.id,
              operation: operation<typeof INTRUDE_SCHEMAS, 'Intrude'>('Intrude', { supervisorVisibilityMode: 'BargeIn' }),
            }),
          ),
        );
        if (isRefusal(joined)) {
          await failed(run, where, joined.message);
          continue;
        }
      }
      const removed = await withRetry(flag, where, () =>
        chatOperation(chat.id, operation<typeof CHAT_SCHEMAS, 'RemoveParticipantFromConference'>('RemoveParticipantFromConference', { targetPath: `/users/${flag.userId}` })),
      );
      if (!isRefusal(removed)) await close(run, 'removed', 'ejected', { ...where, latencyMs: clock.now() - flag.createdAt });
      else if (agentOf((await store.getChat(chat.id)) as Chat, flag.userId)?.state !== 'Chatting')
        await close(run, 'done', 'already-gone', { ...where, detail: removed.message });
      else await failed(run, where, removed.message);
      const left = await leaveChat(flag, chat.id);
      if (isRefusal(left)) run.problems.push(`could not leave chat ${chat.id}: ${left.message}`);
    }
  };

  /** Steps an interrupted run started whose party has gone since, unseen by this run: closed in the log. */
  const closeOpen = async (run: Run, only: 'call' | 'chat') => {
    for (const [id, type] of run.open) {
      if (type !== only || run.closed.has(id)) continue;
      await close(run, 'recovered', 'already-gone', {
        interaction: id,
        interactionType: type,
        ...(type === 'chat' ? { participant: run.flag.userId } : {}),
        detail: 'no longer there when the flag resumed (removed before the interruption, or left)',
      });
    }
  };

  /** What stands in the way of `done`, read from the state now (not from what the run believes it did). */
  const whatIsLeft = async (run: Run): Promise<string[]> => {
    const { flag } = run;
    const left: string[] = [];
    const monitoring = (await store.getAgentSession(selfId))?.monitoring;
    if (monitoring) left.push(`the orchestrator still monitors ${monitoring.targetDn}`);
    for (const chat of await store.chatsOfAgent(selfId))
      if (agentOf(chat, selfId)?.state === 'Chatting') left.push(`the orchestrator is still in chat ${chat.id}`);
    for (const id of run.calls) {
      const call = await store.getCall(id);
      if (flag.dn !== null && !gone(call, flag.dn)) left.push(`${flag.dn} is still in call ${id}`);
      if (call?.parties.some((p) => p.dn === actor.dn && p.monitor && p.state !== 'Released')) left.push(`the orchestrator still monitors call ${id}`);
    }
    for (const id of run.chats) {
      const chat = await store.getChat(id);
      if (chat && agentOf(chat, flag.userId)?.state === 'Chatting') left.push(`${flag.userName} is still in chat ${id}`);
    }
    return left;
  };

  /** The final entry, then the flag's own status: `done`, or `failed` with why. */
  const finish = async (flag: Flag, verdict: Verdict, audited = false) => {
    if (!audited) {
      if (verdict.status === 'done') await audit(flag, 'done', 'completed');
      else await audit(flag, 'failed', 'error', { detail: verdict.detail });
    }
    await log.saveFlag({ ...flag, status: verdict.status, detail: verdict.status === 'failed' ? verdict.detail : null });
  };

  const carryOut = async (flag: Flag, resumed: boolean) => {
    const run: Run = { flag, open: new Map(), closed: new Set(), calls: new Set(), chats: new Set(), problems: [] };
    let verdict: Verdict;
    try {
      if (resumed) {
        const entries = await store.queryAudit({ flagId: flag.id });
        // The run reached its verdict and stopped before saving the flag: only the save is left.
        const recorded = recordedVerdict(entries);
        if (recorded) return await finish(flag, recorded, true);
        await audit(flag, 'retried', 'retrying', { detail: 'resumed after restart' });
        for (const { id, type } of openInteractions(entries)) run.open.set(id, type);
      }
      await cancelLeftoverMonitoring(flag);
      await ejectFromCalls(run);
      await closeOpen(run, 'call');
      await ejectFromChats(run);
      await closeOpen(run, 'chat');
      verdict = verdictOf([...run.problems, ...(await whatIsLeft(run))]);
    } catch (error) {
      logger.error({ err: error, flagId: flag.id }, 'compliance ejection failed');
      try {
        // Never leave the orchestrator in a chat or monitoring: undo that before giving up.
        await cleanUp();
        verdict = { status: 'failed', detail: (error as Error).message };
      } catch (cleanup) {
        // The state cannot be read or changed now: the flag stays pending and resumes at the next start.
        logger.error({ err: cleanup, flagId: flag.id }, 'could not clean up after a failed ejection; the flag stays pending');
        return;
      }
    }
    try {
      await finish(flag, verdict);
    } catch (error) {
      logger.error({ err: error, flagId: flag.id }, 'could not record the outcome of a flag; it stays pending');
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

  return {
    carryOut,
    enqueue,
    idle: () => queue,
    cleanUp,
    removeFromCall: (callId, dn) =>
      holding(shared.interactions, [`call:${callId}`], async () => {
        let outcome: Outcome = refuse.internal('not run');
        await cancelLeftoverMonitoring();
        // Refused before monitoring starts when the removal cannot succeed: joining the call
        // first would leave the refused request's trace on it (hostile-input regression).
        const current = await store.getCall(callId);
        if (current === undefined) return refuse.notFound('call', callId);
        const blocker = removalBlocker(current, dn);
        if (blocker !== null) return refuse.invalidState(blocker);
        // An external number has no device to monitor: monitor an agent of the call instead, as a flag does.
        const external = directory.byDn(dn) === undefined;
        const call = external ? current : undefined;
        const target = call ? agentToMonitor(call, dn) : dn;
        if (target === undefined) return refuse.invalidState(`no agent of call ${callId} can be monitored to remove ${dn}`);
        const monitored = await asMonitorOf(undefined, target, async () => {
          outcome = await removeCall(callId, dn);
        });
        return isRefusal(monitored) ? monitored : outcome;
      }),
  };
};

export const createCompliance = (deps: ComplianceDeps): Compliance => {
  const { store, directory, clock, logger } = deps;
  if (deps.lanes.length === 0) throw new Error('the compliance orchestrator needs at least one lane (user)');

  /** A listener that throws must not stop an ejection. */
  const tell = (change: { flag: Flag; entry?: AuditEntry }) => {
    try {
      deps.onChange?.(change);
    } catch (error) {
      logger.error({ err: error }, 'a compliance change listener failed');
    }
  };
  const counter = { count: 0 };
  const stepLog = (actor: string) => createStepLog({ store, clock, logger, actor, tell, counter, ...(deps.afterStep ? { afterStep: deps.afterStep } : {}) });
  const shared: Shared = { deps, stepLog, interactions: createKeyedQueue() };
  const lanes = deps.lanes.map((user) => createLane(shared, user));
  // Raising a flag writes its first steps; its 'flagged' entry names who raised it.
  const log = stepLog((deps.lanes[0] as DirectoryUser).userName);

  /**
   * Which lane carries out work for a key (a flagged user, or a DN for a single removal): the
   * lane already holding work for that key, so one user's flags stay in order; otherwise the
   * least busy, the first on a tie, so a lone flag is always the first lane's.
   */
  const busy = lanes.map(() => new Map<string, number>());
  const onLane = <T>(key: string, work: (lane: Lane) => Promise<T>): Promise<T> => {
    let index = busy.findIndex((keys) => keys.has(key));
    if (index < 0) {
      const loads = busy.map((keys) => [...keys.values()].reduce((a, b) => a + b, 0));
      index = loads.indexOf(Math.min(...loads));
    }
    const keys = busy[index] as Map<string, number>;
    keys.set(key, (keys.get(key) ?? 0) + 1);
    const lane = lanes[index] as Lane;
    return lane
      .enqueue(() => work(lane))
      .finally(() => {
        const left = (keys.get(key) ?? 1) - 1;
        if (left === 0) keys.delete(key);
        else keys.set(key, left);
      });
  };

  const resolveUser = (ref: string) => directory.byUserName(ref) ?? directory.byId(ref) ?? directory.byDn(ref);
  /** An external number (a customer) flagged by its number: it is its own id, name and DN. */
  const externalUser = (ref: string) =>
    isExternalShaped(ref) && !directory.queueOf(ref) ? { id: ref, userName: ref, phoneNumber: ref as string | null } : undefined;

  // Each flag is carried out once per process, however often resume or pickUp sees it pending.
  const scheduled = new Set<string>();
  const schedule = (flag: Flag, resumed: boolean) => {
    if (scheduled.has(flag.id)) return;
    scheduled.add(flag.id);
    void onLane(flag.userId, (lane) => lane.carryOut(flag, resumed));
  };
  const runsHere = deps.runsHere ?? (() => true);
  /** Before resuming anything, every lane undoes what an interrupted run of it left (monitoring, a chat it is in). */
  const cleanUpLanes = () =>
    Promise.all(
      lanes.map((lane) =>
        lane.enqueue(() => lane.cleanUp()).catch((error: unknown) => logger.error({ err: error }, 'could not clean up after an interrupted compliance run')),
      ),
    );

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
    await log.saveFlag(flag);
    await log.audit(flag, 'flagged', 'accepted', { actor: raisedBy, detail: request.reason });
    if (runsHere()) schedule(flag, false);
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
      const pending = await store.pendingFlags();
      if (pending.length > 0) await cleanUpLanes();
      for (const flag of pending) schedule(flag, true);
    },
    async pickUp() {
      // A flag raised on another node is new here, unless a node that died had begun it: then it
      // resumes from what its audit shows.
      const fresh: { flag: Flag; begun: boolean }[] = [];
      for (const flag of await store.pendingFlags()) {
        if (scheduled.has(flag.id)) continue;
        fresh.push({ flag, begun: (await store.queryAudit({ flagId: flag.id })).some((e) => e.step !== 'flagged') });
      }
      if (fresh.some((f) => f.begun)) await cleanUpLanes();
      for (const { flag, begun } of fresh) schedule(flag, begun);
    },
    idle: async () => {
      await Promise.all(lanes.map((lane) => lane.idle()));
    },
    removeFromCall: (callId, dn) => onLane(`dn:${dn}`, (lane) => lane.removeFromCall(callId, dn)),
  };
};

const gone = (call: Call | undefined, dn: string): boolean => {
  const party = call && partyOf(call, dn);
  return !party || !isLive(party);
};
