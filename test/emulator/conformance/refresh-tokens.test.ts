/**
 * docs/graph-facts.md#refresh-tokens (learn.microsoft.com/entra/identity-platform/refresh-tokens): a
 * refresh token replaces itself on every use and Entra "doesn't revoke old refresh tokens when used to
 * fetch new access tokens" (the emulator can make them single-use behind a switch, to prove a client
 * keeps the newest). Revocation, per the page's table for confidential clients (every app here is one):
 * revoking the user's refresh tokens (revokeSignInSessions) revokes them; a password change by the
 * user, SSPR or an admin reset in the Azure portal leaves them alive; only an admin reset in the
 * Microsoft Entra admin center is listed as revoking them, and a reset through Graph is not listed, so
 * the emulator keeps them. A disabled account cannot redeem them (AADSTS50057).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { GRAPH_DELEGATED_SCOPE, addTestUser, demoClient, ensureAdmin, passwordGrant, postToken } from '../entra/support.js';

let emulator: TestEmulator;
const GRAPH_DELEGATED = GRAPH_DELEGATED_SCOPE;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 50, now: () => Date.now() });
  ensureAdmin(emulator);
});
afterAll(async () => {
  await emulator?.close();
});

const demo = () => demoClient(emulator);

const ropc = (user: { userPrincipalName: string }, password: string, scope?: string, client?: { client_id: string; client_secret: string }) =>
  passwordGrant(emulator, user, password, scope, client);

describe('use and revocation (refresh-tokens)', () => {
  it('regression: are replaced on use, and the redeemed one stays valid as in Entra', async () => {
    const user = addTestUser(emulator, 'reused', 'Reused-Passw0rd!');
    const first = await ropc(user, 'Reused-Passw0rd!');
    const firstRefresh = String(first.body.refresh_token);
    const second = await postToken(emulator, { grant_type: 'refresh_token', ...demo(), refresh_token: firstRefresh, scope: GRAPH_DELEGATED });
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(firstRefresh);
    expect(decodeJwt(String(second.body.access_token)).oid).toBe(user.id);
    // The old one was not revoked by its use (docs/graph-facts.md#refresh-tokens).
    const reuse = await postToken(emulator, { grant_type: 'refresh_token', ...demo(), refresh_token: firstRefresh });
    expect(reuse.status).toBe(200);
    expect(decodeJwt(String(reuse.body.access_token)).oid).toBe(user.id);
    const otherClient = await postToken(emulator, {
      grant_type: 'refresh_token',
      client_id: emulator.tenant.wellKnown.readOnlyAppId,
      client_secret: emulator.tenant.wellKnown.readOnlyAppSecret,
      refresh_token: firstRefresh,
    });
    expect(otherClient.body.error).toBe('invalid_grant');
  });

  it('regression: are single-use behind the singleUseRefreshTokens switch (admin route), until reset', async () => {
    const setSwitch = async (value: unknown) =>
      emulator.fetch('/_emulator/identity', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ singleUseRefreshTokens: value }),
      });
    expect((await setSwitch('yes')).status).toBe(400);
    expect(await (await setSwitch(true)).json()).toEqual({ singleUseRefreshTokens: true, tokenRequestsPerMinute: null });
    try {
      const user = addTestUser(emulator, 'rotating', 'Rotating-Passw0rd!');
      const first = await ropc(user, 'Rotating-Passw0rd!');
      const firstRefresh = String(first.body.refresh_token);
      const second = await postToken(emulator, { grant_type: 'refresh_token', ...demo(), refresh_token: firstRefresh, scope: GRAPH_DELEGATED });
      expect(second.status).toBe(200);
      const replay = await postToken(emulator, { grant_type: 'refresh_token', ...demo(), refresh_token: firstRefresh });
      expect([replay.status, replay.body.error, replay.body.error_codes]).toEqual([400, 'invalid_grant', [70008]]);
      expect(replay.text).not.toContain(firstRefresh);
      const third = await postToken(emulator, { grant_type: 'refresh_token', ...demo(), refresh_token: String(second.body.refresh_token) });
      expect(third.status).toBe(200);
    } finally {
      await setSwitch(false);
    }
    expect(await (await emulator.fetch('/_emulator/identity')).json()).toEqual({ singleUseRefreshTokens: false, tokenRequestsPerMinute: null });
  });

  it('die when the user sessions are revoked (AADSTS50173) or the account is disabled (AADSTS50057)', async () => {
    const revoked = addTestUser(emulator, 'revoked', 'Revoked-Passw0rd!');
    const token = await ropc(revoked, 'Revoked-Passw0rd!');
    revoked.signInSessionsValidFromDateTime = new Date(Date.now() + 1000).toISOString();
    const afterRevoke = await postToken(emulator, { grant_type: 'refresh_token', ...demo(), refresh_token: String(token.body.refresh_token) });
    expect([afterRevoke.status, afterRevoke.body.error, afterRevoke.body.error_codes]).toEqual([400, 'invalid_grant', [50173]]);

    const disabled = addTestUser(emulator, 'disabled', 'Disabled-Passw0rd!');
    const before = await ropc(disabled, 'Disabled-Passw0rd!');
    disabled.accountEnabled = false;
    const afterDisable = await postToken(emulator, { grant_type: 'refresh_token', ...demo(), refresh_token: String(before.body.refresh_token) });
    expect([afterDisable.body.error, afterDisable.body.error_codes]).toEqual(['invalid_grant', [50057]]);
    const signIn = await ropc(disabled, 'Disabled-Passw0rd!');
    expect(signIn.body.error_codes).toEqual([50057]);
  });
});

describe("password changes leave a confidential client's refresh tokens alive (refresh-tokens revocation table)", () => {
  it('after an admin sets a new password through Graph (passwordProfile) the refresh token still redeems; revokeSignInSessions then kills it', async () => {
    const user = addTestUser(emulator, 'pw-change', 'PwChange-Passw0rd!');
    const first = await ropc(user, 'PwChange-Passw0rd!');
    expect(first.status).toBe(200);
    const adminToken = await ropc(emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!, emulator.tenant.wellKnown.adminPassword);
    const graph = (method: string, path: string, body: unknown) =>
      emulator.fetch(`/v1.0${path}`, {
        method,
        headers: { authorization: `Bearer ${String(adminToken.body.access_token)}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const patched = await graph('PATCH', `/users/${user.id}`, {
      passwordProfile: { password: 'PwChange-N3w-Passw0rd!', forceChangePasswordNextSignIn: false },
    });
    expect(patched.status).toBe(204);
    expect((await ropc(user, 'PwChange-Passw0rd!')).body.error_codes).toEqual([50126]);
    const after = await postToken(emulator, { grant_type: 'refresh_token', ...demo(), refresh_token: String(first.body.refresh_token) });
    expect(after.status).toBe(200);
    expect(decodeJwt(String(after.body.access_token)).oid).toBe(user.id);

    await new Promise((r) => setTimeout(r, 1000)); // whole-second revocation
    expect((await graph('POST', `/users/${user.id}/revokeSignInSessions`, {})).status).toBe(200);
    const revoked = await postToken(emulator, { grant_type: 'refresh_token', ...demo(), refresh_token: String(after.body.refresh_token) });
    expect(revoked.body.error_codes).toEqual([50173]);
  });
});

describe('revocation at Graph precision (signInSessionsValidFromDateTime is whole seconds)', () => {
  it('kills a refresh token issued earlier in the same second as a whole-second revocation', async () => {
    const user = addTestUser(emulator, 'same-second', 'SameSecond-Passw0rd!');
    const token = await ropc(user, 'SameSecond-Passw0rd!');
    // What the Graph route writes: now, truncated to whole seconds.
    user.signInSessionsValidFromDateTime = new Date(emulator.context.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const refresh = await postToken(emulator, { grant_type: 'refresh_token', ...demo(), refresh_token: String(token.body.refresh_token) });
    expect(refresh.body.error_codes).toEqual([50173]);
  });

  it('keeps refresh tokens issued after the revocation second', async () => {
    const user = addTestUser(emulator, 'after-revoke', 'AfterRevoke-Passw0rd!');
    user.signInSessionsValidFromDateTime = new Date(emulator.context.now() - 5000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const token = await ropc(user, 'AfterRevoke-Passw0rd!');
    const refresh = await postToken(emulator, { grant_type: 'refresh_token', ...demo(), refresh_token: String(token.body.refresh_token) });
    expect(refresh.status).toBe(200);
  });
});
