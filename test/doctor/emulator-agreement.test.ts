import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPH_OPERATIONS, NOT_SUPPORTED, type OperationId, type PermissionSet } from '../../src/doctor/feature-permissions.js';
import type { AuthMethodType, UserRecord } from '../../src/emulator/model.js';
import { graphCaller, mintToken, registerApp, USER_ADMIN_APP_ID } from '../emulator/graph/graph-client.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';

/**
 * The doctor's table and the emulator agree on the authentication-method calls
 * (docs/graph-facts.md#authentication-method-permissions) and on phone updates, whose least privileged
 * permission is User-Phone.ReadWrite.All (docs/graph-facts.md#writes-and-permissions): every permission set the doctor accepts
 * for a call gets that call through the emulator, app-only and delegated, so an app set up as the
 * doctor says is never refused by the tenant the tests run against.
 */
let emulator: TestEmulator;
let graph: ReturnType<typeof graphCaller>;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 80 });
  // The service principal outranks every target; only the permissions differ between calls.
  registerApp(emulator, USER_ADMIN_APP_ID, ['Privileged Authentication Administrator']);
  graph = graphCaller(emulator, () => {
    throw new Error('every call names its token');
  });
});
afterAll(async () => emulator?.close());

const taken = new Set<string>();
function plainUser(): UserRecord {
  const user = [...emulator.tenant.users.values()].find(
    (u) =>
      !taken.has(u.id) &&
      u.accountEnabled &&
      u.userType === 'Member' &&
      u._directoryRoles.length === 0 &&
      // A synced user's phones are read-only in the cloud (docs/graph-facts.md#writes-and-permissions).
      !u.onPremisesSyncEnabled &&
      u.id !== emulator.tenant.wellKnown.adminUserId,
  );
  if (!user) throw new Error('no plain user left');
  taken.add(user.id);
  return user;
}

/** The method type each per-type delete operation removes. */
const DELETES: Partial<Record<OperationId, AuthMethodType>> = {
  deleteEmailMethod: 'email',
  deletePhoneMethod: 'phone',
  deleteFido2Method: 'fido2',
  deleteMicrosoftAuthenticatorMethod: 'microsoftAuthenticator',
  deleteSoftwareOathMethod: 'softwareOath',
  deleteWindowsHelloMethod: 'windowsHelloForBusiness',
  deleteTemporaryAccessPassMethod: 'temporaryAccessPass',
  deletePlatformCredentialMethod: 'platformCredential',
  deleteExternalMethod: 'external',
};
/** Where each type's method is deleted, when not at `{type}Methods/{id}` (the types added later). */
const DELETE_PATHS: Partial<Record<AuthMethodType, (id: string) => string>> = {
  platformCredential: (id) => `platformCredentialMethods/${id}`,
  external: (id) => `externalAuthenticationMethods/${id}/$ref`,
};

/** The Graph calls an operation stands for, made against a fresh target with `token`; their statuses. */
async function perform(operation: OperationId, token: string): Promise<number[]> {
  const user = plainUser();
  if (operation === 'setPhones') {
    return [(await graph('PATCH', `/v1.0/users/${user.id}`, { body: { businessPhones: ['+1 425 555 0100'], mobilePhone: '+1 425 555 0101' }, token })).status];
  }
  const type = DELETES[operation];
  if (type) {
    const id = crypto.randomUUID();
    user.authMethods.push({ id, type, data: {} });
    const path = DELETE_PATHS[type]?.(id) ?? `${type}Methods/${id}`;
    return [(await graph('DELETE', `/v1.0/users/${user.id}/authentication/${path}`, { token })).status];
  }
  // temporaryAccessPass: POST, then DELETE of the pass it made.
  const created = await graph('POST', `/v1.0/users/${user.id}/authentication/temporaryAccessPassMethods`, { body: {}, token });
  if (created.status !== 201) return [created.status];
  const deleted = await graph('DELETE', `/v1.0/users/${user.id}/authentication/temporaryAccessPassMethods/${created.body.id}`, { token });
  return [created.status, deleted.status];
}

const OPERATIONS: OperationId[] = [...(Object.keys(DELETES) as OperationId[]), 'temporaryAccessPass', 'setPhones'];
const cases = OPERATIONS.flatMap((operation) => {
  const { application, delegated } = GRAPH_OPERATIONS[operation];
  const sets = (kind: 'application' | 'delegated', list: readonly PermissionSet[] | typeof NOT_SUPPORTED) =>
    list === NOT_SUPPORTED ? [] : list.map((set) => [operation, kind, set] as const);
  return [...sets('application', application), ...sets('delegated', delegated)];
});

describe('every permission set the doctor accepts for an authentication-method call or a phone update', () => {
  it.each(cases)('%s, %s, %j: the emulator lets it through', async (operation, kind, set) => {
    const token =
      kind === 'application'
        ? await mintToken(emulator, { appid: USER_ADMIN_APP_ID, roles: [...set] })
        : await mintToken(emulator, { appid: USER_ADMIN_APP_ID, scp: set.join(' '), oid: emulator.tenant.wellKnown.adminUserId });
    const statuses = await perform(operation, token);
    expect(statuses.filter((status) => status < 200 || status >= 300)).toEqual([]);
  });
});

/**
 * Sensitive writes on an administrator, delegated: the doctor says a signed-in user's token needs
 * `delegatedAdminTargets` besides the call's permission (user-update and user-delete notes,
 * docs/graph-facts.md#writes-and-permissions), and the emulator refuses exactly that: each delegated set
 * alone is 403 on a target holding a directory role, the same set with the admin set goes through. The
 * signed-in Global Administrator outranks every target, so only the token differs.
 */
const ADMIN_TARGET_WRITES: Partial<Record<OperationId, { method: 'PATCH' | 'DELETE'; body?: Record<string, unknown> }>> = {
  setAccountEnabled: { method: 'PATCH', body: { accountEnabled: false } },
  setPasswordProfile: { method: 'PATCH', body: { passwordProfile: { forceChangePasswordNextSignIn: true } } },
  setPhones: { method: 'PATCH', body: { mobilePhone: '+1 425 555 0101' } },
  deleteUser: { method: 'DELETE' },
};
const adminCases = (Object.keys(GRAPH_OPERATIONS) as OperationId[]).flatMap((operation) => {
  const { delegated, delegatedAdminTargets } = GRAPH_OPERATIONS[operation] as {
    delegated: readonly PermissionSet[];
    delegatedAdminTargets?: readonly PermissionSet[];
  };
  if (!delegatedAdminTargets) return [];
  return delegated.filter((set) => !delegatedAdminTargets.some((admin) => admin.every((p) => set.includes(p)))).map((set) => [operation, set] as const);
});

describe('sensitive writes on administrators, delegated: the doctor and the emulator agree', () => {
  it('every operation the doctor marks for administrators is one this test performs', () => {
    expect(adminCases.map(([operation]) => operation).sort()).toEqual(expect.arrayContaining(Object.keys(ADMIN_TARGET_WRITES).sort()));
    for (const [operation] of adminCases) expect(ADMIN_TARGET_WRITES[operation], operation).toBeDefined();
  });

  it.each(adminCases)('%s, %j: 403 on an administrator without Directory.AccessAsUser.All, 2xx with it', async (operation, set) => {
    const write = ADMIN_TARGET_WRITES[operation]!;
    const admin = emulator.tenant.wellKnown.adminUserId;
    const asUser = (scp: readonly string[]) => mintToken(emulator, { appid: USER_ADMIN_APP_ID, scp: scp.join(' '), oid: admin });
    const target = plainUser();
    target._directoryRoles = ['Helpdesk Administrator'];
    const send = async (token: string) =>
      (await graph(write.method, `/v1.0/users/${target.id}`, { ...(write.body ? { body: write.body } : {}), token })).status;
    expect(await send(await asUser(set))).toBe(403);
    const status = await send(await asUser([...set, 'Directory.AccessAsUser.All']));
    expect(status >= 200 && status < 300, String(status)).toBe(true);
  });
});
