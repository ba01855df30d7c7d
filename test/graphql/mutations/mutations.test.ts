import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { passwordGrant } from '../../identity/support.js';
import { auditEvents, ordinaryUserPicker } from './support.js';
import { apiKeyCallers } from '../../support/api-key-callers.js';

/**
 * End to end: a real gateway (self-deployed, the sandbox's demo app) over real sockets against the
 * emulator tenant. Effects are checked in the tenant and through the emulator's token endpoint;
 * upstream traffic through `/_emulator/stats`.
 */

let emulator: TestEmulator;
let gw: TestGateway;
let restricted: TestGateway;
const READER_KEY = 'reader-key-0123456789';

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 200 });
  gw = await startTestGateway({ emulator, env: { DEPLOYMENT_MODE: 'self-deployed' } });
  restricted = await startTestGateway({
    emulator,
    env: { DEPLOYMENT_MODE: 'self-deployed', ...apiKeyCallers({ reader: { key: READER_KEY, permissions: ['Users.Read'] } }) },
  });
}, 60_000);

afterAll(async () => {
  await restricted?.close();
  await gw?.close();
  await emulator?.close();
});

const ordinaryUser = ordinaryUserPicker(() => emulator);

async function signIn(username: string, password: string) {
  return passwordGrant(emulator, { username, password, scope: 'openid offline_access https://graph.microsoft.com/User.Read' });
}

async function refresh(refreshToken: string) {
  const known = emulator.tenant.wellKnown;
  const res = await emulator.fetch(`/${emulator.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: known.demoAppId,
      client_secret: known.demoAppSecret,
      refresh_token: refreshToken,
      scope: 'openid offline_access https://graph.microsoft.com/User.Read',
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const TERMINATE = `mutation($input: TerminateSessionInput!) {
  terminateSession(input: $input) { succeeded user { id } steps { step succeeded requestId error { code message requestId } } }
}`;

describe('terminateSession', () => {
  it('revokes sessions and disables the account in exactly one $batch of two items; old refresh tokens stop working', async () => {
    const target = ordinaryUser();
    const session = await signIn(target.userPrincipalName, target._password);
    expect(session.status).toBe(200);
    expect(typeof session.body.refresh_token).toBe('string');
    // Revocation has whole-second granularity: make sure the session predates it.
    await new Promise((r) => setTimeout(r, 1100));

    await emulator.resetStats();
    const result = await gw.graphql(TERMINATE, { input: { user: target.id } });
    expect(result.errors).toBeUndefined();
    const payload = result.data!.terminateSession;
    expect(payload.succeeded).toBe(true);
    expect(payload.user.id).toBe(target.id);
    expect(payload.steps.map((s: any) => [s.step, s.succeeded])).toEqual([
      ['REVOKE_SESSIONS', true],
      ['DISABLE_ACCOUNT', true],
    ]);
    const stats = await emulator.stats();
    expect(stats.graphRequests).toBe(1);
    expect(stats.batch.requests).toBe(1);
    // Revoke, disable, and the read of who the user is (an external user's sessions are not revoked).
    expect(stats.batch.items).toBe(3);

    expect(emulator.tenant.users.get(target.id)!.accountEnabled).toBe(false);
    const after = await refresh(session.body.refresh_token);
    expect(after.status).toBe(400);
    expect(after.body.error).toBe('invalid_grant');

    // Visible through the read API too.
    const read = await gw.graphql(`query($id: ID!) { user(id: $id) { accountEnabled } }`, { id: target.id });
    expect(read.data!.user.accountEnabled).toBe(false);

    const event = auditEvents(gw).find((e) => e.operation === 'terminateSession' && e.targetUser === target.id)!;
    expect(event).toMatchObject({ outcome: 'succeeded', stream: 'audit', caller: { kind: 'anonymous' } });
    expect(event.steps.map((s: any) => s.step)).toEqual(['REVOKE_SESSIONS', 'DISABLE_ACCOUNT']);
    expect(event.correlationId).toEqual(expect.any(String));
    expect(event.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(event.requestIds.length).toBeGreaterThan(0);
  });

  it('with disableAccount: false only revokes (one plain request) and the account stays enabled', async () => {
    const target = ordinaryUser();
    await emulator.resetStats();
    const result = await gw.graphql(TERMINATE, { input: { user: target.userPrincipalName, disableAccount: false } });
    expect(result.errors).toBeUndefined();
    expect(result.data!.terminateSession.steps.map((s: any) => s.step)).toEqual(['REVOKE_SESSIONS']);
    expect(emulator.tenant.users.get(target.id)!.accountEnabled).toBe(true);
  });

  it('reports a partial failure step by step: a Global Administrator target the app may not disable', async () => {
    const ga =
      [...emulator.tenant.users.values()].find((u) => u._directoryRoles.includes('Global Administrator') && u.id !== emulator.tenant.wellKnown.adminUserId) ??
      emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!;
    const app = emulator.tenant.apps.get(emulator.tenant.wellKnown.demoAppId)!;
    const roles = app.directoryRoles;
    // The app keeps User Administrator only: it may revoke sessions but not touch an admin's account state.
    app.directoryRoles = ['User Administrator'];
    try {
      const result = await gw.graphql(TERMINATE, { input: { user: ga.id } });
      const payload = result.data!.terminateSession;
      expect(payload.succeeded).toBe(false);
      const disable = payload.steps.find((s: any) => s.step === 'DISABLE_ACCOUNT');
      expect(disable.succeeded).toBe(false);
      expect(disable.error.code).toBe('FORBIDDEN');
      expect(disable.error.message).toContain('Authorization_RequestDenied');
      expect(emulator.tenant.users.get(ga.id)!.accountEnabled).toBe(true);
    } finally {
      app.directoryRoles = roles;
    }
  });
});

describe('Graph refusals', () => {
  it('Graph 403 for a Global Administrator the app may not touch is FORBIDDEN with Graph reason and request id', async () => {
    const ga = emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!;
    const app = emulator.tenant.apps.get(emulator.tenant.wellKnown.demoAppId)!;
    const roles = app.directoryRoles;
    app.directoryRoles = ['User Administrator'];
    try {
      const result = await gw.graphql(`mutation { disableAccount(input: {user: "${ga.id}"}) { accountEnabled } }`);
      expect(result.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', requestId: expect.any(String) });
      expect(result.errors![0]!.message).toContain('Authorization_RequestDenied');
      expect(ga.accountEnabled).toBe(true);
      const event = auditEvents(gw)
        .filter((e) => e.operation === 'disableAccount' && e.targetUser === ga.id)
        .pop()!;
      expect(event).toMatchObject({
        outcome: 'failed',
        reason: 'FORBIDDEN',
        steps: [{ step: 'DISABLE_ACCOUNT', succeeded: false, status: 403, errorCode: 'FORBIDDEN' }],
      });
      expect(event.requestIds).toHaveLength(1);
    } finally {
      app.directoryRoles = roles;
    }
  });
});

describe('passwords', () => {
  it('changePassword sets a password that signs in, and the password appears nowhere', async () => {
    const target = ordinaryUser();
    const password = `Zq!${Math.random().toString(36).slice(2, 10)}-Lk9#Tp`;
    const result = await gw.graphql(
      `mutation($input: ChangePasswordInput!) { changePassword(input: $input) { user { id } forceChangePasswordNextSignIn forceChangePasswordNextSignInWithMfa requestId } }`,
      { input: { user: target.id, password, forceChangePasswordNextSignIn: false } },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.changePassword).toMatchObject({
      user: { id: target.id },
      forceChangePasswordNextSignIn: false,
      forceChangePasswordNextSignInWithMfa: false,
    });
    const signedIn = await signIn(target.userPrincipalName, password);
    expect(signedIn.status).toBe(200);
    expect(JSON.stringify(result)).not.toContain(password);
    expect(gw.logLines.join('\n')).not.toContain(password);
  });

  it('a password Graph finds too simple is BAD_USER_INPUT with Graph reason, never the password', async () => {
    const target = ordinaryUser();
    const password = 'abc';
    const result = await gw.graphql(`mutation($input: ChangePasswordInput!) { changePassword(input: $input) { user { id } } }`, {
      input: { user: target.id, password },
    });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toMatch(/password/i);
    expect(result.errors![0]!.message).not.toMatch(/\babc\b/);
    const event = auditEvents(gw).find((e) => e.operation === 'changePassword' && e.targetUser === target.id)!;
    expect(event).toMatchObject({ outcome: 'failed', reason: 'BAD_USER_INPUT' });
    expect(JSON.stringify(event)).not.toContain('"abc"');
  });

  it('changePasswordOnPremises under client credentials is refused at validation (Graph: "Application: Not supported"), nothing sent, audited', async () => {
    const target = ordinaryUser();
    await emulator.resetStats();
    const result = await gw.graphql(
      `mutation OnPrem($input: ChangePasswordOnPremisesInput!) { changePasswordOnPremises(input: $input) { user { id } status operationId polls } }`,
      { input: { user: target.id, password: 'On!Prem-unused#42' } },
    );
    expect(result.status).toBe(400);
    expect(result.data).toBeUndefined();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({
      code: 'UNSUPPORTED_GRAPH_IDENTITY',
      requiredIdentity: 'delegated',
      currentIdentity: 'app-only',
      currentFlow: 'client-credentials',
      field: 'Mutation.changePasswordOnPremises',
    });
    expect(result.errors![0]!.message).toContain('GRAPH_AUTH_FLOW=authorization-code');
    expect(result.errors![0]!.message).toContain('on-behalf-of');
    expect((await emulator.stats()).totalRequests).toBe(0);
    const event = auditEvents(gw).find((e) => e.operationName === 'OnPrem')!;
    expect(event).toMatchObject({ operation: 'changePasswordOnPremises', outcome: 'refused', reason: 'UNSUPPORTED_GRAPH_IDENTITY', targetUser: target.id });
  });

  it('forceResetPassword sets forceChangePasswordNextSignIn', async () => {
    const target = ordinaryUser();
    const result = await gw.graphql(`mutation { forceResetPassword(input: {user: "${target.id}"}) { forceChangePasswordNextSignIn } }`);
    expect(result.errors).toBeUndefined();
    expect(emulator.tenant.users.get(target.id)!.passwordProfile.forceChangePasswordNextSignIn).toBe(true);
  });
});

describe('account state and sessions', () => {
  it('disableAccount then enableAccount in one document, each payload showing the new state', async () => {
    const target = ordinaryUser();
    const result = await gw.graphql(`mutation {
      off: disableAccount(input: {user: "${target.userPrincipalName}"}) { accountEnabled user { accountEnabled } }
      on: enableAccount(input: {user: "${target.userPrincipalName}"}) { accountEnabled user { accountEnabled } }
    }`);
    expect(result.errors).toBeUndefined();
    expect(result.data!.off).toEqual({ accountEnabled: false, user: { accountEnabled: false } });
    expect(result.data!.on).toEqual({ accountEnabled: true, user: { accountEnabled: true } });
    expect(emulator.tenant.users.get(target.id)!.accountEnabled).toBe(true);
  });

  it('revokeSignInSessions makes an old refresh token fail', async () => {
    const target = ordinaryUser();
    const session = await signIn(target.userPrincipalName, target._password);
    await new Promise((r) => setTimeout(r, 1100));
    const result = await gw.graphql(`mutation { revokeSignInSessions(input: {user: "${target.id}"}) { revoked requestId } }`);
    expect(result.data!.revokeSignInSessions.revoked).toBe(true);
    expect((await refresh(session.body.refresh_token)).status).toBe(400);
  });
});

describe('users, managers and authentication methods', () => {
  it('createUser (real booleans), updateUser, assignManager, removeManager, deleteUser', async () => {
    const upn = `incident.test.${Date.now()}@${emulator.tenant.domain}`;
    const password = `Cr3ate!${Math.random().toString(36).slice(2, 8)}#Xy`;
    const created = await gw.graphql(`mutation($input: CreateUserInput!) { createUser(input: $input) { user { id userPrincipalName accountEnabled } } }`, {
      input: { userPrincipalName: upn, displayName: 'Incident Test', mailNickname: 'incident.test', password, accountEnabled: false },
    });
    expect(created.errors).toBeUndefined();
    const id = created.data!.createUser.user.id as string;
    expect(created.data!.createUser.user).toMatchObject({ userPrincipalName: upn, accountEnabled: false });
    expect(emulator.tenant.users.get(id)!.accountEnabled).toBe(false);

    const updated = await gw.graphql(
      `mutation { updateUser(input: {user: "${id}", jobTitle: "Responder", department: "Security", businessPhones: ["+1 555 0100"]}) { updatedFields user { jobTitle department businessPhones } } }`,
    );
    expect(updated.errors).toBeUndefined();
    expect(updated.data!.updateUser.user).toEqual({ jobTitle: 'Responder', department: 'Security', businessPhones: ['+1 555 0100'] });

    const manager = ordinaryUser();
    const assigned = await gw.graphql(`mutation { assignManager(input: {user: "${id}", manager: "${manager.id}"}) { user { manager { id } } } }`);
    expect(assigned.errors).toBeUndefined();
    expect(assigned.data!.assignManager.user.manager.id).toBe(manager.id);
    const removed = await gw.graphql(`mutation { removeManager(input: {user: "${id}"}) { user { manager { id } } } }`);
    expect(removed.errors).toBeUndefined();
    expect(removed.data!.removeManager.user.manager).toBeNull();

    const deleted = await gw.graphql(`mutation { deleteUser(input: {user: "${id}"}) { deleted deletedUser } }`);
    expect(deleted.data!.deleteUser).toEqual({ deleted: true, deletedUser: id });
    expect((await gw.graphql(`{ user(id: "${id}") { id } }`)).data!.user).toBeNull();
    expect(gw.logLines.join('\n')).not.toContain(password);
  });

  // Graph refuses an empty string for a user's string properties and clears one only for null
  // (docs/graph-facts.md#user-properties, "Clearing a property"): the gateway sends an empty string as null.
  it('updateUser with empty strings clears the properties (sent as null, an empty business phone left out), one PATCH; createUser leaves them out; an empty displayName is refused before sending', async () => {
    const target = ordinaryUser();
    Object.assign(emulator.tenant.users.get(target.id)!, { jobTitle: 'Analyst', officeLocation: '18/2111', businessPhones: ['+1 425 555 0100'] });
    await emulator.resetStats();
    const updated = await gw.graphql(
      `mutation { updateUser(input: {user: "${target.id}", jobTitle: "", officeLocation: "", businessPhones: [""]}) { updatedFields user { jobTitle officeLocation businessPhones } } }`,
    );
    expect(updated.errors).toBeUndefined();
    expect(updated.data!.updateUser).toEqual({
      updatedFields: ['jobTitle', 'officeLocation', 'businessPhones'],
      user: { jobTitle: null, officeLocation: null, businessPhones: [] },
    });
    expect((await emulator.stats()).byRoute['PATCH /v1.0/users/{id}']).toBe(1);

    await emulator.resetStats();
    const refused = await gw.graphql(`mutation { updateUser(input: {user: "${target.id}", displayName: ""}) { updatedFields } }`);
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await emulator.stats()).graphRequests).toBe(0);

    const upn = `empty.values.${Date.now()}@${emulator.tenant.domain}`;
    const created = await gw.graphql(`mutation($input: CreateUserInput!) { createUser(input: $input) { user { id jobTitle } } }`, {
      input: { userPrincipalName: upn, displayName: 'Empty Values', mailNickname: 'empty.values', password: 'Qz7!lantern#Ok4', jobTitle: '', department: '' },
    });
    expect(created.errors).toBeUndefined();
    expect(created.data!.createUser.user.jobTitle).toBeNull();
  });

  // A mail alias holds no space, comma, @, brackets ... (docs/graph-facts.md#user-properties): Graph
  // refuses it with 400 and the gateway passes the refusal on, nothing created and the password unechoed.
  it("createUser with a mailNickname Graph refuses (a space) is BAD_USER_INPUT with Graph's reason, and nothing is created", async () => {
    const upn = `nick.space.${Date.now()}@${emulator.tenant.domain}`;
    const password = 'Qz7!lantern#Ok4';
    const refused = await gw.graphql(`mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }`, {
      input: { userPrincipalName: upn, displayName: 'Nick Space', mailNickname: 'Nick Space', password },
    });
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).toContain("Invalid value specified for property 'mailNickname'");
    expect(JSON.stringify(refused)).not.toContain(password);
    expect([...emulator.tenant.users.values()].some((u) => u.userPrincipalName === upn)).toBe(false);
  });

  it('Temporary Access Pass: created once (the pass returned, never logged), listed without it, deleted', async () => {
    const target = ordinaryUser();
    // A user may hold one usable pass; start clean.
    target.authMethods = target.authMethods.filter((m) => m.type !== 'temporaryAccessPass');
    // 120 minutes: within Entra's default policy bounds (60 to 480; docs/graph-facts.md#temporary-access-pass).
    const created = await gw.graphql(`mutation { createTemporaryAccessPass(input: {user: "${target.id}", lifetimeInMinutes: 120, isUsableOnce: true}) {
      temporaryAccessPass { id temporaryAccessPass lifetimeInMinutes isUsableOnce } } }`);
    expect(created.errors).toBeUndefined();
    const tap = created.data!.createTemporaryAccessPass.temporaryAccessPass;
    expect(tap).toMatchObject({ lifetimeInMinutes: 120, isUsableOnce: true });
    expect(tap.temporaryAccessPass.length).toBeGreaterThan(4);
    expect(gw.logLines.join('\n')).not.toContain(tap.temporaryAccessPass);

    const listed = await gw.graphql(`{ user(id: "${target.id}") { authenticationMethods(type: TEMPORARY_ACCESS_PASS) { id } } }`);
    expect(listed.data!.user.authenticationMethods.map((m: any) => m.id)).toContain(tap.id);

    const deleted = await gw.graphql(`mutation { deleteTemporaryAccessPass(input: {user: "${target.id}", methodId: "${tap.id}"}) { methodId type } }`);
    expect(deleted.errors).toBeUndefined();
    expect(deleted.data!.deleteTemporaryAccessPass).toEqual({ methodId: tap.id, type: 'TEMPORARY_ACCESS_PASS' });
    expect(emulator.tenant.users.get(target.id)!.authMethods.some((m) => m.id === tap.id)).toBe(false);
  });

  it('a TAP lifetime outside 10..43200 is BAD_USER_INPUT before any upstream call', async () => {
    await emulator.resetStats();
    const result = await gw.graphql(
      `mutation { createTemporaryAccessPass(input: {user: "a@b.example", lifetimeInMinutes: 5}) { temporaryAccessPass { id } } }`,
    );
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it('deleteAuthenticationMethod removes a method of the given type; the password method cannot be deleted', async () => {
    const target = ordinaryUser((u) => u.authMethods.some((m) => m.type === 'email'));
    const method = target.authMethods.find((m) => m.type === 'email')!;
    const result = await gw.graphql(
      `mutation { deleteAuthenticationMethod(input: {user: "${target.id}", type: EMAIL, methodId: "${method.id}"}) { methodId } }`,
    );
    expect(result.errors).toBeUndefined();
    expect(emulator.tenant.users.get(target.id)!.authMethods.some((m) => m.id === method.id)).toBe(false);
    const refused = await gw.graphql(`mutation { deleteAuthenticationMethod(input: {user: "${target.id}", type: PASSWORD, methodId: "x"}) { methodId } }`);
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  // phoneauthenticationmethod-delete: the default MFA method "can't be deleted"; Graph's 400 badRequest
  // (docs/graph-facts.md#deleting-authentication-methods) reaches the caller with its reason, sent once.
  it("deleteAuthenticationMethod of the user's default MFA method is Graph's refusal: BAD_USER_INPUT with Graph's reason, one DELETE, the method kept", async () => {
    const target = ordinaryUser((u) => u._defaultMfaMethodId !== null && u.authMethods.some((m) => m.type === 'phone' && m.id === u._defaultMfaMethodId));
    const methodId = target._defaultMfaMethodId!;
    await emulator.resetStats();
    const result = await gw.graphql(
      `mutation { deleteAuthenticationMethod(input: {user: "${target.id}", type: PHONE, methodId: "${methodId}"}) { methodId } }`,
    );
    const error = result.errors?.[0];
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', graphErrorCode: 'badRequest', outcome: 'FAILED' });
    expect(error?.message).toContain("matches the user's current default authentication method");
    expect((await emulator.stats()).byRoute).toEqual({ 'DELETE /v1.0/users/{id}/authentication/phoneMethods/{methodId}': 1 });
    expect(emulator.tenant.users.get(target.id)!.authMethods.some((m) => m.id === methodId)).toBe(true);
    const event = auditEvents(gw).findLast((e) => e.operation === 'deleteAuthenticationMethod');
    expect(event).toMatchObject({ outcome: 'failed', targetUser: target.id });
  });
});

describe('caller permissions', () => {
  it('a caller without the permission gets FORBIDDEN for the whole document, nothing upstream, and an audit event', async () => {
    const target = ordinaryUser();
    await emulator.resetStats();
    const result = await restricted.graphql(`mutation { enableAccount(input: {user: "${target.id}"}) { accountEnabled } }`, undefined, {
      'x-api-key': READER_KEY,
    });
    expect(result.status).toBe(403);
    expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(result.errors![0]!.message).toContain('Users.Terminate');
    expect((await emulator.stats()).graphRequests).toBe(0);
    const event = auditEvents(restricted).find((e) => e.operation === 'enableAccount')!;
    expect(event).toMatchObject({ outcome: 'refused', reason: 'FORBIDDEN', caller: { kind: 'api-key', keyId: 'reader' }, targetUser: target.id });
    expect(JSON.stringify(auditEvents(restricted))).not.toContain(READER_KEY);
  });

  it('gives each audit event its own eventId, whatever correlation id the caller sends', async () => {
    const target = ordinaryUser();
    const correlationId = 'playbook-run-0001';
    for (let i = 0; i < 2; i++) {
      const result = await restricted.graphql(`mutation Again { disableAccount(input: {user: "${target.id}"}) { accountEnabled } }`, undefined, {
        'x-api-key': READER_KEY,
        'x-correlation-id': correlationId,
      });
      expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const events = auditEvents(restricted).filter((e) => e.operationName === 'Again');
    expect(events.map((e) => e.correlationId)).toEqual([correlationId, correlationId]);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(2);
  });
});
