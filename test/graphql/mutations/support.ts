import { randomUUID } from 'node:crypto';
import type { GroupRecord, UserRecord } from '../../../src/emulator/model.js';
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
