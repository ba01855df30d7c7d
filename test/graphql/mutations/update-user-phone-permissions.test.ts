import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerApp } from '../../../src/emulator/apps.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { actingAsApp, startTestGateway, type TestGateway } from '../../support/gateway.js';
import { ordinaryUserPicker } from './support.js';

/**
 * updateUser with an app set up on user-update's least privileged permission, User.ReadUpdate.All.
 * The page's "Permissions for specific scenarios" names User-Phone.ReadWrite.All for businessPhones and
 * mobilePhone and never names User.ReadUpdate.All for them; the emulator takes the stricter reading
 * (it does not reach the phones; docs/graph-facts.md#writes-and-permissions). The gateway must then
 * change a job title, refuse a phone change as FORBIDDEN with Graph's reason and change nothing, also
 * when the phone comes with other properties in one call (one PATCH: never half applied). With
 * User-Phone.ReadWrite.All added the same call goes through. Real gateway, real sockets.
 */

let emulator: TestEmulator;
/** User.ReadUpdate.All (and User.Read.All, to read the user back), User Administrator. */
let readUpdate: TestGateway;
/** The same plus User-Phone.ReadWrite.All: what docs/mutations.md tells operators to grant for phones. */
let withPhones: TestGateway;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 80 });
  const start = async (graphAppRoles: string[]) =>
    startTestGateway({
      emulator,
      env: { DEPLOYMENT_MODE: 'self-deployed' },
      configure: actingAsApp(registerApp(emulator.tenant, { displayName: graphAppRoles.join(' '), graphAppRoles, directoryRoles: ['User Administrator'] })),
    });
  readUpdate = await start(['User.ReadUpdate.All', 'User.Read.All']);
  withPhones = await start(['User.ReadUpdate.All', 'User.Read.All', 'User-Phone.ReadWrite.All']);
}, 60_000);

afterAll(async () => {
  await withPhones?.close();
  await readUpdate?.close();
  await emulator?.close();
});

const ordinaryUser = ordinaryUserPicker(() => emulator);
const UPDATE = `mutation($u: ID!, $job: String, $mobile: String, $business: [String!]) {
  updateUser(input: { user: $u, jobTitle: $job, mobilePhone: $mobile, businessPhones: $business }) { updatedFields }
}`;

describe('updateUser with User.ReadUpdate.All (user-update, "Permissions for specific scenarios")', () => {
  it('changes a job title', async () => {
    const target = ordinaryUser();
    const done = await readUpdate.graphql(UPDATE, { u: target.id, job: 'Least privileged' });
    expect(done.errors).toBeUndefined();
    expect(done.data!.updateUser).toEqual({ updatedFields: ['jobTitle'] });
    expect(emulator.tenant.users.get(target.id)!.jobTitle).toBe('Least privileged');
  });

  it("regression: a phone change is FORBIDDEN with Graph's reason and changes nothing, alone or beside a job title", async () => {
    const target = ordinaryUser();
    const before = { ...emulator.tenant.users.get(target.id)! };
    for (const variables of [
      { u: target.id, mobile: '+1 425 555 0120' },
      { u: target.id, business: ['+1 425 555 0121'] },
      { u: target.id, job: 'Mixed', mobile: '+1 425 555 0122' },
    ]) {
      const refused = await readUpdate.graphql(UPDATE, variables);
      expect(refused.data, JSON.stringify(variables)).toBeNull();
      expect(refused.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe('FORBIDDEN');
      expect(refused.errors?.[0]?.message).toMatch(/Microsoft Graph denied the operation/);
      expect(refused.errors?.[0]?.extensions?.graphErrorCode).toBe('Authorization_RequestDenied');
    }
    const after = emulator.tenant.users.get(target.id)!;
    expect({ mobilePhone: after.mobilePhone, businessPhones: after.businessPhones, jobTitle: after.jobTitle }).toEqual({
      mobilePhone: before.mobilePhone,
      businessPhones: before.businessPhones,
      jobTitle: before.jobTitle,
    });
  });

  it('with User-Phone.ReadWrite.All added, the same phone and job title change goes through in one call', async () => {
    const target = ordinaryUser();
    const done = await withPhones.graphql(UPDATE, { u: target.id, job: 'Mixed', mobile: '+1 425 555 0123', business: ['+1 425 555 0124'] });
    expect(done.errors).toBeUndefined();
    const after = emulator.tenant.users.get(target.id)!;
    expect({ mobilePhone: after.mobilePhone, businessPhones: after.businessPhones, jobTitle: after.jobTitle }).toEqual({
      mobilePhone: '+1 425 555 0123',
      businessPhones: ['+1 425 555 0124'],
      jobTitle: 'Mixed',
    });
  });
});
