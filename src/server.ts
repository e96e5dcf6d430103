/**
 * The composition root: opens the store, wires the engine, the notifier and the HTTP/CometD edge,
 * and listens. Everything a test or the CLI needs to run a real Conclave is `startServer`.
 */
import type { IncomingMessage } from 'node:http';
import pino, { type Logger } from 'pino';
import { createAuthenticator } from './api/gws/auth.js';
import formbody from '@fastify/formbody';
import { registerCustomerChatRoutes } from './api/customer-chat/routes.js';
import { registerGwsRoutes } from './api/gws/routes.js';
import type { Urls } from './api/gws/views/urls.js';
import { demoDirectory, withComplianceUser, COMPLIANCE_USER_NAME, type Directory } from './directory/directory.js';
import { registerComplianceRoutes } from './api/conclave/compliance-routes.js';
import { registerCloudRoutes } from './api/cloud/routes.js';
import { createCloudNotifications } from './api/cloud/notifications.js';
import { createCompliance, type Compliance } from './engine/compliance.js';
import { createRulesSink } from './engine/compliance-rules.js';
import type { ComplianceRule } from './domain/compliance/rules.js';
import { createEngine, type Engine } from './engine/engine.js';
import { randomIds, systemClock } from './engine/ids.js';
import type { Clock, IdSource } from './engine/ports.js';
import { createApp } from './http/app.js';
import { createCometdHub } from './notify/cometd-hub.js';
import { createGwsNotifier } from './notify/gws-notifier.js';
import { openSqliteStore } from './store/sqlite.js';
import type { Store } from './store/port.js';

export interface ServerOptions {
  readonly host?: string;
  readonly port?: number;
  /** SQLite file path or ':memory:'. */
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

/** The directory as the chat domain needs it: who can take chats, and who is logged in for them. */
const chatDirectoryOf = (directory: Directory, store: Store) => {
  const chatUser = (userId: string) => {
    const user = directory.byId(userId);
    const agent = user && user.features.includes('api-multimedia') && (user.roles.includes('ROLE_AGENT') || user.roles.includes('ROLE_SUPERVISOR'));
    return agent ? { id: user.id, nickname: user.nickname } : undefined;
  };
  return {
    isKnownDn: directory.isKnownDn,
    dnCount: directory.dnCount,
    byDn: directory.byDn,
    dnOfDevice: (deviceId: string) => directory.byDeviceId(deviceId)?.phoneNumber ?? undefined,
    chatUser,
    nicknameOf: (userId: string) => chatUser(userId)?.nickname,
    hasChatSession: (userId: string) => store.getAgentSession(userId)?.channels?.chat !== undefined,
    chatSessionUserIds: () => store.chatSessionUserIds(),
  };
};

export const startServer = async (options: ServerOptions = {}): Promise<RunningServer> => {
  const logger = options.logger ?? pino({ level: 'silent' });
  const directory = withComplianceUser(options.directory ?? demoDirectory());
  const clock = options.clock ?? systemClock;
  const store = openSqliteStore(options.data ?? ':memory:');
  const urls: { base: string } = { base: '' } satisfies Urls;
  const auth = createAuthenticator(directory);
  const hub = createCometdHub({
    authenticate: (headers) => {
      const result = auth.authenticate(headers);
      return result.ok ? result.user : undefined;
    },
    ...(options.pollTimeout !== undefined ? { pollTimeout: options.pollTimeout } : {}),
  });
  const people = chatDirectoryOf(directory, store);
  const notifier = createGwsNotifier({ store, directory, chatDirectory: people, clock, urls, delivery: hub });
  // Rules watch what is committed; the orchestrator they flag to is built just below.
  let compliance: Compliance | undefined;
  const cloudNotifications = createCloudNotifications({ store, directory, now: () => clock.now() });
  const sink = createRulesSink(cloudNotifications.sink(notifier), options.complianceRules ?? [], store, () => compliance as Compliance);
  const engine = createEngine({ store, directory: people, sink, clock, ids: options.ids ?? randomIds });

  const app = createApp(logger);
  // The customer chat API takes form-encoded bodies, as GMS does.
  await app.register(formbody);
  registerCustomerChatRoutes(app, engine);
  registerGwsRoutes(app, { engine, store, directory, auth, clock, urls, chatDirectory: people, csrf: options.csrf ?? false });

  // CometD: the client posts meta messages to MOUNT/handshake, MOUNT/connect, ... and batches to
  // MOUNT. Fastify parses (and size-limits) the JSON; the CometD server takes over the response.
  const bayeux = (request: { raw: IncomingMessage & { body?: unknown }; body: unknown }, reply: { hijack(): void; raw: import('node:http').ServerResponse }) => {
    reply.hijack();
    request.raw.body = request.body;
    hub.handle(request.raw, reply.raw);
  };
  app.post('/api/v2/notifications', bayeux);
  app.post('/api/v2/notifications/*', bayeux);

  compliance = createCompliance({
    engine,
    store,
    directory,
    clock,
    logger,
    self: directory.byUserName(COMPLIANCE_USER_NAME) as NonNullable<ReturnType<Directory['byUserName']>>,
  });
  registerComplianceRoutes(app, { compliance, store, auth });
  registerCloudRoutes(app, { engine, store, directory, compliance, clock, notifications: cloudNotifications });
  cloudNotifications.attach(app.server, () => urls.base);
  const orchestrator = compliance;

  app.get('/healthz', async (_request, reply) =>
    store.ping() ? { status: 'ok' } : reply.code(503).send({ status: 'unavailable', reason: 'the store cannot be read' }),
  );

  try {
    await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  } catch (error) {
    store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  const host = options.host ?? '127.0.0.1';
  urls.base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  // Flags a crash left half done are carried out now.
  orchestrator.resume();

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
        await orchestrator.idle();
        hub.close();
        cloudNotifications.close();
        // Let the answers to held polls leave before the sockets are closed.
        await new Promise((resolve) => setTimeout(resolve, 50));
        await app.close();
        store.close();
      })()),
  };
};
