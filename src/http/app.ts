/**
 * The Fastify instance and the edge's error mapping: whatever goes wrong before a handler runs
 * (body too large, wrong content type, malformed JSON, schema failure, unknown route) becomes a
 * GWS body `{statusCode, statusMessage}` with a 4xx that names the problem. Only a real fault
 * of ours is a 500 (statusCode 4), and it is logged.
 */
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { toRefusal } from '../domain/params.js';
import { refuse } from '../domain/refusals.js';
import { errorBody, httpStatusOf } from '../api/gws/errors.js';

export const BODY_LIMIT_BYTES = 64 * 1024;

export const createApp = (logger: Logger) => {
  const app = Fastify({
    loggerInstance: logger,
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
    frameworkErrors: (error, _request, reply) => {
      const raw = reply as unknown as { code(n: number): { send(body: unknown): void } };
      raw.code(error.statusCode ?? 400).send({ statusCode: 10, statusMessage: `the request URL is not valid: ${error.message}` });
    },
    // A request the HTTP parser rejects (header or URL too large, malformed) never reaches Fastify.
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const body = JSON.stringify({ statusCode: 10, statusMessage: status === 431 ? 'request headers (or URL) are too large' : 'malformed HTTP request' });
      if (socket.writable)
        socket.end(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      else socket.destroy();
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // GWS speaks JSON: a text/plain body is an unsupported media type (415), not a string to parse.
  app.removeContentTypeParser('text/plain');
  // Genesys Cloud SDKs send Content-Type: application/json on bodiless POST/DELETE: an empty JSON
  // body is no body, not an error. Everything else goes to Fastify's own (poisoning-safe) parser.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    body === '' ? done(null, undefined) : json(request, String(body), done),
  );

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, body } = mapError(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send(body);
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody(refuse.notFound('resource', `${request.method} ${request.url.split('?')[0]}`))),
  );

  return app;
};

export type App = ReturnType<typeof createApp>;

const mapError = (error: FastifyError): { status: number; body: ReturnType<typeof errorBody> } => {
  if (error.validation && error.validation.length > 0) {
    const first = error.validation[0] as unknown as Parameters<typeof toRefusal>[0];
    const refusal = toRefusal({ ...first, instancePath: `/${error.validationContext ?? ''}${first.instancePath ?? ''}` });
    return { status: httpStatusOf(refusal.statusCode), body: errorBody(refusal) };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: { statusCode: 10, statusMessage: `request body is larger than ${BODY_LIMIT_BYTES} bytes` } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: { statusCode: 10, statusMessage: 'unsupported Content-Type: send application/json' } };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: errorBody(refuse.missingParameter('operationName')) };
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const message = error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
      ? `request body is not valid JSON: ${error.message}`
      : error.message;
    return { status, body: { statusCode: 10, statusMessage: message } };
  }
  return { status: 500, body: errorBody(refuse.internal('the server could not complete the request')) };
};

export type { FastifyInstance };
