/** Genesys Cloud's ErrorBody: {message, code, status, messageParams, contextId, details, errors}. */
import { randomUUID } from 'node:crypto';

export const errorBody = (status: number, code: string, message: string) => ({
  message,
  code,
  status,
  messageParams: {},
  contextId: randomUUID(),
  details: [],
  errors: [],
});

/** A GWS statusCode mapped to the Cloud HTTP status and code. */
export const fromStatusCode = (statusCode: number): { status: number; code: string } => {
  switch (statusCode) {
    case 6:
      return { status: 404, code: 'not.found' };
    case 3:
    case 5:
      return { status: 403, code: 'forbidden' };
    case 20:
      return { status: 401, code: 'authentication.required' };
    case 18:
    case 19:
      return { status: 409, code: 'conflict' };
    case 4:
      return { status: 500, code: 'internal.server.error' };
    default:
      return { status: 400, code: 'bad.request' };
  }
};
