/**
 * docs/graph-facts.md#deleting-authentication-methods: what Graph refuses to delete besides the password.
 * - phoneauthenticationmethod-delete: a phone that is the user's default MFA method "can't be deleted";
 *   "A user can't have an alternateMobile number without a mobile number" (delete the alternateMobile
 *   number first). Field reports give the default-method refusal as 400 `badRequest` for phones
 *   (microsoft-graph-docs-contrib#1888) and for other methods (#2913); the emulator refuses it for every
 *   type, whatever else is registered (the stricter reading).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthMethodRecord, UserRecord } from '../../../src/emulator/model.js';
import { PHONE_METHOD_IDS } from '../../../src/emulator/seed.js';
import { type Conformance, graphErrorCode, plainUserPicker, startConformance } from './support.js';

let c: Conformance;
beforeAll(async () => {
  c = await startConformance(['Privileged Authentication Administrator'], { userCount: 60 });
});
afterAll(async () => c.close());

const plainUser = plainUserPicker(() => c);

function give(user: UserRecord, method: AuthMethodRecord): AuthMethodRecord {
  user.authMethods.push(method);
  return method;
}
const phone = (phoneType: 'mobile' | 'alternateMobile' | 'office'): AuthMethodRecord => ({
  id: PHONE_METHOD_IDS[phoneType],
  type: 'phone',
  data: { phoneNumber: '+1 425 555 0100', phoneType, smsSignInState: 'notSupported' },
});
const methodsPath = (user: UserRecord, collection: string, id: string) => `/v1.0/users/${user.id}/authentication/${collection}/${id}`;

describe('deleting authentication methods (phoneauthenticationmethod-delete; docs-contrib#1888, #2913)', () => {
  it("the user's default MFA phone is refused with 400 badRequest and stays; once another method is the default it deletes", async () => {
    const user = plainUser((u) => !u.authMethods.some((m) => m.type === 'phone' || m.type === 'microsoftAuthenticator'));
    const mobile = give(user, phone('mobile'));
    const office = give(user, phone('office'));
    user._defaultMfaMethodId = mobile.id;

    const refused = await c.graph('DELETE', methodsPath(user, 'phoneMethods', mobile.id));
    expect(refused.status, refused.text).toBe(400);
    expect(graphErrorCode(refused)).toBe('badRequest');
    expect(refused.body.error.message).toContain("matches the user's current default authentication method");
    expect(user.authMethods).toContain(mobile);

    user._defaultMfaMethodId = office.id;
    expect((await c.graph('DELETE', methodsPath(user, 'phoneMethods', mobile.id))).status).toBe(204);
    expect(user.authMethods).not.toContain(mobile);
  });

  it('the default method of another type (Microsoft Authenticator) is refused too, even as the only method besides the password', async () => {
    const user = plainUser((u) => !u.authMethods.some((m) => m.type === 'microsoftAuthenticator'));
    const app = give(user, { id: crypto.randomUUID(), type: 'microsoftAuthenticator', data: { displayName: 'Phone' } });
    user.authMethods = user.authMethods.filter((m) => m === app || m.type === 'password');
    user._defaultMfaMethodId = app.id;
    const refused = await c.graph('DELETE', methodsPath(user, 'microsoftAuthenticatorMethods', app.id));
    expect(refused.status, refused.text).toBe(400);
    expect(graphErrorCode(refused)).toBe('badRequest');
    expect(user.authMethods).toContain(app);
  });

  it('a mobile number is refused while an alternateMobile number exists; deleting the alternateMobile first works', async () => {
    const user = plainUser((u) => !u.authMethods.some((m) => m.type === 'phone'));
    const mobile = give(user, phone('mobile'));
    const alternate = give(user, phone('alternateMobile'));
    user._defaultMfaMethodId = null;

    const refused = await c.graph('DELETE', methodsPath(user, 'phoneMethods', mobile.id));
    expect(refused.status, refused.text).toBe(400);
    expect(graphErrorCode(refused)).toBe('badRequest');
    expect(user.authMethods).toContain(mobile);

    expect((await c.graph('DELETE', methodsPath(user, 'phoneMethods', alternate.id))).status).toBe(204);
    expect((await c.graph('DELETE', methodsPath(user, 'phoneMethods', mobile.id))).status).toBe(204);
  });

  it('seeded users have a default MFA method when they registered one: the Authenticator app, else the mobile phone', () => {
    // The users the tests above changed are left out.
    for (const user of c.users.filter((u) => !plainUser.taken.has(u.id))) {
      const app = user.authMethods.find((m) => m.type === 'microsoftAuthenticator');
      const mobile = user.authMethods.find((m) => m.type === 'phone' && m.data.phoneType === 'mobile');
      if (app) expect(user._defaultMfaMethodId).toBe(app.id);
      else if (mobile) expect(user._defaultMfaMethodId).toBe(mobile.id);
    }
  });
});
