import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../../src/emulator/model.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { ordinaryUserPicker } from './support.js';

/**
 * revokeSignInSessions answers 200 `{"value": true}` today, and its known issue ("Revoke sign-in
 * sessions returns wrong HTTP code") says it should answer 204 No Content and that clients take any
 * 2xx as success (docs/graph-facts.md#writes-and-permissions). The gateway must be right under both:
 * here the emulator gives the documented 204 (src/emulator/graph-settings.ts), alone and inside the
 * `$batch` of terminateSession. Real gateway, real sockets.
 */

let emulator: TestEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 200 });
  gw = await startTestGateway({ emulator, env: { DEPLOYMENT_MODE: 'self-deployed' } });
  const set = await emulator.setGraph({ revokeSignInSessionsStatus: 204 });
  expect(set.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await emulator?.close();
});

const ordinaryUser = ordinaryUserPicker(() => emulator);
const whole = async () => new Promise((r) => setTimeout(r, 1100)); // revocation has whole-second granularity
function guest(): UserRecord {
  const found = [...emulator.tenant.users.values()].find((u) => u.userType === 'Guest' && u.userPrincipalName.includes('#EXT#') && u.accountEnabled);
  if (!found) throw new Error('the seeded tenant has no enabled guest');
  return found;
}

describe('revokeSignInSessions answered 204 No Content (the documented answer)', () => {
  it('revokeSignInSessions: revoked, no caveat, no error', async () => {
    const target = ordinaryUser();
    const before = target.signInSessionsValidFromDateTime;
    await whole();
    const result = await gw.graphql(`mutation ($u: ID!) { revokeSignInSessions(input: { user: $u }) { revoked caveat } }`, { u: target.id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.revokeSignInSessions).toEqual({ revoked: true, caveat: null });
    expect(target.signInSessionsValidFromDateTime > before).toBe(true);
  });

  it('an external user: still revoked false with the caveat (the 204 says nothing either way)', async () => {
    const result = await gw.graphql(`mutation ($u: ID!) { revokeSignInSessions(input: { user: $u }) { revoked caveat } }`, { u: guest().id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.revokeSignInSessions.revoked).toBe(false);
    expect(result.data!.revokeSignInSessions.caveat).toMatch(/external/);
  });

  it('terminateSession: both steps SUCCEEDED in one $batch', async () => {
    const target = ordinaryUser();
    await whole();
    const before = target.signInSessionsValidFromDateTime;
    const result = await gw.graphql(`mutation ($u: ID!) { terminateSession(input: { user: $u }) { succeeded steps { step outcome caveat } } }`, {
      u: target.userPrincipalName,
    });
    expect(result.errors).toBeUndefined();
    expect(result.data!.terminateSession).toEqual({
      succeeded: true,
      steps: [
        { step: 'REVOKE_SESSIONS', outcome: 'SUCCEEDED', caveat: null },
        { step: 'DISABLE_ACCOUNT', outcome: 'SUCCEEDED', caveat: null },
      ],
    });
    expect(target.accountEnabled).toBe(false);
    expect(target.signInSessionsValidFromDateTime > before).toBe(true);
  });
});
