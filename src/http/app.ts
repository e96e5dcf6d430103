/**
 * The Fastify instance: limits, body parsing, and the errors raised before any dialect sees a
 * request (a malformed URL escape, an oversized header), answered in the shape of the dialect
 * the URL belongs to. Each dialect is an encapsulated plugin with its own error and not-found
 * handlers (registered in server.ts).
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { errorBody as cloudErrorBody } from '../api/cloud/errors.js';
import { gwsErrorHandler, gwsNotFoundHandler } from '../api/gws/errors.js';
import { BODY_LIMIT_BYTES } from './limits.js';
import { connectionLimits, fastifyTimeoutOptions, limitConnectionsPerAddress, type ConnectionLimits } from './connections.js';

export { BODY_LIMIT_BYTES };

/** What the HTTP parser's errors are answered: [status, reason phrase, statusMessage]. */
const MALFORMED: readonly [number, string, string] = [400, 'Bad Request', 'malformed HTTP request'];
const CLIENT_ERRORS: Record<string, readonly [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'request headers (or URL) are too large'],
  // The headers or the request did not arrive within its timeout (http/connections.ts).
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'the request was not received in time'],
};

export const createApp = (logger: Logger, limits: ConnectionLimits = connectionLimits()) => {
  const app = Fastify({
    loggerInstance: logger,
    ...fastifyTimeoutOptions(limits),
    bodyLimit: BODY_LIMIT_BYTES,
    // Held CometD long polls must not keep a shutdown waiting: close idle and polling sockets.
    forceCloseConnections: true,
    return503OnClosing: true,
    // Per-request log lines would cost more than the requests themselves; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { allErrors: false } },
    // Ids are validated by each route's schema (statusCode 10), not cut off by the router at 100;
    // Node's 16 KiB header limit (431) bounds the URL as a whole.
    routerOptions: { maxParamLength: 16_384 },
    // Errors raised before routing (a malformed URL escape) answer in the GWS shape too.
    frameworkErrors: (error, request, reply) => {
      const raw = reply as unknown as { code(n: number): { send(body: unknown): void } };
      const status = error.statusCode ?? 400;
      const message = `the request URL is not valid: ${error.message}`;
      raw.code(status).send(request.url.startsWith('/cloud/') ? cloudErrorBody(status, 'bad.request', message) : { statusCode: 10, statusMessage: message });
    },
    // A request the HTTP parser rejects (header or URL too large, malformed) never reaches Fastify.
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      const [status, reason, message] = CLIENT_ERRORS[error.code ?? ''] ?? MALFORMED;
      const body = JSON.stringify({ statusCode: 10, statusMessage: message });
      if (socket.writable)
        socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      else socket.destroy();
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  limitConnectionsPerAddress(app.server, limits.maxConnectionsPerAddress);

  // GWS speaks JSON: a text/plain body is an unsupported media type (415), not a string to parse.
  app.removeContentTypeParser('text/plain');
  // Genesys Cloud SDKs send Content-Type: application/json on bodiless POST/DELETE: an empty JSON
  // body is no body, not an error. Everything else goes to Fastify's own (poisoning-safe) parser.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    body === '' ? done(null, undefined) : json(request, String(body), done),
  );

  // Outside the dialects (/healthz, CometD's Bayeux endpoint) errors take the GWS shape, as the
  // CometD endpoint is GWS's; each dialect's plugin sets its own handlers.
  app.setErrorHandler(gwsErrorHandler);
  app.setNotFoundHandler(gwsNotFoundHandler);

  return app;
};

export type App = ReturnType<typeof createApp>;

export type { FastifyInstance };
