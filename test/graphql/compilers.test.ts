import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GatewayError } from '../../src/errors.js';
import { CursorCodec } from '../../src/graphql/cursor.js';
import { formatGatewayError } from '../../src/graphql/format-error.js';
import { compileUserFilter } from '../../src/graphql/user-filter.js';
import { normalizeUserKey } from '../../src/graphql/user-id.js';
import { compileUserSearch } from '../../src/graphql/user-search.js';
import type { Caller } from '../../src/identity/types.js';
import { createTokenCipher } from '../../src/store/encryption.js';

describe('filter compiler', () => {
  it('escapes quotes and marks advanced-only conditions', () => {
    expect(compileUserFilter({ displayNameStartsWith: "O'Brien" })).toEqual({ text: "startsWith(displayName,'O''Brien')", advanced: false, expressions: 0 });
    expect(compileUserFilter({ mailEndsWith: '@contoso.example' })).toEqual({ text: "endsWith(mail,'@contoso.example')", advanced: true, expressions: 0 });
    expect(compileUserFilter({ companyName: 'Contoso' })?.advanced).toBe(true);
    expect(compileUserFilter({ department: 'IT', or: [{ jobTitle: 'A' }, { jobTitle: 'B' }] })?.text).toBe(
      "department eq 'IT' and ((jobTitle eq 'A') or (jobTitle eq 'B'))",
    );
    expect(compileUserFilter({ createdAfter: '2024-01-01T00:00:00+02:00' })).toEqual({
      text: 'createdDateTime ge 2023-12-31T22:00:00Z',
      advanced: false,
      expressions: 0,
    });
    // Every published version of the user filter table lists createdDateTime ge/le as default.
    expect(compileUserFilter({ createdBefore: '2024-01-01T00:00:00Z' })?.advanced).toBe(false);
    expect(compileUserFilter({ department: 'IT' })?.advanced).toBe(false);
    expect(compileUserFilter({})).toBeNull();
  });

  it('refuses date-times that name no real instant (Date.parse would roll 2020-02-30 over to 1 March)', () => {
    for (const value of [
      '2020-02-30T00:00:00Z',
      '2021-02-29T00:00:00Z',
      '2024-04-31T10:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-00-10T00:00:00Z',
      '2024-05-01T24:00:00Z',
      '2024-05-01T10:60:00Z',
      '2024-05-01T10:00:00+24:00',
      '2024-05-01',
      'yesterday',
    ]) {
      expect(() => compileUserFilter({ createdAfter: value }), value).toThrow(/filter.createdAfter must be an ISO 8601 date-time/);
    }
    expect(compileUserFilter({ createdAfter: '2024-02-29T23:59:59.1234567-05:30' })?.text).toBe('createdDateTime ge 2024-03-01T05:29:59.123Z');
  });

  it('never lets a value escape its literal (property-based)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => ![...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)),
        (value) => {
          const compiled = compileUserFilter({ jobTitle: value })!.text;
          const literal = compiled.slice("jobTitle eq '".length, -1);
          // Inside the literal every quote is doubled, so the literal cannot end early.
          expect(literal.replace(/''/g, '')).not.toContain("'");
          expect(literal.replace(/''/g, "'")).toBe(value);
        },
      ),
    );
  });

  it('rejects empty groups and lists, and non-GUID ids', () => {
    expect(() => compileUserFilter({ or: [] })).toThrow(GatewayError);
    expect(() => compileUserFilter({ departmentIn: [] })).toThrow(/at least one value/);
    expect(() => compileUserFilter({ ids: ["x' or 1 eq 1"] })).toThrow(/GUID/);
  });

  it('counts expressions as Graph does: every `in` value, every other OR operand, nested ORs flattened, over the whole filter', () => {
    const values = (n: number, prefix = 'd') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    expect(compileUserFilter({ departmentIn: values(16) })?.expressions).toBe(16);
    expect(compileUserFilter({ departmentIn: ['a', 'a', 'b'] })).toMatchObject({ text: "department in ('a','b')", expressions: 2 });
    expect(compileUserFilter({ department: 'IT', jobTitle: 'A' })?.expressions).toBe(0);
    expect(
      compileUserFilter({ or: [{ jobTitle: 'A' }, { jobTitle: 'B' }, { or: [{ jobTitle: 'C' }, { department: 'D', jobTitle: 'E' }] }] })?.expressions,
    ).toBe(4);
    // Two lists in one clause: 8 + 8 under an OR, 10 + 10 side by side (the whole clause counts).
    expect(compileUserFilter({ or: [{ departmentIn: values(8) }, { departmentIn: values(8, 'e') }] })?.expressions).toBe(16);
    expect(compileUserFilter({ departmentIn: values(10), and: [{ departmentIn: values(10, 'e') }] })?.expressions).toBe(20);
  });

  it('refuses values longer than Graph compares, too many conditions and too deep nesting, naming the limit', () => {
    expect(() => compileUserFilter({ department: 'x'.repeat(121) })).toThrow(/121 characters long.*at most 120/);
    expect(compileUserFilter({ department: 'x'.repeat(120) })?.text).toHaveLength("department eq ''".length + 120);
    expect(() => compileUserFilter({ departmentIn: ['ok', 'y'.repeat(900_000)] })).toThrow(/at most 120/);
    expect(() => compileUserFilter({ or: Array.from({ length: 33 }, (_, i) => ({ jobTitle: `t${i}` })) })).toThrow(/more than 32 conditions/);
    let deep: Record<string, unknown> = { jobTitle: 'x' };
    for (let i = 0; i < 6; i++) deep = { not: deep };
    expect(() => compileUserFilter(deep)).toThrow(/deeper than 5 levels/);
  });
});

describe('search compiler', () => {
  it('quotes clauses and escapes quotes and backslashes', () => {
    expect(compileUserSearch({ displayName: 'Adele' })).toBe('"displayName:Adele"');
    expect(compileUserSearch({ text: 'a"b\\c', department: 'IT' })).toBe(
      '("displayName:a\\"b\\\\c" OR "mail:a\\"b\\\\c" OR "userPrincipalName:a\\"b\\\\c") AND "department:IT"',
    );
    expect(() => compileUserSearch({ displayName: '  ' })).toThrow(GatewayError);
  });
});

describe('user keys', () => {
  it('accepts GUIDs and legal UPNs, refuses everything else', () => {
    expect(normalizeUserKey('8A2F6C4E-1B3D-4E5F-9A8B-7C6D5E4F3A2B')).toBe('8a2f6c4e-1b3d-4e5f-9a8b-7c6d5e4f3a2b');
    expect(normalizeUserKey("o'brien@contoso.example")).toBe("o'brien@contoso.example");
    expect(normalizeUserKey('$svc-backup@contoso.example')).toBe('$svc-backup@contoso.example');
    expect(normalizeUserKey('adele_fabrikam.example#EXT#@contoso.example')).toBe('adele_fabrikam.example#EXT#@contoso.example');
    for (const bad of ['', 'me', 'a@b/c', 'a@b?x=1', 'a b@c.example', 'a@b@c', '%2e%2e@x.example']) expect(() => normalizeUserKey(bad)).toThrow(GatewayError);
  });
});

describe('cursors', () => {
  it('round-trips and refuses tampering, other kinds and other keys', () => {
    const caller: Caller = { kind: 'anonymous', permissions: new Set() };
    const codec = new CursorCodec({ createCipher: createTokenCipher }).forCaller(caller);
    const token = codec.encode({ v: 1, kind: 'users:x', nextLink: 'https://graph.example/v1.0/users?$skiptoken=1', skip: 0, advanced: false });
    expect(codec.decode(token, 'users:x').nextLink).toBe('https://graph.example/v1.0/users?$skiptoken=1');
    expect(() => codec.decode(token, 'users:y')).toThrow(GatewayError);
    expect(() => new CursorCodec({ createCipher: createTokenCipher }).forCaller(caller).decode(token, 'users:x')).toThrow(GatewayError);
    // `v2.` + base64url(nonce ‖ ciphertext ‖ tag): flip the first byte of the ciphertext.
    const bytes = Buffer.from(token.slice('v2.'.length), 'base64url');
    bytes[12]! ^= 1;
    expect(() => codec.decode(`v2.${bytes.toString('base64url')}`, 'users:x')).toThrow(GatewayError);
    expect(() => new CursorCodec({ createCipher: createTokenCipher, key: Buffer.alloc(8) })).toThrow(/32 bytes/);
  });
});

describe('error formatting', () => {
  it('passes GatewayErrors through and masks everything else', () => {
    const gateway = new GatewayError('THROTTLED', 'Slow down', { retryAfterSeconds: 3, requestId: 'r-1', nested: { body: 'upstream' } });
    const wrapped = new GraphQLError(gateway.message, { originalError: gateway, path: ['users'] });
    expect(formatGatewayError({ message: gateway.message, path: ['users'] }, wrapped)).toEqual({
      message: 'Slow down',
      path: ['users'],
      extensions: { code: 'THROTTLED', retryAfterSeconds: 3, requestId: 'r-1' },
    });
    const bug = new GraphQLError('Cannot read properties of undefined (secret detail)', { originalError: new TypeError('secret detail'), path: ['user'] });
    const masked = formatGatewayError({ message: bug.message, path: ['user'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }, bug);
    expect(masked.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect(masked.message).not.toContain('secret');
  });
});
