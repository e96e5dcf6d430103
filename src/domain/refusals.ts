/**
 * The one catalogue of refusals. Every way a request can be refused is a named factory here,
 * carrying the GWS statusCode; the HTTP edge maps statusCode to an HTTP status mechanically
 * (see api/gws/errors.ts), and a test walks the whole catalogue.
 *
 * A refusal is a value, never a throw: the domain returns it and nothing changes.
 */
export type StatusCode = 1 | 2 | 3 | 4 | 5 | 6 | 10 | 18 | 19 | 20;

/**
 * The brand that tells a refusal from anything else. A symbol cannot come out of JSON.parse or a
 * form parser, so no client body can pass for a refusal (`{"ok":false,"statusCode":3}` is just a
 * body).
 */
export const REFUSED: unique symbol = Symbol('conclave.refusal');

export interface Refusal {
  readonly [REFUSED]: true;
  readonly ok: false;
  readonly code: RefusalCode;
  readonly statusCode: StatusCode;
  readonly message: string;
}

const refusal =
  <A extends unknown[]>(statusCode: StatusCode, template: (...args: A) => string) =>
  (...args: A): Omit<Refusal, 'code' | typeof REFUSED> => ({ ok: false, statusCode, message: template(...args) });

const catalogue = {
  // 1: a required parameter is missing.
  missingParameter: refusal(1, (name: string) => `required parameter '${name}' is missing`),
  // 10: a value is out of range or of the wrong type.
  invalidParameter: refusal(10, (name: string, why: string) => `parameter '${name}' ${why}`),
  unknownOperation: refusal(
    10,
    (operationName: string, resource: string, known: readonly string[]) =>
      `operationName '${operationName}' is not an operation on ${resource}; expected one of ${known.join(', ')}`,
  ),
  malformedBody: refusal(10, (why: string) => `request body is not valid: ${why}`),
  // 2: the operation is not valid in the current state.
  invalidState: refusal(2, (why: string) => why),
  // 3: forbidden for this actor on this resource.
  forbidden: refusal(3, (why: string) => why),
  // 5: the user lacks the role or feature the operation requires.
  missingFeature: refusal(
    5,
    (operationName: string, feature: string) => `operation ${operationName} requires the feature '${feature}', which your user does not have`,
  ),
  missingRole: refusal(5, (operationName: string, roles: readonly string[]) =>
    `operation ${operationName} requires one of the roles ${roles.join(', ')}`,
  ),
  // 6: the resource in the URL does not exist or is not visible to this user.
  notFound: refusal(6, (kind: string, id: string) => `${kind} '${id}' does not exist or is not visible to you`),
  // 19: optimistic concurrency lost too many times in a row; the client may retry.
  concurrentChange: refusal(19, (kind: string, id: string) => `${kind} '${id}' was changed concurrently; retry the request`),
  // 20: not authenticated.
  notAuthenticated: refusal(20, (why: string) => why),
  // 20, answered HTTP 429 with Retry-After: too many wrong passwords for a name or from an address.
  tooManyFailedLogins: refusal(20, (seconds: number) => `too many failed logins: try again in ${seconds} s`),
  // 4: internal error (never a client's mistake).
  internal: refusal(4, (why: string) => `internal error: ${why}`),
} as const;

export type RefusalCode = keyof typeof catalogue;

type Factories = {
  [K in RefusalCode]: (...args: Parameters<(typeof catalogue)[K]>) => Refusal;
};

/** Named refusal factories: `refuse.notFound('call', id)`. */
export const refuse: Factories = Object.fromEntries(
  Object.entries(catalogue).map(([code, make]) => [
    code,
    (...args: unknown[]) => ({ [REFUSED]: true, ...(make as (...a: unknown[]) => Omit<Refusal, 'code' | typeof REFUSED>)(...args), code }),
  ]),
) as Factories;

export const refusalCodes = Object.keys(catalogue) as RefusalCode[];

/** True for a refusal made by `refuse`, and for nothing a client could send. */
export const isRefusal = (value: unknown): value is Refusal =>
  typeof value === 'object' && value !== null && (value as { [REFUSED]?: unknown })[REFUSED] === true;
