import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { refuse, type Refusal } from './refusals.js';

/**
 * Validates an operation's parameters against its TypeBox schema and turns the first schema
 * error into the GWS refusal that names the field: a missing required field is statusCode 1,
 * anything else (wrong type, out of range, unexpected shape) is statusCode 10.
 */
export interface ParamsValidator<T> {
  (params: unknown): { ok: true; value: T } | Refusal;
}

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

const fieldName = (instancePath: string, child?: string): string => {
  const parts = instancePath.split('/').filter(Boolean);
  if (child !== undefined) parts.push(child);
  return parts.join('.') || 'body';
};

export const toRefusal = (error: SchemaError): Refusal => {
  if (error.keyword === 'required') {
    const missing = (error.params['requiredProperties'] as string[] | undefined)?.[0] ?? '?';
    return refuse.missingParameter(fieldName(error.instancePath, missing));
  }
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params['additionalProperties'] as string[] | undefined)?.[0] ?? '?';
    return refuse.invalidParameter(fieldName(error.instancePath, extra), 'is not a known parameter');
  }
  return refuse.invalidParameter(fieldName(error.instancePath), error.message);
};

/** No parameter of any operation nests deeper than this; a deeper body is refused before checks. */
export const MAX_PARAMS_DEPTH = 32;

/**
 * How deep a JSON value nests, counted without recursion, stopping past `limit`: a hostile body
 * of thousands of nested arrays must not exhaust the stack of a validator that recurses.
 */
const nestsDeeperThan = (value: unknown, limit: number): boolean => {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop() as { v: unknown; depth: number };
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ v: child, depth: depth + 1 });
  }
  return false;
};

export const compileParams = <S extends TSchema, T>(schema: S): ParamsValidator<T> => {
  const compiled = Compile(schema);
  return (params: unknown) => {
    if (nestsDeeperThan(params, MAX_PARAMS_DEPTH)) return refuse.malformedBody(`it nests deeper than ${MAX_PARAMS_DEPTH} levels`);
    if (compiled.Check(params)) return { ok: true, value: params as T };
    const errors = compiled.Errors(params) as unknown as SchemaError[];
    // Report a missing field first: it is the most useful thing to tell a client.
    const first = errors.find((e) => e.keyword === 'required') ?? errors[0];
    return first ? toRefusal(first) : refuse.malformedBody('does not match the operation schema');
  };
};

/**
 * Reads `operationName` from a request body and checks it is one of `known`: missing is 1, not a
 * string or not an operation on this resource is 10 (naming the operations that are).
 */
export const operationNameOf = <K extends string>(
  body: Readonly<Record<string, unknown>>,
  resource: string,
  known: readonly K[],
): { ok: true; name: K } | Refusal => {
  const name = body['operationName'];
  if (name === undefined) return refuse.missingParameter('operationName');
  if (typeof name !== 'string') return refuse.invalidParameter('operationName', 'must be a string');
  if (!(known as readonly string[]).includes(name)) return refuse.unknownOperation(name, resource, known);
  return { ok: true, name: name as K };
};
