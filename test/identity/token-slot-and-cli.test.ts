import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { authReset } from '../../src/cli/auth-reset.js';
import { loginUrlReport } from '../../src/cli/login-url.js';
import { loadConfig } from '../../src/config.js';
import { graphIdentityId } from '../../src/identity/index.js';
import { TokenSlot } from '../../src/identity/token-slot.js';
import { tokenErrorToGatewayError } from '../../src/identity/token-errors.js';
import { openTokenStore, TokenCacheKeyMismatchError } from '../../src/store/index.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('TokenSlot', () => {
  it('shares one acquisition, renews 300 s before expiry, and lets a caller abort only its own wait', async () => {
    let clock = 1_000_000;
    let calls = 0;
    let release: (() => void) | undefined;
    const slot = new TokenSlot(
      async () => {
        calls += 1;
        await new Promise<void>((r) => (release = r));
        return { accessToken: `t${calls}`, expiresAt: clock + 3600_000 };
      },
      () => clock,
    );
    const waits = Array.from({ length: 50 }, () => slot.get());
    const aborter = new AbortController();
    const aborted = slot.get(aborter.signal);
    aborter.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    release!();
    expect(new Set(await Promise.all(waits))).toEqual(new Set(['t1']));
    expect(calls).toBe(1);

    clock += 3600_000 - 301_000; // 301 s left: still fresh
    expect(await slot.get()).toBe('t1');
    clock += 2_000; // 299 s left: renew
    const renewing = slot.get();
    release!();
    expect(await renewing).toBe('t2');
    expect(calls).toBe(2);
  });

  it('a failed acquisition is not cached: the next call tries again', async () => {
    let calls = 0;
    const slot = new TokenSlot(async () => {
      calls += 1;
      if (calls === 1) throw new Error('boom');
      return { accessToken: 'ok', expiresAt: Date.now() + 3600_000 };
    });
    await expect(slot.get()).rejects.toThrow('boom');
    expect(await slot.get()).toBe('ok');
  });
});

describe('token error mapping', () => {
  // AADSTS65001 (suberror consent_required): the app holds no consent for what it asks, which neither
  // the caller's token, a new sign-in nor a reset fixes; an administrator's consent does
  // (docs/graph-facts.md#caller-tokens).
  it('answers a missing consent FORBIDDEN with the remedy, in every flow, without the reset advice', () => {
    const cases = [
      ['on-behalf-of', 'stored'],
      ['authorization-code', 'stored'],
      // At /auth/callback the same invalid_grant is not a refused code.
      ['authorization-code', 'sign-in-code'],
    ] as const;
    for (const [flow, grant] of cases) {
      const error = tokenErrorToGatewayError(
        flow,
        {
          errorCode: 'invalid_grant',
          errorNo: '65001',
          subError: 'consent_required',
          errorMessage: "AADSTS65001: The user or administrator has not consented to use the application with ID 'x' named 'y'.",
        },
        [],
        grant,
      );
      expect(error.code).toBe('FORBIDDEN');
      expect(error.message).toContain('AADSTS65001 invalid_grant');
      expect(error.message).toMatch(/admin consent under API permissions/);
      expect(error.message).not.toContain('auth:reset');
      expect(error.message).not.toContain('already used');
    }
  });

  // The claims challenge travels only as Entra's bounded JSON object, and only on-behalf-of, where
  // the caller's client can sign in again with it (v2-oauth2-on-behalf-of-flow, "Error response example").
  it('passes a claims challenge on only as a bounded JSON object', () => {
    const challenge = (claims: unknown) =>
      tokenErrorToGatewayError('on-behalf-of', { errorCode: 'interaction_required', errorNo: '50079', claims, errorMessage: 'AADSTS50079: MFA.' }).extensions
        .claimsChallenge;
    expect(challenge('{"access_token":{"polids":{"essential":true,"values":["p"]}}}')).toBe('{"access_token":{"polids":{"essential":true,"values":["p"]}}}');
    for (const bad of ['', 'not json', '[1]', 'null', `{"a":"${'x'.repeat(5000)}"}`, 42]) expect(challenge(bad)).toBeUndefined();
  });

  it('a stored sign-in that Entra asks to interact again (interaction_required) is told to sign in again, not to reset', () => {
    const error = tokenErrorToGatewayError('authorization-code', {
      errorCode: 'interaction_required',
      errorNo: '50076',
      errorMessage: 'AADSTS50076: MFA needed.',
    });
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.message).toMatch(/Sign in again at \/auth\/login \(or set a fresh AUTH_CODE\)\.$/);
    expect(error.message).not.toContain('auth:reset');
  });

  it('AADSTS codes that need a reset say so, and nothing token-shaped survives', () => {
    for (const code of ['50173', '700082', '70008', '54005']) {
      const error = tokenErrorToGatewayError('authorization-code', {
        errorCode: 'invalid_grant',
        errorNo: code,
        errorMessage: `AADSTS${code}: The grant expired.`,
      });
      expect(error.code).toBe('UNAUTHENTICATED');
      expect(error.message).toContain(`AADSTS${code}`);
      expect(error.message).toContain('npm run auth:reset');
      expect(error.message).toContain('/auth/login');
    }
    // The same answers to the redemption of an authorization code are about that code only: a reset
    // would delete a stored identity that works (and with AUTH_CODE, there is none to delete).
    for (const code of ['54005', '70008', '70000', '50173']) {
      const refused = { errorCode: 'invalid_grant', errorNo: code, errorMessage: `AADSTS${code}: The code is no good.` };
      const signIn = tokenErrorToGatewayError('authorization-code', refused, [], 'sign-in-code');
      expect(signIn.code).toBe('UNAUTHENTICATED');
      expect(signIn.message).toContain(`AADSTS${code} invalid_grant: The code is no good. `);
      expect(signIn.message).toMatch(/the stored identity is unchanged\. Start again at \/auth\/login\.$/);
      expect(signIn.message).not.toContain('auth:reset');
      const configured = tokenErrorToGatewayError('authorization-code', refused, [], 'configured-code');
      expect(configured.message).toMatch(/AUTH_CODE was refused .*sign in at \/auth\/login, or set a fresh AUTH_CODE/);
      expect(configured.message).not.toContain('auth:reset');
    }
    // Anything else at the callback keeps its own mapping, still without the reset advice.
    const expiredSecret = tokenErrorToGatewayError(
      'authorization-code',
      { errorCode: 'invalid_client', errorNo: '7000222', errorMessage: 'AADSTS7000222: The provided client secret keys are expired.' },
      [],
      'sign-in-code',
    );
    expect(expiredSecret.code).toBe('UPSTREAM_ERROR');
    expect(expiredSecret.message).not.toContain('auth:reset');
    // An expired client secret (AADSTS7000222) is the app's credential, not the stored grant: a new
    // secret fixes it and the stored sign-in keeps working (reference-error-codes; refresh-tokens).
    const storedExpiredSecret = tokenErrorToGatewayError('authorization-code', {
      errorCode: 'invalid_client',
      errorNo: '7000222',
      errorMessage: "AADSTS7000222: The provided client secret keys for app 'x' are expired.",
    });
    expect(storedExpiredSecret.code).toBe('UPSTREAM_ERROR');
    expect(storedExpiredSecret.message).toMatch(/client secret has expired.*AZURE_CLIENT_SECRET.*stored sign-in stays valid/);
    expect(storedExpiredSecret.message).not.toContain('auth:reset');
    // msal's own formatting, with the code as a number.
    const formatted = tokenErrorToGatewayError('authorization-code', {
      errorCode: 'invalid_grant',
      errorNo: 70008,
      errorMessage: 'Error(s): 70008 - Timestamp: 2026-01-01 00:00:00Z - Description: AADSTS70008: The refresh token has already been redeemed. Trace ID: x',
    });
    expect(formatted.code).toBe('UNAUTHENTICATED');
    expect(formatted.message).toContain('AADSTS70008');
    expect(formatted.message).toContain('npm run auth:reset');
    const leaky = tokenErrorToGatewayError(
      'client-credentials',
      {
        errorCode: 'invalid_client',
        errorMessage:
          'AADSTS7000215: Invalid client secret provided: abcQ~s3cr3tvalue0123456789abcdefghijklmnopqr eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig. Trace ID: x',
      },
      ['abcQ~s3cr3tvalue0123456789abcdefghijklmnopqr'],
    );
    expect(leaky.message).not.toContain('s3cr3t');
    expect(leaky.message).not.toContain('eyJ');
  });
});

describe('npm run auth:login-url', () => {
  it('uses the configured cloud and percent-encodes the redirect URI', () => {
    const config = loadConfig({
      SANDBOX: 'false',
      CALLER_AUTH: 'none',
      AZURE_CLOUD: 'AzureUSGovernment',
      AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      AZURE_CLIENT_ID: '0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f',
      AZURE_CLIENT_SECRET: 'not-printed-secret-value',
      GRAPH_AUTH_FLOW: 'authorization-code',
      REDIRECT_URI: 'https://gw.example.com/auth/callback?x=1&y=2',
      TOKEN_CACHE_KEY: 'a long enough token cache key',
      DATA_DIR: dataDir,
    });
    const report = loginUrlReport(config).join('\n');
    const line = report
      .split('\n')
      .find((l) => l.includes('https://login.microsoftonline.us/'))!
      .trim();
    expect(line).toContain('redirect_uri=https%3A%2F%2Fgw.example.com%2Fauth%2Fcallback%3Fx%3D1%26y%3D2');
    expect(line).toContain('scope=offline_access%20openid%20profile%20https%3A%2F%2Fgraph.microsoft.us%2F.default');
    expect(new URL(line).searchParams.get('redirect_uri')).toBe('https://gw.example.com/auth/callback?x=1&y=2');
    expect(report).toMatch(/PKCE/);
    expect(report).not.toContain('not-printed-secret-value');
  });
});

describe('npm run auth:reset', () => {
  it("clears the identity's stored tokens even when TOKEN_CACHE_KEY changed", async () => {
    const env = {
      SANDBOX: 'false',
      CALLER_AUTH: 'none',
      AZURE_AUTHORITY_HOST: 'https://127.0.0.1:9',
      GRAPH_ENDPOINT: 'https://127.0.0.1:9',
      AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      AZURE_CLIENT_ID: '0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f',
      AZURE_CLIENT_SECRET: 'secret',
      GRAPH_AUTH_FLOW: 'authorization-code',
      REDIRECT_URI: 'http://localhost:4000/auth/callback',
      TOKEN_CACHE_KEY: 'the original token cache key',
      DATA_DIR: dataDir,
    };
    const config = loadConfig(env);
    const store = await openTokenStore(config, { identityId: graphIdentityId(config), keepsRefreshToken: true });
    await store.set('msal-cache', '{"RefreshToken":{}}');
    await store.close();

    const changed = loadConfig({ ...env, TOKEN_CACHE_KEY: 'a different token cache key' });
    await expect(openTokenStore(changed, { identityId: graphIdentityId(changed), keepsRefreshToken: true })).rejects.toBeInstanceOf(TokenCacheKeyMismatchError);

    const lines: string[] = [];
    expect(await authReset(changed, (l) => lines.push(l))).toBe(2); // msal-cache + key check
    expect(lines.join('\n')).toMatch(/\/auth\/login/);
    const fresh = await openTokenStore(changed, { identityId: graphIdentityId(changed), keepsRefreshToken: true });
    expect(await fresh.get('msal-cache')).toBeUndefined();
    await fresh.close();
  });
});
