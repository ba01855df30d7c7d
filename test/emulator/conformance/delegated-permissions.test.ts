import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerApp } from '../../../src/emulator/apps.js';
import type { AppRegistration, UserRecord } from '../../../src/emulator/model.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { postToken } from '../entra/support.js';
import { mintToken } from '../graph/graph-client.js';

/**
 * docs/graph-facts.md#delegated-permissions: delegated Graph calls with real tokens (ROPC through
 * the demo app). What a call may do is the intersection of the token's scopes and the signed-in
 * user's own rights (learn.microsoft.com/graph/permissions-overview); `User.Read` covers the
 * signed-in user's own profile and manager (learn.microsoft.com/graph/api/user-get);
 * revokeSignInSessions is "performed by the user or an administrator" and `/me/revokeSignInSessions`
 * exists (learn.microsoft.com/graph/api/user-revokesigninsessions). Sensitive actions on a target
 * need a role that outranks it (docs/graph-facts.md#writes-and-permissions,
 * learn.microsoft.com/graph/api/resources/users "Who can perform sensitive actions").
 */
let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 60 });
});
afterAll(async () => {
  await emulator?.close();
});

function users(predicate: (u: UserRecord) => boolean): UserRecord[] {
  return [...emulator.tenant.users.values()].filter((u) => u.accountEnabled && u.userType === 'Member' && predicate(u));
}
const withRole = (role: string) => users((u) => u._directoryRoles.includes(role))[0]!;
const plainUsers = () => users((u) => u._directoryRoles.length === 0 && u.id !== emulator.tenant.wellKnown.adminUserId && !u.userPrincipalName.startsWith('$'));

/** A delegated Graph token for `user` carrying exactly `scopes` (named Graph scopes, no .default), through the demo app or `client`. */
async function delegatedToken(user: UserRecord, scopes: string[], client?: AppRegistration): Promise<string> {
  const { wellKnown } = emulator.tenant;
  const answer = await postToken(emulator, {
    grant_type: 'password',
    client_id: client?.appId ?? wellKnown.demoAppId,
    client_secret: client?.secrets[0] ?? wellKnown.demoAppSecret,
    username: user.userPrincipalName,
    password: user._password,
    scope: scopes.map((s) => `https://graph.microsoft.com/${s}`).join(' '),
  });
  expect(answer.status, answer.text).toBe(200);
  return String(answer.body.access_token);
}

async function graph(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await emulator.fetch(`/v1.0${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

function expectDenied(answer: { status: number; body: any }): void {
  expect(answer.status).toBe(403);
  expect(answer.body.error).toMatchObject({ code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' });
}

describe('the signed-in user through User.Read (user-get; regression: /me with only User.Read is 200)', () => {
  it('reads /me (and the own manager), but not another user', async () => {
    const [me, other] = plainUsers();
    const token = await delegatedToken(me!, ['User.Read']);
    const profile = await graph(token, 'GET', '/me?$select=id,userPrincipalName');
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ id: me!.id, userPrincipalName: me!.userPrincipalName });
    expect((await graph(token, 'GET', `/users/${me!.id}?$select=id`)).status).toBe(200);
    const manager = await graph(token, 'GET', '/me/manager');
    expect(manager.status).toBe(me!.managerId ? 200 : 404);
    expectDenied(await graph(token, 'GET', `/users/${other!.id}`));
    expectDenied(await graph(token, 'GET', '/users'));
  });
});

describe('/me as an application (user-list-memberof tip; msgraph-sdk-php#1163)', () => {
  it('an app-only token gets 400 BadRequest "/me request is only valid with delegated authentication flow."', async () => {
    const token = await mintToken(emulator, { roles: ['User.Read.All', 'Directory.Read.All'] });
    for (const path of ['/me', '/me/memberOf']) {
      const res = await graph(token, 'GET', path);
      expect(res.status, path).toBe(400);
      expect(res.body.error, path).toMatchObject({ code: 'BadRequest', message: '/me request is only valid with delegated authentication flow.' });
    }
  });
});

describe('a user without an admin role holding User.ReadWrite.All (permissions-overview: the intersection)', () => {
  it('reads other users, but writes nobody: PATCH (regression: 403 Authorization_RequestDenied), revoke, delete, manager and authentication methods are 403', async () => {
    const [actor, target, manager] = plainUsers();
    const token = await delegatedToken(actor!, ['User.ReadWrite.All', 'UserAuthenticationMethod.ReadWrite.All']);
    expect((await graph(token, 'GET', `/users/${target!.id}?$select=displayName`)).status).toBe(200);
    expect((await graph(token, 'GET', '/users?$top=5')).status).toBe(200);

    const before = {
      jobTitle: target!.jobTitle,
      accountEnabled: target!.accountEnabled,
      password: target!._password,
      sessions: target!.signInSessionsValidFromDateTime,
    };
    expectDenied(await graph(token, 'PATCH', `/users/${target!.id}`, { jobTitle: 'Changed by a colleague' }));
    expectDenied(await graph(token, 'PATCH', `/users/${target!.id}`, { accountEnabled: false }));
    expectDenied(
      await graph(token, 'PATCH', `/users/${target!.id}`, { passwordProfile: { password: 'Xy7!kq-Vbn2m-other', forceChangePasswordNextSignIn: true } }),
    );
    expectDenied(await graph(token, 'POST', `/users/${target!.id}/revokeSignInSessions`, {}));
    expectDenied(await graph(token, 'PUT', `/users/${target!.id}/manager/$ref`, { '@odata.id': `${emulator.origin}/v1.0/users/${manager!.id}` }));
    expectDenied(await graph(token, 'POST', `/users/${target!.id}/authentication/temporaryAccessPassMethods`, { lifetimeInMinutes: 60 }));
    const method = target!.authMethods.find((m) => m.type === 'email' || m.type === 'phone');
    if (method) expectDenied(await graph(token, 'DELETE', `/users/${target!.id}/authentication/${method.type}Methods/${method.id}`));
    expectDenied(await graph(token, 'DELETE', `/users/${target!.id}`));
    expect(emulator.tenant.users.get(target!.id)).toMatchObject({
      jobTitle: before.jobTitle,
      accountEnabled: before.accountEnabled,
      _password: before.password,
    });
    expect(target!.signInSessionsValidFromDateTime).toBe(before.sessions);
  });

  it('may revoke its own sessions through /me/revokeSignInSessions (user-revokesigninsessions), but not edit its own directory properties', async () => {
    const [, , , actor] = plainUsers();
    const token = await delegatedToken(actor!, ['User.ReadWrite.All']);
    expect((await graph(token, 'POST', '/me/revokeSignInSessions', {})).status).toBe(200);
    expectDenied(await graph(token, 'PATCH', '/me', { jobTitle: 'Self-promoted' }));
  });
});

describe('administrators: the role decides, and sensitive actions need a role that outranks the target', () => {
  it('a User Administrator updates and disables ordinary users, but not a Global Administrator', async () => {
    const userAdmin = withRole('User Administrator');
    const [target] = plainUsers().filter((u) => u.id !== userAdmin.id);
    const globalAdmin = emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!;
    const token = await delegatedToken(userAdmin, ['User.ReadWrite.All']);
    expect((await graph(token, 'PATCH', `/users/${target!.id}`, { jobTitle: 'Promoted by HR' })).status).toBe(204);
    expect(target!.jobTitle).toBe('Promoted by HR');
    expect((await graph(token, 'PATCH', `/users/${target!.id}`, { accountEnabled: false })).status).toBe(204);
    expect(target!.accountEnabled).toBe(false);
    target!.accountEnabled = true;
    expectDenied(await graph(token, 'PATCH', `/users/${globalAdmin.id}`, { accountEnabled: false }));
    expectDenied(
      await graph(token, 'PATCH', `/users/${globalAdmin.id}`, { passwordProfile: { password: 'Xy7!kq-Vbn2m-ga', forceChangePasswordNextSignIn: true } }),
    );
    expect(globalAdmin.accountEnabled).toBe(true);
  });

  // user-update: for users with privileged administrator roles, "in delegated scenarios, the app must be assigned
  // the Directory.AccessAsUser.All delegated permission" as well (docs/graph-facts.md#writes-and-permissions).
  it('a Privileged Authentication Administrator may disable a Global Administrator (with Directory.AccessAsUser.All: User.ReadWrite.All alone is refused); a Helpdesk Administrator may not update profiles', async () => {
    const paa = withRole('Privileged Authentication Administrator');
    const otherGlobalAdmin = users((u) => u._directoryRoles.includes('Global Administrator') && u.id !== emulator.tenant.wellKnown.adminUserId)[0]!;
    expectDenied(await graph(await delegatedToken(paa, ['User.ReadWrite.All']), 'PATCH', `/users/${otherGlobalAdmin.id}`, { accountEnabled: false }));
    expect(otherGlobalAdmin.accountEnabled).toBe(true);
    const token = await delegatedToken(paa, ['User.ReadWrite.All', 'Directory.AccessAsUser.All']);
    expect((await graph(token, 'PATCH', `/users/${otherGlobalAdmin.id}`, { accountEnabled: false })).status).toBe(204);
    expect(otherGlobalAdmin.accountEnabled).toBe(false);
    otherGlobalAdmin.accountEnabled = true;

    const helpdesk = withRole('Helpdesk Administrator');
    const [target] = plainUsers();
    const helpdeskToken = await delegatedToken(helpdesk, ['User.ReadWrite.All']);
    expectDenied(await graph(helpdeskToken, 'PATCH', `/users/${target!.id}`, { jobTitle: 'Not the helpdesk' }));
  });

  it('the seeded Global Administrator may do everything the gateway sends', async () => {
    const admin = emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!;
    const [target, manager] = plainUsers().slice(-2);
    const token = await delegatedToken(admin, ['Directory.AccessAsUser.All', 'UserAuthenticationMethod.ReadWrite.All']);
    expect((await graph(token, 'PATCH', `/users/${target!.id}`, { jobTitle: 'Set by the admin', accountEnabled: true })).status).toBe(204);
    expect((await graph(token, 'POST', `/users/${target!.id}/revokeSignInSessions`, {})).status).toBe(200);
    expect((await graph(token, 'PUT', `/users/${target!.id}/manager/$ref`, { '@odata.id': `${emulator.origin}/v1.0/users/${manager!.id}` })).status).toBe(204);
    expect((await graph(token, 'POST', `/users/${target!.id}/authentication/temporaryAccessPassMethods`, { lifetimeInMinutes: 60 })).status).toBe(201);
  });
});

describe("Directory.AccessAsUser.All is the user's directory access, not every API", () => {
  /** An app whose users consented to the read scopes these tests compare. */
  const reader = () =>
    registerApp(emulator.tenant, {
      displayName: 'delegated reader',
      graphDelegatedScopes: [
        'User.Read.All',
        'Directory.Read.All',
        'Directory.AccessAsUser.All',
        'UserAuthenticationMethod.Read.All',
        'openid',
        'profile',
        'offline_access',
      ],
    });
  it('does not reach authentication methods, which list only UserAuthenticationMethod.* (authentication-list-methods, authentication-post-temporaryaccesspassmethods, authenticationmethod-resetpassword)', async () => {
    const admin = emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!;
    const [target] = plainUsers().slice(-3);
    const token = await delegatedToken(admin, ['Directory.AccessAsUser.All']);
    expect((await graph(token, 'PATCH', `/users/${target!.id}`, { jobTitle: 'Still the directory' })).status).toBe(204);
    expectDenied(await graph(token, 'GET', `/users/${target!.id}/authentication/methods`));
    expectDenied(await graph(token, 'POST', `/users/${target!.id}/authentication/temporaryAccessPassMethods`, { lifetimeInMinutes: 60 }));
    expectDenied(await graph(token, 'POST', `/users/${target!.id}/authentication/methods/28c10230-6103-485e-b985-444c60001490/resetPassword`, {}));
    const methods = await delegatedToken(admin, ['UserAuthenticationMethod.Read.All'], reader());
    expect((await graph(methods, 'GET', `/users/${target!.id}/authentication/methods`)).status).toBe(200);
  });

  it('getByIds: delegated Directory.Read.All or Directory.AccessAsUser.All, not User.Read.All (directoryobject-getbyids)', async () => {
    const admin = emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!;
    const ids = plainUsers()
      .slice(0, 3)
      .map((u) => u.id);
    const body = { ids, types: ['user'] };
    const app = reader();
    expectDenied(await graph(await delegatedToken(admin, ['User.Read.All'], app), 'POST', '/directoryObjects/getByIds?$select=id', body));
    for (const scope of ['Directory.Read.All', 'Directory.AccessAsUser.All']) {
      const answer = await graph(await delegatedToken(admin, [scope], app), 'POST', '/directoryObjects/getByIds?$select=id', body);
      expect(answer.status, scope).toBe(200);
      expect(answer.body.value).toHaveLength(3);
    }
  });
});
