/**
 * docs/graph-facts.md#authentication-method-permissions: which permissions each authentication-method
 * call the gateway makes accepts, acting on another user, as the Microsoft Learn pages list them.
 * - Temporary Access Pass: create (authentication-post-temporaryaccesspassmethods), delete
 *   (temporaryaccesspassauthenticationmethod-delete): UserAuthenticationMethod.ReadWrite.All or
 *   UserAuthMethod-TAP.ReadWrite.All; list and get (authentication-list-temporaryaccesspassmethods,
 *   temporaryaccesspassauthenticationmethod-get): also UserAuthMethod-TAP.Read.All and
 *   UserAuthenticationMethod.Read.All.
 * - Deletes: email, Microsoft Authenticator, software OATH, Windows Hello for Business take
 *   UserAuthenticationMethod.ReadWrite.All or their own UserAuthMethod-<type>.ReadWrite.All
 *   (emailauthenticationmethod-delete, microsoftauthenticatorauthenticationmethod-delete,
 *   softwareoathauthenticationmethod-delete, windowshelloforbusinessauthenticationmethod-delete); phone
 *   only UserAuthenticationMethod.ReadWrite.All (phoneauthenticationmethod-delete); FIDO2 app-only
 *   UserAuthMethod-Passkey.ReadWrite.All (one version of fido2authenticationmethod-delete's table lists
 *   it alone: the stricter reading), delegated also UserAuthenticationMethod.ReadWrite.All.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthMethodType, UserRecord } from '../../../src/emulator/model.js';
import { USER_ADMIN_APP_ID } from '../graph/graph-client.js';
import { type Conformance, type GraphResult, graphErrorCode, mintToken, plainUserPicker, startConformance } from './support.js';

let c: Conformance;
beforeAll(async () => {
  // The tokens below are minted for the suite's app, whose service principal is a Privileged Authentication Administrator.
  c = await startConformance(['Privileged Authentication Administrator'], { userCount: 60 });
});
afterAll(async () => c.close());

const plainUser = plainUserPicker(() => c);
const app = (roles: string[]) => mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, roles });
const tapPath = (user: UserRecord) => `/v1.0/users/${user.id}/authentication/temporaryAccessPassMethods`;

/** Gives `user` a method of `type` to delete (ids as Graph makes them: a GUID). */
function giveMethod(user: UserRecord, type: AuthMethodType): string {
  const id = crypto.randomUUID();
  user.authMethods.push({ id, type, data: {} });
  return id;
}

function expectDenied(res: GraphResult): void {
  expect(res.status, res.text).toBe(403);
  expect(graphErrorCode(res)).toBe('Authorization_RequestDenied');
}

describe('Temporary Access Pass (authentication-post-temporaryaccesspassmethods, -delete, -list, -get)', () => {
  it('regression: UserAuthMethod-TAP.ReadWrite.All alone creates, reads and deletes a pass, app-only and delegated', async () => {
    const user = plainUser();
    const token = await app(['UserAuthMethod-TAP.ReadWrite.All']);
    const created = await c.graph('POST', tapPath(user), { body: {}, token });
    expect(created.status, created.text).toBe(201);
    expect((await c.graph('GET', tapPath(user), { token })).status).toBe(200);
    expect((await c.graph('GET', `${tapPath(user)}/${created.body.id}`, { token })).status).toBe(200);
    expect((await c.graph('DELETE', `${tapPath(user)}/${created.body.id}`, { token })).status).toBe(204);
    // It reaches passes only: the whole methods collection and other types stay closed.
    expectDenied(await c.graph('GET', `/v1.0/users/${user.id}/authentication/methods`, { token }));
    expectDenied(await c.graph('DELETE', `/v1.0/users/${user.id}/authentication/emailMethods/${giveMethod(user, 'email')}`, { token }));

    const admin = c.emulator.tenant.users.get(c.emulator.tenant.wellKnown.adminUserId)!;
    const delegated = await mintToken(c.emulator, { scp: 'UserAuthMethod-TAP.ReadWrite.All', oid: admin.id });
    expect((await c.graph('POST', tapPath(plainUser()), { body: {}, token: delegated })).status).toBe(201);
  });

  // The create page has "Permissions acting on other users" only, and the Entra TAP page lets each admin
  // role create a pass for others "(except themselves)".
  it('a signed-in admin cannot create a pass for their own account (403 Authorization_RequestDenied), by id or through /me', async () => {
    const admin = c.emulator.tenant.users.get(c.emulator.tenant.wellKnown.adminUserId)!;
    const before = [...admin.authMethods];
    const token = await mintToken(c.emulator, { scp: 'UserAuthenticationMethod.ReadWrite.All', oid: admin.id });
    expectDenied(await c.graph('POST', tapPath(admin), { body: {}, token }));
    expectDenied(await c.graph('POST', '/v1.0/me/authentication/temporaryAccessPassMethods', { body: {}, token }));
    expect(admin.authMethods).toEqual(before);
  });

  it('UserAuthMethod-TAP.Read.All reads passes but creates and deletes none; read-only permissions listed in the create table are refused (the stricter reading)', async () => {
    const user = plainUser();
    const made = await c.graph('POST', tapPath(user), { body: {}, token: await app(['UserAuthenticationMethod.ReadWrite.All']) });
    expect(made.status).toBe(201);
    const reader = await app(['UserAuthMethod-TAP.Read.All']);
    expect((await c.graph('GET', tapPath(user), { token: reader })).body.value).toHaveLength(1);
    expectDenied(await c.graph('POST', tapPath(user), { body: {}, token: reader }));
    expectDenied(await c.graph('DELETE', `${tapPath(user)}/${made.body.id}`, { token: reader }));
    expectDenied(await c.graph('POST', tapPath(user), { body: {}, token: await app(['UserAuthenticationMethod.Read.All']) }));
    expect((await c.graph('GET', tapPath(user), { token: await app(['UserAuthenticationMethod.Read.All']) })).status).toBe(200);
  });
});

describe('deleting a method of each type (the <type>authenticationmethod-delete pages)', () => {
  const PER_TYPE: Array<[AuthMethodType, string]> = [
    ['email', 'UserAuthMethod-Email.ReadWrite.All'],
    ['microsoftAuthenticator', 'UserAuthMethod-MicrosoftAuthApp.ReadWrite.All'],
    ['softwareOath', 'UserAuthMethod-SoftwareOATH.ReadWrite.All'],
    ['windowsHelloForBusiness', 'UserAuthMethod-WindowsHello.ReadWrite.All'],
    ['temporaryAccessPass', 'UserAuthMethod-TAP.ReadWrite.All'],
    ['fido2', 'UserAuthMethod-Passkey.ReadWrite.All'],
  ];

  it.each(PER_TYPE)('regression: %s methods are deleted with %s, app-only, and with nothing narrower than another type', async (type, permission) => {
    const user = plainUser();
    const path = (id: string) => `/v1.0/users/${user.id}/authentication/${type}Methods/${id}`;
    const other = PER_TYPE.find(([t]) => t !== type)![1];
    const id = giveMethod(user, type);
    expectDenied(await c.graph('DELETE', path(id), { token: await app([other]) }));
    expect((await c.graph('DELETE', path(id), { token: await app([permission]) })).status).toBe(204);
    expect(user.authMethods.some((m) => m.id === id)).toBe(false);
  });

  it('UserAuthenticationMethod.ReadWrite.All deletes every type app-only but FIDO2 (whose table may list the Passkey permission alone); delegated it deletes FIDO2 too', async () => {
    const user = plainUser();
    const token = await app(['UserAuthenticationMethod.ReadWrite.All']);
    for (const type of ['email', 'phone', 'microsoftAuthenticator', 'softwareOath', 'windowsHelloForBusiness', 'temporaryAccessPass'] as const) {
      const res = await c.graph('DELETE', `/v1.0/users/${user.id}/authentication/${type}Methods/${giveMethod(user, type)}`, { token });
      expect(res.status, type).toBe(204);
    }
    const key = giveMethod(user, 'fido2');
    expectDenied(await c.graph('DELETE', `/v1.0/users/${user.id}/authentication/fido2Methods/${key}`, { token }));
    const admin = c.emulator.tenant.users.get(c.emulator.tenant.wellKnown.adminUserId)!;
    const delegated = await mintToken(c.emulator, { scp: 'UserAuthenticationMethod.ReadWrite.All', oid: admin.id });
    expect((await c.graph('DELETE', `/v1.0/users/${user.id}/authentication/fido2Methods/${key}`, { token: delegated })).status).toBe(204);
  });

  it('a phone is deleted with UserAuthenticationMethod.ReadWrite.All only: the page lists no UserAuthMethod-Phone permission for delete', async () => {
    const user = plainUser();
    const id = giveMethod(user, 'phone');
    const path = `/v1.0/users/${user.id}/authentication/phoneMethods/${id}`;
    expectDenied(await c.graph('DELETE', path, { token: await app(['UserAuthMethod-Phone.ReadWrite.All']) }));
    const admin = c.emulator.tenant.users.get(c.emulator.tenant.wellKnown.adminUserId)!;
    expectDenied(await c.graph('DELETE', path, { token: await mintToken(c.emulator, { scp: 'UserAuthMethod-Phone.ReadWrite.All', oid: admin.id }) }));
    expect((await c.graph('DELETE', path, { token: await app(['UserAuthenticationMethod.ReadWrite.All']) })).status).toBe(204);
  });

  it('delegated, the permission is not enough without a role: a user without an admin role deletes nothing', async () => {
    const actor = plainUser();
    const user = plainUser();
    const id = giveMethod(user, 'email');
    const token = await mintToken(c.emulator, { scp: 'UserAuthMethod-Email.ReadWrite.All UserAuthenticationMethod.ReadWrite.All', oid: actor.id });
    expectDenied(await c.graph('DELETE', `/v1.0/users/${user.id}/authentication/emailMethods/${id}`, { token }));
  });
});

/**
 * Reads of a per-type collection (the List and Get pages of each type, e.g. authentication-list-phonemethods,
 * phoneauthenticationmethod-get, fido2authenticationmethod-list): Graph lists the type's own
 * UserAuthMethod-<family>.Read.All as least privileged and its .ReadWrite.All among the higher ones, next
 * to the UserAuthenticationMethod.* reads. authentication-list-methods (`/methods`) and the passwordMethods
 * pages list the UserAuthenticationMethod.* reads only.
 */
describe('reading a per-type collection (the List and Get pages of each type)', () => {
  const FAMILIES: Array<[AuthMethodType, string]> = [
    ['email', 'Email'],
    ['phone', 'Phone'],
    ['fido2', 'Passkey'],
    ['microsoftAuthenticator', 'MicrosoftAuthApp'],
    ['softwareOath', 'SoftwareOATH'],
    ['windowsHelloForBusiness', 'WindowsHello'],
    ['temporaryAccessPass', 'TAP'],
  ];

  it.each(FAMILIES)('%s methods are listed and read with UserAuthMethod-%s.Read.All or .ReadWrite.All, and nothing else of the user', async (type, family) => {
    const user = plainUser();
    const id = giveMethod(user, type);
    const collection = `/v1.0/users/${user.id}/authentication/${type}Methods`;
    for (const permission of [`UserAuthMethod-${family}.Read.All`, `UserAuthMethod-${family}.ReadWrite.All`]) {
      const token = await app([permission]);
      const listed = await c.graph('GET', collection, { token });
      expect(listed.status, `${permission}: ${listed.text}`).toBe(200);
      expect((listed.body.value as Array<{ id: string }>).map((m) => m.id)).toContain(id);
      expect((await c.graph('GET', `${collection}/${id}`, { token })).status, permission).toBe(200);
      // The family reaches its own collection only: not the mixed one, not another type's, not passwords.
      expectDenied(await c.graph('GET', `/v1.0/users/${user.id}/authentication/methods`, { token }));
      const other = FAMILIES.find(([t]) => t !== type)![0];
      expectDenied(await c.graph('GET', `/v1.0/users/${user.id}/authentication/${other}Methods`, { token }));
      expectDenied(await c.graph('GET', `/v1.0/users/${user.id}/authentication/passwordMethods`, { token }));
    }
  });

  it("delegated, the family permission still needs a role that reads the user: an Authentication Administrator reads a plain user's phones, a user without a role nobody's", async () => {
    const user = plainUser();
    giveMethod(user, 'phone');
    const collection = `/v1.0/users/${user.id}/authentication/phoneMethods`;
    const admin = c.emulator.tenant.users.get(c.emulator.tenant.wellKnown.adminUserId)!;
    const asAdmin = await mintToken(c.emulator, { scp: 'UserAuthMethod-Phone.Read.All', oid: admin.id });
    expect((await c.graph('GET', collection, { token: asAdmin })).status).toBe(200);
    const asPlain = await mintToken(c.emulator, { scp: 'UserAuthMethod-Phone.Read.All', oid: plainUser().id });
    expectDenied(await c.graph('GET', collection, { token: asPlain }));
  });
});
