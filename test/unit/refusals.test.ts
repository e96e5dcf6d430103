/**
 * The refusal catalogue, walked whole: every named refusal carries a GWS statusCode that the edge
 * maps to the contract's HTTP status, and a message that says something.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorBody, httpStatusOf } from '../../src/api/gws/errors.js';
import { refuse, refusalCodes } from '../../src/domain/refusals.js';

/** CONTRACT.md: 0 → 200; 1, 2, 10, 11 → 400; 3, 5 → 403; 6 → 404; 18, 19 → 409; 20 → 401; 4 → 500. */
const CONTRACT_HTTP: Record<number, number> = { 1: 400, 2: 400, 10: 400, 3: 403, 5: 403, 6: 404, 18: 409, 19: 409, 20: 401, 4: 500 };

describe('refusal catalogue', () => {
  it('maps every refusal to the contract status and a failed body of exactly statusCode and statusMessage', () => {
    assert.ok(refusalCodes.length >= 10);
    for (const code of refusalCodes) {
      const make = refuse[code] as (...args: unknown[]) => ReturnType<typeof refuse.notFound>;
      const refusal = make('the alpha value', ['beta'], ['gamma']);
      assert.equal(refusal.ok, false, code);
      assert.equal(refusal.code, code);
      assert.equal(httpStatusOf(refusal.statusCode), CONTRACT_HTTP[refusal.statusCode], `${code} → statusCode ${refusal.statusCode}`);
      assert.ok(refusal.message.length > 10 && !refusal.message.includes('undefined'), `${code}: '${refusal.message}'`);
      assert.deepEqual(Object.keys(errorBody(refusal)).sort(), ['statusCode', 'statusMessage']);
    }
  });
});
