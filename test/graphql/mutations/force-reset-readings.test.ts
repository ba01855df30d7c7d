import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerApp } from '../../../src/emulator/apps.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { actingAsApp, startTestGateway, type TestGateway } from '../../support/gateway.js';
import { auditEvents, ordinaryUserPicker } from './support.js';

/**
 * forceResetPassword sends `{"passwordProfile": {"forceChangePasswordNextSignIn": true}}` without a
 * password. microsoftgraph/microsoft-graph-docs#4267 reports Graph answering 204 and changing nothing;
 * later reports have it work (docs/graph-facts.md#writes-and-permissions, "Forcing a password change").
 * The gateway reads the flag back and says which happened; here under both readings (the emulator's
 * `forceChangeWithoutPassword` switch, src/emulator/graph-settings.ts). The audit event says it too:
 * a CONFIRM_FORCE_PASSWORD_CHANGE step after the write, SUCCEEDED or FAILED as the read showed
 * (docs/mutations.md#audit). Real gateway, real sockets.
 */

let emulator: TestEmulator;
let gw: TestGateway;
/** A Graph app holding User-PasswordProfile.ReadWrite.All alone: it may write the flag and not read the user back. */
let passwordOnly: TestGateway;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 200 });
  gw = await startTestGateway({ emulator, env: { DEPLOYMENT_MODE: 'self-deployed' } });
  const app = registerApp(emulator.tenant, {
    displayName: 'password profile only',
    graphAppRoles: ['User-PasswordProfile.ReadWrite.All'],
    directoryRoles: ['Privileged Authentication Administrator'],
  });
  passwordOnly = await startTestGateway({
    emulator,
    env: { DEPLOYMENT_MODE: 'self-deployed' },
    configure: actingAsApp(app),
  });
}, 60_000);

afterAll(async () => {
  await passwordOnly?.close();
  await gw?.close();
  await emulator?.close();
});

const ordinaryUser = ordinaryUserPicker(() => emulator);
const setReading = async (reading: 'applied' | 'ignored') => {
  const set = await emulator.setGraph({ forceChangeWithoutPassword: reading });
  expect(set.status).toBe(200);
};
const mutation = (user: string) =>
  `mutation { forceResetPassword(input: {user: "${user}"}) { forceChangePasswordNextSignIn forceChangePasswordNextSignInConfirmed requestId } }`;

const eventFor = (user: string, gateway: TestGateway = gw) => {
  const events = auditEvents(gateway).filter((e) => e.operation === 'forceResetPassword' && e.targetUser === user);
  expect(events).toHaveLength(1);
  return events[0]!;
};

describe('forceResetPassword under both readings of a passwordProfile without a password', () => {
  it('Graph applies it: confirmed true, read back after the 204', async () => {
    await setReading('applied');
    const target = ordinaryUser();
    const result = await gw.graphql(mutation(target.id));
    expect(result.errors).toBeUndefined();
    expect(result.data!.forceResetPassword).toMatchObject({ forceChangePasswordNextSignIn: true, forceChangePasswordNextSignInConfirmed: true });
    expect(emulator.tenant.users.get(target.id)!.passwordProfile.forceChangePasswordNextSignIn).toBe(true);
    const event = eventFor(target.id);
    expect(event).toMatchObject({ outcome: 'succeeded' });
    expect(event.steps).toEqual([
      expect.objectContaining({ step: 'FORCE_PASSWORD_CHANGE', succeeded: true, outcome: 'SUCCEEDED', status: 204 }),
      expect.objectContaining({ step: 'CONFIRM_FORCE_PASSWORD_CHANGE', succeeded: true, outcome: 'SUCCEEDED', status: 200, requestId: expect.any(String) }),
    ]);
    expect(event.requestIds).toEqual([event.steps[0].requestId, event.steps[1].requestId]);
  });

  it('regression: Graph answers 204 and changes nothing (microsoft-graph-docs#4267): confirmed false, never a claim that it took effect', async () => {
    await setReading('ignored');
    try {
      const target = ordinaryUser();
      expect(target.passwordProfile.forceChangePasswordNextSignIn).toBe(false);
      const result = await gw.graphql(mutation(target.id));
      expect(result.errors).toBeUndefined();
      expect(result.data!.forceResetPassword).toMatchObject({ forceChangePasswordNextSignInConfirmed: false });
      expect(typeof (result.data!.forceResetPassword as { requestId: unknown }).requestId).toBe('string');
      expect(emulator.tenant.users.get(target.id)!.passwordProfile.forceChangePasswordNextSignIn).toBe(false);
      // Before, the event said `succeeded` with the write's step alone.
      const event = eventFor(target.id);
      expect(event).toMatchObject({ outcome: 'partial' });
      expect(event.steps).toEqual([
        expect.objectContaining({ step: 'FORCE_PASSWORD_CHANGE', succeeded: true, outcome: 'SUCCEEDED' }),
        expect.objectContaining({ step: 'CONFIRM_FORCE_PASSWORD_CHANGE', succeeded: false, outcome: 'FAILED', status: 200, caveat: expect.any(String) }),
      ]);
      expect(event.steps[1]).not.toHaveProperty('errorCode');
    } finally {
      await setReading('applied');
    }
  });

  it('the read-back is refused (the app may write the flag, not read the user): confirmed null, the event unknown with the read refusal', async () => {
    const target = ordinaryUser();
    const result = await passwordOnly.graphql(mutation(target.id));
    expect(result.errors).toBeUndefined();
    expect(result.data!.forceResetPassword).toMatchObject({ forceChangePasswordNextSignIn: true, forceChangePasswordNextSignInConfirmed: null });
    expect(emulator.tenant.users.get(target.id)!.passwordProfile.forceChangePasswordNextSignIn).toBe(true);
    const event = eventFor(target.id, passwordOnly);
    expect(event).toMatchObject({ outcome: 'unknown' });
    expect(event.steps).toEqual([
      expect.objectContaining({ step: 'FORCE_PASSWORD_CHANGE', succeeded: true, outcome: 'SUCCEEDED', status: 204 }),
      expect.objectContaining({ step: 'CONFIRM_FORCE_PASSWORD_CHANGE', succeeded: false, outcome: 'UNKNOWN', status: 403, errorCode: 'FORBIDDEN' }),
    ]);
  });
});
