import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { GroupRecord, UserRecord } from '../../../src/emulator/model.js';
import type { Permission } from '../../../src/permissions.js';
import { apiKeyCallers } from '../../support/api-key-callers.js';
import type { TestEmulator } from '../../support/emulator.js';
import type { TestGateway } from '../../support/gateway.js';
import { logRecordsOf } from '../../support/log-capture.js';

/**
 * Distinct ordinary users for each test of a file (enabled cloud members without roles, never the admin
 * nor a `$`-prefixed one), so that one test's write never changes another's user. `extra` narrows
 * the choice further.
 */
export function ordinaryUserPicker(emulator: () => TestEmulator): (extra?: (u: UserRecord) => boolean) => UserRecord {
  const taken = new Set<string>();
  return (extra = () => true) => {
    const tenant = emulator().tenant;
    const user = [...tenant.users.values()].find(
      (u) =>
        !taken.has(u.id) &&
        u.accountEnabled &&
        u.userType === 'Member' &&
        u._directoryRoles.length === 0 &&
        // Nor an administrator only eligible through PIM or scoped to an administrative unit.
        (u._eligibleRoles ?? []).length === 0 &&
        (u._scopedRoles ?? []).length === 0 &&
        // Synced from on-premises: Graph takes only accountEnabled for them (docs/graph-facts.md#writes-and-permissions).
        !u.onPremisesSyncEnabled &&
        !u.userPrincipalName.startsWith('$') &&
        u.id !== tenant.wellKnown.adminUserId &&
        extra(u),
    );
    if (!user) throw new Error('no ordinary user left');
    taken.add(user.id);
    return user;
  };
}

/** The audit events in a gateway's log, in order. */
export function auditEvents(gateway: TestGateway): Array<Record<string, any>> {
  return logRecordsOf(gateway.logLines).filter((r) => r.audit === true);
}

/** A gateway's audit events of one operation. */
export function eventsOf(gateway: TestGateway, operationName: string): Array<Record<string, any>> {
  return auditEvents(gateway).filter((e) => e.operationName === operationName);
}

/** The Temporary Access Passes a user holds in the emulator. */
export function passesOf(emulator: TestEmulator, id: string) {
  return emulator.tenant.users.get(id)!.authMethods.filter((m) => m.type === 'temporaryAccessPass');
}

/** `createTemporaryAccessPass` for `user`, as the caller of API key `key`, under `operationName`. */
export function createPass(gateway: TestGateway, key: string, user: string, operationName: string) {
  return gateway.graphql(
    `mutation ${operationName} { createTemporaryAccessPass(input: {user: "${user}"}) { temporaryAccessPass { temporaryAccessPass } } }`,
    undefined,
    { 'x-api-key': key },
  );
}

/** A group added to the emulator tenant; role-assignable unless `fields` say otherwise. */
export function addGroup(emulator: TestEmulator, fields: Partial<GroupRecord> = {}): GroupRecord {
  const id = randomUUID();
  const record: GroupRecord = {
    id,
    displayName: `Role group ${id.slice(0, 8)}`,
    description: null,
    mail: null,
    mailEnabled: false,
    securityEnabled: true,
    groupTypes: [],
    isAssignableToRole: true,
    ...fields,
  };
  emulator.tenant.groups.set(id, record);
  return record;
}

/** The API keys of the administrator-target suites' callers (see deskCallers). */
export const DESK_KEYS = {
  helpdesk: 'helpdesk-key-0123456789abcdef',
  privileged: 'privileged-helpdesk-key-0123456789',
  passwords: 'password-desk-key-0123456789abcdef',
  responder: 'responder-key-0123456789abcdef',
  provisioner: 'provisioner-key-0123456789abcdef',
} as const;

const DESK_PERMISSIONS: Record<keyof typeof DESK_KEYS, readonly Permission[]> = {
  helpdesk: ['Users.ManageAuthMethods'],
  privileged: ['Users.ManageAuthMethods', 'Users.ManageAdmins'],
  passwords: ['Users.ChangePassword'],
  responder: ['Users.Terminate'],
  provisioner: ['Users.Write'],
};

/** The gateway environment for the named desk callers, each with its key from DESK_KEYS and its permissions. */
export function deskCallers(...names: Array<keyof typeof DESK_KEYS>): ReturnType<typeof apiKeyCallers> {
  return apiKeyCallers(Object.fromEntries(names.map((name) => [name, { key: DESK_KEYS[name], permissions: DESK_PERMISSIONS[name] }])));
}

/** Requests of an emulator route in `stats`, sent on their own or as `$batch` items. */
export function sentTo(stats: Awaited<ReturnType<TestEmulator['stats']>>, route: string): number {
  return (stats.byRoute[route] ?? 0) + (stats.batch.itemsByRoute[route] ?? 0);
}

/** The one error of a mutation refused because its target is an administrator and the caller lacks Users.ManageAdmins. */
export function expectAdministratorRefusal(result: { errors?: Array<{ extensions?: Record<string, unknown> }> | undefined }): void {
  expect(result.errors).toHaveLength(1);
  expect(result.errors![0]!.extensions).toMatchObject({
    code: 'FORBIDDEN',
    reason: 'ADMINISTRATOR_TARGET',
    argument: 'user',
    permission: 'Users.ManageAdmins',
  });
}
