import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerApp } from '../../../src/emulator/apps.js';
import type { AppRegistration, GroupRecord, UserRecord } from '../../../src/emulator/model.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { grantRole, joinGroup } from '../../../src/emulator/user-record.js';

/**
 * Roles held through a group, as the v1.0 pages document them (docs/graph-facts.md#writes-and-permissions,
 * "Roles held through a group"): a role-assignable group's eligibilities and assignments name the
 * group as principal; a user's role-assignable groups through the transitiveMemberOf cast with a
 * filter on isAssignableToRole (an advanced query); PIM for Groups eligibilities
 * (privilegedaccessgroup-list-eligibilityscheduleinstances: `$filter` on principalId or groupId
 * required, PrivilegedEligibilitySchedule.Read.AzureADGroup); server-side pages of the
 * role-management lists, which may be empty with a nextLink (paging).
 */
let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 40 });
}, 60_000);

afterAll(async () => {
  await emulator.close();
});

const ELIGIBILITY = '/roleManagement/directory/roleEligibilityScheduleInstances';
const ASSIGNMENTS = '/roleManagement/directory/roleAssignments';
const GROUP_ELIGIBILITY = '/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances';
const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const EVENTUAL = { ConsistencyLevel: 'eventual' };

async function appToken(app: AppRegistration): Promise<string> {
  const res = await emulator.fetch(`/${emulator.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: app.appId,
      client_secret: app.secrets[0]!,
      scope: `${emulator.graphEndpoint}/.default`,
    }).toString(),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

async function get(path: string, bearer: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, any> }> {
  const res = await emulator.fetch(`/v1.0${path}`, { headers: { authorization: `Bearer ${bearer}`, ...headers } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

function group(fields: Partial<GroupRecord> = {}): GroupRecord {
  const id = randomUUID();
  const record: GroupRecord = {
    id,
    displayName: `G ${id.slice(0, 8)}`,
    description: null,
    mail: null,
    mailEnabled: false,
    securityEnabled: true,
    groupTypes: [],
    ...fields,
  };
  emulator.tenant.groups.set(id, record);
  return record;
}

const plainUsers = () => [...emulator.tenant.users.values()].filter((u) => u._directoryRoles.length === 0 && !u._eligibleRoles && !u._scopedRoles);
let picked = 0;
const pickUser = (): UserRecord => plainUsers()[picked++]!;

describe('a role-assignable group holds grants as principal', () => {
  it("the group's eligibility and scoped assignment list under the group's id, never under a member's", async () => {
    const app = registerApp(emulator.tenant, { displayName: 'role reader', graphAppRoles: ['RoleManagement.Read.Directory'] });
    const bearer = await appToken(app);
    const scope = `/administrativeUnits/${randomUUID()}`;
    const admins = group({
      isAssignableToRole: true,
      _eligibleRoles: [{ role: 'Global Administrator', directoryScopeId: '/' }],
      _scopedRoles: [{ role: 'User Administrator', directoryScopeId: scope }],
    });
    const member = pickUser();
    member.memberOf.push(admins.id);
    const eligible = await get(`${ELIGIBILITY}?$filter=principalId eq '${admins.id}'`, bearer);
    expect(eligible.body.value).toEqual([expect.objectContaining({ principalId: admins.id, roleDefinitionId: GLOBAL_ADMIN, directoryScopeId: '/' })]);
    const assigned = await get(`${ASSIGNMENTS}?$filter=principalId eq '${admins.id}'`, bearer);
    expect(assigned.body.value).toEqual([expect.objectContaining({ principalId: admins.id, directoryScopeId: scope })]);
    for (const list of [ELIGIBILITY, ASSIGNMENTS]) expect((await get(`${list}?$filter=principalId eq '${member.id}'`, bearer)).body.value).toEqual([]);
  });
});

describe('GET /users/{id}/transitiveMemberOf/microsoft.graph.group', () => {
  it('filters on isAssignableToRole as an advanced query; with limited information to a caller that does not read groups', async () => {
    const user = pickUser();
    const assignable = group({ isAssignableToRole: true });
    user.memberOf.push(assignable.id, group().id);
    const path = `/users/${user.id}/transitiveMemberOf/microsoft.graph.group?$filter=isAssignableToRole eq true&$select=id,isAssignableToRole&$count=true`;
    const reader = await appToken(registerApp(emulator.tenant, { displayName: 'group reader', graphAppRoles: ['Directory.Read.All'] }));
    const full = await get(path, reader, EVENTUAL);
    expect(full).toMatchObject({
      status: 200,
      body: { '@odata.count': 1, value: [{ '@odata.type': '#microsoft.graph.group', id: assignable.id, isAssignableToRole: true }] },
    });
    const users = await appToken(registerApp(emulator.tenant, { displayName: 'user reader', graphAppRoles: ['User.Read.All'] }));
    const limited = await get(path, users, EVENTUAL);
    expect(limited.body.value).toEqual([{ '@odata.type': '#microsoft.graph.group', id: assignable.id, isAssignableToRole: null }]);
    // Without the advanced query parameters: 400.
    expect((await get(path, reader)).status).toBe(400);
    expect((await get(path.replace('&$count=true', ''), reader, EVENTUAL)).status).toBe(400);
    // Without a permission on the page's list: 403.
    const none = await appToken(registerApp(emulator.tenant, { displayName: 'no reads', graphAppRoles: ['RoleManagement.Read.Directory'] }));
    expect((await get(path, none, EVENTUAL)).status).toBe(403);
  });
});

describe('a membership made within the index lag (docs/graph-facts.md#writes-and-permissions, "Recent memberships")', () => {
  async function post(path: string, bearer: string, body: unknown): Promise<{ status: number; body: Record<string, any> }> {
    const res = await emulator.fetch(`/v1.0${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  it('is left out of the advanced-query casts until the lag has passed, and listed by getMemberObjects at once', async () => {
    const user = pickUser();
    // Without the groups the tenant gave this user: the pages below count memberships.
    user.memberOf = [];
    const before = group({ isAssignableToRole: true });
    user.memberOf.push(before.id);
    const joined = group({ isAssignableToRole: true });
    joinGroup(user, joined.id, Date.now());
    user._directoryRoles.push('User Administrator');
    grantRole(user, 'Helpdesk Administrator', Date.now());
    const reader = await appToken(registerApp(emulator.tenant, { displayName: 'lag reader', graphAppRoles: ['User.Read.All', 'Directory.Read.All'] }));
    const cast = `/users/${user.id}/transitiveMemberOf/microsoft.graph.group?$filter=isAssignableToRole eq true&$select=id&$count=true`;
    const roles = `/users/${user.id}/transitiveMemberOf/microsoft.graph.directoryRole?$select=id&$count=true&$top=1`;
    expect((await emulator.setGraph({ advancedQueryIndexLagSeconds: 600 })).status).toBe(200);
    try {
      expect((await get(cast, reader, EVENTUAL)).body.value).toEqual([expect.objectContaining({ id: before.id })]);
      // The directoryRole cast pages over the memberships the index holds: one group, then the role.
      const firstRolePage = await get(roles, reader, EVENTUAL);
      expect(firstRolePage.body.value).toEqual([]);
      expect(typeof firstRolePage.body['@odata.nextLink']).toBe('string');
      const ids = await post(`/users/${user.id}/getMemberObjects`, reader, { securityEnabledOnly: false });
      expect(ids).toMatchObject({ status: 200, body: { '@odata.context': expect.stringContaining('$metadata#Collection(Edm.String)') } });
      expect(ids.body.value).toEqual(expect.arrayContaining([before.id, joined.id]));
      expect(ids.body.value).toHaveLength(4);
      // The role granted within the lag: not on the cast's second (last) page; the older one is.
      const secondRolePage = await get(firstRolePage.body['@odata.nextLink'].replace(/^.*\/v1\.0/, ''), reader, EVENTUAL);
      expect(secondRolePage.body.value).toHaveLength(1);
      expect(secondRolePage.body['@odata.nextLink']).toBeUndefined();
      const assigned = await get(`${ASSIGNMENTS}?$filter=principalId eq '${user.id}'`, reader);
      expect(assigned.body.value).toHaveLength(2);
    } finally {
      await emulator.setGraph({ advancedQueryIndexLagSeconds: 0 });
    }
    // Without the lag (the default) the cast lists both.
    expect((await get(cast, reader, EVENTUAL)).body.value.map((g: { id: string }) => g.id).sort()).toEqual([before.id, joined.id].sort());
  });

  it('getMemberObjects: security groups only on request, the permissions of "Memberships for a user", a boolean parameter', async () => {
    const user = pickUser();
    user.memberOf = [];
    const security = group();
    const m365 = group({ securityEnabled: false, mailEnabled: true, groupTypes: ['Unified'] });
    user.memberOf.push(security.id, m365.id);
    const users = await appToken(registerApp(emulator.tenant, { displayName: 'member objects', graphAppRoles: ['User.Read.All'] }));
    expect((await post(`/users/${user.id}/getMemberObjects`, users, { securityEnabledOnly: true })).body.value).toEqual([security.id]);
    expect((await post(`/users/${user.id}/getMemberObjects`, users, { securityEnabledOnly: false })).body.value).toEqual([security.id, m365.id]);
    expect((await post(`/users/${user.id}/getMemberObjects`, users, { securityEnabledOnly: 'false' })).status).toBe(400);
    expect((await post(`/users/${user.id}/getMemberObjects`, users, {})).status).toBe(400);
    const groupsOnly = await appToken(registerApp(emulator.tenant, { displayName: 'group member reader', graphAppRoles: ['GroupMember.Read.All'] }));
    expect((await post(`/users/${user.id}/getMemberObjects`, groupsOnly, { securityEnabledOnly: false })).status).toBe(403);
    expect((await post(`/users/${randomUUID()}/getMemberObjects`, users, { securityEnabledOnly: false })).status).toBe(404);
  });
});

describe(`GET ${GROUP_ELIGIBILITY}`, () => {
  it('lists a principal’s membership and ownership eligibilities to PrivilegedEligibilitySchedule.Read.AzureADGroup; requires the filter', async () => {
    const user = pickUser();
    const target = group({ isAssignableToRole: true });
    user._eligibleGroups = [
      { groupId: target.id, accessId: 'member' },
      { groupId: target.id, accessId: 'owner' },
    ];
    const bearer = await appToken(
      registerApp(emulator.tenant, { displayName: 'pim groups', graphAppRoles: ['PrivilegedEligibilitySchedule.Read.AzureADGroup'] }),
    );
    const listed = await get(`${GROUP_ELIGIBILITY}?$filter=principalId eq '${user.id}'`, bearer);
    expect(listed.status).toBe(200);
    expect(listed.body.value).toEqual([
      expect.objectContaining({ principalId: user.id, groupId: target.id, accessId: 'member', memberType: 'Direct' }),
      expect.objectContaining({ principalId: user.id, groupId: target.id, accessId: 'owner', memberType: 'Direct' }),
    ]);
    expect((await get(`${GROUP_ELIGIBILITY}?$filter=groupId eq '${target.id}'`, bearer)).body.value).toHaveLength(2);
    expect((await get(GROUP_ELIGIBILITY, bearer)).status).toBe(400);
    expect((await get(`${GROUP_ELIGIBILITY}?$filter=accessId eq 'member'`, bearer)).status).toBe(400);
    const roles = await appToken(
      registerApp(emulator.tenant, { displayName: 'roles only', graphAppRoles: ['RoleManagement.Read.Directory', 'Directory.Read.All'] }),
    );
    expect((await get(`${GROUP_ELIGIBILITY}?$filter=principalId eq '${user.id}'`, roles)).status).toBe(403);
  });
});

describe('server-side pages of the role-management lists', () => {
  it('a filtered page may be empty and carry a nextLink; the item is on a later page', async () => {
    const filler = pickUser();
    filler._eligibleRoles = Array.from({ length: 150 }, () => ({ role: 'Helpdesk Administrator', directoryScopeId: `/administrativeUnits/${randomUUID()}` }));
    const late = group({ isAssignableToRole: true, _eligibleRoles: [{ role: 'Global Administrator', directoryScopeId: '/' }] });
    const bearer = await appToken(registerApp(emulator.tenant, { displayName: 'pager', graphAppRoles: ['RoleManagement.Read.Directory'] }));
    const first = await get(`${ELIGIBILITY}?$filter=principalId eq '${late.id}'`, bearer);
    expect(first.body.value).toEqual([]);
    expect(first.body['@odata.nextLink']).toEqual(expect.stringContaining('$skiptoken='));
    const next = new URL(first.body['@odata.nextLink'] as string);
    const second = await get(`${next.pathname.replace(/^\/v1\.0/, '')}${next.search}`, bearer);
    expect(second.body.value).toEqual([expect.objectContaining({ principalId: late.id })]);
    expect(second.body['@odata.nextLink']).toBeUndefined();
    delete filler._eligibleRoles;
  });
});

describe('owners of role-assignable groups (group-list with $expand=owners; group-list-owners; user-list-ownedobjects has no application permission)', () => {
  const LIST = `/groups?$filter=isAssignableToRole eq true&$select=id&$expand=owners($select=id)`;

  it('lists the role-assignable groups with their owners to GroupMember.Read.All, as a default query; 403 to User.Read.All alone', async () => {
    const owner = pickUser();
    const owned = group({ isAssignableToRole: true, owners: [owner.id] });
    group({ isAssignableToRole: false, owners: [owner.id] });
    const bearer = await appToken(registerApp(emulator.tenant, { displayName: 'group member reader', graphAppRoles: ['GroupMember.Read.All'] }));
    const res = await get(`${LIST}&$top=999`, bearer);
    expect(res.status).toBe(200);
    const items = res.body.value as Array<{ id: string; owners: Array<{ id: string }> }>;
    expect(items.every((g) => !('displayName' in g))).toBe(true);
    expect(items.find((g) => g.id === owned.id)?.owners).toEqual([{ '@odata.type': '#microsoft.graph.user', id: owner.id }]);
    expect(items.filter((g) => emulator.tenant.groups.get(g.id)?.isAssignableToRole !== true)).toEqual([]);

    const usersOnly = await appToken(registerApp(emulator.tenant, { displayName: 'user reader', graphAppRoles: ['User.Read.All'] }));
    expect((await get(LIST, usersOnly)).status).toBe(403);
  });

  it('an expanded owners list holds at most 20 owners and no nextLink; the owners list itself holds them all', async () => {
    const owners = plainUsers()
      .slice(0, 25)
      .map((u) => u.id);
    const crowded = group({ isAssignableToRole: true, owners });
    const bearer = await appToken(registerApp(emulator.tenant, { displayName: 'group reader 2', graphAppRoles: ['GroupMember.Read.All'] }));
    const listed = ((await get(`${LIST}&$top=999`, bearer)).body.value as Array<Record<string, any>>).find((g) => g.id === crowded.id)!;
    expect(listed.owners).toHaveLength(20);
    expect(listed['owners@odata.nextLink']).toBeUndefined();
    const all = await get(`/groups/${crowded.id}/owners?$select=id&$top=999`, bearer);
    expect(all.status).toBe(200);
    expect((all.body.value as Array<{ id: string }>).map((o) => o.id)).toEqual(owners);
    expect((await get(`/groups/${randomUUID()}/owners`, bearer)).status).toBe(404);
  });

  it('pages with $expand hold at most 100 groups; $top outside 1..999, other filters, and $expand with the advanced-query header are refused', async () => {
    for (let n = 0; n < 105; n++) group({ isAssignableToRole: true });
    const bearer = await appToken(registerApp(emulator.tenant, { displayName: 'group reader 3', graphAppRoles: ['GroupMember.Read.All'] }));
    const first = await get(`${LIST}&$top=999`, bearer);
    expect(first.body.value.length).toBeLessThanOrEqual(100);
    expect(typeof first.body['@odata.nextLink']).toBe('string');
    expect((await get(`${LIST}&$top=1000`, bearer)).status).toBe(400);
    expect((await get(`/groups?$filter=displayName eq 'x'&$expand=owners`, bearer)).status).toBe(400);
    expect((await get(`${LIST}&$count=true`, bearer, EVENTUAL)).status).toBe(400);
    expect((await get(`/groups?$expand=members`, bearer)).status).toBe(400);
  });
});
