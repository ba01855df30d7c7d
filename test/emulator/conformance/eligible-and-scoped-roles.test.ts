import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerApp } from '../../../src/emulator/apps.js';
import type { AppRegistration, UserRecord } from '../../../src/emulator/model.js';
import { demoAppGraphToken, startTestEmulator, type TestEmulator } from '../../support/emulator.js';

/**
 * PIM eligibilities and administrative-unit role assignments, as the v1.0 pages document them
 * (docs/graph-facts.md#writes-and-permissions, "Eligible and administrative-unit roles"): the
 * roleEligibilityScheduleInstances list and the roleAssignments list, their permissions (application,
 * and delegated with a reading role), `$filter` on principalId, `$select`; and the sandbox tenant's
 * seeded administrators that transitiveMemberOf does not list.
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
const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const USER_ADMIN = 'fe930be7-5e62-47db-91af-98c3a49a38b1';

async function token(form: Record<string, string>): Promise<string> {
  const res = await emulator.fetch(`/${emulator.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

const appToken = (app: AppRegistration) =>
  token({ grant_type: 'client_credentials', client_id: app.appId, client_secret: app.secrets[0]!, scope: `${emulator.graphEndpoint}/.default` });

async function userToken(app: AppRegistration, user: UserRecord): Promise<string> {
  return token({
    grant_type: 'password',
    client_id: app.appId,
    client_secret: app.secrets[0]!,
    username: user.userPrincipalName,
    password: user._password,
    scope: `${emulator.graphEndpoint}/.default`,
  });
}

async function get(path: string, bearer: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, any> }> {
  const res = await emulator.fetch(`/v1.0${path}`, { headers: { authorization: `Bearer ${bearer}`, ...headers } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const byPrincipal = (id: string, select = '') => `?$filter=principalId eq '${id}'${select ? `&$select=${select}` : ''}`;
const users = () => [...emulator.tenant.users.values()];
const eligibleAdmin = () => users().find((u) => (u._eligibleRoles ?? []).length > 0)!;
const scopedAdmin = () => users().find((u) => (u._scopedRoles ?? []).length > 0)!;

describe('the sandbox tenant seeds administrators transitiveMemberOf does not list', () => {
  it('one member eligible for Global Administrator, one User Administrator over an administrative unit, neither with an active tenant-wide role', async () => {
    const eligible = eligibleAdmin();
    const scoped = scopedAdmin();
    expect(eligible).toBeDefined();
    expect(scoped).toBeDefined();
    expect(eligible._eligibleRoles).toEqual([{ role: 'Global Administrator', directoryScopeId: '/' }]);
    expect(scoped._scopedRoles).toEqual([{ role: 'User Administrator', directoryScopeId: expect.stringMatching(/^\/administrativeUnits\/[0-9a-f-]{36}$/) }]);
    const app = registerApp(emulator.tenant, { displayName: 'reads roles', graphAppRoles: ['Directory.Read.All'] });
    const bearer = await appToken(app);
    for (const user of [eligible, scoped]) {
      expect(user._directoryRoles).toEqual([]);
      const roles = await get(`/users/${user.id}/transitiveMemberOf/microsoft.graph.directoryRole?$count=true`, bearer, { ConsistencyLevel: 'eventual' });
      expect(roles).toMatchObject({ status: 200, body: { '@odata.count': 0, value: [] } });
    }
  });
});

describe(`GET ${ELIGIBILITY}`, () => {
  it("lists a user's own eligibility by principalId, with $select, to an app holding RoleManagement.Read.Directory", async () => {
    const app = registerApp(emulator.tenant, { displayName: 'role reader', graphAppRoles: ['RoleManagement.Read.Directory'] });
    const user = eligibleAdmin();
    const result = await get(`${ELIGIBILITY}${byPrincipal(user.id)}`, await appToken(app));
    expect(result.status).toBe(200);
    expect(result.body.value).toEqual([
      expect.objectContaining({ principalId: user.id, roleDefinitionId: GLOBAL_ADMIN, directoryScopeId: '/', memberType: 'Direct', appScopeId: null }),
    ]);
    expect(result.body.value[0].id).toMatch(/-1-e$/);
    const selected = await get(`${ELIGIBILITY}${byPrincipal(user.id, 'id,roleDefinitionId,directoryScopeId')}`, await appToken(app));
    expect(Object.keys(selected.body.value[0]).sort()).toEqual(['directoryScopeId', 'id', 'roleDefinitionId']);
    // A user with no eligibility: an empty collection, not an error.
    const plain = users().find((u) => u._directoryRoles.length === 0 && !u._eligibleRoles && !u._scopedRoles)!;
    expect(await get(`${ELIGIBILITY}${byPrincipal(plain.id)}`, await appToken(app))).toMatchObject({ status: 200, body: { value: [] } });
  });

  it('each permission of the page answers; Directory.Read.All and User.Read.All do not', async () => {
    const user = eligibleAdmin();
    for (const permission of [
      'RoleEligibilitySchedule.Read.Directory',
      'RoleEligibilitySchedule.ReadWrite.Directory',
      'RoleManagement.Read.All',
      'RoleManagement.ReadWrite.Directory',
    ]) {
      const app = registerApp(emulator.tenant, { displayName: permission, graphAppRoles: [permission] });
      expect((await get(`${ELIGIBILITY}${byPrincipal(user.id)}`, await appToken(app))).status).toBe(200);
    }
    const app = registerApp(emulator.tenant, { displayName: 'directory reader', graphAppRoles: ['Directory.Read.All', 'User.Read.All'] });
    const refused = await get(`${ELIGIBILITY}${byPrincipal(user.id)}`, await appToken(app));
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('Authorization_RequestDenied');
  });

  it('delegated: the permission and a role that reads PIM data (Global Administrator here); without such a role, 403', async () => {
    const app = registerApp(emulator.tenant, { displayName: 'delegated role reader', graphDelegatedScopes: ['User.Read', 'RoleManagement.Read.Directory'] });
    const admin = emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!;
    const user = eligibleAdmin();
    expect((await get(`${ELIGIBILITY}${byPrincipal(user.id)}`, await userToken(app, admin))).status).toBe(200);
    const helpdesk = users().find((u) => u._directoryRoles.length === 1 && u._directoryRoles[0] === 'Helpdesk Administrator')!;
    expect((await get(`${ELIGIBILITY}${byPrincipal(user.id)}`, await userToken(app, helpdesk))).status).toBe(403);
  });

  it('refuses a filter it does not support and a property the type does not have', async () => {
    const app = registerApp(emulator.tenant, { displayName: 'strict reader', graphAppRoles: ['RoleManagement.Read.Directory'] });
    const bearer = await appToken(app);
    const badFilter = await get(`${ELIGIBILITY}?$filter=startswith(principalId,'a')`, bearer);
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.error.code).toBe('Request_UnsupportedQuery');
    const badSelect = await get(`${ELIGIBILITY}?$select=id,displayName`, bearer);
    expect(badSelect.status).toBe(400);
  });
});

describe(`GET ${ASSIGNMENTS} lists assignments scoped to an administrative unit`, () => {
  it("a user's User Administrator assignment over a unit, with its directoryScopeId, and $select", async () => {
    const app = registerApp(emulator.tenant, { displayName: 'assignment reader', graphAppRoles: ['RoleManagement.Read.Directory'] });
    const user = scopedAdmin();
    const result = await get(`${ASSIGNMENTS}${byPrincipal(user.id, 'id,roleDefinitionId,directoryScopeId')}`, await appToken(app));
    expect(result.status).toBe(200);
    expect(result.body.value).toEqual([{ id: expect.any(String), roleDefinitionId: USER_ADMIN, directoryScopeId: user._scopedRoles![0]!.directoryScopeId }]);
    // Directory.Read.All also reads assignments (the page's list), unlike eligibilities.
    const reader = registerApp(emulator.tenant, { displayName: 'directory reader 2', graphAppRoles: ['Directory.Read.All'] });
    expect((await get(`${ASSIGNMENTS}${byPrincipal(user.id)}`, await appToken(reader))).status).toBe(200);
    // An eligible-only user has no active assignment.
    expect((await get(`${ASSIGNMENTS}${byPrincipal(eligibleAdmin().id)}`, await appToken(app))).body.value).toEqual([]);
  });
});

describe('a tenant without Entra ID P2 or Governance (pimLicence: unlicensed; docs/graph-facts.md#writes-and-permissions, "Licence")', () => {
  afterAll(async () => {
    await emulator.setGraph({ pimLicence: 'licensed' });
  });
  beforeAll(async () => {
    await emulator.setGraph({ pimLicence: 'unlicensed' });
  });
  it('answers both PIM lists 400 AadPremiumLicenseRequired, and the role assignments as before', async () => {
    const target = users().find((u) => u.userType !== 'Guest')!;
    const token = await demoAppGraphToken(emulator);
    const ask = (path: string) => get(path, token);
    const filter = encodeURIComponent(`principalId eq '${target.id}'`);
    for (const path of [
      `/roleManagement/directory/roleEligibilityScheduleInstances?$filter=${filter}`,
      `/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter=${filter}`,
    ]) {
      const answer = await ask(path);
      expect(answer.status).toBe(400);
      expect(answer.body.error?.code).toBe('AadPremiumLicenseRequired');
    }
    const assignments = await ask(`/roleManagement/directory/roleAssignments?$filter=${filter}`);
    expect(assignments.status).toBe(200);
  });
});
