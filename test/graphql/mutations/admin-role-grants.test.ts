import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerApp } from '../../../src/emulator/apps.js';
import type { UserRecord } from '../../../src/emulator/model.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { actingAsApp, startTestGateway, type TestGateway } from '../../support/gateway.js';
import { createPass, DESK_KEYS, deskCallers, eventsOf, expectAdministratorRefusal, ordinaryUserPicker, passesOf as passesIn, sentTo } from './support.js';

/**
 * Administrators transitiveMemberOf does not list (docs/security.md#administrators-as-targets): a
 * user only eligible for Global Administrator through PIM, and a User Administrator over an
 * administrative unit, both seeded in the sandbox tenant. The takeover-class mutations of a caller
 * without Users.ManageAdmins refuse them too, from Graph's roleEligibilityScheduleInstances and
 * roleAssignments lists, sent in one `$batch` beside the role lookup; fail closed when Graph refuses
 * that lookup. A real gateway over real sockets against the emulator.
 */

const { helpdesk: HELPDESK, privileged: PRIVILEGED, passwords: PASSWORDS } = DESK_KEYS;
const ROLE_LOOKUP = 'GET /v1.0/users/{id}/transitiveMemberOf/microsoft.graph.directoryRole';
const ELIGIBILITY = 'GET /v1.0/roleManagement/directory/roleEligibilityScheduleInstances';
const ASSIGNMENTS = 'GET /v1.0/roleManagement/directory/roleAssignments';
const USER_GET = 'GET /v1.0/users/{id}';
const TAP_CREATE = 'POST /v1.0/users/{id}/authentication/temporaryAccessPassMethods';

let emulator: TestEmulator;
let gw: TestGateway;
/** Served by an app that reads users and directory roles (Directory.Read.All) but not PIM eligibilities. */
let noPim: TestGateway;

const callers = deskCallers('helpdesk', 'privileged', 'passwords');

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 60 });
  gw = await startTestGateway({ emulator, env: callers });
  const app = registerApp(emulator.tenant, {
    displayName: 'tap and directory reads, no role management',
    graphAppRoles: ['User.Read.All', 'Directory.Read.All', 'UserAuthMethod-TAP.ReadWrite.All'],
    directoryRoles: ['Privileged Authentication Administrator'],
  });
  noPim = await startTestGateway({
    emulator,
    env: callers,
    configure: actingAsApp(app),
  });
}, 60_000);
afterAll(async () => {
  await noPim?.close();
  await gw?.close();
  await emulator?.close();
});

const ordinaryUser = ordinaryUserPicker(() => emulator);
const users = () => [...emulator.tenant.users.values()];
const eligibleAdmin = (): UserRecord => users().find((u) => (u._eligibleRoles ?? []).length > 0)!;
const scopedAdmin = (): UserRecord => users().find((u) => (u._scopedRoles ?? []).length > 0)!;
const passesOf = (id: string) => passesIn(emulator, id);

describe('administrators transitiveMemberOf does not list are refused too', () => {
  it('a user only eligible for Global Administrator (PIM): no pass, one round trip of lookups (one $batch holding the role cast and both lists)', async () => {
    const target = eligibleAdmin();
    expect(target._directoryRoles).toEqual([]);
    await emulator.resetStats();
    const result = await createPass(gw, HELPDESK, target.id, 'EligiblePass');
    expect(result.data?.createTemporaryAccessPass ?? null).toBeNull();
    expectAdministratorRefusal(result);
    expect(passesOf(target.id)).toHaveLength(0);
    const stats = await emulator.stats();
    // One $batch: the role cast rides beside the eligibility and assignment lists.
    expect(stats.batch.itemsByRoute[ROLE_LOOKUP]).toBe(1);
    expect(stats.batch.itemsByRoute[ELIGIBILITY]).toBe(1);
    expect(stats.batch.itemsByRoute[ASSIGNMENTS]).toBe(1);
    expect(stats.batch.requests).toBe(1);
    expect(sentTo(stats, USER_GET)).toBe(0);
    expect(sentTo(stats, TAP_CREATE)).toBe(0);
    expect(eventsOf(gw, 'EligiblePass')).toEqual([
      expect.objectContaining({ outcome: 'refused', reason: 'FORBIDDEN', reasonDetail: 'ADMINISTRATOR_TARGET', steps: [] }),
    ]);
  });

  it('named by userPrincipalName: the object id is read first (Graph filters principalId by id), then the same refusal', async () => {
    const target = eligibleAdmin();
    await emulator.resetStats();
    const result = await createPass(gw, HELPDESK, target.userPrincipalName, 'EligibleByUpnPass');
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET' });
    expect(passesOf(target.id)).toHaveLength(0);
    const stats = await emulator.stats();
    expect(sentTo(stats, USER_GET)).toBe(1);
    expect(sentTo(stats, ELIGIBILITY)).toBe(1);
    expect(sentTo(stats, TAP_CREATE)).toBe(0);
  });

  it('a User Administrator over an administrative unit: changePassword is refused and the password stays', async () => {
    const target = scopedAdmin();
    expect(target._directoryRoles).toEqual([]);
    const password = target._password;
    const result = await gw.graphql(
      `mutation ScopedPassword { changePassword(input: {user: "${target.id}", password: "Chosen-By-Caller-9!"}) { forceChangePasswordNextSignIn } }`,
      undefined,
      { 'x-api-key': PASSWORDS },
    );
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET' });
    expect(result.errors![0]!.message).not.toContain('Chosen-By-Caller');
    expect(target._password).toBe(password);
    expect(eventsOf(gw, 'ScopedPassword')).toEqual([expect.objectContaining({ outcome: 'refused', reasonDetail: 'ADMINISTRATOR_TARGET' })]);
  });

  it('a plain user still gets a pass, after the same lookups', async () => {
    const target = ordinaryUser();
    await emulator.resetStats();
    const result = await createPass(gw, HELPDESK, target.id, 'PlainPass');
    expect(result.errors).toBeUndefined();
    expect(result.data!.createTemporaryAccessPass.temporaryAccessPass.temporaryAccessPass).toEqual(expect.any(String));
    expect(passesOf(target.id)).toHaveLength(1);
    const stats = await emulator.stats();
    expect(sentTo(stats, ELIGIBILITY)).toBe(1);
    expect(sentTo(stats, ASSIGNMENTS)).toBe(1);
    expect(sentTo(stats, TAP_CREATE)).toBe(1);
  });

  it('a caller holding Users.ManageAdmins: no lookup is sent, the eligible administrator gets the pass', async () => {
    const target = eligibleAdmin();
    await emulator.resetStats();
    const result = await createPass(gw, PRIVILEGED, target.id, 'PrivilegedEligiblePass');
    expect(result.errors).toBeUndefined();
    const stats = await emulator.stats();
    for (const route of [ROLE_LOOKUP, ELIGIBILITY, ASSIGNMENTS, USER_GET]) expect(sentTo(stats, route)).toBe(0);
    expect(stats.batch.requests).toBe(0);
    expect(sentTo(stats, TAP_CREATE)).toBe(1);
    expect(stats.graphRequests).toBe(1);
    emulator.tenant.users.get(target.id)!.authMethods = target.authMethods.filter((m) => m.type !== 'temporaryAccessPass');
  });
});

describe('fails closed when Graph refuses the eligibility lookup', () => {
  it('an app without RoleManagement.Read.Directory (Directory.Read.All does not read eligibilities): no pass, the message names the permission', async () => {
    const target = ordinaryUser();
    await emulator.resetStats();
    const result = await createPass(noPim, HELPDESK, target.id, 'NoPimPass');
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({
      reason: 'ADMINISTRATOR_CHECK_FAILED',
      argument: 'user',
      permission: 'RoleManagement.Read.Directory',
    });
    expect(result.errors![0]!.message).toContain('RoleManagement.Read.Directory');
    expect(result.errors![0]!.message).toContain('Users.ManageAdmins');
    expect(passesOf(target.id)).toHaveLength(0);
    expect(sentTo(await emulator.stats(), TAP_CREATE)).toBe(0);
    expect(eventsOf(noPim, 'NoPimPass')).toEqual([expect.objectContaining({ outcome: 'failed', reasonDetail: 'ADMINISTRATOR_CHECK_FAILED', steps: [] })]);
    // The Global Administrator is still refused as an administrator (the active-role lookup answered): a refusal wins over a failed lookup.
    const admin = emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!;
    const refused = await createPass(noPim, HELPDESK, admin.id, 'NoPimAdminPass');
    expect(refused.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET' });
    // The same app serves a caller holding Users.ManageAdmins: no lookup, the pass is created.
    const privileged = await createPass(noPim, PRIVILEGED, target.id, 'NoPimPrivilegedPass');
    expect(privileged.errors).toBeUndefined();
    expect(passesOf(target.id)).toHaveLength(1);
  });
});
