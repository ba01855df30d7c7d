/**
 * The count of field pairs graphql-js's overlapping-fields rule compares (src/graphql/limits/repeated-fields.ts):
 * what it counts, what it leaves out, and that it ends on any document. The refusal over HTTP is
 * tested in test/reliability/validation-cost.test.ts.
 */
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { fieldRepetition, MAX_FIELD_PAIRS } from '../../../src/graphql/limits/repeated-fields.js';

const pairsPast = (text: string, maxPairs: number) => fieldRepetition(parse(text), { maxPairs });

describe('field pairs sharing a response path', () => {
  it('counts fields of one name in one selection, n(n-1)/2 pairs, inline fragments and spread fragments merged', () => {
    // 4 `manager` selections: 6 pairs.
    const text = '{ user(id: "a") { manager { id } manager { id } ... on User { manager { id } } ...M } } fragment M on User { manager { id } }';
    expect(pairsPast(text, 6)).toBeUndefined();
    expect(pairsPast(text, 5)).toMatchObject({ responseName: 'manager', count: 4, tooLarge: false });
  });

  it('multiplies through levels: the selections of fields of one name are merged, and compared in turn', () => {
    // 4 `a`, then 4 × 4 = 16 `a` under them: 6 + 120 pairs.
    const text = `{ ${`a { ${'a { b } '.repeat(4)} } `.repeat(4)} }`;
    expect(pairsPast(text, 126)).toBeUndefined();
    expect(pairsPast(text, 125)).toMatchObject({ responseName: 'a', count: 16 });
  });

  it('does not count leaves without arguments, which graphql-js compares at once (`id`, `__typename` in every fragment)', () => {
    expect(pairsPast(`{ ${'__typename id '.repeat(1000)} }`, 0)).toBeUndefined();
    // With an argument a leaf is counted.
    expect(pairsPast(`{ ${'user(id: "a") '.repeat(3)} }`, 2)).toMatchObject({ responseName: 'user', count: 3 });
  });

  it('aliases are names of their own', () => {
    expect(pairsPast(`{ ${Array.from({ length: 100 }, (_, i) => `u${i}: user(id: "a") { id }`).join(' ')} }`, 0)).toBeUndefined();
  });

  it('ends on fragment cycles and on fragments spread within fragments past the visit bound', () => {
    expect(pairsPast('{ ...F } fragment F on Query { a { ...F } }', 0)).toBeUndefined();
    // Each level spreads the next fragment under two fields of one name: 2^20 paths.
    const chain = Array.from({ length: 20 }, (_, i) => `fragment F${i} on User { manager { ...F${i + 1} } directReports { ...F${i + 1} } }`).join(' ');
    const verdict = fieldRepetition(parse(`{ me { ...F0 } } ${chain} fragment F20 on User { id }`), { maxPairs: MAX_FIELD_PAIRS, maxVisits: 10_000 });
    expect(verdict).toMatchObject({ tooLarge: true });
  });

  it('takes ordinary operations, fragments and all, far inside the limit', () => {
    const text = `query Page($after: String) {
      users(first: 50, after: $after) { pageInfo { endCursor hasNextPage } nodes { ...Card ...Row manager { ...Card } } }
    }
    fragment Card on User { id displayName jobTitle manager { id displayName } }
    fragment Row on User { id userPrincipalName accountEnabled manager { id } directReports(first: 5) { nodes { ...Card } } }`;
    expect(fieldRepetition(parse(text))).toBeUndefined();
  });
});
