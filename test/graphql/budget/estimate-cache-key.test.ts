import { describe, expect, it } from 'vitest';
import { estimateCacheKey, MAX_CACHED_VARIABLES_LENGTH } from '../../../src/graphql/budget/estimate-cache-key.js';

const GUID_A = '8f0e2c3a-1b2c-4d5e-8f90-0123456789ab';
const GUID_B = '11111111-2222-4333-8444-555555555555';

/** An array that counts how many of its items were read. */
function countingArray(length: number): { array: unknown[]; reads: () => number } {
  let reads = 0;
  const target = Array.from({ length }, (_, i) => `value-${i}`);
  const array = new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(t, key, receiver);
    },
  });
  return { array, reads: () => reads };
}

describe('estimate cache key', () => {
  it('is the same for variables the estimate cannot tell apart', () => {
    expect(estimateCacheKey('Q', { id: GUID_A, first: 5 })).toBe(estimateCacheKey('Q', { id: GUID_B, first: 5 }));
    expect(estimateCacheKey('Q', { search: 'alice' })).toBe(estimateCacheKey('Q', { search: 'bob' }));
  });

  it('differs where the estimate may differ: numbers, enum values, GUID or not, presence, operation', () => {
    const base = estimateCacheKey('Q', { id: GUID_A, first: 5, orderBy: { field: 'DISPLAY_NAME' } });
    expect(estimateCacheKey('Q', { id: GUID_A, first: 6, orderBy: { field: 'DISPLAY_NAME' } })).not.toBe(base);
    expect(estimateCacheKey('Q', { id: GUID_A, first: 5, orderBy: { field: 'MAIL' } })).not.toBe(base);
    expect(estimateCacheKey('Q', { id: 'alice@contoso.com', first: 5, orderBy: { field: 'DISPLAY_NAME' } })).not.toBe(base);
    expect(estimateCacheKey('Q', { id: GUID_A, orderBy: { field: 'DISPLAY_NAME' } })).not.toBe(base);
    expect(estimateCacheKey('R', { id: GUID_A, first: 5, orderBy: { field: 'DISPLAY_NAME' } })).not.toBe(base);
    expect(estimateCacheKey('Q', { first: 5 })).not.toBe(estimateCacheKey('Q', { first: '5' }));
    expect(estimateCacheKey('Q', null)).toBe(estimateCacheKey('Q', undefined as unknown as null));
  });

  it('calls an id a GUID exactly when the planning rules do: trimmed, as the resolvers read it', () => {
    // The `_entities` rule counts " <guid>" as a reference; a key calling it text shared the cached
    // estimate of ids that are no references (and cost nothing) with ids that cost Graph requests.
    const references = (ids: string[]) => ({ r: ids.map((id) => ({ __typename: 'User', id })) });
    expect(estimateCacheKey('Q', references([` ${GUID_A}`, `${GUID_B}\n`]))).not.toBe(estimateCacheKey('Q', references(['x', 'y'])));
    expect(estimateCacheKey('Q', references([` ${GUID_A}`, `${GUID_B}\n`]))).toBe(estimateCacheKey('Q', references([GUID_A, GUID_B])));
    expect(estimateCacheKey('Q', { id: `\t${GUID_A} ` })).toBe(estimateCacheKey('Q', { id: GUID_B }));
  });

  it('gives up on large variables without walking all of them', () => {
    // Each item adds at least 9 characters to the key ("\u0001text", quoted, and a comma).
    const { array, reads } = countingArray(100_000);
    expect(estimateCacheKey('Q', { ids: array })).toBeUndefined();
    expect(reads()).toBeLessThanOrEqual(MAX_CACHED_VARIABLES_LENGTH);
    expect(reads()).toBeGreaterThan(0);
  });

  it('gives up on variables nested deeper than the HTTP layer allows', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200; i++) deep = [deep];
    expect(estimateCacheKey('Q', { deep })).toBeUndefined();
  });

  it('keeps keys up to the limit', () => {
    const ids = Array.from({ length: 50 }, () => GUID_A);
    const key = estimateCacheKey('Q', { ids });
    expect(key).toBeDefined();
    expect(key!.length).toBeLessThanOrEqual(MAX_CACHED_VARIABLES_LENGTH + 2);
  });
});
