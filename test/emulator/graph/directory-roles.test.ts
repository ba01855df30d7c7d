import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerApp } from '../../../src/emulator/apps.js';
import type { AppRegistration } from '../../../src/emulator/model.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';

/**
 * The emulator's service principal and directory role reads (docs/graph-facts.md#writes-and-permissions):
 * what Graph documents, and refused without the documented permission.
 */
let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 30 });
}, 60_000);

afterAll(async () => {
  await emulator.close();
});

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

async function get(path: string, bearer: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await emulator.fetch(`/v1.0${path}`, { headers: { authorization: `Bearer ${bearer}`, ...headers } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('GET /servicePrincipals(appId=...)', () => {
  it('an app reads its own service principal with no permission at all, but not another one', async () => {
    const app = registerApp(emulator.tenant, { displayName: 'no permissions' });
    const other = registerApp(emulator.tenant, { displayName: 'other' });
    const bearer = await appToken(app);
    const own = await get(`/servicePrincipals(appId='${app.appId}')?$select=id,appId,displayName`, bearer);
    expect(own).toEqual({
      status: 200,
      body: expect.objectContaining({ id: app.servicePrincipalId, appId: app.appId, displayName: 'no permissions' }) as unknown,
    });
    const refused = await get(`/servicePrincipals(appId='${other.appId}')`, bearer);
    expect(refused.status).toBe(403);
    expect((refused.body.error as { code: string }).code).toBe('Authorization_RequestDenied');
  });

  it('with Application.Read.All it reads any, and an unknown one is 404', async () => {
    const app = registerApp(emulator.tenant, { displayName: 'reader', graphAppRoles: ['Application.Read.All'] });
    const other = registerApp(emulator.tenant, { displayName: 'other' });
    const bearer = await appToken(app);
    expect((await get(`/servicePrincipals/${other.servicePrincipalId}`, bearer)).body.appId).toBe(other.appId);
    expect((await get(`/servicePrincipals(appId='00000000-0000-4000-8000-000000000000')`, bearer)).status).toBe(404);
  });
});

describe('GET /roleManagement/directory/roleAssignments', () => {
  it('is refused without a role management or directory read permission', async () => {
    const app = registerApp(emulator.tenant, { displayName: 'users only', graphAppRoles: ['User.Read.All'], directoryRoles: ['User Administrator'] });
    const result = await get(`/roleManagement/directory/roleAssignments?$filter=principalId eq '${app.servicePrincipalId}'`, await appToken(app));
    expect(result.status).toBe(403);
  });

  it("lists a principal's tenant-wide assignments with their role definitions", async () => {
    const app = registerApp(emulator.tenant, {
      displayName: 'role reader',
      graphAppRoles: ['RoleManagement.Read.Directory'],
      directoryRoles: ['User Administrator', 'Privileged Authentication Administrator'],
    });
    const result = await get(
      `/roleManagement/directory/roleAssignments?$filter=principalId eq '${app.servicePrincipalId}'&$expand=roleDefinition`,
      await appToken(app),
    );
    expect(result.status).toBe(200);
    const value = result.body.value as Array<{
      principalId: string;
      roleDefinitionId: string;
      directoryScopeId: string;
      roleDefinition: { displayName: string; templateId: string };
    }>;
    expect(value.map((a) => [a.principalId, a.roleDefinitionId, a.directoryScopeId, a.roleDefinition.displayName]).sort()).toEqual([
      [app.servicePrincipalId, '7be44c8a-adaf-4e2a-84d6-ab2649e08a13', '/', 'Privileged Authentication Administrator'],
      [app.servicePrincipalId, 'fe930be7-5e62-47db-91af-98c3a49a38b1', '/', 'User Administrator'],
    ]);
  });

  it('refuses a filter it does not support instead of ignoring it', async () => {
    const app = registerApp(emulator.tenant, { displayName: 'role reader 2', graphAppRoles: ['RoleManagement.Read.Directory'] });
    const result = await get(`/roleManagement/directory/roleAssignments?$filter=startswith(principalId,'a')`, await appToken(app));
    expect(result.status).toBe(400);
  });
});

describe('GET /me/transitiveMemberOf/microsoft.graph.directoryRole', () => {
  it("gives the signed-in user's roles as an advanced query only (ConsistencyLevel: eventual and $count=true)", async () => {
    // Directory.Read.All reads the roles in full; with User.Read alone they come with limited
    // information (test/emulator/conformance/limited-information.test.ts).
    const app = registerApp(emulator.tenant, { displayName: 'delegated', graphDelegatedScopes: ['User.Read', 'Directory.Read.All'] });
    const admin = emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!;
    const bearer = await token({
      grant_type: 'password',
      client_id: app.appId,
      client_secret: app.secrets[0]!,
      username: admin.userPrincipalName,
      password: admin._password,
      scope: `${emulator.graphEndpoint}/.default`,
    });
    expect((await get('/me/transitiveMemberOf/microsoft.graph.directoryRole', bearer)).status).toBe(400);
    const result = await get('/me/transitiveMemberOf/microsoft.graph.directoryRole?$count=true', bearer, { ConsistencyLevel: 'eventual' });
    expect(result.status).toBe(200);
    expect(result.body['@odata.count']).toBe(1);
    expect(result.body.value).toEqual([
      expect.objectContaining({
        '@odata.type': '#microsoft.graph.directoryRole',
        displayName: 'Global Administrator',
        roleTemplateId: '62e90394-69f5-4237-9190-012177145e10',
      }),
    ]);
  });

  it('is not for app-only tokens', async () => {
    const app = registerApp(emulator.tenant, { displayName: 'app', graphAppRoles: ['User.Read.All'] });
    const result = await get('/me/transitiveMemberOf/microsoft.graph.directoryRole?$count=true', await appToken(app), { ConsistencyLevel: 'eventual' });
    expect(result.status).toBe(400);
  });
});

describe('GET /users/{id}/transitiveMemberOf/microsoft.graph.directoryRole pages the memberships', () => {
  it('applies the cast to each page of memberships: an empty page with a nextLink comes before the role (docs/graph-facts.md#paging)', async () => {
    const app = registerApp(emulator.tenant, { displayName: 'role reader', graphAppRoles: ['Directory.Read.All'] });
    const bearer = await appToken(app);
    const user = [...emulator.tenant.users.values()].find((u) => u._directoryRoles.length === 0 && u.id !== emulator.tenant.wellKnown.adminUserId)!;
    const groups = [...emulator.tenant.groups.keys()].slice(0, 3);
    user.memberOf.push(...groups.filter((id) => !user.memberOf.includes(id)));
    user._directoryRoles.push('Helpdesk Administrator');
    const eventual = { ConsistencyLevel: 'eventual' };
    const first = await get(`/users/${user.id}/transitiveMemberOf/microsoft.graph.directoryRole?$count=true&$top=${user.memberOf.length}`, bearer, eventual);
    expect(first.status).toBe(200);
    expect(first.body.value).toEqual([]);
    expect(first.body['@odata.count']).toBe(1);
    const link = String(first.body['@odata.nextLink']);
    expect(link).toContain('$skiptoken=');
    const next = link.slice(link.indexOf('/v1.0/') + '/v1.0'.length);
    // The next page needs the header again, as every advanced query does.
    expect((await get(next, bearer)).status).toBe(400);
    const second = await get(next, bearer, eventual);
    expect(second.status).toBe(200);
    expect(second.body.value).toEqual([expect.objectContaining({ displayName: 'Helpdesk Administrator' })]);
    expect(second.body['@odata.nextLink']).toBeUndefined();
    expect(second.body['@odata.count']).toBeUndefined();
  });
});

describe('advanced queries under advancedQueryIndexLagSeconds (docs/emulator.md)', () => {
  it('find a user renamed within the lag by its former name only, while a plain read finds it by the new one', async () => {
    const app = registerApp(emulator.tenant, {
      displayName: 'renamer',
      graphAppRoles: ['User.ReadWrite.All', 'Directory.Read.All'],
      directoryRoles: ['Privileged Authentication Administrator', 'User Administrator'],
    });
    const bearer = await appToken(app);
    const user = [...emulator.tenant.users.values()].find(
      (u) => u._directoryRoles.length === 0 && !u.onPremisesSyncEnabled && !u.userPrincipalName.startsWith('$'),
    )!;
    user._directoryRoles.push('User Administrator');
    const before = user.userPrincipalName;
    const after = `renamed-${user.id.slice(0, 8)}@${before.split('@')[1]}`;
    const patch = await emulator.fetch(`/v1.0/users/${user.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userPrincipalName: after }),
    });
    expect(patch.status).toBe(204);
    const roles = (key: string) =>
      get(`/users/${encodeURIComponent(key)}/transitiveMemberOf/microsoft.graph.directoryRole?$count=true`, bearer, { ConsistencyLevel: 'eventual' });
    expect((await emulator.setGraph({ advancedQueryIndexLagSeconds: 600 })).status).toBe(200);
    try {
      expect((await roles(after)).status).toBe(404);
      expect((await roles(before)).body.value).toEqual([expect.objectContaining({ displayName: 'User Administrator' })]);
      expect((await roles(user.id)).status).toBe(200);
      expect((await get(`/users/${encodeURIComponent(after)}?$select=id`, bearer)).body.id).toBe(user.id);
    } finally {
      await emulator.setGraph({ advancedQueryIndexLagSeconds: 0 });
    }
    // An index that is current (the default) knows the new name at once.
    expect((await roles(after)).status).toBe(200);
    expect((await roles(before)).status).toBe(404);
  });
});
