import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoleGrantRecord } from '../../../src/emulator/model.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { addGroup, createPass, DESK_KEYS, deskCallers, ordinaryUserPicker, passesOf as passesIn } from './support.js';

/**
 * A tenant without Microsoft Entra ID P2 or Entra ID Governance (docs/security.md#administrators-as-targets,
 * docs/graph-facts.md#writes-and-permissions, "Licence"): Graph answers the PIM lists with 400
 * `AadPremiumLicenseRequired`. Before, the administrator-target check failed closed on it, so in such a
 * tenant (most tenants with P1 only) no helpdesk key could mint a pass or change a password for anyone.
 * Microsoft removes eligible assignments when the licence ends and nobody activates one without it, so
 * the answer now reads as "no eligibilities"; activated roles and active assignments at any scope,
 * which need no licence to list, are still checked. The emulator's answers: test/emulator/conformance/eligible-and-scoped-roles.test.ts.
 */

const HELPDESK = DESK_KEYS.helpdesk;
const GLOBAL_ADMIN: RoleGrantRecord = { role: 'Global Administrator', directoryScopeId: '/' };

let emulator: TestEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 40 });
  await emulator.setGraph({ pimLicence: 'unlicensed' });
  gw = await startTestGateway({ emulator, env: deskCallers('helpdesk') });
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await emulator?.close();
});

const ordinaryUser = ordinaryUserPicker(() => emulator);
const passesOf = (id: string) => passesIn(emulator, id);

describe('the administrator-target check in a tenant without the PIM licence', () => {
  it('an ordinary user gets a pass (before: ADMINISTRATOR_CHECK_FAILED for everyone)', async () => {
    const target = ordinaryUser();
    const result = await createPass(gw, HELPDESK, target.id, 'UnlicensedOrdinaryPass');
    expect(result.errors).toBeUndefined();
    expect(passesOf(target.id)).toHaveLength(1);
  });

  it('an activated administrator, one over an administrative unit, and a member of a group holding a role are still refused', async () => {
    const activated = [...emulator.tenant.users.values()].find((u) => u.id === emulator.tenant.wellKnown.adminUserId)!;
    const unitAdmin = ordinaryUser();
    unitAdmin._scopedRoles = [{ role: 'User Administrator', directoryScopeId: `/administrativeUnits/${randomUUID()}` }];
    const groupMember = ordinaryUser();
    groupMember.memberOf.push(addGroup(emulator, { _scopedRoles: [GLOBAL_ADMIN] }).id);
    for (const [target, name] of [
      [activated, 'UnlicensedActivatedPass'],
      [unitAdmin, 'UnlicensedUnitAdminPass'],
      [groupMember, 'UnlicensedGroupMemberPass'],
    ] as const) {
      const result = await createPass(gw, HELPDESK, target.id, name);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADMINISTRATOR_TARGET' });
      expect(passesOf(target.id)).toHaveLength(0);
    }
  });
});
