import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userCallerToken } from '../identity/support.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { doctorInProcess, leastApplicationPermissions, registerTestApp, tenantEnv, type DoctorRun } from './support.js';

/**
 * `npm run doctor` on the administrator-target check (docs/security.md#administrators-as-targets):
 * which Graph permission the role lookup of callers without Users.ManageAdmins needs, app-only and
 * on behalf of a caller (docs/graph-facts.md#writes-and-permissions, "Another user's directory
 * roles"), and what the doctor makes of roles Graph lists with limited information.
 */
let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 60 });
}, 60_000);
afterAll(async () => emulator?.close());

const line = (result: DoctorRun, pattern: RegExp) => result.lines.find((l) => pattern.test(l));
/** sha256 of nothing in particular: the doctor never checks a key, it reads their permissions. */
const HASH = 'a'.repeat(64);

describe('app-only', () => {
  it('an app that may create passes but not read users: missing, naming User.Read.All and who fails closed', async () => {
    const app = registerTestApp(emulator, ['UserAuthMethod-TAP.ReadWrite.All']);
    const result = await doctorInProcess(tenantEnv(emulator, app));
    expect(result.code).toBe(1);
    const finding = line(result, /^missing\s+administrator targets:/);
    expect(finding).toContain(
      'GET /users/{id}/transitiveMemberOf/microsoft.graph.directoryRole and POST /users/{id}/getMemberObjects needs User.Read.All (application permission',
    );
    expect(finding).toContain('temporaryAccessPass');
    expect(finding).toContain('ADMINISTRATOR_CHECK_FAILED');
  }, 120_000);

  it('the least permissions the doctor suggests answer the lookup', async () => {
    const app = registerTestApp(emulator, leastApplicationPermissions());
    const result = await doctorInProcess(tenantEnv(emulator, app));
    expect(line(result, /^ok\s+administrator targets:/)).toContain('is answered with User.Read.All');
    expect(line(result, /^ok\s+administrator targets \(eligible and administrative-unit roles\):/)).toContain(
      'are answered with RoleManagement.Read.Directory',
    );
  }, 120_000);

  it('User.Read.All and Directory.Read.All without RoleManagement.Read.Directory: the eligibility lookup is missing, naming the permission and the upgrade effect', async () => {
    const app = registerTestApp(emulator, ['User.Read.All', 'Directory.Read.All', 'UserAuthMethod-TAP.ReadWrite.All']);
    const result = await doctorInProcess(tenantEnv(emulator, app));
    expect(result.code).toBe(1);
    expect(line(result, /^ok\s+administrator targets:/)).toBeDefined();
    const finding = line(result, /^missing\s+administrator targets \(eligible and administrative-unit roles\):/);
    expect(finding).toContain('need RoleManagement.Read.Directory (application permission');
    expect(finding).toContain('rbacapplication-list-roleeligibilityscheduleinstances');
    expect(finding).toContain('ADMINISTRATOR_CHECK_FAILED');
    expect(finding).toContain('Users.ManageAdmins');
  }, 120_000);

  it('without PrivilegedEligibilitySchedule.Read.AzureADGroup: the PIM for Groups lookup is missing, naming the permission and who fails closed', async () => {
    const app = registerTestApp(emulator, ['User.Read.All', 'RoleManagement.Read.Directory', 'UserAuthMethod-TAP.ReadWrite.All']);
    const result = await doctorInProcess(tenantEnv(emulator, app));
    expect(result.code).toBe(1);
    expect(line(result, /^ok\s+administrator targets \(eligible and administrative-unit roles\):/)).toBeDefined();
    const finding = line(result, /^missing\s+administrator targets \(roles through groups eligible in PIM for Groups\):/);
    expect(finding).toContain('needs PrivilegedEligibilitySchedule.Read.AzureADGroup (application permission');
    expect(finding).toContain('privilegedaccessgroup-list-eligibilityscheduleinstances');
    expect(finding).toContain('ADMINISTRATOR_CHECK_FAILED');
    const granted = registerTestApp(emulator, [
      'User.Read.All',
      'RoleManagement.Read.Directory',
      'PrivilegedEligibilitySchedule.Read.AzureADGroup',
      'UserAuthMethod-TAP.ReadWrite.All',
    ]);
    const ok = await doctorInProcess(tenantEnv(emulator, granted));
    expect(line(ok, /^ok\s+administrator targets \(roles through groups eligible in PIM for Groups\):/)).toContain(
      'is answered with PrivilegedEligibilitySchedule.Read.AzureADGroup',
    );
  }, 120_000);

  it('without a permission that lists groups: the group-owner lookup is missing, naming GroupMember.Read.All; with it, ok', async () => {
    const app = registerTestApp(emulator, [
      'User.Read.All',
      'RoleManagement.Read.Directory',
      'PrivilegedEligibilitySchedule.Read.AzureADGroup',
      'UserAuthMethod-TAP.ReadWrite.All',
    ]);
    const result = await doctorInProcess(tenantEnv(emulator, app));
    expect(result.code).toBe(1);
    const finding = line(result, /^missing\s+administrator targets \(owners of role-assignable groups\):/);
    expect(finding).toContain('need GroupMember.Read.All (application permission');
    expect(finding).toContain('group-list');
    expect(finding).toContain('ADMINISTRATOR_CHECK_FAILED');
    const granted = registerTestApp(emulator, [
      'User.Read.All',
      'GroupMember.Read.All',
      'RoleManagement.Read.Directory',
      'PrivilegedEligibilitySchedule.Read.AzureADGroup',
      'UserAuthMethod-TAP.ReadWrite.All',
    ]);
    const ok = await doctorInProcess(tenantEnv(emulator, granted));
    expect(line(ok, /^ok\s+administrator targets \(owners of role-assignable groups\):/)).toContain('are answered with GroupMember.Read.All');
  }, 120_000);

  it('API keys that all hold Users.ManageAdmins send no lookup: ok without User.Read.All', async () => {
    const app = registerTestApp(emulator, ['UserAuthMethod-TAP.ReadWrite.All']);
    const result = await doctorInProcess(
      tenantEnv(emulator, app, { CALLER_AUTH: 'api-key', API_KEYS: `desk:${HASH}:Users.ManageAuthMethods+Users.ManageAdmins` }),
    );
    expect(line(result, /^ok\s+administrator targets:/)).toContain('holds Users.ManageAdmins: no role lookup is sent');
  }, 120_000);
});

describe('on behalf of a caller', () => {
  it("checks the delegated consent, and roles listed with limited information are 'could not check', not 'no role'", async () => {
    const known = emulator.tenant.wellKnown;
    const gatewayApp = emulator.tenant.apps.get(known.demoAppId)!;
    const saved = [...gatewayApp.graphDelegatedScopes];
    // Reaches /me's roles (User.Read) but reads no directory roles, and no other user's memberships.
    gatewayApp.graphDelegatedScopes = ['User.Read', 'UserAuthenticationMethod.ReadWrite.All', 'openid', 'profile', 'offline_access'];
    try {
      const admin = emulator.tenant.users.get(known.adminUserId)!;
      const callerToken = await userCallerToken(emulator, admin.userPrincipalName, admin._password);
      const result = await doctorInProcess(
        tenantEnv(
          emulator,
          { appId: known.demoAppId, secrets: [known.demoAppSecret] },
          {
            GRAPH_AUTH_FLOW: 'on-behalf-of',
            CALLER_AUTH: 'entra',
            API_AUDIENCE: 'api://msgraph-user-gateway',
          },
        ),
        { allowWrites: false, callerToken },
      );
      expect(line(result, /^missing\s+administrator targets:/)).toContain('User.Read.All (delegated permission');
      expect(line(result, /^missing\s+administrator targets \(eligible and administrative-unit roles\):/)).toMatch(
        /need RoleManagement\.Read\.Directory \(delegated permission.*each signed-in caller also needs a role that reads them/,
      );
      const roles = line(result, /^could not check\s+temporaryAccessPass: could not read the Entra roles/);
      expect(roles).toContain('with limited information');
      expect(roles).toContain('grant Directory.Read.All (delegated permission');
    } finally {
      gatewayApp.graphDelegatedScopes = saved;
    }
  }, 120_000);
});
