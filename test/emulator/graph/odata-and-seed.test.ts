import { describe, expect, it } from 'vitest';
import { evaluateFilter, parseFilter } from '../../../src/emulator/graph/odata-filter.js';
import { analyzeFilter, groupEntity, readPath, userEntity, userToGraph } from '../../../src/emulator/graph/entities.js';
import { searchTokens } from '../../../src/emulator/graph/odata-search.js';
import { createTenant } from '../../../src/emulator/tenant.js';
import { tenantIdForSeed, PASSWORD_METHOD_ID } from '../../../src/emulator/seed.js';
import { GraphError } from '../../../src/emulator/graph/errors.js';

describe('$filter parser', () => {
  it('parses precedence (and binds tighter than or), not, in, functions, lambdas and escaped quotes', () => {
    expect(parseFilter("a eq 'x' or b eq 'y' and c eq 'z'")).toEqual({
      type: 'or',
      left: { type: 'compare', op: 'eq', property: 'a', value: 'x' },
      right: { type: 'and', left: { type: 'compare', op: 'eq', property: 'b', value: 'y' }, right: { type: 'compare', op: 'eq', property: 'c', value: 'z' } },
    });
    expect(parseFilter("surname eq 'O''Brien'")).toEqual({ type: 'compare', op: 'eq', property: 'surname', value: "O'Brien" });
    expect(parseFilter("not(startsWith(displayName,'a'))")).toEqual({
      type: 'not',
      operand: { type: 'func', name: 'startswith', property: 'displayName', value: 'a' },
    });
    expect(parseFilter("otherMails/any(m:startsWith(m,'x'))")).toMatchObject({ type: 'any', property: 'otherMails', variable: 'm' });
    expect(parseFilter('createdDateTime ge 2021-01-01T00:00:00Z')).toEqual({
      type: 'compare',
      op: 'ge',
      property: 'createdDateTime',
      value: { datetime: '2021-01-01T00:00:00Z' },
    });
    expect(parseFilter('passwordProfile/forceChangePasswordNextSignIn eq true')).toMatchObject({
      property: 'passwordProfile/forceChangePasswordNextSignIn',
      value: true,
    });
  });

  it.each(["displayName eq 'x", 'displayName eq', "displayName foo 'x'", "(displayName eq 'x'", ''])('rejects %j as BadRequest', (text) => {
    expect(() => parseFilter(text)).toThrow(GraphError);
  });

  it('classifies default and advanced clauses like Graph', () => {
    const advanced = (f: string) => analyzeFilter(userEntity, parseFilter(f)).advanced;
    expect(advanced("displayName eq 'x'")).toBe(false);
    expect(advanced("startsWith(mail,'x') and userType eq 'Guest'")).toBe(false);
    expect(advanced("endsWith(mail,'x')")).toBe(true);
    expect(advanced("mail ne 'x'")).toBe(true);
    expect(advanced('mail eq null')).toBe(true);
    expect(advanced("officeLocation eq 'x'")).toBe(true);
    expect(() => advanced("endsWith(displayName,'x')")).toThrow(/Unsupported or invalid query filter clause/);
    expect(() => advanced("shoeSize eq '44'")).toThrow(/Could not find a property named 'shoeSize'/);
    // `eq null` has its own column: advanced where listed, refused where "not supported".
    expect(() => advanced('accountEnabled eq null')).toThrow(/Unsupported or invalid query filter clause/);
    // The group table marks description advanced in every version.
    expect(analyzeFilter(groupEntity, parseFilter("description eq 'x'")).advanced).toBe(true);
    expect(analyzeFilter(groupEntity, parseFilter("displayName eq 'x'")).advanced).toBe(false);
  });

  it('evaluates case-insensitively, with lambdas', () => {
    const tenant = createTenant({ seed: 3, userCount: 60 });
    const guest = [...tenant.users.values()].find((u) => u.userType === 'Guest') ?? [...tenant.users.values()][5]!;
    const obj = userToGraph(guest);
    const read = (p: string) => readPath(obj, p);
    expect(evaluateFilter(parseFilter(`userPrincipalName eq '${guest.userPrincipalName.toUpperCase().replace(/'/g, "''")}'`), read)).toBe(true);
    expect(evaluateFilter(parseFilter(`proxyAddresses/any(p:startsWith(p,'smtp:'))`), read)).toBe(guest.mail !== null);
  });
});

describe('$search tokens', () => {
  it('splits on spaces, symbols, digits and case changes', () => {
    expect(searchTokens('JohnSmith42 o’Neil-Vance')).toEqual(['john', 'smith', '42', 'o', 'neil', 'vance']);
  });
});

describe('seeded directory', () => {
  it('is deterministic and has the quirks tests rely on', () => {
    const a = createTenant({ seed: 42, userCount: 1000 });
    const b = createTenant({ seed: 42, userCount: 1000 });
    expect([...a.users.keys()]).toEqual([...b.users.keys()]);
    expect(a.tenantId).toBe(tenantIdForSeed(42));
    expect(tenantIdForSeed(42)).not.toBe(tenantIdForSeed(43));
    const users = [...a.users.values()];
    expect(users).toHaveLength(1000);
    const admin = a.users.get(a.wellKnown.adminUserId)!;
    expect(admin.userPrincipalName).toBe('admin@contoso.example');
    expect(admin._directoryRoles).toContain('Global Administrator');
    expect(admin._password).toBe(a.wellKnown.adminPassword);
    expect(users.some((u) => u.userPrincipalName === '$svc-backup@contoso.example')).toBe(true);
    expect(users.filter((u) => u.userPrincipalName.includes("'")).length).toBeGreaterThanOrEqual(2);
    const guests = users.filter((u) => u.userType === 'Guest');
    expect(guests.length).toBeGreaterThan(10);
    for (const g of guests) expect(g.userPrincipalName).toMatch(/_fabrikam\.example#EXT#@contoso\.example$/);
    const disabled = users.filter((u) => !u.accountEnabled).length;
    expect(disabled).toBeGreaterThan(25);
    expect(disabled).toBeLessThan(80);
    expect(users.every((u) => u.authMethods.some((m) => m.id === PASSWORD_METHOD_ID))).toBe(true);
    const ceo = users.find((u) => u.jobTitle === 'Chief Executive Officer')!;
    expect(ceo.managerId).toBeNull();
    expect(users.filter((u) => u.managerId === ceo.id).length).toBeGreaterThan(2);
    expect(users.some((u) => u._directoryRoles.includes('User Administrator'))).toBe(true);
    expect(users.some((u) => u._directoryRoles.includes('Helpdesk Administrator'))).toBe(true);
    const years = new Set(users.map((u) => u.createdDateTime.slice(0, 4)));
    expect(years.size).toBeGreaterThan(5);
    expect(a.groups.size).toBeGreaterThan(5);
    expect(a.devices.size).toBeGreaterThan(500);
  });
});
