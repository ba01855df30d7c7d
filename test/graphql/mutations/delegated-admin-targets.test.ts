import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../../src/emulator/model.js';
import { startDelegatedApp, type DelegatedApp } from '../../support/delegated-app.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { ordinaryUserPicker } from './support.js';

/**
 * A delegated Graph identity whose consent lacks Directory.AccessAsUser.All, end to end: the signed-in
 * Global Administrator outranks every target, yet Graph changes an administrator's sensitive properties
 * only when the token also carries Directory.AccessAsUser.All (user-update's note;
 * docs/graph-facts.md#writes-and-permissions, docs/mutations.md#delegated-edits-of-administrators). The
 * gateway reports FORBIDDEN with Graph's code and claims nothing it did not do; users without admin
 * roles and non-sensitive properties still work; with the permission consented the same mutations go
 * through.
 */

let emulator: TestEmulator;
const ordinaryUser = ordinaryUserPicker(() => emulator);

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 60 });
}, 60_000);
afterAll(async () => emulator?.close());

/** An ordinary user of this test's own, made an administrator. */
function administrator(): UserRecord {
  const user = ordinaryUser();
  user._directoryRoles = ['Helpdesk Administrator'];
  return user;
}

function errorCodes(result: { errors: any[] | undefined }): unknown[] {
  return (result.errors ?? []).map((e) => [e.extensions?.code, e.extensions?.graphErrorCode]);
}

describe('consent without Directory.AccessAsUser.All', () => {
  let app: DelegatedApp;
  let consented: string[];

  beforeAll(async () => {
    const demo = emulator.tenant.apps.get(emulator.tenant.wellKnown.demoAppId)!;
    consented = [...demo.graphDelegatedScopes];
    demo.graphDelegatedScopes = consented.filter((s) => s !== 'Directory.AccessAsUser.All');
    app = await startDelegatedApp(emulator);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    emulator.tenant.apps.get(emulator.tenant.wellKnown.demoAppId)!.graphDelegatedScopes = consented;
  });

  it('disableAccount: FORBIDDEN (Authorization_RequestDenied) for an administrator, who stays enabled; a user without a role is disabled', async () => {
    const admin = administrator();
    const refused = await app.graphql(`mutation($u: ID!) { disableAccount(input: { user: $u }) { accountEnabled } }`, { u: admin.id });
    expect(errorCodes(refused)).toEqual([['FORBIDDEN', 'Authorization_RequestDenied']]);
    expect(refused.data).toBeNull();
    expect(admin.accountEnabled).toBe(true);

    const plain = ordinaryUser();
    const done = await app.graphql(`mutation($u: ID!) { disableAccount(input: { user: $u }) { accountEnabled } }`, { u: plain.id });
    expect(done.errors).toBeUndefined();
    expect(done.data.disableAccount.accountEnabled).toBe(false);
    expect(plain.accountEnabled).toBe(false);
  });

  it('terminateSession on an administrator: the sessions are revoked, the disable step is FORBIDDEN and the mutation does not claim success', async () => {
    const admin = administrator();
    const before = admin.signInSessionsValidFromDateTime;
    await new Promise((r) => setTimeout(r, 1100)); // revocation has whole-second granularity
    const result = await app.graphql(
      `mutation($u: ID!) { terminateSession(input: { user: $u }) { succeeded steps { step succeeded error { code message } } } }`,
      { u: admin.id },
    );
    expect(result.errors).toBeUndefined();
    const payload = result.data.terminateSession;
    expect(payload.succeeded).toBe(false);
    expect(payload.steps).toEqual([
      { step: 'REVOKE_SESSIONS', succeeded: true, error: null },
      { step: 'DISABLE_ACCOUNT', succeeded: false, error: { code: 'FORBIDDEN', message: expect.stringContaining('Authorization_RequestDenied') } },
    ]);
    expect(admin.signInSessionsValidFromDateTime).not.toBe(before);
    expect(admin.accountEnabled).toBe(true);
  });

  it("updateUser: an administrator's phone is FORBIDDEN and unchanged, their job title is changed", async () => {
    const admin = administrator();
    const phone = admin.mobilePhone;
    const refused = await app.graphql(`mutation($u: ID!) { updateUser(input: { user: $u, mobilePhone: "+1 425 555 0199" }) { updatedFields } }`, {
      u: admin.id,
    });
    expect(errorCodes(refused)).toEqual([['FORBIDDEN', 'Authorization_RequestDenied']]);
    expect(admin.mobilePhone).toBe(phone);

    const done = await app.graphql(`mutation($u: ID!) { updateUser(input: { user: $u, jobTitle: "Helpdesk lead" }) { updatedFields } }`, { u: admin.id });
    expect(done.errors).toBeUndefined();
    expect(admin.jobTitle).toBe('Helpdesk lead');
  });
});

describe('consent with Directory.AccessAsUser.All (the sandbox demo app)', () => {
  let app: DelegatedApp;
  beforeAll(async () => {
    app = await startDelegatedApp(emulator);
  }, 60_000);
  afterAll(async () => app?.close());

  it('disables an administrator and changes their phone', async () => {
    const admin = administrator();
    const disabled = await app.graphql(`mutation($u: ID!) { disableAccount(input: { user: $u }) { accountEnabled } }`, { u: admin.id });
    expect(disabled.errors).toBeUndefined();
    expect(admin.accountEnabled).toBe(false);
    const phone = await app.graphql(`mutation($u: ID!) { updateUser(input: { user: $u, mobilePhone: "+1 425 555 0199" }) { updatedFields } }`, {
      u: admin.id,
    });
    expect(phone.errors).toBeUndefined();
    expect(admin.mobilePhone).toBe('+1 425 555 0199');
  });
});
