import { buildSchema, getIntrospectionQuery, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { withoutFederationSyntax } from '../../../src/graphql/federation/index.js';
import { loadSchemaSource } from '../../../src/graphql/schema.js';
import { createLimitRules } from '../../../src/graphql/limits/index.js';

/** Unit level: the limit rules under graphql-js `validate()` against the gateway's own SDL. */
const schema = buildSchema(withoutFederationSyntax(loadSchemaSource()));
const limits = { maxDepth: 6, maxAliases: 5, maxDirectives: 4 };
const rules = createLimitRules(limits);

function check(query: string) {
  return validate(schema, parse(query), rules);
}
const codes = (errors: ReturnType<typeof check>) => errors.map((e) => e.extensions.code);

const deep = (levels: number) => {
  let q = '{ id }';
  for (let i = 0; i < levels; i++) q = `{ manager ${q} }`;
  return `{ user(id: "a@b.example") ${q} }`;
};

describe('depth limit', () => {
  it('accepts an operation at the limit and refuses one past it with OPERATION_TOO_COMPLEX', () => {
    expect(check(deep(4))).toEqual([]); // user + 4 managers + id = 6
    const errors = check(deep(5));
    expect(codes(errors)).toEqual(['OPERATION_TOO_COMPLEX']);
    expect(errors[0]!.extensions).toMatchObject({ limit: 'maxDepth', max: 6, found: 7 });
  });

  it('counts depth through fragments and inline fragments (a spread is not a level, its content is)', () => {
    const q = `query Q { user(id: "x") { ...M } } fragment M on User { manager { manager { ... on User { manager { manager { manager { id } } } } } } }`;
    expect(codes(check(q))).toEqual(['OPERATION_TOO_COMPLEX']);
  });

  it('is not bypassed by an operation or a fragment named __schema / __type', () => {
    const body = `{ manager { manager { manager { manager { manager { id } } } } } }`;
    expect(codes(check(`query __schema { user(id: "x") ${body} }`))).toEqual(['OPERATION_TOO_COMPLEX']);
    expect(codes(check(`query Q { user(id: "x") { ...__schema } } fragment __schema on User ${body}`))).toEqual(['OPERATION_TOO_COMPLEX']);
    expect(codes(check(`query Q { user(id: "x") { ...__type } } fragment __type on User ${body}`))).toEqual(['OPERATION_TOO_COMPLEX']);
  });

  it('is not bypassed by aliasing a real field as __schema', () => {
    const q = `{ __schema: user(id: "x") { manager { manager { manager { manager { manager { id } } } } } } }`;
    expect(codes(check(q))).toEqual(['OPERATION_TOO_COMPLEX']);
  });

  it('lets the standard introspection query through, but not unbounded introspection nesting', () => {
    expect(check(getIntrospectionQuery())).toEqual([]);
    let nested = '{ name }';
    for (let i = 0; i < 12; i++) nested = `{ fields { type ${nested} } }`;
    expect(codes(check(`{ __schema { types ${nested} } }`))).toEqual(['OPERATION_TOO_COMPLEX']);
  });

  it('applies the regular limit to introspection mixed with data fields', () => {
    const q = `{ me { id } __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }`;
    expect(codes(check(q))).toEqual(['OPERATION_TOO_COMPLEX']);
  });
});

describe('alias limit', () => {
  it('refuses an alias bomb and counts aliases inside fragments', () => {
    const aliases = Array.from({ length: 6 }, (_, i) => `a${i}: user(id: "u${i}@x.example") { id }`).join(' ');
    expect(codes(check(`{ ${aliases} }`))).toEqual(['OPERATION_TOO_COMPLEX']);
    const inFragment = `query Q { me { ...F } } fragment F on User { a: id b: id c: id d: id e: id f: id }`;
    expect(codes(check(inFragment))).toEqual(['OPERATION_TOO_COMPLEX']);
    expect(check(`{ a: me { id } b: me { id } }`)).toEqual([]);
  });

  it('counts aliases named __typename (graphql-armor exempts them by default)', () => {
    const q = `{ me { __typename: id a: displayName b: mail c: jobTitle d: department e: surname } }`;
    expect(codes(check(q))).toEqual(['OPERATION_TOO_COMPLEX']);
  });
});

describe('directive limit', () => {
  it('refuses too many directives', () => {
    const q = `query Q($t: Boolean = true) { me { id @include(if: $t) mail @include(if: $t) displayName @skip(if: false) jobTitle @skip(if: false) surname @include(if: $t) } }`;
    expect(codes(check(q))).toEqual(['OPERATION_TOO_COMPLEX']);
  });
});
