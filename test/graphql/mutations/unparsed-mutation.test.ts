import { describe, expect, it } from 'vitest';
import { MAX_FRAGMENTS, MAX_MUTATIONS, MAX_NAME_LENGTH, MAX_ROOT_FIELDS, MAX_SPREADS, unparsedMutationOf } from '../../../src/audit/unparsed-mutation.js';

/**
 * The one reader of documents the gateway did not parse (src/audit/unparsed-mutation.ts): a
 * mutation is found wherever it stands, never in a comment or a string, and the work stays one
 * pass over the text whatever it holds.
 */
describe('unparsedMutationOf', () => {
  it.each([
    ['mutation M { terminateSession(input: {user: "a"}) { ok } }', 'M', ['terminateSession']],
    [
      '\uFEFF# mutation in a comment\n, mutation{a:changePassword(input:{password:"}{"}){x} disableAccount { y }}',
      undefined,
      ['changePassword', 'disableAccount'],
    ],
    ['query Q { me { id } } fragment F on User { id } mutation Later { deleteUser(input: {user: "x"}) { __typename } }', 'Later', ['deleteUser']],
    ['{ me { id } } mutation { enableAccount { __typename } }', undefined, ['enableAccount']],
    ['mutation M($in: UserActionInput = {user: "x"}) @d(a: {b: 1}) { disableAccount(input: $in) @skip(if: false) { ok } }', 'M', ['disableAccount']],
    ['query Q { user(id: """ } mutation { x } \\""" """) { id } } mutation { removeManager { ok } }', undefined, ['removeManager']],
    // An inline fragment at the root holds root fields; a spread of a fragment never defined adds nothing.
    ['mutation { ...F ... on Mutation { hidden } updateUser { id } }', undefined, ['hidden', 'updateUser']],
    ['mutation Truncated { createUser(input: {password: "sec', 'Truncated', ['createUser']],
  ])('%s', (source, name, fields) => {
    expect(unparsedMutationOf(source)).toEqual({ operationName: name, rootFields: fields });
  });

  it.each([
    '# mutation { a }\n{ me { id } }',
    'query Q { user(id: "mutation { a }") { id } }',
    'query mutation { me { id } }',
    'mutationX { a }',
    'fragment F on Mutation { a }',
    '',
  ])('no mutation: %s', (source) => {
    expect(unparsedMutationOf(source)).toBeUndefined();
  });

  describe('fragment spreads at the root are followed', () => {
    it.each([
      ['mutation { ...F } fragment F on Mutation { terminateSession(input: {user: "a"}) { ok } }', ['terminateSession']],
      ['fragment F on Mutation { a: disableAccount(input: {user: "a"}) { ok } } mutation M { ...F enableAccount { ok } }', ['disableAccount', 'enableAccount']],
      [
        'mutation { ...A } fragment A on Mutation { ...B } fragment B on Mutation { ... on Mutation { ...C } } fragment C on Mutation { deleteUser }',
        ['deleteUser'],
      ],
      // A cycle ends where it closes; each fragment is read once.
      ['mutation { ...A } fragment A on Mutation { x ...B } fragment B on Mutation { ...A y ...B }', ['x', 'y']],
      [
        'mutation { ... @include(if: true) { ...F } ...G @skip(if: false) removeManager } fragment F on Mutation { enableAccount } fragment G on Mutation { g }',
        ['enableAccount', 'g', 'removeManager'],
      ],
      // Spreads inside a field's selection, an argument or a directive are not root fields.
      ['mutation { a(input: {b: "...F"}) { ...F } } fragment F on User { deleteUser }', ['a']],
      // A name defined twice counts with both definitions (the worst case: the first alone hid the
      // second); comments and strings are skipped.
      ['mutation { ...F } fragment F on Mutation { first } fragment F on Mutation { second } # fragment F on Mutation { third }', ['first', 'second']],
      // The type condition is not read: a fragment on another type can only add a name, never hide one.
      ['mutation { ...F ... on Query { inline } } fragment F on User { deleteUser }', ['deleteUser', 'inline']],
      ['mutation { ...F } fragment F on Mutation { createUser(input: {password: "sec', ['createUser']],
      // A broken inline fragment (no selection set) does not hide the field after it.
      ['mutation { ... on Mutation disableAccount { ok } }', ['disableAccount']],
    ])('%s', (source, fields) => {
      expect(unparsedMutationOf(source)?.rootFields).toEqual(fields);
    });

    it('a fragment alone, or spread only by a query, is no mutation', () => {
      expect(unparsedMutationOf('query { ...F } fragment F on Mutation { deleteUser }')).toBeUndefined();
    });

    it(`remembers the first MAX_FRAGMENTS (${MAX_FRAGMENTS}) fragments; a longer chain is followed that far`, () => {
      const chain = (count: number) =>
        Array.from({ length: count }, (_, i) => `fragment F${i} on Mutation { f${i} ${i + 1 < count ? `...F${i + 1}` : ''} }`).join(' ');
      const found = unparsedMutationOf(`mutation { ...F0 } ${chain(MAX_FRAGMENTS + 10)}`)!;
      expect(found.rootFields).toHaveLength(MAX_ROOT_FIELDS);
      expect(found.incomplete).toBe(true);
      const last = unparsedMutationOf(`mutation { ...F0 } ${chain(MAX_FRAGMENTS)} fragment F${MAX_FRAGMENTS - 1} on Mutation { late }`);
      expect(last?.rootFields[0]).toBe('f0');
      // Fragments F0 -> F1 -> ... each spreading the next, the last holding the field.
      const spreads = (count: number) =>
        `mutation { ...F0 } ${Array.from({ length: count - 1 }, (_, i) => `fragment F${i} on Mutation { ...F${i + 1} }`).join(' ')} fragment F${count - 1} on Mutation { reached }`;
      expect(unparsedMutationOf(spreads(MAX_FRAGMENTS))).toEqual({ operationName: undefined, rootFields: ['reached'] });
      // One fragment more: the field is not reached, and the result says it may be missing.
      expect(unparsedMutationOf(spreads(MAX_FRAGMENTS + 1))).toEqual({ operationName: undefined, rootFields: [], incomplete: true });
    });

    it('past each bound the mutation is incomplete, never silently smaller', () => {
      // 256 harmless fragments first, the one holding the field after them.
      const padding = Array.from({ length: MAX_FRAGMENTS }, (_, i) => `fragment P${i} on Mutation { __typename }`).join(' ');
      expect(unparsedMutationOf(`mutation { ...Hidden } ${padding} fragment Hidden on Mutation { terminateSession }`)).toEqual({
        operationName: undefined,
        rootFields: [],
        incomplete: true,
      });
      // A spread of a fragment defined nowhere, with the fragments under the bound, is only that.
      expect(unparsedMutationOf('mutation { ...Nowhere x } fragment P on Mutation { y }')).toEqual({ operationName: undefined, rootFields: ['x'] });
      // More spreads in one selection than are kept.
      const spreads = Array.from({ length: MAX_SPREADS }, (_, i) => `...S${i}`).join(' ');
      expect(unparsedMutationOf(`mutation { ${spreads} ...Hidden } fragment Hidden on Mutation { terminateSession }`)?.incomplete).toBe(true);
      expect(unparsedMutationOf(`mutation { ...A } fragment A on Mutation { ${spreads} ...Hidden } fragment Hidden on Mutation { t }`)?.incomplete).toBe(true);
      // More fields than are kept, the mutation field after them.
      const junk = Array.from({ length: MAX_ROOT_FIELDS }, (_, i) => `j${i}`).join(' ');
      const crowded = unparsedMutationOf(`mutation { ${junk} terminateSession }`)!;
      expect(crowded.rootFields).not.toContain('terminateSession');
      expect(crowded.incomplete).toBe(true);
      // More mutations than are remembered.
      const mutations = Array.from({ length: MAX_MUTATIONS }, () => 'mutation { __typename }').join(' ');
      expect(unparsedMutationOf(`${mutations} mutation { terminateSession }`)?.incomplete).toBe(true);
      // Within every bound: complete.
      expect(unparsedMutationOf(`mutation { ${junk.split(' ').slice(1).join(' ')} terminateSession }`)?.incomplete).toBeUndefined();
    });

    it('4 MB of chains, cycles, spreads and nested inline fragments, each in seconds, not minutes', () => {
      const chain = Array.from({ length: 100_000 }, (_, i) => `fragment F${i} on Mutation { ...F${i + 1} }`).join(' ');
      const inputs = [
        `mutation { ...F0 } ${chain}`,
        `mutation { ${'...A '.repeat(800_000)} } fragment A on Mutation { ...B ...A } fragment B on Mutation { ...A terminateSession }`,
        `mutation { ${'... on Mutation { '.repeat(220_000)} terminateSession`,
        `mutation { ${'...'.repeat(1_400_000)} }`,
        `mutation { ...F } fragment F on Mutation { ${'{ '.repeat(2_000_000)}`,
        `mutation { ...F } ${'fragment F on Mutation { ...F } '.repeat(130_000)}`,
        `mutation { ${Array.from({ length: 400_000 }, (_, i) => `...S${i}`).join(' ')} }`,
      ];
      for (const source of inputs) {
        expect(source.length).toBeGreaterThan(3_500_000);
        const started = performance.now();
        unparsedMutationOf(source);
        // About 300 ms each on an idle CPU; the bound leaves room for one loaded by other work (a
        // backtracking or quadratic reader would take minutes).
        expect(performance.now() - started).toBeLessThan(5_000);
      }
      expect(unparsedMutationOf(inputs[1]!)?.rootFields).toEqual(['terminateSession']);
      expect(unparsedMutationOf(inputs[2]!)?.rootFields).toEqual(['terminateSession']);
    }, 60_000);
  });

  it('operationName chooses the definitions of that name; an unknown one, or none, reads every mutation', () => {
    const source = 'query Q { me { id } } mutation M { a } mutation N { b }';
    expect(unparsedMutationOf(source, 'Q')).toBeUndefined();
    expect(unparsedMutationOf(source, 'N')).toEqual({ operationName: 'N', rootFields: ['b'] });
    // Before: the first mutation only, so `mutation A { __typename } mutation B { terminateSession }` left no event.
    expect(unparsedMutationOf(source, 'Nope')).toEqual({ operationName: undefined, rootFields: ['a', 'b'] });
    expect(unparsedMutationOf(source)).toEqual({ operationName: undefined, rootFields: ['a', 'b'] });
    // A name given to a query and a mutation: the mutation (before, the first definition decided).
    expect(unparsedMutationOf('query X { me { id } } mutation X { terminateSession }', 'X')).toEqual({ operationName: 'X', rootFields: ['terminateSession'] });
  });

  it('keeps at most MAX_ROOT_FIELDS names, none longer than MAX_NAME_LENGTH', () => {
    const fields = Array.from({ length: 200 }, (_, i) => `f${i}`).join(' ');
    const found = unparsedMutationOf(`mutation { ${'x'.repeat(MAX_NAME_LENGTH + 1)} ${fields} }`)!;
    expect(found.rootFields).toHaveLength(MAX_ROOT_FIELDS);
    expect(found.rootFields[0]).toBe('f0');
  });

  // One pass takes tens of milliseconds here; a reader that went back over the text (quadratic) would
  // take hours on 4 MB. The bound is far from both, so a machine slowed by other work does not fail it.
  it('one pass whatever the text: 4 MB of comments, unclosed strings and braces in seconds, not hours', () => {
    const inputs = [
      '#'.repeat(4_000_000),
      '"\\'.repeat(2_000_000),
      '"""'.padEnd(4_000_000, '\\"'),
      '{'.repeat(4_000_000),
      `query Q { ${'a(b: {c: ['.repeat(400_000)}`,
      `mutation { ${'a '.repeat(2_000_000)}`,
    ];
    for (const source of inputs) {
      const started = performance.now();
      unparsedMutationOf(source);
      expect(performance.now() - started).toBeLessThan(5_000);
    }
  }, 60_000);
});
