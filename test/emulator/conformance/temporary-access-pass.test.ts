/**
 * docs/graph-facts.md#temporary-access-pass: creating a pass under the tenant's policy.
 * - Create page (learn.microsoft.com/graph/api/authentication-post-temporaryaccesspassmethods): every
 *   property is optional; an omitted lifetimeInMinutes is the policy's defaultLifetimeInMinutes; a
 *   reusable pass (isUsableOnce false) is created only where the policy allows it; a new pass while
 *   one is valid deletes the previous one; its example with a future startDateTime answers
 *   `isUsable: false`, `methodUsabilityReason: "NotYetValid"`.
 * - Resource pages (resources/temporaryaccesspassauthenticationmethod,
 *   resources/temporaryaccesspassauthenticationmethodconfiguration): lifetime 10..43200 minutes;
 *   reasons EnabledByPolicy, DisabledByPolicy, Expired, NotYetValid, OneTimeUsed; the policy's
 *   isUsableOnce true restricts every pass of the tenant to one-time use.
 * - Entra's defaults (learn.microsoft.com/entra/identity/authentication/howto-authentication-temporary-access-pass):
 *   minimum lifetime 1 hour, maximum 8 hours, default 1 hour, one-time use false, length 8.
 * - A lifetime outside the policy's bounds: 400 `badRequest` "Invalid LifetimeInMinutes specified.
 *   The valid range between 60 and 480." (a field report, microsoftgraph/microsoft-graph-docs#12187).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../../src/emulator/model.js';
import { ENTRA_DEFAULT_TAP_POLICY, applyTapPolicy, tapPolicyFromEnv } from '../../../src/emulator/tap-policy.js';
import { registerApp, USER_ADMIN_APP_ID } from '../graph/graph-client.js';
import { type Conformance, graphErrorCode, mintToken, plainUserPicker, startConformance } from './support.js';

let c: Conformance;
/** The emulator's injected clock: tests move it to see a pass start and expire. */
const clock = { offsetMs: 0 };

beforeAll(async () => {
  // The suite's app: every Graph application permission, service principal a Privileged Authentication Administrator.
  c = await startConformance(['Privileged Authentication Administrator'], { userCount: 60, now: () => Date.now() + clock.offsetMs });
});
afterAll(async () => c.close());
afterEach(async () => {
  clock.offsetMs = 0;
  await setPolicy(ENTRA_DEFAULT_TAP_POLICY);
});

async function setPolicy(settings: object): Promise<{ status: number; body: any }> {
  const res = await c.emulator.fetch('/_emulator/tap-policy', { method: 'POST', body: JSON.stringify(settings) });
  return { status: res.status, body: await res.json() };
}

const plainUser = plainUserPicker(() => c);
const tapPath = (user: UserRecord) => `/v1.0/users/${user.id}/authentication/temporaryAccessPassMethods`;
const create = (user: UserRecord, body: object = {}) => c.graph('POST', tapPath(user), { body });

describe("the tenant's policy (Entra's defaults; temporaryaccesspassauthenticationmethodconfiguration)", () => {
  it('starts as Entra ships it: 60..480 minutes, default 60, one-time use false, length 8', async () => {
    const res = await c.emulator.fetch('/_emulator/tap-policy');
    expect(await res.json()).toEqual({
      state: 'enabled',
      minimumLifetimeInMinutes: 60,
      maximumLifetimeInMinutes: 480,
      defaultLifetimeInMinutes: 60,
      isUsableOnce: false,
      defaultLength: 8,
    });
  });

  it('takes only settings Graph documents as valid (lifetimes 10..43200, default within the bounds, length 8..48), and reset restores it', async () => {
    for (const bad of [
      { minimumLifetimeInMinutes: 5 },
      { maximumLifetimeInMinutes: 43_201 },
      { defaultLifetimeInMinutes: 500 },
      { minimumLifetimeInMinutes: 120, maximumLifetimeInMinutes: 60 },
      { defaultLength: 7 },
      { isUsableOnce: 'true' },
      { state: 'off' },
      { lifetime: 60 },
    ]) {
      expect((await setPolicy(bad)).status, JSON.stringify(bad)).toBe(400);
    }
    expect((await setPolicy({ isUsableOnce: true, defaultLength: 12 })).body).toMatchObject({ isUsableOnce: true, defaultLength: 12 });
    await c.emulator.reset();
    // A new tenant: the suite's app and the user records are registered and read again.
    registerApp(c.emulator, USER_ADMIN_APP_ID, ['Privileged Authentication Administrator']);
    c.users = [...c.emulator.tenant.users.values()];
    expect(await (await c.emulator.fetch('/_emulator/tap-policy')).json()).toEqual({ ...ENTRA_DEFAULT_TAP_POLICY });
    expect(tapPolicyFromEnv({ EMULATOR_TAP_POLICY: '{"isUsableOnce":true}' })).toEqual({ isUsableOnce: true });
    expect(() => tapPolicyFromEnv({ EMULATOR_TAP_POLICY: '{"maximumLifetimeInMinutes":5}' })).toThrow(/EMULATOR_TAP_POLICY/);
    expect(() => tapPolicyFromEnv({ EMULATOR_TAP_POLICY: 'one-time' })).toThrow(/JSON object/);
    expect(applyTapPolicy(ENTRA_DEFAULT_TAP_POLICY, {})).toEqual(ENTRA_DEFAULT_TAP_POLICY);
  });
});

describe('POST temporaryAccessPassMethods (authentication-post-temporaryaccesspassmethods)', () => {
  it('regression: with nothing given, the lifetime is the policy default and the pass is reusable where the policy allows it; the pass has the policy length', async () => {
    const res = await create(plainUser());
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethod',
      lifetimeInMinutes: 60,
      isUsableOnce: false,
      isUsable: true,
      methodUsabilityReason: 'EnabledByPolicy',
    });
    expect(res.body.temporaryAccessPass).toHaveLength(8);
    await setPolicy({ defaultLifetimeInMinutes: 240, defaultLength: 20 });
    const longer = await create(plainUser());
    expect(longer.body.lifetimeInMinutes).toBe(240);
    expect(longer.body.temporaryAccessPass).toHaveLength(20);
  });

  it('regression: a lifetime outside the policy bounds is 400 badRequest naming the range (field report), though 10..43200 is the resource range', async () => {
    const user = plainUser();
    for (const lifetimeInMinutes of [30, 481, 5, 50_000]) {
      const res = await create(user, { lifetimeInMinutes });
      expect(res.status, String(lifetimeInMinutes)).toBe(400);
      expect(graphErrorCode(res)).toBe('badRequest');
      expect(res.body.error.message).toBe('Invalid LifetimeInMinutes specified. The valid range between 60 and 480.');
    }
    expect((await create(user, { lifetimeInMinutes: 480 })).status).toBe(201);
    await setPolicy({ minimumLifetimeInMinutes: 10, maximumLifetimeInMinutes: 43_200 });
    expect((await create(user, { lifetimeInMinutes: 30 })).body.lifetimeInMinutes).toBe(30);
    expect((await create(user, { lifetimeInMinutes: 5 })).body.error.message).toBe(
      'Invalid LifetimeInMinutes specified. The valid range between 10 and 43200.',
    );
  });

  it('regression: under a one-time-only policy a reusable pass is refused (400) and an omitted isUsableOnce gives a one-time pass', async () => {
    await setPolicy({ isUsableOnce: true });
    const user = plainUser();
    const reusable = await create(user, { isUsableOnce: false });
    expect(reusable.status).toBe(400);
    expect(graphErrorCode(reusable)).toBe('badRequest');
    expect(user.authMethods.some((m) => m.type === 'temporaryAccessPass')).toBe(false);
    const omitted = await create(user);
    expect(omitted.status).toBe(201);
    expect(omitted.body.isUsableOnce).toBe(true);
    expect((await create(user, { isUsableOnce: true })).status).toBe(201);
  });

  it('regression: a new pass while one is valid deletes the previous one and creates the new one (the user keeps one)', async () => {
    const user = plainUser();
    const first = await create(user);
    const second = await create(user, { isUsableOnce: true });
    expect(second.status).toBe(201);
    const listed = await c.graph('GET', tapPath(user));
    expect(listed.body.value.map((m: { id: string }) => m.id)).toEqual([second.body.id]);
    expect((await c.graph('GET', `${tapPath(user)}/${first.body.id}`)).status).toBe(404);
  });

  it('refuses values of the wrong JSON type (400) and creates nothing', async () => {
    const user = plainUser();
    for (const body of [
      { lifetimeInMinutes: '60' },
      { lifetimeInMinutes: 60.5 },
      { lifetimeInMinutes: null },
      { isUsableOnce: 'true' },
      { startDateTime: 'soon' },
    ]) {
      const res = await create(user, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect(user.authMethods.some((m) => m.type === 'temporaryAccessPass')).toBe(false);
  });

  // howto-authentication-temporary-access-pass, "Guest access": a pass can be added to an internal guest,
  // not to an external one; Graph answers "Temporary Access Pass cannot be added to an external guest user."
  it('an external (invited, #EXT#) guest gets no pass: 400 "Temporary Access Pass cannot be added to an external guest user."; an internal guest does', async () => {
    // The file's small tenant may seed no guest: one member becomes an invited guest for this test.
    const external = plainUser();
    const upn = external.userPrincipalName;
    external.userPrincipalName = `adele_fabrikam.example#EXT#@${c.emulator.tenant.domain}`;
    external.userType = 'Guest';
    const methodsBefore = [...external.authMethods];
    try {
      const refused = await create(external);
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toBe('Temporary Access Pass cannot be added to an external guest user.');
      expect(external.authMethods).toEqual(methodsBefore);
    } finally {
      external.userPrincipalName = upn;
      external.userType = 'Member';
    }
    const internal = plainUser();
    internal.userType = 'Guest';
    try {
      expect((await create(internal)).status).toBe(201);
    } finally {
      internal.userType = 'Member';
    }
  });

  it('under a disabled policy creates nothing (400, the stricter reading) and reports existing passes DisabledByPolicy', async () => {
    const user = plainUser();
    const made = await create(user);
    await setPolicy({ state: 'disabled' });
    const refused = await create(plainUser());
    expect(refused.status).toBe(400);
    expect(graphErrorCode(refused)).toBe('badRequest');
    const read = await c.graph('GET', `${tapPath(user)}/${made.body.id}`);
    expect(read.body).toMatchObject({ isUsable: false, methodUsabilityReason: 'DisabledByPolicy', temporaryAccessPass: null });
  });
});

describe('isUsable and methodUsabilityReason (resources/temporaryaccesspassauthenticationmethod)', () => {
  it('regression: a pass starting later is NotYetValid (the create example), EnabledByPolicy from its start, Expired after its lifetime', async () => {
    const user = plainUser();
    const start = new Date(Date.now() + 24 * 3600_000);
    const created = await create(user, { startDateTime: start.toISOString(), lifetimeInMinutes: 60, isUsableOnce: false });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ startDateTime: start.toISOString(), lifetimeInMinutes: 60, isUsable: false, methodUsabilityReason: 'NotYetValid' });
    const at = async (offsetMs: number) => {
      clock.offsetMs = offsetMs;
      // A token minted on the moved clock (one from now would have expired there).
      const token = await mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, issuedAt: Math.floor((Date.now() + offsetMs) / 1000) });
      return (await c.graph('GET', `${tapPath(user)}/${created.body.id}`, { token })).body;
    };
    expect(await at(24 * 3600_000 + 60_000)).toMatchObject({ isUsable: true, methodUsabilityReason: 'EnabledByPolicy' });
    expect(await at(25 * 3600_000 + 60_000)).toMatchObject({ isUsable: false, methodUsabilityReason: 'Expired' });
  });

  it('the seeded passes of the tenant, created years ago, read as Expired', async () => {
    const seeded = c.users
      .filter((u) => !plainUser.taken.has(u.id))
      .flatMap((u) => u.authMethods.filter((m) => m.type === 'temporaryAccessPass').map((m) => ({ user: u, id: m.id })));
    expect(seeded.length).toBeGreaterThan(0);
    const res = await c.graph('GET', `/v1.0/users/${seeded[0]!.user.id}/authentication/methods`);
    expect(res.body.value.find((m: { id: string }) => m.id === seeded[0]!.id)).toMatchObject({ isUsable: false, methodUsabilityReason: 'Expired' });
  });
});
