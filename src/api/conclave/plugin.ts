/**
 * Conclave's own API under /conclave/v1 as one encapsulated plugin: compliance flags and the
 * audit, and the simulation API (the outside world's side) with the interactions list. Its errors keep the GWS body shape (`statusCode`, `statusMessage`) that its clients
 * already read, with its own not-found answer.
 */
import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../gws/auth.js';
import { gwsErrorHandler, gwsNotFoundHandler } from '../gws/errors.js';
import type { Compliance } from '../../engine/compliance.js';
import type { Store } from '../../store/port.js';
import { complianceRoutes } from './compliance-routes.js';
import { simRoutes } from './sim-routes.js';
import type { Directory } from '../../directory/directory.js';
import type { Engine } from '../../engine/engine.js';
import { consoleRoutes } from './console-routes.js';
import type { ConsoleStream } from './event-stream.js';

export interface ConclaveDeps {
  readonly compliance: Compliance;
  readonly store: Store;
  readonly auth: Authenticator;
  readonly engine: Engine;
  readonly directory: Directory;
  /** The console's event stream (GET /conclave/v1/events). */
  readonly stream: ConsoleStream;
  readonly csrf: boolean;
}

export const conclavePlugin = (deps: ConclaveDeps) => async (app: FastifyInstance) => {
  app.setErrorHandler(gwsErrorHandler);
  app.setNotFoundHandler(gwsNotFoundHandler);
  await app.register(complianceRoutes(deps));
  await app.register(simRoutes(deps));
  await app.register(consoleRoutes(deps));
};
