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
import { type Conformance, startConformance } from './support.js';

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
