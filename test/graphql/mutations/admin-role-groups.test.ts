import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerApp } from '../../../src/emulator/apps.js';
import type { GroupRecord, RoleGrantRecord, UserRecord } from '../../../src/emulator/model.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { actingAsApp, startTestGateway, type TestGateway } from '../../support/gateway.js';
import {
  addGroup,
  createPass,
  DESK_KEYS,
  deskCallers,
  eventsOf,
  expectAdministratorRefusal,
  ordinaryUserPicker,
  passesOf as passesIn,
  sentTo,
} from './support.js';

/**
 * Directory roles held through a group (docs/security.md#administrators-as-targets): in v1.0 an
 * eligibility or a scoped assignment given to a role-assignable group names the group as principal,
 * so a user who is a member of such a group, or eligible for it through PIM for Groups, was an
 * ordinary user to the check and got a Temporary Access Pass (then activated Global Administrator).
 * The check now also lists the user's role-assignable groups and PIM for Groups eligibilities, and asks
 * those groups' grants as principals. A real gateway over real sockets against the emulator.
 */

const { helpdesk: HELPDESK, privileged: PRIVILEGED, passwords: PASSWORDS } = DESK_KEYS;
const ELIGIBILITY = 'GET /v1.0/roleManagement/directory/roleEligibilityScheduleInstances';
const ASSIGNMENTS = 'GET /v1.0/roleManagement/directory/roleAssignments';
const GROUPS = 'POST /v1.0/users/{id}/getMemberObjects';
const OWNED_GROUPS = 'GET /v1.0/groups';
const GROUP_OWNERS = 'GET /v1.0/groups/{id}/owners';
const GROUP_ELIGIBILITY = 'GET /v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances';
const ROLE_LOOKUP = 'GET /v1.0/users/{id}/transitiveMemberOf/microsoft.graph.directoryRole';
const TAP_CREATE = 'POST /v1.0/users/{id}/authentication/temporaryAccessPassMethods';
const GLOBAL_ADMIN: RoleGrantRecord = { role: 'Global Administrator', directoryScopeId: '/' };

let emulator: TestEmulator;
let gw: TestGateway;
/** Served by an app that reads roles and users but not PIM for Groups eligibilities. */
let noGroupPim: TestGateway;

const callers = deskCallers('helpdesk', 'passwords', 'privileged');

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 60 });
  gw = await startTestGateway({ emulator, env: callers });
  const app = registerApp(emulator.tenant, {
    displayName: 'tap and role reads, no PIM for Groups',
    graphAppRoles: ['User.Read.All', 'Directory.Read.All', 'RoleManagement.Read.Directory', 'UserAuthMethod-TAP.ReadWrite.All'],
    directoryRoles: ['Privileged Authentication Administrator'],
  });
  noGroupPim = await startTestGateway({ emulator, env: callers, configure: actingAsApp(app) });
}, 60_000);
afterAll(async () => {
  await noGroupPim?.close();
  await gw?.close();
  await emulator?.close();
});

const ordinaryUser = ordinaryUserPicker(() => emulator);
const passesOf = (id: string) => passesIn(emulator, id);

/** A group in the emulator tenant; role-assignable unless said otherwise. */
const group = (fields: Partial<GroupRecord> = {}): GroupRecord => addGroup(emulator, fields);

describe('roles held through a group are seen', () => {
  it('a member of a role-assignable group eligible for Global Administrator gets no pass (two round trips of lookups)', async () => {
    const target = ordinaryUser();
    const admins = group({ _eligibleRoles: [GLOBAL_ADMIN] });
    target.memberOf.push(admins.id);
    await emulator.resetStats();
    const result = await createPass(gw, HELPDESK, target.id, 'GroupEligiblePass');
    expectAdministratorRefusal(result);
    expect(passesOf(target.id)).toHaveLength(0);
    const stats = await emulator.stats();
    // Round one: one $batch of the role cast, the user's grants, groups, owned groups and PIM for
    // Groups eligibilities; round two: one $batch of the group's grants.
    expect(stats.batch.itemsByRoute[ROLE_LOOKUP]).toBe(1);
    expect(stats.batch.requests).toBe(2);
    expect(sentTo(stats, GROUPS)).toBe(1);
    expect(sentTo(stats, GROUP_ELIGIBILITY)).toBe(1);
    expect(sentTo(stats, ELIGIBILITY)).toBe(2);
    expect(sentTo(stats, ASSIGNMENTS)).toBe(2);
    expect(sentTo(stats, TAP_CREATE)).toBe(0);
    expect(eventsOf(gw, 'GroupEligiblePass')).toEqual([
      expect.objectContaining({ outcome: 'refused', reason: 'FORBIDDEN', reasonDetail: 'ADMINISTRATOR_TARGET', steps: [] }),
    ]);
  });

  it('a PIM for Groups eligible member, and an eligible owner, of a group eligible for Global Administrator get no pass', async () => {
    const admins = group({ _eligibleRoles: [GLOBAL_ADMIN] });
    for (const accessId of ['member', 'owner'] as const) {
      const target = ordinaryUser();
      target._eligibleGroups = [{ groupId: admins.id, accessId }];
      const result = await createPass(gw, HELPDESK, target.id, `GroupPim${accessId}Pass`);
      expectAdministratorRefusal(result);
      expect(passesOf(target.id)).toHaveLength(0);
    }
  });

  it('named by userPrincipalName: the same refusal', async () => {
    const target = ordinaryUser((u) => !u.userPrincipalName.includes("'"));
    target._eligibleGroups = [{ groupId: group({ _eligibleRoles: [GLOBAL_ADMIN] }).id, accessId: 'member' }];
    expectAdministratorRefusal(await createPass(gw, HELPDESK, target.userPrincipalName, 'GroupPimByUpnPass'));
    expect(passesOf(target.id)).toHaveLength(0);
  });

  it('a member of a group holding User Administrator over an administrative unit: changePassword is refused and the password stays', async () => {
    const target = ordinaryUser();
    const unitAdmins = group({ _scopedRoles: [{ role: 'User Administrator', directoryScopeId: `/administrativeUnits/${randomUUID()}` }] });
    target.memberOf.push(unitAdmins.id);
    const password = target._password;
    const result = await gw.graphql(
      `mutation GroupScopedPassword { changePassword(input: {user: "${target.id}", password: "Chosen-By-Caller-9!"}) { forceChangePasswordNextSignIn } }`,
      undefined,
      { 'x-api-key': PASSWORDS },
    );
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET' });
    expect(target._password).toBe(password);
  });

  it('a member of a role-assignable group holding no role, and of an ordinary group, gets a pass', async () => {
    const target = ordinaryUser();
    target.memberOf.push(group().id, group({ isAssignableToRole: false, _eligibleRoles: [GLOBAL_ADMIN] }).id);
    await emulator.resetStats();
    const result = await createPass(gw, HELPDESK, target.id, 'EmptyGroupPass');
    expect(result.errors).toBeUndefined();
    expect(passesOf(target.id)).toHaveLength(1);
    const stats = await emulator.stats();
    // Only the role-assignable group is asked about (the filter leaves the other out).
    expect(sentTo(stats, ELIGIBILITY)).toBe(2);
    expect(stats.batch.requests).toBe(2);
  });

  it('an ordinary user: one round trip of lookups, one $batch of six lists (the role cast among them), one HTTP request', async () => {
    const target = ordinaryUser();
    await emulator.resetStats();
    const result = await createPass(gw, HELPDESK, target.id, 'OrdinaryPass');
    expect(result.errors).toBeUndefined();
    const stats = await emulator.stats();
    expect(stats.batch.requests).toBe(1);
    for (const route of [ROLE_LOOKUP, ELIGIBILITY, ASSIGNMENTS, GROUPS, OWNED_GROUPS, GROUP_ELIGIBILITY]) expect(stats.batch.itemsByRoute[route]).toBe(1);
    expect(stats.batch.itemsByRoute[ROLE_LOOKUP]).toBe(1);
    expect(sentTo(stats, TAP_CREATE)).toBe(1);
    // The lookups' $batch and the write: the owned groups and the role cast ride in the $batch
    // (before: the cast was a request of its own beside a $batch of four, three requests in all).
    expect(stats.graphRequests).toBe(2);
  });

  it('a caller holding Users.ManageAdmins sends no lookup', async () => {
    const target = ordinaryUser();
    target._eligibleGroups = [{ groupId: group({ _eligibleRoles: [GLOBAL_ADMIN] }).id, accessId: 'member' }];
    await emulator.resetStats();
    const result = await createPass(gw, PRIVILEGED, target.id, 'PrivilegedGroupPass');
    expect(result.errors).toBeUndefined();
    const stats = await emulator.stats();
    expect(stats.graphRequests).toBe(1);
    expect(sentTo(stats, TAP_CREATE)).toBe(1);
  });
});

/** `n` owners for a group: disabled users of their own, never picked as ordinary targets. */
function otherOwners(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const owner: UserRecord = {
      ...structuredClone(ordinaryUserTemplate()),
      id: randomUUID(),
      userPrincipalName: `owner${i}.${randomUUID().slice(0, 8)}@contoso.example`,
      accountEnabled: false,
    };
    emulator.tenant.users.set(owner.id, owner);
    return owner.id;
  });
}

/** Any enabled member of the tenant, as the shape of a new user record. */
const ordinaryUserTemplate = (): UserRecord => [...emulator.tenant.users.values()].find((u) => u.userType === 'Member' && u.accountEnabled)!;

describe('standing owners of a role-assignable group are seen', () => {
  // An owner manages the group's membership and can add themselves (groups-concept, "How are
  // role-assignable groups protected?"). Before, only members and PIM-eligible owners were asked
  // about: a standing owner of a group eligible for Global Administrator got a pass and a chosen password.
  it('an owner (not a member) of a group eligible for Global Administrator gets no pass, in two round trips of lookups', async () => {
    const target = ordinaryUser();
    const admins = group({ _eligibleRoles: [GLOBAL_ADMIN], owners: [target.id] });
    await emulator.resetStats();
    const result = await createPass(gw, HELPDESK, target.id, 'GroupOwnerPass');
    expectAdministratorRefusal(result);
    expect(passesOf(target.id)).toHaveLength(0);
    const stats = await emulator.stats();
    // Round one: one $batch of the role cast, the user's grants, member groups, owned
    // role-assignable groups and PIM for Groups eligibilities; round two: the owned group's grants.
    expect(stats.batch.itemsByRoute[ROLE_LOOKUP]).toBe(1);
    expect(stats.batch.requests).toBe(2);
    expect(sentTo(stats, OWNED_GROUPS)).toBe(1);
    expect(sentTo(stats, ELIGIBILITY)).toBe(2);
    expect(sentTo(stats, ASSIGNMENTS)).toBe(2);
    expect(sentTo(stats, TAP_CREATE)).toBe(0);
    expect(admins.owners).toEqual([target.id]);
  });

  it('an owner past the 20 owners Graph expands: the whole owners list is read (one more round trip), no pass', async () => {
    const target = ordinaryUser();
    group({ _eligibleRoles: [GLOBAL_ADMIN], owners: [...otherOwners(24), target.id] });
    await emulator.resetStats();
    expectAdministratorRefusal(await createPass(gw, HELPDESK, target.id, 'LateOwnerPass'));
    expect(passesOf(target.id)).toHaveLength(0);
    const stats = await emulator.stats();
    // Round one: the lookups' $batch; round two: the group's owners (one request, sent alone);
    // round three: the $batch of the group's grants.
    expect(sentTo(stats, GROUP_OWNERS)).toBe(1);
    expect(stats.batch.requests).toBe(2);
    expect(stats.graphRequests).toBe(3);
  });

  it('an ordinary user, with a group of more than 20 owners in the tenant: its owners are read, and the user gets a pass', async () => {
    const target = ordinaryUser();
    group({ _eligibleRoles: [GLOBAL_ADMIN], owners: otherOwners(25) });
    await emulator.resetStats();
    expect((await createPass(gw, HELPDESK, target.id, 'ManyOwnersOrdinaryPass')).errors).toBeUndefined();
    expect(passesOf(target.id)).toHaveLength(1);
    expect(sentTo(await emulator.stats(), GROUP_OWNERS)).toBeGreaterThanOrEqual(1);
  });

  it('an owner of a role-assignable group holding no role, and of an ordinary group holding one, gets a pass', async () => {
    const target = ordinaryUser();
    group({ owners: [target.id] });
    group({ isAssignableToRole: false, owners: [target.id], _eligibleRoles: [GLOBAL_ADMIN] });
    expect((await createPass(gw, HELPDESK, target.id, 'EmptyOwnedGroupPass')).errors).toBeUndefined();
    expect(passesOf(target.id)).toHaveLength(1);
  });

  it('an owner of more role-assignable groups than the check reads (20): no pass, Users.ManageAdmins named', async () => {
    const target = ordinaryUser();
    for (let n = 0; n < 21; n++) group({ owners: [target.id] });
    try {
      const result = await createPass(gw, HELPDESK, target.id, 'ManyOwnedGroupsPass');
      expect(result.errors).toHaveLength(1);
      expect(result.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_CHECK_FAILED', permission: 'Users.ManageAdmins' });
      expect(passesOf(target.id)).toHaveLength(0);
    } finally {
      for (const g of emulator.tenant.groups.values()) if (g.owners?.length === 1 && g.owners[0] === target.id) g.owners = [];
    }
  });

  it('an app without a permission that lists groups (GroupMember.Read.All): no pass, the message names it', async () => {
    const app = registerApp(emulator.tenant, {
      displayName: 'tap with user and role reads, no group reads',
      graphAppRoles: ['User.Read.All', 'RoleManagement.Read.Directory', 'PrivilegedEligibilitySchedule.Read.AzureADGroup', 'UserAuthMethod-TAP.ReadWrite.All'],
      directoryRoles: ['Privileged Authentication Administrator'],
    });
    const noGroups = await startTestGateway({ emulator, env: callers, configure: actingAsApp(app) });
    try {
      const target = ordinaryUser();
      const result = await createPass(noGroups, HELPDESK, target.id, 'NoGroupReadPass');
      expect(result.errors).toHaveLength(1);
      expect(result.errors![0]!.extensions).toMatchObject({
        code: 'FORBIDDEN',
        reason: 'ADMINISTRATOR_CHECK_FAILED',
        argument: 'user',
        permission: 'GroupMember.Read.All',
      });
      expect(result.errors![0]!.message).toContain('Users.ManageAdmins');
      expect(passesOf(target.id)).toHaveLength(0);
    } finally {
      await noGroups.close();
    }
  }, 60_000);

  it('an owner of a group holding User Administrator over a unit: changePassword is refused and the password stays', async () => {
    const target = ordinaryUser();
    group({ owners: [ordinaryUser().id, target.id], _scopedRoles: [{ role: 'User Administrator', directoryScopeId: `/administrativeUnits/${randomUUID()}` }] });
    const password = target._password;
    const result = await gw.graphql(
      `mutation OwnerScopedPassword { changePassword(input: {user: "${target.id}", password: "Chosen-By-Caller-9!"}) { forceChangePasswordNextSignIn } }`,
      undefined,
      { 'x-api-key': PASSWORDS },
    );
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET' });
    expect(target._password).toBe(password);
  });
});

describe('an app that reads memberships but not groups in full', () => {
  it('matches the ids of its memberships against the role-assignable groups and still asks their grants: no pass', async () => {
    const app = registerApp(emulator.tenant, {
      displayName: 'tap with user, membership and role reads, no full group reads',
      graphAppRoles: [
        'User.Read.All',
        'GroupMember.Read.All',
        'RoleManagement.Read.Directory',
        'PrivilegedEligibilitySchedule.Read.AzureADGroup',
        'UserAuthMethod-TAP.ReadWrite.All',
      ],
      directoryRoles: ['Privileged Authentication Administrator'],
    });
    const limited = await startTestGateway({ emulator, env: callers, configure: actingAsApp(app) });
    try {
      const target = ordinaryUser();
      target.memberOf.push(group({ _eligibleRoles: [GLOBAL_ADMIN] }).id);
      expectAdministratorRefusal(await createPass(limited, HELPDESK, target.id, 'LimitedGroupPass'));
      expect(passesOf(target.id)).toHaveLength(0);
      const ordinary = ordinaryUser();
      ordinary.memberOf.push(group().id);
      expect((await createPass(limited, HELPDESK, ordinary.id, 'LimitedEmptyGroupPass')).errors).toBeUndefined();
    } finally {
      await limited.close();
    }
  }, 60_000);
});

describe('fails closed', () => {
  it('an app without PrivilegedEligibilitySchedule.Read.AzureADGroup: no pass, the message names the permission', async () => {
    const target = ordinaryUser();
    const result = await createPass(noGroupPim, HELPDESK, target.id, 'NoGroupPimPass');
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'ADMINISTRATOR_CHECK_FAILED',
      argument: 'user',
      permission: 'PrivilegedEligibilitySchedule.Read.AzureADGroup',
    });
    expect(result.errors![0]!.message).toContain('Users.ManageAdmins');
    expect(passesOf(target.id)).toHaveLength(0);
    expect(eventsOf(noGroupPim, 'NoGroupPimPass')).toEqual([expect.objectContaining({ outcome: 'failed', reasonDetail: 'ADMINISTRATOR_CHECK_FAILED' })]);
    // A user's own eligibility is still answered ADMINISTRATOR_TARGET: a refusal wins over a failed lookup.
    const eligible = ordinaryUser();
    eligible._eligibleRoles = [GLOBAL_ADMIN];
    expectAdministratorRefusal(await createPass(noGroupPim, HELPDESK, eligible.id, 'NoGroupPimEligiblePass'));
  });

  it('a user in more role-assignable groups than the check reads (20): no pass, Users.ManageAdmins named', async () => {
    const target = ordinaryUser();
    for (let n = 0; n < 21; n++) target.memberOf.push(group().id);
    await emulator.resetStats();
    const result = await createPass(gw, HELPDESK, target.id, 'ManyGroupsPass');
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_CHECK_FAILED', permission: 'Users.ManageAdmins' });
    expect(passesOf(target.id)).toHaveLength(0);
    expect((await emulator.stats()).batch.requests).toBe(1);
  });
});

describe('the role lists are read on past a page', () => {
  it('an empty first page with a nextLink is not a grant; a group eligibility on a later page is', async () => {
    // More eligibilities than a server-side page holds, all before the groups' in the list: the
    // first page filtered on a user's or a group's id comes back empty with a nextLink.
    const filler: UserRecord = ordinaryUser();
    filler._eligibleRoles = Array.from({ length: 150 }, () => ({ role: 'Helpdesk Administrator', directoryScopeId: `/administrativeUnits/${randomUUID()}` }));
    try {
      const ordinary = ordinaryUser();
      await emulator.resetStats();
      const created = await createPass(gw, HELPDESK, ordinary.id, 'PagedOrdinaryPass');
      // Before: the nextLink counted as a grant, and this ordinary user was refused.
      expect(created.errors).toBeUndefined();
      expect(passesOf(ordinary.id)).toHaveLength(1);
      const stats = await emulator.stats();
      expect(stats.byRoute[ELIGIBILITY]).toBe(1);

      const target = ordinaryUser();
      target.memberOf.push(group({ _eligibleRoles: [GLOBAL_ADMIN] }).id);
      expectAdministratorRefusal(await createPass(gw, HELPDESK, target.id, 'PagedGroupPass'));
      expect(passesOf(target.id)).toHaveLength(0);
    } finally {
      delete filler._eligibleRoles;
    }
  });
});
