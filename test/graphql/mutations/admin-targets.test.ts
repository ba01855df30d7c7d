import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerApp } from '../../../src/emulator/apps.js';
import { PHONE_METHOD_IDS } from '../../../src/emulator/seed.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { actingAsApp, startTestGateway, type TestGateway } from '../../support/gateway.js';
import { createPass, DESK_KEYS, deskCallers, eventsOf, ordinaryUserPicker, passesOf as passesIn, sentTo } from './support.js';

/**
 * Administrators as targets (docs/security.md#administrators-as-targets): with the sandbox's app-only
 * identity, which Graph lets act on every administrator, a helpdesk key could mint a Temporary Access
 * Pass for the Global Administrator. The takeover-class mutations now refuse a target holding a
 * directory role unless the caller also holds Users.ManageAdmins; containment stays open. A real
 * gateway over real sockets against the emulator, whose seed admin holds Global Administrator.
 */

const { helpdesk: HELPDESK, privileged: PRIVILEGED, passwords: PASSWORDS, responder: RESPONDER, provisioner: PROVISIONER } = DESK_KEYS;
const PHONE_METHOD_ID = PHONE_METHOD_IDS.mobile;
const ROLE_LOOKUP = 'GET /v1.0/users/{id}/transitiveMemberOf/microsoft.graph.directoryRole';
/** Role casts sent, on their own or as `$batch` items. */
const sentRoleLookups = (stats: Awaited<ReturnType<TestEmulator['stats']>>) => sentTo(stats, ROLE_LOOKUP);
const TAP_CREATE = 'POST /v1.0/users/{id}/authentication/temporaryAccessPassMethods';

let emulator: TestEmulator;
let gw: TestGateway;
/** The same callers, served by an app that may create passes but not read users (so not their roles). */
let blind: TestGateway;
/** Served by an app that reads users (so reaches the role lookup) but not directory roles: they come with limited information. */
let limited: TestGateway;

const callers = deskCallers('helpdesk', 'privileged', 'responder', 'provisioner', 'passwords');

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 60 });
  gw = await startTestGateway({ emulator, env: callers });
  const app = registerApp(emulator.tenant, {
    displayName: 'tap without user reads',
    graphAppRoles: ['UserAuthMethod-TAP.ReadWrite.All'],
    directoryRoles: ['Privileged Authentication Administrator'],
  });
  blind = await startTestGateway({
    emulator,
    env: callers,
    configure: actingAsApp(app),
  });
  const reader = registerApp(emulator.tenant, {
    displayName: 'tap with user reads only',
    // RoleManagement.Read.Directory, PrivilegedEligibilitySchedule.Read.AzureADGroup and
    // GroupMember.Read.All answer the eligibility, scoped-assignment, group and group-owner lookups,
    // yet read no directoryRole objects in full (directoryrole-get's wider list is not the emulator's reading).
    graphAppRoles: [
      'User.Read.All',
      'GroupMember.Read.All',
      'UserAuthMethod-TAP.ReadWrite.All',
      'RoleManagement.Read.Directory',
      'PrivilegedEligibilitySchedule.Read.AzureADGroup',
    ],
    directoryRoles: ['Privileged Authentication Administrator'],
  });
  limited = await startTestGateway({
    emulator,
    env: callers,
    configure: actingAsApp(reader),
  });
}, 60_000);
afterAll(async () => {
  await limited?.close();
  await blind?.close();
  await gw?.close();
  await emulator?.close();
});

const ordinaryUser = ordinaryUserPicker(() => emulator);
const admin = () => emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!;
const passesOf = (id: string) => passesIn(emulator, id);

describe('a takeover-class mutation on an administrator needs Users.ManageAdmins', () => {
  it("regression: a Users.ManageAuthMethods key gets FORBIDDEN for the Global Administrator's pass, and no pass exists", async () => {
    const before = passesOf(admin().id).length;
    await emulator.resetStats();
    const result = await createPass(gw, HELPDESK, admin().userPrincipalName, 'AdminPass');
    expect(result.data?.createTemporaryAccessPass ?? null).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET', argument: 'user' });
    expect(result.errors![0]!.message).toContain('Users.ManageAdmins');
    expect(passesOf(admin().id)).toHaveLength(before);
    const stats = await emulator.stats();
    // One read of the target's roles (an item of the lookups' $batch), nothing written.
    expect(stats.batch.itemsByRoute[ROLE_LOOKUP]).toBe(1);
    expect(stats.byRoute[TAP_CREATE] ?? 0).toBe(0);
    expect(stats.batch.itemsByRoute[TAP_CREATE] ?? 0).toBe(0);
    const events = eventsOf(gw, 'AdminPass');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      operation: 'createTemporaryAccessPass',
      outcome: 'refused',
      reason: 'FORBIDDEN',
      reasonDetail: 'ADMINISTRATOR_TARGET',
      targetUser: admin().userPrincipalName,
      steps: [],
    });
  });

  it('the same key still creates a pass for a user without a role', async () => {
    const target = ordinaryUser();
    const result = await createPass(gw, HELPDESK, target.id, 'OrdinaryPass');
    expect(result.errors).toBeUndefined();
    expect(result.data!.createTemporaryAccessPass.temporaryAccessPass.temporaryAccessPass).toEqual(expect.any(String));
    expect(passesOf(target.id)).toHaveLength(1);
    expect(eventsOf(gw, 'OrdinaryPass')[0]).toMatchObject({ outcome: 'succeeded' });
  });

  it("a key that also holds Users.ManageAdmins gets the administrator's pass, without the role lookup", async () => {
    await emulator.resetStats();
    const result = await createPass(gw, PRIVILEGED, admin().id, 'PrivilegedPass');
    expect(result.errors).toBeUndefined();
    expect(result.data!.createTemporaryAccessPass.temporaryAccessPass.temporaryAccessPass).toEqual(expect.any(String));
    expect(passesOf(admin().id).length).toBeGreaterThan(0);
    expect(sentRoleLookups(await emulator.stats())).toBe(0);
  });

  it('changePassword and deleteAuthenticationMethod on an administrator are refused alike, and nothing changes', async () => {
    const target = admin();
    const password = target._password;
    const changed = await gw.graphql(
      `mutation { changePassword(input: {user: "${target.userPrincipalName}", password: "Chosen-By-Caller-9!"}) { forceChangePasswordNextSignIn } }`,
      undefined,
      { 'x-api-key': PASSWORDS },
    );
    expect(changed.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET' });
    expect(changed.errors![0]!.message).not.toContain('Chosen-By-Caller');
    expect(target._password).toBe(password);
    // The administrator's MFA phone: removing it would leave the account to whoever knows the password.
    const methodId = PHONE_METHOD_ID;
    if (!target.authMethods.some((m) => m.id === methodId)) {
      target.authMethods.push({ id: methodId, type: 'phone', data: { phoneNumber: '+1 555 0199', phoneType: 'mobile', smsSignInState: 'notConfigured' } });
    }
    const deleted = await gw.graphql(
      `mutation { deleteAuthenticationMethod(input: {user: "${target.id}", type: PHONE, methodId: "${methodId}"}) { methodId } }`,
      undefined,
      { 'x-api-key': HELPDESK },
    );
    expect(deleted.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET' });
    expect(target.authMethods.some((m) => m.id === methodId)).toBe(true);
  });

  // The types added later (docs/graph-facts.md#authentication-method-reads) take the same check as the others.
  it("deleteAuthenticationMethod of an administrator's Platform Credential or external method needs Users.ManageAdmins; with it, one DELETE at the documented path", async () => {
    const target = admin();
    const methods = [
      {
        type: 'PLATFORM_CREDENTIAL',
        route: 'DELETE /v1.0/users/{id}/authentication/platformCredentialMethods/{methodId}',
        record: { id: crypto.randomUUID(), type: 'platformCredential' as const, data: { displayName: 'Mac', keyStrength: 'normal', platform: 'macOS' } },
      },
      {
        type: 'EXTERNAL',
        route: 'DELETE /v1.0/users/{id}/authentication/externalAuthenticationMethods/{methodId}/$ref',
        record: { id: crypto.randomUUID(), type: 'external' as const, data: { displayName: 'Adatum', configurationId: crypto.randomUUID() } },
      },
    ];
    for (const { type, route, record } of methods) {
      target.authMethods.push(record);
      const mutation = `mutation { deleteAuthenticationMethod(input: {user: "${target.id}", type: ${type}, methodId: "${record.id}"}) { methodId } }`;
      await emulator.resetStats();
      const refused = await gw.graphql(mutation, undefined, { 'x-api-key': HELPDESK });
      expect(refused.errors![0]!.extensions, type).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET' });
      expect(sentTo(await emulator.stats(), route), type).toBe(0);
      expect(
        target.authMethods.some((m) => m.id === record.id),
        type,
      ).toBe(true);
      await emulator.resetStats();
      const deleted = await gw.graphql(mutation, undefined, { 'x-api-key': PRIVILEGED });
      expect(deleted.errors, type).toBeUndefined();
      expect(sentTo(await emulator.stats(), route), type).toBe(1);
      expect(
        target.authMethods.some((m) => m.id === record.id),
        type,
      ).toBe(false);
    }
  });

  it('updateUser: a sign-in phone of an administrator needs Users.ManageAdmins, a job title does not', async () => {
    const target = admin();
    const headers = { 'x-api-key': PROVISIONER };
    const phone = await gw.graphql(`mutation { updateUser(input: {user: "${target.id}", mobilePhone: "+1 555 0100"}) { updatedFields } }`, undefined, headers);
    expect(phone.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET' });
    expect(target.mobilePhone).not.toBe('+1 555 0100');
    const title = await gw.graphql(
      `mutation { updateUser(input: {user: "${target.id}", jobTitle: "Chief Administrator"}) { updatedFields } }`,
      undefined,
      headers,
    );
    expect(title.errors).toBeUndefined();
    expect(target.jobTitle).toBe('Chief Administrator');
  });
});

describe('containment of an administrator needs no more than Users.Terminate', () => {
  it('terminateSession on the Global Administrator succeeds without the role lookup', async () => {
    await emulator.resetStats();
    const result = await gw.graphql(`mutation { terminateSession(input: {user: "${admin().id}", disableAccount: true}) { succeeded } }`, undefined, {
      'x-api-key': RESPONDER,
    });
    expect(result.errors).toBeUndefined();
    expect(result.data!.terminateSession.succeeded).toBe(true);
    expect(admin().accountEnabled).toBe(false);
    expect(sentRoleLookups(await emulator.stats())).toBe(0);
    // Undoing it is not containment: re-enabling the administrator needs Users.ManageAdmins.
    const enabled = await gw.graphql(`mutation { enableAccount(input: {user: "${admin().id}"}) { accountEnabled } }`, undefined, { 'x-api-key': RESPONDER });
    expect(enabled.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET' });
    expect(admin().accountEnabled).toBe(false);
    admin().accountEnabled = true;
  });
});

describe('fails closed when Graph does not say whether the target holds a role', () => {
  it('an app that cannot read users gets no pass written, and the message says what to grant', async () => {
    const target = ordinaryUser();
    const result = await createPass(blind, HELPDESK, target.id, 'BlindPass');
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({ reason: 'ADMINISTRATOR_CHECK_FAILED', argument: 'user' });
    expect(result.errors![0]!.message).toContain('User.Read.All');
    expect(result.errors![0]!.message).toContain('Users.ManageAdmins');
    expect(passesOf(target.id)).toHaveLength(0);
    expect(eventsOf(blind, 'BlindPass')).toEqual([expect.objectContaining({ outcome: 'failed', reasonDetail: 'ADMINISTRATOR_CHECK_FAILED', steps: [] })]);
    // The same app serves a caller holding Users.ManageAdmins: no lookup, the pass is created.
    const privileged = await createPass(blind, PRIVILEGED, target.id, 'BlindPrivilegedPass');
    expect(privileged.errors).toBeUndefined();
    expect(passesOf(target.id)).toHaveLength(1);
  });
});

describe('roles listed with limited information still count (docs/graph-facts.md#writes-and-permissions)', () => {
  it('an app with User.Read.All but no permission that reads directory roles: the administrator is refused, an ordinary user gets a pass', async () => {
    // Graph lists the roles to such an app with their type and id only; any item is a role.
    const refused = await createPass(limited, HELPDESK, admin().id, 'LimitedAdminPass');
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET' });
    expect(eventsOf(limited, 'LimitedAdminPass')).toEqual([expect.objectContaining({ outcome: 'refused', reasonDetail: 'ADMINISTRATOR_TARGET', steps: [] })]);
    const target = ordinaryUser();
    const created = await createPass(limited, HELPDESK, target.id, 'LimitedOrdinaryPass');
    expect(created.errors).toBeUndefined();
    expect(passesOf(target.id)).toHaveLength(1);
  });
});
