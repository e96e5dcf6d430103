/** Maps a refusal's GWS statusCode to its HTTP status (CONTRACT.md), and renders the body. */
import type { Refusal, StatusCode } from '../../domain/refusals.js';

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
