import { describe, expect, it } from 'vitest';
import { MAX_NAME_LENGTH, MAX_ROOT_FIELDS, unparsedMutationOf } from '../../../src/audit/unparsed-mutation.js';

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
    ['mutation { ...F ... on Mutation { hidden } updateUser { id } }', undefined, ['updateUser']],
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

  it('operationName chooses the definition; an unknown one falls back to the first mutation', () => {
    const source = 'query Q { me { id } } mutation M { a } mutation N { b }';
    expect(unparsedMutationOf(source, 'Q')).toBeUndefined();
    expect(unparsedMutationOf(source, 'N')?.rootFields).toEqual(['b']);
    expect(unparsedMutationOf(source, 'Nope')?.rootFields).toEqual(['a']);
  });

  it('keeps at most MAX_ROOT_FIELDS names, none longer than MAX_NAME_LENGTH', () => {
    const fields = Array.from({ length: 200 }, (_, i) => `f${i}`).join(' ');
    const found = unparsedMutationOf(`mutation { ${'x'.repeat(MAX_NAME_LENGTH + 1)} ${fields} }`)!;
    expect(found.rootFields).toHaveLength(MAX_ROOT_FIELDS);
    expect(found.rootFields[0]).toBe('f0');
  });

  it('one pass whatever the text: 4 MB of comments, unclosed strings and braces in well under a second', () => {
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
      expect(performance.now() - started).toBeLessThan(1_000);
    }
  });
});
