/**
 * docs/graph-facts.md#authentication-method-reads: what the List pages of a user's authentication
 * methods show. `/authentication/methods` types every item with `@odata.type` (authentication-list-methods'
 * example); the per-type collections' examples disagree: phoneMethods, emailMethods, fido2Methods,
 * passwordMethods and temporaryAccessPassMethods show items without it, microsoftAuthenticatorMethods
 * with it. The emulator leaves it out by default (the stricter reading) and sends it under
 * `authMethodTypeAnnotation: 'present'`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphSettingsFromEnv, validateGraphSettings } from '../../../src/emulator/graph-settings.js';
import type { AuthMethodType } from '../../../src/emulator/model.js';
import { type Conformance, graphErrorCode, mintToken, startConformance } from './support.js';

let c: Conformance;
beforeAll(async () => {
  c = await startConformance(['Privileged Authentication Administrator'], { userCount: 60 });
});
afterAll(async () => c.close());

const setAnnotation = async (value: 'omitted' | 'present') => {
  const res = await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ authMethodTypeAnnotation: value }) });
  expect(res.status).toBe(200);
};

function userWithTypes(count: number) {
  return c.users.find((u) => new Set(u.authMethods.map((m) => m.type)).size >= count)!;
}

describe('authentication methods: @odata.type of per-type collections (sources disagree)', () => {
  it('by default a per-type collection and a method read through it carry no @odata.type; /methods types every item', async () => {
    const user = userWithTypes(3);
    const all = await c.graph('GET', `/v1.0/users/${user.id}/authentication/methods`);
    expect(all.status).toBe(200);
    for (const item of all.body.value) expect(item['@odata.type']).toMatch(/^#microsoft\.graph\.[A-Za-z0-9]+AuthenticationMethod$/);
    const types = [...new Set(user.authMethods.map((m) => m.type))] as AuthMethodType[];
    for (const type of types) {
      const list = await c.graph('GET', `/v1.0/users/${user.id}/authentication/${type}Methods`);
      expect(list.status, type).toBe(200);
      expect(list.body.value.length, type).toBe(user.authMethods.filter((m) => m.type === type).length);
      for (const item of list.body.value) expect(item, type).not.toHaveProperty('@odata.type');
      const one = await c.graph('GET', `/v1.0/users/${user.id}/authentication/${type}Methods/${list.body.value[0].id}`);
      expect(one.status, type).toBe(200);
      expect(one.body, type).not.toHaveProperty('@odata.type');
    }
  });

  it("under 'present' (the Microsoft Authenticator page's example) per-type items are typed; reset restores the default", async () => {
    const user = userWithTypes(2);
    const type = user.authMethods.find((m) => m.type !== 'password')!.type;
    await setAnnotation('present');
    try {
      const list = await c.graph('GET', `/v1.0/users/${user.id}/authentication/${type}Methods`);
      expect(list.body.value[0]['@odata.type']).toBe(`#microsoft.graph.${type}AuthenticationMethod`);
    } finally {
      await setAnnotation('omitted');
    }
    expect(graphSettingsFromEnv({ EMULATOR_AUTH_METHOD_TYPE_ANNOTATION: 'present' })).toEqual({ authMethodTypeAnnotation: 'present' });
    expect(() => graphSettingsFromEnv({ EMULATOR_AUTH_METHOD_TYPE_ANNOTATION: 'yes' })).toThrow(/EMULATOR_AUTH_METHOD_TYPE_ANNOTATION/);
    expect(() => validateGraphSettings({ authMethodTypeAnnotation: true })).toThrow(/'omitted' or 'present'/);
  });
});

describe("authentication methods: who reads another user's (rbac-authentication-methods-apis-read-others; Entra's permissions reference)", () => {
  const READ_SCOPE = 'UserAuthenticationMethod.Read.All';

  /** A signed-in user holding `roles`, with a token for the read scope. */
  async function reader(roles: string[]): Promise<string> {
    const user = c.users.find((u) => u.userType === 'Member' && u._directoryRoles.length === 0 && u.accountEnabled && !readers.has(u.id))!;
    readers.add(user.id);
    user._directoryRoles = roles;
    return mintToken(c.emulator, { scp: READ_SCOPE, oid: user.id });
  }
  const readers = new Set<string>();
  const admin = () => c.users.find((u) => u._directoryRoles.includes('User Administrator'))!;
  const plain = () => c.users.find((u) => u.userType === 'Member' && u._directoryRoles.length === 0 && !readers.has(u.id))!;
  const methods = (user: { id: string }) => `/v1.0/users/${user.id}/authentication/methods`;

  it('Global Reader reads every user, administrators included (it used to be refused)', async () => {
    const token = await reader(['Global Reader']);
    expect((await c.graph('GET', methods(plain()), { token })).status).toBe(200);
    expect((await c.graph('GET', methods(admin()), { token })).status).toBe(200);
  });

  it("an Authentication Administrator reads non-admin users' methods but not an administrator's: 403 Authorization_RequestDenied (it used to read them)", async () => {
    const token = await reader(['Authentication Administrator']);
    expect((await c.graph('GET', methods(plain()), { token })).status).toBe(200);
    const target = admin();
    for (const path of [methods(target), `/v1.0/users/${target.id}/authentication/passwordMethods`]) {
      const refused = await c.graph('GET', path, { token });
      expect(refused.status, path).toBe(403);
      expect(graphErrorCode(refused)).toBe('Authorization_RequestDenied');
    }
  });

  it('"The authentication administrator only sees masked phone numbers": an Authentication Administrator gets them masked, a Global Reader in full', async () => {
    const target = c.users.find(
      (u) => u.userType === 'Member' && u._directoryRoles.length === 0 && !readers.has(u.id) && u.authMethods.some((m) => m.type === 'phone'),
    )!;
    readers.add(target.id);
    const numbers = target.authMethods.filter((m) => m.type === 'phone').map((m) => m.data.phoneNumber as string);
    const read = async (token: string) =>
      ((await c.graph('GET', `/v1.0/users/${target.id}/authentication/phoneMethods`, { token })).body.value as Array<{ phoneNumber: string }>).map(
        (m) => m.phoneNumber,
      );
    const masked = await read(await reader(['Authentication Administrator']));
    expect(masked).toHaveLength(numbers.length);
    masked.forEach((m, i) => {
      expect(m).not.toBe(numbers[i]);
      expect(m).toMatch(/^\+\d+ X+\d{2}$/);
      expect(m.slice(-2)).toBe(numbers[i]!.slice(-2));
    });
    expect(await read(await reader(['Global Reader']))).toEqual(numbers);
  });

  it('a Privileged Authentication Administrator reads everyone; a user without a role reads only their own', async () => {
    const pam = await reader(['Privileged Authentication Administrator']);
    expect((await c.graph('GET', methods(admin()), { token: pam })).status).toBe(200);
    const self = plain();
    readers.add(self.id);
    const own = await mintToken(c.emulator, { scp: 'UserAuthenticationMethod.Read', oid: self.id });
    expect((await c.graph('GET', methods(self), { token: own })).status).toBe(200);
    expect((await c.graph('GET', methods(plain()), { token: await mintToken(c.emulator, { scp: READ_SCOPE, oid: self.id }) })).status).toBe(403);
  });
});

describe('authentication methods: no query options ("This method does not support optional query parameters")', () => {
  it('a $-prefixed option on a list or a get is 400 BadRequest (the stricter reading); without one it is 200', async () => {
    const user = userWithTypes(2);
    const method = user.authMethods.find((m) => m.type !== 'password')!;
    const base = `/v1.0/users/${user.id}/authentication`;
    expect((await c.graph('GET', `${base}/methods`)).status).toBe(200);
    for (const path of [`${base}/methods?$select=id`, `${base}/${method.type}Methods?$top=1`, `${base}/${method.type}Methods/${method.id}?$select=id`]) {
      const res = await c.graph('GET', path);
      expect(res.status, path).toBe(400);
      expect(graphErrorCode(res), path).toBe('BadRequest');
    }
  });
});
