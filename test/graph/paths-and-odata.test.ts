import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { odataSearchClause, odataString } from '../../src/graph/odata.js';
import { isGuid } from '../../src/guid.js';
import { encodeQuery, graphPaths, relativeUrl } from '../../src/graph/paths.js';
import { selectParam, topParam } from '../../src/graph/requests.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof GatewayError ? error.code : 'not a GatewayError';
  }
  return undefined;
}

describe('user paths', () => {
  it('encodes characters that would change the addressed resource', () => {
    expect(graphPaths.user('a/b').path).toBe('/users/a%2Fb');
    expect(graphPaths.user('a?b').path).toBe('/users/a%3Fb');
    expect(graphPaths.user('a%2Fb').path).toBe('/users/a%252Fb');
    expect(graphPaths.user('x y&z=1').path).toBe('/users/x%20y%26z%3D1');
  });

  it('encodes # of B2B guest UPNs as %23 and keeps @ readable', () => {
    expect(graphPaths.user('AdeleVance_adatum.com#EXT#@contoso.com').path).toBe('/users/AdeleVance_adatum.com%23EXT%23@contoso.com');
  });

  it("addresses a UPN starting with $ as /users('...') with quotes doubled", () => {
    expect(graphPaths.user('$x@y.com').path).toBe("/users('$x@y.com')");
    expect(graphPaths.userSub("$o'neil@y.com", 'manager').path).toBe("/users('$o''neil@y.com')/manager");
  });

  it('carries a route template without the id', () => {
    const p = graphPaths.userSub('8f1c4a1e-0000-4000-8000-000000000001', 'directReports');
    expect(p.template).toBe('/users/{id}/directReports');
    expect(p.template).not.toContain('8f1c');
  });

  it.each([
    ['', 'empty'],
    ['   ', 'blank'],
    ['..', 'dot-dot'],
    ['.', 'dot'],
    ['a/../b', 'dot-dot inside'],
    ['a\u0000b', 'null byte'],
    ['a\nb', 'newline'],
    ['x'.repeat(257), 'too long'],
    ['\ud800x', 'lone surrogate'],
  ])('refuses %j (%s) with BAD_USER_INPUT', (id) => {
    expect(codeOf(() => graphPaths.user(id))).toBe('BAD_USER_INPUT');
  });

  it('builds auth method paths from fixed segments', () => {
    expect(graphPaths.userAuthMethods('u@x.com', 'phone').path).toBe('/users/u@x.com/authentication/phoneMethods');
    expect(graphPaths.userAuthMethod('u@x.com', 'password', '28c10230-6103-485e-b985-444c60001490', 'resetPassword').template).toBe(
      '/users/{id}/authentication/passwordMethods/{methodId}/resetPassword',
    );
  });
});

describe('query strings', () => {
  it('keeps OData punctuation readable and encodes the rest', () => {
    expect(encodeQuery({ $select: 'id,displayName', $top: '5', $filter: undefined })).toBe('?$select=id,displayName&$top=5');
    expect(encodeQuery({ $filter: "startswith(displayName,'a&b#c+d%')" })).toBe("?$filter=startswith(displayName,'a%26b%23c%2Bd%25')");
    expect(encodeQuery({ $expand: 'manager($select=id,displayName)' })).toBe('?$expand=manager($select=id,displayName)');
  });

  it('joins a nextLink query with own parameters', () => {
    const p = graphPaths.continuation('/users', '/users', '?$skiptoken=abc');
    expect(relativeUrl(p)).toBe('/users?$skiptoken=abc');
    expect(relativeUrl(p, { $top: '5' })).toBe('/users?$skiptoken=abc&$top=5');
  });

  it('$select always starts with id and never holds *', () => {
    expect(selectParam(['displayName'])).toBe('id,displayName');
    expect(selectParam(['displayName', 'id', 'displayName', 'mail'])).toBe('id,displayName,mail');
    expect(codeOf(() => selectParam(['*']))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => selectParam(['displayName,mail']))).toBe('BAD_USER_INPUT');
  });

  it('bounds the page size', () => {
    expect(topParam(999)).toBe('999');
    expect(codeOf(() => topParam(0))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => topParam(1000))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => topParam(2.5))).toBe('BAD_USER_INPUT');
  });
});

describe('OData literals', () => {
  it('doubles single quotes', () => {
    expect(odataString("O'Neil")).toBe("'O''Neil'");
    expect(odataString("' or 1 eq 1 or ''='")).toBe("''' or 1 eq 1 or ''''='''");
  });

  it('refuses control characters and null bytes', () => {
    expect(codeOf(() => odataString('a\u0000'))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => odataString('a\tb'))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => odataSearchClause('displayName', 'a\u0000'))).toBe('BAD_USER_INPUT');
  });

  it('escapes " and \\ in $search clauses', () => {
    expect(odataSearchClause('displayName', 'Adele')).toBe('"displayName:Adele"');
    expect(odataSearchClause('displayName', 'a"b\\c')).toBe('"displayName:a\\"b\\\\c"');
    expect(codeOf(() => odataSearchClause('displayName" OR "x', 'a'))).toBe('BAD_USER_INPUT');
  });

  it('recognises GUIDs', () => {
    expect(isGuid('8F1C4A1E-0000-4000-8000-000000000001')).toBe(true);
    expect(isGuid('adele@contoso.com')).toBe(false);
    expect(isGuid('8f1c4a1e-0000-4000-8000-00000000000')).toBe(false);
  });
});
