import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeTokenFailure } from '../../src/doctor/acquire-token.js';
import { aadstsAdvice } from '../../src/doctor/aadsts-advice.js';
import { demoAppAuthorizationCode, startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { doctorInProcess, tenantEnv } from './support.js';

/**
 * The doctor's advice for the codes an authorization code is refused with. `npm run auth:reset`
 * deletes the stored identity: it is the advice for a dead stored grant, never for a code that was
 * merely used already (nothing stored is wrong then, and a reset would take a working gateway down).
 */
describe('doctor advice for a refused authorization code', () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 20 });
  }, 60_000);
  afterAll(() => emulator?.close());

  it('a spent AUTH_CODE (AADSTS54005): a fresh AUTH_CODE or a sign-in, no reset', async () => {
    const known = emulator.tenant.wellKnown;
    const redirectUri = 'http://127.0.0.1:4000/auth/callback';
    const code = await demoAppAuthorizationCode(emulator, redirectUri);
    // Someone (a first start of the gateway) already redeemed it.
    const redeemed = await emulator.fetch(`/${emulator.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: known.demoAppId,
        client_secret: known.demoAppSecret,
        code,
        redirect_uri: redirectUri,
        scope: `offline_access ${emulator.graphEndpoint}/.default`,
      }).toString(),
    });
    expect(redeemed.status).toBe(200);

    const result = await doctorInProcess(
      tenantEnv(
        emulator,
        { appId: known.demoAppId, secrets: [known.demoAppSecret] },
        { GRAPH_AUTH_FLOW: 'authorization-code', AUTH_CODE: code, REDIRECT_URI: redirectUri, TOKEN_CACHE_KEY: Buffer.alloc(32, 3).toString('base64') },
      ),
    );
    const token = result.lines.find((l) => /^failed\s+token: /.test(l));
    expect(token).toMatch(/AADSTS54005/);
    expect(token).toMatch(/set a fresh AUTH_CODE/);
    expect(token).not.toContain('auth:reset');
    expect(result.stdout).not.toContain(code);
  });

  it('AADSTS70008 (expired): the reset only for the stored sign-in', () => {
    const text = describeTokenFailure(
      'authorization-code',
      { errorCode: 'invalid_grant', errorNo: '70008', errorMessage: 'AADSTS70008: The provided authorization code or refresh token has expired.' },
      [],
    );
    expect(text).toMatch(/for the stored sign-in, run `npm run auth:reset` .*; for AUTH_CODE, set a fresh one/);
  });

  // docs/graph-facts.md#refresh-tokens: a password change by the user leaves a confidential client's
  // refresh token alive; a session revocation or an admin reset in the Entra admin center ends it.
  it("AADSTS50173 (revoked grant) names the events that revoke a confidential client's grant, not a password change by the user", () => {
    const advice = aadstsAdvice('AADSTS50173: The provided grant has expired due to it being revoked.')!;
    expect(advice.code).toBe('AADSTS50173');
    expect(advice.advice).toMatch(/sign-in sessions were revoked/);
    expect(advice.advice).toMatch(/Entra admin center/);
    expect(advice.advice).not.toMatch(/password changed/);
    expect(advice.advice).toContain('npm run auth:reset');
  });
});
