/**
 * The composition root: opens the store, wires the engine, the notifier and the HTTP/CometD edge,
 * and listens. Everything a test or the CLI needs to run a real Conclave is `startServer`.
 */
import type { IncomingMessage } from 'node:http';
import pino, { type Logger } from 'pino';
import { createAuthenticator, type SameSite } from './api/gws/auth.js';
import { createLoginThrottle, type LoginThrottleOptions } from './api/login-throttle.js';
import formbody from '@fastify/formbody';
import { customerChatPlugin } from './api/customer-chat/routes.js';
import { gwsRoutes } from './api/gws/routes.js';
import { gwsRefs } from './api/gws/resource-ids.js';
import type { Urls } from './api/gws/views/urls.js';
import { domainDirectoryOf } from './directory/domain-view.js';
import { complianceUserName, DEFAULT_COMPLIANCE_LANES, demoDirectory, withComplianceUser, type Directory } from './directory/directory.js';
import { conclavePlugin } from './api/conclave/plugin.js';
import { consoleStatic } from './api/conclave/console-static.js';
import { createConsoleStream } from './api/conclave/event-stream.js';
import { cloudPlugin } from './api/cloud/routes.js';
import { createCloudNotifications } from './api/cloud/notifications.js';
import { createCallLog } from './api/cloud/analytics.js';
import { directoryQueues } from './api/cloud/queues.js';
import { createCompliance, type Compliance } from './engine/compliance.js';
import { createRulesSink } from './engine/compliance-rules.js';
import type { AfterStep } from './engine/compliance-steps.js';
import type { ComplianceRule } from './domain/compliance/rules.js';
import { createEngine, type Engine } from './engine/engine.js';
import { createExternalAnswerer } from './engine/external-answer.js';
import { createRoutingTimers } from './engine/routing-timers.js';
import { randomIds, systemClock } from './engine/ids.js';
import { fanOut, type Clock, type IdSource } from './engine/ports.js';
import { createApp } from './http/app.js';
import { DEFAULT_SHED_DELAY_MS, eventLoopPressure, installLoadShedding, type PressureSignal } from './http/shedding.js';
import { connectionLimits, type ConnectionLimits } from './http/connections.js';
import { corsHook } from './http/cors.js';
import { registerOpenApi, serveOpenApi } from './http/openapi.js';

const CONCLAVE_VERSION = '0.2.0';
import { createCometdHub } from './notify/cometd-hub.js';
import { createGwsNotifier } from './notify/gws-notifier.js';
import { openSqliteStore } from './store/sqlite.js';
import { isPostgresUrl, openPostgresStore } from './store/postgres.js';
import { startClusterBus, startLease, type ClusterBus, type Lease } from './store/postgres-cluster.js';
import { randomUUID } from 'node:crypto';
import { lockDataFile } from './store/sqlite-lock.js';
import type { Store } from './store/port.js';

export interface ServerOptions {
  readonly host?: string;
  readonly port?: number;
  /** SQLite file path, ':memory:', or a postgres:// URL (a cluster node: docs/cluster.md). */
  readonly data?: string;
  readonly directory?: Directory;
  readonly logger?: Logger;
  /** How long CometD holds a /meta/connect, in ms. */
  readonly pollTimeout?: number;
  readonly clock?: Clock;
  readonly ids?: IdSource;
  /** GWS-style CSRF protection on /api/v2 writes. */
  readonly csrf?: boolean;
  /** Compliance rules (from `--compliance FILE`). */
  readonly complianceRules?: readonly ComplianceRule[];
  /** How long an external number rings before it answers by itself, in ms: 0 at once, -1 never (default 1000). */
  readonly externalAnswerMs?: number;
  /** Timeouts and the per-address socket limit (http/connections.ts); production defaults otherwise. */
  readonly connections?: Partial<ConnectionLimits>;
  /** Failed-login throttling (api/login-throttle.ts); production defaults otherwise. */
  readonly loginThrottle?: Partial<LoginThrottleOptions>;
  /** The session cookie's SameSite attribute (default Strict). */
  readonly cookieSameSite?: SameSite;
  /** Routing offers an agent at most this many chats at once (default 8). */
  readonly maxChatsPerAgent?: number;
  /** Ended calls and chats are deleted this long after they ended, in ms (default 3 days; 0 keeps everything). */
  readonly retentionMs?: number;
  /** How often retention runs, in ms (default: an hour, or the retention itself if shorter). */
  readonly retentionSweepMs?: number;
  /** Browser origins allowed by CORS on /api/v2 and CometD (`--cors-origin`); none by default. */
  readonly corsOrigins?: readonly string[];
  /** A chat no agent has taken this long after it started ends, its customer told (ms; default 10 min; 0 never). */
  readonly chatWaitTimeoutMs?: number;
  /** Load shedding threshold: how long the event loop may have been busy without a pause before a new request gets 503 (http/shedding.ts; default 100; 0 turns it off). */
  readonly shedDelayMs?: number;
  /** Compliance orchestrator lanes (default 4): flags on different users carried out concurrently (engine/compliance.ts). */
  readonly complianceLanes?: number;
  /** Test hook: the overload signal itself, instead of the event-loop monitor `shedDelayMs` starts. */
  readonly pressure?: PressureSignal;
  /** Test hook: told after each step the compliance orchestrator commits (src/cli.ts: CONCLAVE_TEST_CRASH_AFTER_STEP). */
  readonly complianceAfterStep?: AfterStep;
}

export const DEFAULT_CHAT_WAIT_TIMEOUT_MS = 10 * 60 * 1000;

export const DEFAULT_RETENTION_MS = 3 * 24 * 60 * 60 * 1000;

export interface RunningServer {
  /** http://HOST:PORT with the real port. */
  readonly url: string;
  readonly port: number;
  readonly engine: Engine;
  readonly store: Store;
  readonly directory: Directory;
  readonly compliance: Compliance;
  close(): Promise<void>;
}

export const startServer = async (options: ServerOptions = {}): Promise<RunningServer> => {
  const logger = options.logger ?? pino({ level: 'silent' });
  const complianceLanes = options.complianceLanes ?? DEFAULT_COMPLIANCE_LANES;
  const directory = withComplianceUser(options.directory ?? demoDirectory(), complianceLanes);
  const clock = options.clock ?? systemClock;
  const data = options.data ?? ':memory:';
  const postgres = isPostgresUrl(data) ? await openPostgresStore(data) : undefined;
  // Before anything is opened or answered: one process per SQLite file (a cluster shares
  // PostgreSQL instead).
  const lock = postgres ? undefined : lockDataFile(data);
  let store: Store;
  try {
    store = postgres?.store ?? openSqliteStore(data);
  } catch (error) {
    lock?.release();
    throw error;
  }
  const urls: { base: string } = { base: '' } satisfies Urls;
  // One throttle for every way in: Basic (GWS, CometD, /conclave/v1) and OAuth client secrets (/cloud).
  const loginThrottle = createLoginThrottle(options.loginThrottle, () => clock.now());
  const auth = createAuthenticator(directory, () => clock.now(), loginThrottle, {
    csrf: options.csrf ?? false,
    sameSite: options.cookieSameSite ?? 'Strict',
  });
  const hub = createCometdHub({
    authenticate: (headers, address) => {
      const result = auth.authenticate(headers, address);
      return result.ok ? result.user : undefined;
    },
    ...(options.pollTimeout !== undefined ? { pollTimeout: options.pollTimeout } : {}),
  });
  const people = domainDirectoryOf(directory);
  const notifier = createGwsNotifier({ directory, chatDirectory: people, clock, urls, delivery: hub });
  // Rules watch what is committed; the orchestrator they flag to is built just below.
  let compliance: Compliance | undefined;
  // The directory's queues, with stable Cloud ids (api/cloud/queues.ts).
  const cloudQueues = directoryQueues(directory);
  const cloudNotifications = createCloudNotifications({ directory, queues: cloudQueues, now: () => clock.now() });
  const cloudCallLog = createCallLog();
  const logSinkError = (error: unknown) => logger.error({ err: error }, 'an event sink failed');
  // The sinks, in order: what each recipient hears first, then what rules conclude from it.
  // The far end of an external number answers through the engine built just below.
  let engineRef: Engine | undefined;
  const answerer = createExternalAnswerer(options.externalAnswerMs ?? 1000, () => engineRef as Engine, logSinkError);
  // Queue routing's ring timeouts and wrap-up ends, also through the engine.
  const routingTimers = createRoutingTimers({
    engine: () => engineRef as Engine,
    ringTimeoutS: (queue) => directory.queueOf(queue)?.ringTimeoutS,
    now: () => clock.now(),
    onError: logSinkError,
  });
  // The console's admin event stream (/conclave/v1/events) hears every batch too.
  const consoleStream = createConsoleStream(directory);
  // On PostgreSQL this node is one of a cluster: what other nodes commit reaches this node's
  // sessions through the outbox (store/postgres-cluster.ts). Only the notifiers hear remote
  // events: rules and the far-end answerer act once, on the node that made the change.
  const remote = fanOut([notifier, cloudNotifications.sink, consoleStream.sink], logSinkError);
  let cluster: ClusterBus | undefined;
  if (postgres)
    try {
      cluster = await startClusterBus({
        url: postgres.url,
        nodeId: randomUUID(),
        deliver: (events) => remote.publish(events),
        onError: (error, what) => logger.warn({ err: error }, what),
      });
    } catch (error) {
      await store.close();
      throw error;
    }
  const sink = fanOut(
    [
      notifier,
      cloudNotifications.sink,
      cloudCallLog.sink,
      createRulesSink(options.complianceRules ?? [], () => compliance as Compliance, logSinkError),
      answerer,
      routingTimers,
      consoleStream.sink,
      ...(cluster ? [cluster.sink] : []),
    ],
    logSinkError,
  );
  const engine = createEngine({
    store,
    directory: people,
    sink,
    clock,
    ids: options.ids ?? randomIds,
    refs: gwsRefs,
    ...(options.maxChatsPerAgent !== undefined ? { maxChatsPerAgent: options.maxChatsPerAgent } : {}),
  });
  engineRef = engine;

  const app = createApp(logger, connectionLimits(options.connections, options.pollTimeout ?? 30_000));
  // Before any route: while overloaded, new requests are refused at once (http/shedding.ts).
  const shedDelayMs = options.shedDelayMs ?? DEFAULT_SHED_DELAY_MS;
  const pressure = options.pressure ?? (shedDelayMs > 0 ? eventLoopPressure(shedDelayMs) : undefined);
  if (pressure) installLoadShedding(app.server, pressure);
  await registerOpenApi(app, CONCLAVE_VERSION);
  // The customer chat API takes form-encoded bodies, as GMS does.
  await app.register(formbody);
  await app.register(customerChatPlugin(engine), { prefix: '/genesys/2/chat' });
  const cors = corsHook(options.corsOrigins ?? []);
  await app.register(gwsRoutes({ engine, store, directory, auth, clock, urls, chatDirectory: people, csrf: options.csrf ?? false, cors }), { prefix: '/api/v2' });

  // CometD: the client posts meta messages to MOUNT/handshake, MOUNT/connect, ... and batches to
  // MOUNT. Fastify parses (and size-limits) the JSON; the CometD server takes over the response.
  const bayeux = (request: { raw: IncomingMessage & { body?: unknown }; body: unknown }, reply: { hijack(): void; raw: import('node:http').ServerResponse }) => {
    reply.hijack();
    request.raw.body = request.body;
    hub.handle(request.raw, reply.raw);
  };
  // Bayeux is described by the CometD specification, not by OpenAPI.
  // CORS as on the GWS plugin; CometD's preflights reach the plugin's not-found route, whose hook answers them.
  app.post('/api/v2/notifications', { schema: { hide: true }, onRequest: cors }, bayeux);
  app.post('/api/v2/notifications/*', { schema: { hide: true }, onRequest: cors }, bayeux);

  compliance = createCompliance({
    engine,
    store,
    directory,
    clock,
    logger,
    lanes: Array.from({ length: complianceLanes }, (_, i) => directory.byUserName(complianceUserName(i)) as NonNullable<ReturnType<Directory['byUserName']>>),
    onChange: consoleStream.complianceChanged,
    // In a cluster only the lease holder carries flags out (the lease is taken below).
    ...(postgres ? { runsHere: () => lease?.held() ?? false } : {}),
    ...(options.complianceAfterStep ? { afterStep: options.complianceAfterStep } : {}),
  });
  await app.register(conclavePlugin({ compliance, store, auth, engine, directory, stream: consoleStream, csrf: options.csrf ?? false }), { prefix: '/conclave/v1' });
  await app.register(consoleStatic());
  await app.register(cloudPlugin({ engine, store, directory, compliance, clock, notifications: cloudNotifications, queues: cloudQueues, callLog: cloudCallLog, loginThrottle }), { prefix: '/cloud' });
  cloudNotifications.attach(app.server, () => urls.base);
  const orchestrator = compliance;

  serveOpenApi(app);
  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) =>
    (await store.ping()) ? { status: 'ok' } : reply.code(503).send({ status: 'unavailable', reason: 'the store cannot be read' }),
  );

  try {
    await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  } catch (error) {
    await cluster?.close();
    await store.close();
    lock?.release();
    throw error;
  }
  let lease: Lease | undefined;
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  const host = options.host ?? '127.0.0.1';
  urls.base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  // Flags a crash left half done are carried out now; in a cluster by the lease holder, when it
  // takes the lease (another node's death included), and flags raised on other nodes as it sees them.
  let pickUp: NodeJS.Timeout | undefined;
  const onLeaseError = (error: unknown) => logger.error({ err: error }, 'the compliance orchestrator could not take up flags');
  if (postgres) {
    lease = await startLease({
      url: postgres.url,
      onAcquired: () => {
        logger.info('this node now runs the compliance orchestrator');
        orchestrator.resume().catch(onLeaseError);
      },
      onError: (error, what) => logger.warn({ err: error }, what),
    });
    pickUp = setInterval(() => {
      if (lease?.held()) orchestrator.pickUp().catch(onLeaseError);
    }, 500);
    pickUp.unref();
  } else await orchestrator.resume();

  // Retention: ended interactions go after a while, so a long-running store does not grow without
  // end. The audit trail is the store's to keep (pruneEnded never touches it).
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  const prune = () =>
    store.pruneEnded(clock.now() - retentionMs).then(
      (pruned) => (pruned.calls > 0 || pruned.chats > 0) && logger.info(pruned, 'pruned ended interactions'),
      (error: unknown) => logger.error({ err: error }, 'retention failed'),
    );
  const retention = retentionMs > 0 ? setInterval(prune, options.retentionSweepMs ?? Math.min(retentionMs, 60 * 60 * 1000)) : undefined;
  retention?.unref();
  if (retentionMs > 0) await prune();

  // Waiting chats do not wait for ever: each one still waiting after the timeout is ended through
  // the engine (its own queue key, so a chat taken meanwhile is left alone).
  const chatWaitTimeoutMs = options.chatWaitTimeoutMs ?? DEFAULT_CHAT_WAIT_TIMEOUT_MS;
  const expireWaiting = async () => {
    try {
      const due = (await store.waitingChats()).filter((chat) => clock.now() - chat.createdAt >= chatWaitTimeoutMs);
      for (const chat of due) await engine.execute({ type: 'ExpireWaitingChat', chatId: chat.id, maxWaitMs: chatWaitTimeoutMs });
    } catch (error) {
      logger.error({ err: error }, 'expiring waiting chats failed');
    }
  };
  const waitingSweep = chatWaitTimeoutMs > 0 ? setInterval(() => void expireWaiting(), Math.max(50, Math.min(chatWaitTimeoutMs / 4, 30_000))) : undefined;
  waitingSweep?.unref();

  let closing: Promise<void> | undefined;
  return {
    url: urls.base,
    port,
    engine,
    store,
    directory,
    compliance: orchestrator,
    close: () =>
      (closing ??= (async () => {
        answerer.close();
        routingTimers.close();
        if (pickUp) clearInterval(pickUp);
        clearInterval(retention);
        clearInterval(waitingSweep);
        await orchestrator.idle();
        await lease?.close();
        hub.close();
        pressure?.close();
        cloudNotifications.close();
        consoleStream.close();
        // Let the answers to held polls leave before the sockets are closed.
        await new Promise((resolve) => setTimeout(resolve, 50));
        await app.close();
        await cluster?.close();
        await store.close();
        lock?.release();
      })()),
  };
};
