/**
 * Typed commands from wire bodies. Every operation family keeps its parameters as TypeBox
 * schemas (one table per family); the command types are derived from those schemas, so the
 * validator and the type cannot drift. A dialect calls `parseOperation` at its edge and hands the
 * engine a typed operation — never a raw body.
 *
 * A body whose parameters do not validate still becomes an operation: `{name, invalid}`. The
 * refusal travels with it, because the contract orders refusals 6, 5, 1/10, 3, 2: a missing call
 * (6) or a missing feature (5) must win over a bad parameter, and only the decision knows those.
 */
import type { Static, TSchema } from 'typebox';
import { compileParams, type ParamsValidator } from '../params.js';
import { isRefusal, refuse, type Refusal } from '../refusals.js';

export type SchemaTable = Readonly<Record<string, TSchema>>;

/** One accepted operation of a family: its name and its typed parameters. */
export type OperationOf<T extends SchemaTable> = {
  [K in keyof T & string]: { readonly name: K; readonly params: Static<T[K]>; readonly invalid?: undefined };
}[keyof T & string];

/** An operation whose name is known (or not) but whose body was refused. */
export interface InvalidOperation<K extends string> {
  readonly name: K | undefined;
  readonly invalid: Refusal;
}

export type Parsed<T extends SchemaTable> = OperationOf<T> | InvalidOperation<keyof T & string>;

export interface OperationParser<T extends SchemaTable> {
  /** The operation names, in the family's order. */
  readonly names: readonly (keyof T & string)[];
  (body: unknown): Parsed<T>;
}

/**
 * A parser for one family: reads `operationName` (missing is 1; not a string or not one of the
 * family's is 10, naming the operations that are), then validates the parameters with that
 * operation's schema. `check` adds rules a schema cannot say (the chat text group).
 */
export const operationParser = <T extends SchemaTable>(
  resource: string,
  schemas: T,
  check?: (name: keyof T & string, params: Static<T[keyof T & string]>) => Refusal | null,
): OperationParser<T> => {
  const names = Object.keys(schemas) as (keyof T & string)[];
  const validators = Object.fromEntries(names.map((n) => [n, compileParams(schemas[n] as TSchema)])) as Record<string, ParamsValidator<unknown>>;
  const parse = (body: unknown): Parsed<T> => {
    if (body === undefined) body = {};
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return { name: undefined, invalid: refuse.malformedBody('expected a JSON object with operationName') };
    const name = (body as Record<string, unknown>)['operationName'];
    if (name === undefined) return { name: undefined, invalid: refuse.missingParameter('operationName') };
    if (typeof name !== 'string') return { name: undefined, invalid: refuse.invalidParameter('operationName', 'must be a string') };
    if (!Object.prototype.hasOwnProperty.call(schemas, name)) return { name: undefined, invalid: refuse.unknownOperation(name, resource, names) };
    const known = name as keyof T & string;
    const result = (validators[known] as ParamsValidator<Static<T[keyof T & string]>>)(body);
    if (isRefusal(result)) return { name: known, invalid: result };
    const extra = check?.(known, result.value);
    if (extra) return { name: known, invalid: extra };
    return { name: known, params: result.value } as OperationOf<T>;
  };
  return Object.assign(parse, { names });
};

/** Builds a valid operation in code (compliance, the Cloud dialect, the simulation API). */
export const operation = <T extends SchemaTable, K extends keyof T & string>(name: K, params: Omit<Static<T[K]>, 'operationName'>): OperationOf<T> =>
  ({ name, params: { operationName: name, ...params } }) as unknown as OperationOf<T>;
