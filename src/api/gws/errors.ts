/** Maps a refusal's GWS statusCode to its HTTP status (CONTRACT.md), and renders the body. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { toRefusal } from '../../domain/params.js';
import { refuse, type Refusal, type StatusCode } from '../../domain/refusals.js';
import { BODY_LIMIT_BYTES } from '../../http/limits.js';

const HTTP_STATUS: Readonly<Record<StatusCode, number>> = {
  1: 400,
  2: 400,
  10: 400,
  3: 403,
  5: 403,
  6: 404,
  18: 409,
  19: 409,
  20: 401,
  4: 500,
};

export const httpStatusOf = (statusCode: StatusCode): number => HTTP_STATUS[statusCode];

/** A failed GWS response body has exactly statusCode and statusMessage. */
export const errorBody = (refusal: Pick<Refusal, 'statusCode' | 'message'>) => ({
  statusCode: refusal.statusCode,
  statusMessage: refusal.message,
});

/**
 * Whatever goes wrong before a handler runs (body too large, wrong content type, malformed JSON,
 * schema failure) becomes a GWS body `{statusCode, statusMessage}` with a 4xx that names the
 * problem. Only a real fault of ours is a 500 (statusCode 4), and it is logged.
 */
export const gwsError = (error: FastifyError): { status: number; body: ReturnType<typeof errorBody> } => {
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
    const message =
      error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? `request body is not valid JSON: ${error.message}` : error.message;
    return { status, body: { statusCode: 10, statusMessage: message } };
  }
  return { status: 500, body: errorBody(refuse.internal('the server could not complete the request')) };
};

export const gwsErrorHandler = (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
  const { status, body } = gwsError(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  return reply.code(status).send(body);
};

export const gwsNotFoundHandler = (request: FastifyRequest, reply: FastifyReply) =>
  reply.code(404).send(errorBody(refuse.notFound('resource', `${request.method} ${request.url.split('?')[0]}`)));
