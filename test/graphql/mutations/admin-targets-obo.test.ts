import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRegistration, UserRecord } from '../../../src/emulator/model.js';
import { userCallerToken } from '../../identity/support.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { auditEvents, ordinaryUserPicker } from './support.js';

/**
 * Administrators as targets under GRAPH_AUTH_FLOW=on-behalf-of (docs/security.md#administrators-as-targets):
 * the role lookup runs with the caller's delegated Graph token, so what the gateway's app was consented
 * for delegated access decides whether Graph answers it (user-list-transitivememberof, "another user's
 * memberships": delegated User.Read.All or higher; docs/graph-facts.md#writes-and-permissions). A real
 * gateway over real sockets, real caller tokens from the emulator's Entra, real OBO exchanges.
 */

const ROLE_LOOKUP = 'GET /v1.0/users/{id}/transitiveMemberOf/microsoft.graph.directoryRole';
const TAP_CREATE = 'POST /v1.0/users/{id}/authentication/temporaryAccessPassMethods';
/** Only the gateway permission the mutation needs, never Users.ManageAdmins. */
const CALLER_SCOPE = 'api://msgraph-user-gateway/Users.ManageAuthMethods';
const OIDC = ['openid', 'profile', 'offline_access'];

let emulator: TestEmulator;
let gw: TestGateway;
let gatewayApp: AppRegistration;
let savedScopes: string[];

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 60 });
  gatewayApp = emulator.tenant.apps.get(emulator.tenant.wellKnown.demoAppId)!;
  savedScopes = [...gatewayApp.graphDelegatedScopes];
  gw = await startTestGateway({
    emulator,
    env: { CALLER_AUTH: 'entra', API_AUDIENCE: 'api://msgraph-user-gateway', GRAPH_AUTH_FLOW: 'on-behalf-of' },
  });
}, 60_000);
afterAll(async () => {
  if (gatewayApp) gatewayApp.graphDelegatedScopes = savedScopes;
  await gw?.close();
  await emulator?.close();
});

const ordinaryUser = ordinaryUserPicker(() => emulator);
const admin = () => emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!;
const passesOf = (id: string) => emulator.tenant.users.get(id)!.authMethods.filter((m) => m.type === 'temporaryAccessPass');

/**
 * A member who may create passes for users without admin roles in Entra (Authentication Administrator),
 * and by default reads role assignments and PIM eligibilities (Global Reader: the PIM and
 * role-assignment pages' least role for delegated reads), which the eligibility lookup needs.
 */
function authenticationAdministrator(roles: string[] = ['Global Reader']): UserRecord {
  const user = ordinaryUser((u) => !u.userPrincipalName.includes("'"));
  user._directoryRoles = ['Authentication Administrator', ...roles];
  return user;
}

/** The delegated Graph permissions consented for the gateway's app: what each OBO token will carry. */
function consent(scopes: string[]): void {
  gatewayApp.graphDelegatedScopes = [...scopes, ...OIDC];
}

async function createPass(caller: UserRecord, target: string, operationName: string) {
  // A fresh caller token per call: the gateway's OBO cache is per assertion, and the consent may have changed.
  const token = await userCallerToken(emulator, caller.userPrincipalName, caller._password, CALLER_SCOPE);
  return gw.graphql(
    `mutation ${operationName} { createTemporaryAccessPass(input: {user: "${target}"}) { temporaryAccessPass { temporaryAccessPass } } }`,
    undefined,
    { authorization: `Bearer ${token}` },
  );
}

describe('on behalf of a caller without Users.ManageAdmins', () => {
  it('delegated User.Read.All without a permission that reads roles: the lookup sees the limited roles and the administrator is refused; an ordinary user gets a pass', async () => {
    consent([
      'User.Read',
      'User.Read.All',
      // The role-assignable groups and their owners (docs/security.md#administrators-as-targets).
      'GroupMember.Read.All',
      'UserAuthenticationMethod.ReadWrite.All',
      'RoleManagement.Read.Directory',
      'PrivilegedEligibilitySchedule.Read.AzureADGroup',
    ]);
    const caller = authenticationAdministrator();
    await emulator.resetStats();
    const refused = await createPass(caller, admin().id, 'OboAdminPass');
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET', argument: 'user' });
    const stats = await emulator.stats();
    expect(stats.batch.itemsByRoute[ROLE_LOOKUP]).toBe(1);
    expect(stats.byRoute[TAP_CREATE] ?? 0).toBe(0);
    expect(auditEvents(gw).filter((e) => e.operationName === 'OboAdminPass')).toEqual([
      expect.objectContaining({ outcome: 'refused', reasonDetail: 'ADMINISTRATOR_TARGET', steps: [] }),
    ]);

    const target = ordinaryUser();
    const created = await createPass(caller, target.id, 'OboOrdinaryPass');
    expect(created.errors).toBeUndefined();
    expect(passesOf(target.id)).toHaveLength(1);
  });

  it("without a delegated permission that reads another user's memberships the check fails closed, though the app holds User.Read.All as an application permission", async () => {
    // The demo app's own delegated consent: User.ReadWrite.All and Directory.AccessAsUser.All are not on the page's list.
    consent(['User.Read', 'User.ReadWrite.All', 'Directory.AccessAsUser.All', 'UserAuthenticationMethod.ReadWrite.All']);
    expect(gatewayApp.graphAppRoles).toContain('User.Read.All');
    const caller = authenticationAdministrator();
    const target = ordinaryUser();
    await emulator.resetStats();
    const result = await createPass(caller, target.id, 'OboUncheckedPass');
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_CHECK_FAILED', argument: 'user' });
    expect(result.errors![0]!.message).toContain('on-behalf-of');
    expect(result.errors![0]!.message).toContain('User.Read.All');
    expect(passesOf(target.id)).toHaveLength(0);
    expect((await emulator.stats()).byRoute[TAP_CREATE] ?? 0).toBe(0);
  });

  it('RoleManagement.Read.Directory consented but a signed-in caller without a role that reads eligibilities: the eligibility lookup is refused and the check fails closed, naming the permission', async () => {
    consent([
      'User.Read',
      'User.Read.All',
      'UserAuthenticationMethod.ReadWrite.All',
      'RoleManagement.Read.Directory',
      'PrivilegedEligibilitySchedule.Read.AzureADGroup',
    ]);
    const caller = authenticationAdministrator([]);
    const target = ordinaryUser();
    await emulator.resetStats();
    const result = await createPass(caller, target.id, 'OboNoReaderRolePass');
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({
      reason: 'ADMINISTRATOR_CHECK_FAILED',
      permission: 'RoleManagement.Read.Directory',
      argument: 'user',
    });
    expect(result.errors![0]!.message).toContain('Global Reader');
    expect(passesOf(target.id)).toHaveLength(0);
    const stats = await emulator.stats();
    expect(stats.batch.itemsByRoute['GET /v1.0/roleManagement/directory/roleEligibilityScheduleInstances']).toBe(1);
    expect(stats.byRoute[TAP_CREATE] ?? 0).toBe(0);
  });
});
