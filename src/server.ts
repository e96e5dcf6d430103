/**
 * The composition root: opens the store, wires the engine, the notifier and the HTTP/CometD edge,
 * and listens. Everything a test or the CLI needs to run a real Conclave is `startServer`.
 */
import type { IncomingMessage } from 'node:http';
import pino, { type Logger } from 'pino';
import { createAuthenticator } from './api/gws/auth.js';
import formbody from '@fastify/formbody';
import { customerChatPlugin } from './api/customer-chat/routes.js';
import { gwsRoutes } from './api/gws/routes.js';
import { gwsRefs } from './api/gws/resource-ids.js';
import type { Urls } from './api/gws/views/urls.js';
import { domainDirectoryOf } from './directory/domain-view.js';
import { demoDirectory, withComplianceUser, COMPLIANCE_USER_NAME, type Directory } from './directory/directory.js';
import { conclavePlugin } from './api/conclave/plugin.js';
import { consoleStatic } from './api/conclave/console-static.js';
import { createConsoleStream } from './api/conclave/event-stream.js';
import { cloudPlugin } from './api/cloud/routes.js';
import { createCloudNotifications } from './api/cloud/notifications.js';
import { createCompliance, type Compliance } from './engine/compliance.js';
import { createRulesSink } from './engine/compliance-rules.js';
import type { AfterStep } from './engine/compliance-steps.js';
import type { ComplianceRule } from './domain/compliance/rules.js';
import { createEngine, type Engine } from './engine/engine.js';
import { createExternalAnswerer } from './engine/external-answer.js';
import { randomIds, systemClock } from './engine/ids.js';
import { fanOut, type Clock, type IdSource } from './engine/ports.js';
import { createApp } from './http/app.js';
import { registerOpenApi, serveOpenApi } from './http/openapi.js';

const CONCLAVE_VERSION = '0.2.0';
import { createCometdHub } from './notify/cometd-hub.js';
import { createGwsNotifier } from './notify/gws-notifier.js';
import { openSqliteStore } from './store/sqlite.js';
import { isPostgresUrl, openPostgresStore } from './store/postgres.js';
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
  /** Test hook: told after each step the compliance orchestrator commits (src/cli.ts: CONCLAVE_TEST_CRASH_AFTER_STEP). */
  readonly complianceAfterStep?: AfterStep;
}

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
  const directory = withComplianceUser(options.directory ?? demoDirectory());
  const clock = options.clock ?? systemClock;
  const data = options.data ?? ':memory:';
  const postgres = isPostgresUrl(data) ? await openPostgresStore(data) : undefined;
  const store = postgres?.store ?? openSqliteStore(data);
  const urls: { base: string } = { base: '' } satisfies Urls;
  const auth = createAuthenticator(directory);
  const hub = createCometdHub({
    authenticate: (headers) => {
      const result = auth.authenticate(headers);
      return result.ok ? result.user : undefined;
    },
    ...(options.pollTimeout !== undefined ? { pollTimeout: options.pollTimeout } : {}),
  });
  const people = domainDirectoryOf(directory);
  const notifier = createGwsNotifier({ directory, chatDirectory: people, clock, urls, delivery: hub });
  // Rules watch what is committed; the orchestrator they flag to is built just below.
  let compliance: Compliance | undefined;
  const cloudNotifications = createCloudNotifications({ directory, now: () => clock.now() });
  const logSinkError = (error: unknown) => logger.error({ err: error }, 'an event sink failed');
  // The sinks, in order: what each recipient hears first, then what rules conclude from it.
  // The far end of an external number answers through the engine built just below.
  let engineRef: Engine | undefined;
  const answerer = createExternalAnswerer(options.externalAnswerMs ?? 1000, () => engineRef as Engine, logSinkError);
  // The console's admin event stream (/conclave/v1/events) hears every batch too.
  const consoleStream = createConsoleStream(directory);
  const sink = fanOut(
    [notifier, cloudNotifications.sink, createRulesSink(options.complianceRules ?? [], () => compliance as Compliance, logSinkError), answerer, consoleStream.sink],
    logSinkError,
  );
  const engine = createEngine({ store, directory: people, sink, clock, ids: options.ids ?? randomIds, refs: gwsRefs });
  engineRef = engine;

  const app = createApp(logger);
  await registerOpenApi(app, CONCLAVE_VERSION);
  // The customer chat API takes form-encoded bodies, as GMS does.
  await app.register(formbody);
  await app.register(customerChatPlugin(engine), { prefix: '/genesys/2/chat' });
  await app.register(gwsRoutes({ engine, store, directory, auth, clock, urls, chatDirectory: people, csrf: options.csrf ?? false }), { prefix: '/api/v2' });

  // CometD: the client posts meta messages to MOUNT/handshake, MOUNT/connect, ... and batches to
  // MOUNT. Fastify parses (and size-limits) the JSON; the CometD server takes over the response.
  const bayeux = (request: { raw: IncomingMessage & { body?: unknown }; body: unknown }, reply: { hijack(): void; raw: import('node:http').ServerResponse }) => {
    reply.hijack();
    request.raw.body = request.body;
    hub.handle(request.raw, reply.raw);
  };
  // Bayeux is described by the CometD specification, not by OpenAPI.
  app.post('/api/v2/notifications', { schema: { hide: true } }, bayeux);
  app.post('/api/v2/notifications/*', { schema: { hide: true } }, bayeux);

  compliance = createCompliance({
    engine,
    store,
    directory,
    clock,
    logger,
    self: directory.byUserName(COMPLIANCE_USER_NAME) as NonNullable<ReturnType<Directory['byUserName']>>,
    onChange: consoleStream.complianceChanged,
    ...(options.complianceAfterStep ? { afterStep: options.complianceAfterStep } : {}),
  });
  await app.register(conclavePlugin({ compliance, store, auth, engine, directory, stream: consoleStream, csrf: options.csrf ?? false }), { prefix: '/conclave/v1' });
  await app.register(consoleStatic());
  await app.register(cloudPlugin({ engine, store, directory, compliance, clock, notifications: cloudNotifications }), { prefix: '/cloud' });
  cloudNotifications.attach(app.server, () => urls.base);
  const orchestrator = compliance;

  serveOpenApi(app);
  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) =>
    (await store.ping()) ? { status: 'ok' } : reply.code(503).send({ status: 'unavailable', reason: 'the store cannot be read' }),
  );

  try {
    await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  } catch (error) {
    await store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  const host = options.host ?? '127.0.0.1';
  urls.base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  // Flags a crash left half done are carried out now.
  await orchestrator.resume();

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
        await orchestrator.idle();
        hub.close();
        cloudNotifications.close();
        consoleStream.close();
        // Let the answers to held polls leave before the sockets are closed.
        await new Promise((resolve) => setTimeout(resolve, 50));
        await app.close();
        await store.close();
      })()),
  };
};
