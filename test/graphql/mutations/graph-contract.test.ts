import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD_METHOD_ID } from '../../../src/emulator/seed.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { auditEvents, ordinaryUserPicker } from './support.js';
import { userCallerToken } from '../../identity/support.js';
import { startDelegatedApp, type DelegatedApp } from '../../support/delegated-app.js';

/**
 * The write path against an emulator as strict as Microsoft Graph (docs/graph-facts.md#json-batching,
 * #writes-and-permissions): what the gateway sends must be what Graph accepts, counted at the
 * emulator. A client-credentials gateway and a delegated one (an administrator signed in through
 * /auth/login) share one tenant.
 */

let emulator: TestEmulator;
let gw: TestGateway;
let delegated: DelegatedApp;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 200 });
  gw = await startTestGateway({ emulator, env: { DEPLOYMENT_MODE: 'self-deployed' } });
  delegated = await startDelegatedApp(emulator);
}, 60_000);

afterAll(async () => {
  await delegated?.close();
  await gw?.close();
  await emulator?.close();
});

const ordinaryUser = ordinaryUserPicker(() => emulator);

const MISSING_ID = '00000000-0000-4000-8000-00000000beef';
const missingUpn = () => `nobody.${Date.now()}@${emulator.tenant.domain}`;

describe('terminateSession: one $batch whose write items Graph accepts', () => {
  it('revokes the sessions and blocks sign-in in ONE $batch of two write items, each with a body and Content-Type', async () => {
    const target = ordinaryUser();
    const before = target.signInSessionsValidFromDateTime;
    await new Promise((r) => setTimeout(r, 1100)); // revocation has whole-second granularity
    await emulator.resetStats();
    const result = await gw.graphql(
      `mutation($u: ID!) { terminateSession(input: { user: $u }) { succeeded steps { step succeeded outcome requestId clientRequestId error { code } } } }`,
      { u: target.userPrincipalName },
    );
    expect(result.errors).toBeUndefined();
    const payload = result.data!.terminateSession;
    expect(payload.succeeded).toBe(true);
    expect(payload.steps.map((s: any) => [s.step, s.outcome])).toEqual([
      ['REVOKE_SESSIONS', 'SUCCEEDED'],
      ['DISABLE_ACCOUNT', 'SUCCEEDED'],
    ]);
    expect(payload.steps[0].clientRequestId).toMatch(/^[0-9a-f-]{36}$/);
    const stats = await emulator.stats();
    expect(stats.graphRequests).toBe(1);
    expect(stats.batch).toMatchObject({ requests: 1, items: 3 });
    // The two writes, and the read of who the user is (src/graph/external-users.ts).
    expect(stats.batch.itemsByRoute).toEqual({ 'POST /v1.0/users/{id}/revokeSignInSessions': 1, 'PATCH /v1.0/users/{id}': 1, 'GET /v1.0/users/{id}': 1 });
    expect(target.signInSessionsValidFromDateTime > before).toBe(true);
    expect(target.accountEnabled).toBe(false);
  });

  it.each([true, false])(
    'a user that does not exist is a NOT_FOUND error with Graph request id (disableAccount: %s), audited as failed',
    async (disableAccount) => {
      const user = disableAccount ? MISSING_ID : missingUpn();
      await emulator.resetStats();
      const result = await gw.graphql(
        `mutation Gone($u: ID!, $d: Boolean) { terminateSession(input: { user: $u, disableAccount: $d }) { succeeded steps { step } } }`,
        { u: user, d: disableAccount },
      );
      expect(result.data?.terminateSession ?? null).toBeNull();
      expect(result.errors).toHaveLength(1);
      expect(result.errors![0]!.path).toEqual(['terminateSession']);
      expect(result.errors![0]!.extensions).toMatchObject({ code: 'NOT_FOUND', outcome: 'FAILED', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      expect((await emulator.stats()).graphRequests).toBe(1);
      const event = auditEvents(gw)
        .filter((e) => e.operationName === 'Gone' && e.targetUser === user)
        .pop()!;
      expect(event).toMatchObject({ outcome: 'failed', reason: 'NOT_FOUND' });
      expect(event.steps.map((s: any) => [s.step, s.outcome, s.status])).toEqual(
        disableAccount
          ? [
              ['REVOKE_SESSIONS', 'FAILED', 404],
              ['DISABLE_ACCOUNT', 'FAILED', 404],
            ]
          : [['REVOKE_SESSIONS', 'FAILED', 404]],
      );
    },
  );
});

describe('every user-targeting mutation: a missing user is NOT_FOUND with Graph request id', () => {
  const cases: Array<[string, (u: string) => string]> = [
    ['disableAccount', (u) => `disableAccount(input: {user: "${u}"}) { accountEnabled }`],
    ['enableAccount', (u) => `enableAccount(input: {user: "${u}"}) { accountEnabled }`],
    ['revokeSignInSessions', (u) => `revokeSignInSessions(input: {user: "${u}"}) { revoked }`],
    ['changePassword', (u) => `changePassword(input: {user: "${u}", password: "Un-used!Passw0rd#1"}) { forceChangePasswordNextSignIn }`],
    ['forceResetPassword', (u) => `forceResetPassword(input: {user: "${u}"}) { forceChangePasswordNextSignIn }`],
    ['updateUser', (u) => `updateUser(input: {user: "${u}", jobTitle: "x"}) { updatedFields }`],
    ['deleteUser', (u) => `deleteUser(input: {user: "${u}"}) { deleted }`],
    ['removeManager', (u) => `removeManager(input: {user: "${u}"}) { requestId }`],
    ['createTemporaryAccessPass', (u) => `createTemporaryAccessPass(input: {user: "${u}"}) { requestId }`],
    ['deleteAuthenticationMethod', (u) => `deleteAuthenticationMethod(input: {user: "${u}", type: EMAIL, methodId: "${MISSING_ID}"}) { methodId }`],
  ];
  it.each(cases)('%s', async (name, field) => {
    for (const user of [MISSING_ID, missingUpn()]) {
      const result = await gw.graphql(`mutation { ${field(user)} }`);
      expect(result.data?.[name] ?? null, `${name} ${user}`).toBeNull();
      expect(result.errors?.[0]?.extensions, `${name} ${user}`).toMatchObject({ code: 'NOT_FOUND', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    }
  });

  it('assignManager: a missing user, a missing manager by object id, and a missing manager by UPN', async () => {
    const manager = ordinaryUser();
    const user = ordinaryUser();
    const missingUser = await gw.graphql(`mutation { assignManager(input: {user: "${MISSING_ID}", manager: "${manager.id}"}) { requestId } }`);
    expect(missingUser.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', requestId: expect.any(String) });
    const missingById = await gw.graphql(`mutation { assignManager(input: {user: "${user.id}", manager: "${MISSING_ID}"}) { requestId } }`);
    expect(missingById.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', requestId: expect.any(String) });
    await emulator.resetStats();
    const missingByUpn = await gw.graphql(`mutation { assignManager(input: {user: "${user.id}", manager: "${missingUpn()}"}) { requestId } }`);
    expect(missingByUpn.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', argument: 'manager', requestId: expect.any(String) });
    // The lookup failed: nothing was written.
    expect((await emulator.stats()).byRoute).toEqual({ 'GET /v1.0/users/{id}': 1 });
    expect(user.managerId).not.toBe(MISSING_ID);
  });

  // user-delete-manager documents only 204; the emulator answers a user without a manager 404 (the
  // stricter reading), and Graph's code does not say which of the two is missing (docs/graph-facts.md#manager-and-bulk-lookup).
  it('regression: removeManager of a user without a manager is NOT_FOUND saying the user may have no manager, after one DELETE', async () => {
    const user = ordinaryUser();
    user.managerId = null;
    await emulator.resetStats();
    const result = await gw.graphql(`mutation { removeManager(input: {user: "${user.id}"}) { requestId } }`);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', outcome: 'FAILED', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(result.errors![0]!.message).toBe('Microsoft Graph found nothing to remove: the user does not exist or has no manager.');
    expect((await emulator.stats()).byRoute).toEqual({ 'DELETE /v1.0/users/{id}/manager/$ref': 1 });
  });
});

describe('assignManager references the manager by object id, as Graph documents', () => {
  it('a manager given by UPN is looked up with one $select=id request, then referenced by object id (the emulator refuses a UPN reference)', async () => {
    const user = ordinaryUser();
    const manager = ordinaryUser((u) => u.managerId !== user.id);
    await emulator.resetStats();
    const result = await gw.graphql(`mutation Boss($u: ID!, $m: ID!) { assignManager(input: { user: $u, manager: $m }) { requestId } }`, {
      u: user.userPrincipalName,
      m: manager.userPrincipalName.toUpperCase(),
    });
    expect(result.errors).toBeUndefined();
    expect(user.managerId).toBe(manager.id);
    const stats = await emulator.stats();
    expect(stats.byRoute).toEqual({ 'GET /v1.0/users/{id}': 1, 'PUT /v1.0/users/{id}/manager/$ref': 1 });
    const event = auditEvents(gw)
      .filter((e) => e.operationName === 'Boss')
      .pop()!;
    expect(event).toMatchObject({ outcome: 'succeeded' });
    expect(event.steps.map((s: any) => s.step)).toEqual(['RESOLVE_MANAGER', 'ASSIGN_MANAGER']);
    expect(event.requestIds).toHaveLength(2);
  });

  it('a manager given by object id costs one request; the same UPN twice in one document is looked up once', async () => {
    const [a, b, boss] = [ordinaryUser(), ordinaryUser(), ordinaryUser()];
    await emulator.resetStats();
    const byId = await gw.graphql(`mutation { assignManager(input: {user: "${a.id}", manager: "${boss.id}"}) { requestId } }`);
    expect(byId.errors).toBeUndefined();
    expect((await emulator.stats()).byRoute).toEqual({ 'PUT /v1.0/users/{id}/manager/$ref': 1 });
    await emulator.resetStats();
    const twice = await gw.graphql(`mutation {
      first: assignManager(input: {user: "${a.id}", manager: "${boss.userPrincipalName}"}) { requestId }
      second: assignManager(input: {user: "${b.id}", manager: "${boss.userPrincipalName}"}) { requestId }
    }`);
    expect(twice.errors).toBeUndefined();
    expect((await emulator.stats()).byRoute).toEqual({ 'GET /v1.0/users/{id}': 1, 'PUT /v1.0/users/{id}/manager/$ref': 2 });
    expect([a.managerId, b.managerId]).toEqual([boss.id, boss.id]);
  });

  it('a user cannot be their own manager, whichever form names them: refused before any write', async () => {
    const user = ordinaryUser();
    await emulator.resetStats();
    const result = await gw.graphql(`mutation { assignManager(input: {user: "${user.id}", manager: "${user.userPrincipalName}"}) { requestId } }`);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'manager' });
    expect((await emulator.stats()).byRoute['PUT /v1.0/users/{id}/manager/$ref']).toBeUndefined();
  });
});

describe('changePasswordOnPremises needs a delegated Graph identity and never targets the signed-in user', () => {
  it('as a signed-in administrator: one $batch of lookups, resetPassword addressed by object id, followed to SUCCEEDED; the new password is set', async () => {
    const target = ordinaryUser((u) => !u.onPremisesSyncEnabled);
    const password = `On!${Math.random().toString(36).slice(2, 10)}-Prem#42`;
    await emulator.resetStats();
    const result = await delegated.graphql(
      `mutation($input: ChangePasswordOnPremisesInput!) { changePasswordOnPremises(input: $input) { user { id } status operationId polls } }`,
      { input: { user: target.userPrincipalName, password } },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.changePasswordOnPremises).toMatchObject({ user: { id: target.id }, status: 'SUCCEEDED', operationId: expect.any(String) });
    expect(target._password).toBe(password);
    const stats = await emulator.stats();
    expect(stats.batch).toMatchObject({ requests: 1, items: 3 });
    expect(stats.batch.itemsByRoute).toEqual({ 'GET /v1.0/me': 1, 'GET /v1.0/users/{id}': 1, 'GET /v1.0/users/{id}/authentication/passwordMethods': 1 });
    expect(stats.byRoute['POST /v1.0/users/{id}/authentication/methods/{methodId}/resetPassword']).toBe(1);
    expect(delegated.logLines.join('\n')).not.toContain(password);
  }, 30_000);

  // resetPassword's page answers 202 + Location, yet says the answer "may also include" one, and a vendor's
  // connector documentation shows a 204 without it (docs/graph-facts.md#writes-and-permissions): the
  // emulator's `resetPasswordAnswer: 'completed'` switch answers that way.
  it('when Graph answers the reset 204 without a Location, the reset is reported SUCCEEDED at once: no poll, no operation id, no second reset', async () => {
    const target = ordinaryUser((u) => !u.onPremisesSyncEnabled);
    const password = `Now!${Math.random().toString(36).slice(2, 10)}-Prem#42`;
    expect((await emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ resetPasswordAnswer: 'completed' }) })).status).toBe(200);
    try {
      await emulator.resetStats();
      const result = await delegated.graphql(
        `mutation($input: ChangePasswordOnPremisesInput!) { changePasswordOnPremises(input: $input) { status operationId polls } }`,
        { input: { user: target.id, password } },
      );
      expect(result.errors).toBeUndefined();
      expect(result.data.changePasswordOnPremises).toEqual({ status: 'SUCCEEDED', operationId: null, polls: 0 });
      expect(target._password).toBe(password);
      const stats = await emulator.stats();
      expect(stats.byRoute['POST /v1.0/users/{id}/authentication/methods/{methodId}/resetPassword']).toBe(1);
      expect(Object.keys(stats.byRoute).some((r) => r.includes('/authentication/operations/'))).toBe(false);
      const event = delegated
        .auditEvents()
        .filter((e) => e.operation === 'changePasswordOnPremises')
        .pop()!;
      expect(event).toMatchObject({ outcome: 'succeeded' });
    } finally {
      await emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ resetPasswordAnswer: 'accepted' }) });
    }
  }, 30_000);

  // What Graph answers a reset that needs password writeback in a tenant without it (Entra ID P1) is not
  // documented (docs/graph-facts.md#licences): a refusal at once is one reading. The emulator's way to
  // refuse a reset at once is its password policy; the gateway must carry any such refusal through.
  it("a reset Graph refuses at once is BAD_USER_INPUT with Graph's code, reason and request-id; nothing is polled, the password stays", async () => {
    const target = ordinaryUser();
    const before = target._password;
    await emulator.resetStats();
    const result = await delegated.graphql(`mutation($input: ChangePasswordOnPremisesInput!) { changePasswordOnPremises(input: $input) { status } }`, {
      input: { user: target.id, password: 'short' },
    });
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', graphErrorCode: 'Request_BadRequest', requestId: expect.any(String) });
    expect(result.errors?.[0]?.message).toContain('password complexity requirements');
    const stats = await emulator.stats();
    expect(stats.byRoute['POST /v1.0/users/{id}/authentication/methods/{methodId}/resetPassword']).toBe(1);
    expect(Object.keys(stats.byRoute).some((r) => r.includes('/authentication/operations/'))).toBe(false);
    expect(target._password).toBe(before);
    const event = delegated
      .auditEvents()
      .filter((e) => e.operation === 'changePasswordOnPremises')
      .pop()!;
    expect(event).toMatchObject({ outcome: 'failed', reason: 'BAD_USER_INPUT' });
  }, 30_000);

  it("the signed-in administrator's own account, by object id or UPN, is refused (the signed-in account is off limits) before resetPassword is called", async () => {
    const admin = emulator.tenant.users.get(delegated.signedInUserId)!;
    const before = admin._password;
    for (const user of [admin.id, admin.userPrincipalName]) {
      await emulator.resetStats();
      const result = await delegated.graphql(`mutation($input: ChangePasswordOnPremisesInput!) { changePasswordOnPremises(input: $input) { status } }`, {
        input: { user, password: 'Own!Passw0rd-never#1' },
      });
      // Every caller is served as this account: no mutation may act on it (src/graphql/mutations/gateway-account.ts).
      // Graph refuses resetPassword on the caller's own account anyway; the on-behalf-of case below meets that rule.
      expect(result.errors?.[0]?.extensions, user).toMatchObject({ code: 'FORBIDDEN', reason: 'SIGNED_IN_ACCOUNT', argument: 'user' });
      const stats = await emulator.stats();
      expect(Object.keys(stats.byRoute).some((r) => r.endsWith('/resetPassword'))).toBe(false);
      // `GET /me`, and for a UPN the target's object id, both in one round trip.
      expect(stats.byRoute).toEqual(user === admin.id ? { 'GET /v1.0/me': 1 } : { 'GET /v1.0/me': 1, 'GET /v1.0/users/{id}': 1 });
    }
    expect(admin._password).toBe(before);
    const event = delegated
      .auditEvents()
      .filter((e) => e.operation === 'changePasswordOnPremises')
      .pop()!;
    expect(event).toMatchObject({ outcome: 'refused', reason: 'FORBIDDEN' });
  });

  it("on behalf of a calling administrator (GRAPH_AUTH_FLOW=on-behalf-of): resets another user, refuses the caller's own account", async () => {
    const obo = await startTestGateway({
      emulator,
      env: { DEPLOYMENT_MODE: 'self-deployed', CALLER_AUTH: 'entra', API_AUDIENCE: 'api://msgraph-user-gateway', GRAPH_AUTH_FLOW: 'on-behalf-of' },
    });
    try {
      const admin = emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!;
      const token = await userCallerToken(emulator, admin.userPrincipalName, emulator.tenant.wellKnown.adminPassword || admin._password);
      const headers = { authorization: `Bearer ${token}` };
      const query = `mutation($input: ChangePasswordOnPremisesInput!) { changePasswordOnPremises(input: $input) { status } }`;
      const target = ordinaryUser((u) => !u.onPremisesSyncEnabled);
      const password = `Ob0!${Math.random().toString(36).slice(2, 10)}-Behalf`;
      const reset = await obo.graphql(query, { input: { user: target.id, password } }, headers);
      expect(reset.errors).toBeUndefined();
      expect(reset.data!.changePasswordOnPremises.status).toBe('SUCCEEDED');
      expect(target._password).toBe(password);
      const own = await obo.graphql(query, { input: { user: admin.userPrincipalName, password: 'Own!Passw0rd-never#2' } }, headers);
      expect(own.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'user' });
    } finally {
      await obo.close();
    }
  }, 30_000);

  it('the emulator refuses what the gateway now never sends: resetPassword with an app-only token is 403', async () => {
    const target = ordinaryUser();
    const token = await gw.identity.tokenSourceFor({ kind: 'anonymous', permissions: new Set() }).getAccessToken();
    const res = await emulator.fetch(`/v1.0/users/${target.id}/authentication/methods/${PASSWORD_METHOD_ID}/resetPassword`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ newPassword: 'App!Only-Passw0rd#1' }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.code).toBe('Authorization_RequestDenied');
  });
});

describe('createUser and updateUser send values Graph accepts (resources/user; docs/graph-facts.md#user-properties)', () => {
  it('usageLocation reaches Graph as the two-letter upper-case code; a value that is not one is BAD_USER_INPUT before any request', async () => {
    const target = ordinaryUser();
    const updated = await gw.graphql(`mutation { updateUser(input: {user: "${target.id}", usageLocation: "gb"}) { updatedFields user { id } } }`);
    expect(updated.errors).toBeUndefined();
    expect(updated.data!.updateUser.updatedFields).toEqual(['usageLocation']);
    expect(target.usageLocation).toBe('GB');
    await emulator.resetStats();
    for (const value of ['GBR', 'G1']) {
      const refused = await gw.graphql(`mutation($u: ID!, $l: String) { updateUser(input: {user: $u, usageLocation: $l}) { updatedFields } }`, {
        u: target.id,
        l: value,
      });
      expect(refused.errors?.[0]?.extensions?.code, value).toBe('BAD_USER_INPUT');
    }
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it('more than one business phone is BAD_USER_INPUT before any request (Graph stores one number)', async () => {
    const target = ordinaryUser();
    const before = [...target.businessPhones];
    await emulator.resetStats();
    const refused = await gw.graphql(
      `mutation { updateUser(input: {user: "${target.id}", businessPhones: ["+1 425 555 0100", "+1 425 555 0101"]}) { updatedFields } }`,
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.errors![0]!.message).toContain('businessPhones');
    expect((await emulator.stats()).graphRequests).toBe(0);
    expect(target.businessPhones).toEqual(before);
  });

  it("a password with a character Entra does not allow is Graph's complexity refusal, BAD_USER_INPUT; the password is unchanged", async () => {
    const target = ordinaryUser();
    const before = target._password;
    const result = await gw.graphql(`mutation($input: ChangePasswordInput!) { changePassword(input: $input) { forceChangePasswordNextSignIn } }`, {
      input: { user: target.id, password: 'Grüße-aus-Köln-2024!' },
    });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toMatch(/complexity/);
    expect(target._password).toBe(before);
  });

  it('a userPrincipalName beyond the username policy (65 characters before the @) is BAD_USER_INPUT with Graph reason; nothing is created', async () => {
    const upn = `${'u'.repeat(65)}@${emulator.tenant.domain}`;
    const result = await gw.graphql(`mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }`, {
      input: { userPrincipalName: upn, displayName: 'Too Long', mailNickname: 'toolong', password: 'Cr3ate!Limits#Xy' },
    });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect([...emulator.tenant.users.values()].some((u) => u.userPrincipalName === upn)).toBe(false);
  });
});

describe('users synchronized from on-premises: Graph takes only accountEnabled in the cloud (docs/graph-facts.md#writes-and-permissions)', () => {
  const syncedUser = () =>
    [...emulator.tenant.users.values()].find(
      (u) => u.onPremisesSyncEnabled && u.accountEnabled && u._directoryRoles.length === 0 && u.userType === 'Member' && !u.userPrincipalName.startsWith('$'),
    )!;

  it("changePassword and forceResetPassword are Graph's refusal, BAD_USER_INPUT with its reason; the password is unchanged", async () => {
    const target = syncedUser();
    const before = target._password;
    for (const field of [
      `changePassword(input: {user: "${target.id}", password: "Sync!Passw0rd-cloud#1"}) { forceChangePasswordNextSignIn }`,
      `forceResetPassword(input: {user: "${target.id}"}) { forceChangePasswordNextSignIn }`,
    ]) {
      const result = await gw.graphql(`mutation { ${field} }`);
      expect(result.errors?.[0]?.extensions, field).toMatchObject({ code: 'BAD_USER_INPUT', graphErrorCode: 'Request_BadRequest' });
      expect(result.errors![0]!.message).toContain('on-premises mastered');
    }
    expect(target._password).toBe(before);
  });

  it('terminateSession still blocks sign-in and revokes the sessions of a synced user', async () => {
    const target = syncedUser();
    const result = await gw.graphql(`mutation($u: ID!) { terminateSession(input: { user: $u }) { succeeded steps { step outcome } } }`, { u: target.id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.terminateSession.succeeded).toBe(true);
    expect(target.accountEnabled).toBe(false);
    target.accountEnabled = true;
  });
});
