import { ConfidentialClientApplication } from '@azure/msal-node';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../../src/emulator/model.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import {
  GRAPH_DELEGATED_SCOPE,
  addTestUser,
  decodeClientInfo,
  demoClient,
  ensureAdmin,
  msalNetworkClient,
  passwordGrant,
  pkcePair,
  postToken,
  verifyWithJwks,
} from './support.js';

let emulator: TestEmulator;
let clockOffsetMs = 0;
let admin: UserRecord;
const REDIRECT = 'http://127.0.0.1:4000/auth/callback';
const GRAPH_DELEGATED = GRAPH_DELEGATED_SCOPE;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 50, now: () => Date.now() + clockOffsetMs });
  admin = ensureAdmin(emulator);
});
afterAll(async () => {
  await emulator?.close();
});

const demo = () => demoClient(emulator);

async function authorize(params: Record<string, string>): Promise<{ status: number; location: URL | undefined; text: string }> {
  const query = new URLSearchParams({
    client_id: emulator.tenant.wellKnown.demoAppId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: GRAPH_DELEGATED,
    ...params,
  });
  const res = await emulator.fetch(`/${emulator.tenantId}/oauth2/v2.0/authorize?${query}`, { redirect: 'manual' });
  const location = res.headers.get('location');
  return { status: res.status, location: location ? new URL(location) : undefined, text: await res.text() };
}

async function codeFor(params: Record<string, string> = {}): Promise<string> {
  const answer = await authorize(params);
  expect(answer.status).toBe(302);
  const code = answer.location?.searchParams.get('code');
  expect(code).toBeTruthy();
  return code!;
}

const ropc = (user: { userPrincipalName: string }, password: string, scope?: string, client?: { client_id: string; client_secret: string }) =>
  passwordGrant(emulator, user, password, scope, client);

describe('authorization code flow', () => {
  it('signs the admin in without a page, redirects with code and state, and redeems the code with PKCE', async () => {
    const { verifier, challenge } = pkcePair();
    const answer = await authorize({ state: 'opaque-state-1', code_challenge: challenge, code_challenge_method: 'S256', nonce: 'n-1' });
    expect(answer.status).toBe(302);
    expect(`${answer.location!.origin}${answer.location!.pathname}`).toBe(REDIRECT);
    expect(answer.location!.searchParams.get('state')).toBe('opaque-state-1');
    const code = answer.location!.searchParams.get('code')!;

    const token = await postToken(emulator, {
      grant_type: 'authorization_code',
      ...demo(),
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      scope: GRAPH_DELEGATED,
    });
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600 });
    expect(String(token.body.scope)).toContain('https://graph.microsoft.com/Directory.AccessAsUser.All');
    expect(typeof token.body.refresh_token).toBe('string');
    const claims = await verifyWithJwks(emulator, String(token.body.access_token), 'https://graph.microsoft.com');
    expect(claims).toMatchObject({
      oid: admin.id,
      tid: emulator.tenantId,
      appid: emulator.tenant.wellKnown.demoAppId,
      upn: admin.userPrincipalName,
      unique_name: admin.userPrincipalName,
      idtyp: 'user',
      ver: '1.0',
    });
    expect(claims.sub).not.toBe(admin.id); // pairwise
    expect(String(claims.scp).split(' ')).toEqual(
      expect.arrayContaining([
        'Directory.AccessAsUser.All',
        'User.Read',
        'User.ReadWrite.All',
        'User.RevokeSessions.All',
        'UserAuthenticationMethod.ReadWrite.All',
      ]),
    );
    expect(String(claims.scp)).not.toMatch(/openid|offline_access/);
    expect(claims.roles).toBeUndefined();
    const idToken = await verifyWithJwks(emulator, String(token.body.id_token), emulator.tenant.wellKnown.demoAppId, '2.0');
    expect(idToken).toMatchObject({ oid: admin.id, nonce: 'n-1', preferred_username: admin.userPrincipalName });
    expect(decodeClientInfo(token.body.client_info)).toEqual({ uid: admin.id, utid: emulator.tenantId });

    const replay = await postToken(emulator, { grant_type: 'authorization_code', ...demo(), code, redirect_uri: REDIRECT, code_verifier: verifier });
    expect([replay.status, replay.body.error, replay.body.error_codes]).toEqual([400, 'invalid_grant', [54005]]);
    expect(replay.text).not.toContain(code);
  });

  it('refuses a wrong or missing PKCE verifier and a different redirect URI', async () => {
    const { challenge } = pkcePair();
    const code = await codeFor({ code_challenge: challenge, code_challenge_method: 'S256' });
    const wrong = await postToken(emulator, { grant_type: 'authorization_code', ...demo(), code, redirect_uri: REDIRECT, code_verifier: pkcePair().verifier });
    expect([wrong.status, wrong.body.error_codes]).toEqual([400, [501481]]);
    const missing = await postToken(emulator, { grant_type: 'authorization_code', ...demo(), code, redirect_uri: REDIRECT });
    expect(missing.body.error_codes).toEqual([501481]);
    const plainCode = await codeFor();
    const otherRedirect = await postToken(emulator, {
      grant_type: 'authorization_code',
      ...demo(),
      code: plainCode,
      redirect_uri: 'http://localhost:4000/auth/callback',
    });
    expect([otherRedirect.body.error, otherRedirect.body.error_codes]).toEqual(['invalid_grant', [70000]]);
  });

  it('expires codes after 10 minutes (injected clock)', async () => {
    const code = await codeFor();
    clockOffsetMs = 10 * 60 * 1000 + 1000;
    try {
      const late = await postToken(emulator, { grant_type: 'authorization_code', ...demo(), code, redirect_uri: REDIRECT });
      expect([late.status, late.body.error, late.body.error_codes]).toEqual([400, 'invalid_grant', [70008]]);
    } finally {
      clockOffsetMs = 0;
    }
    const inTime = await codeFor();
    clockOffsetMs = 9 * 60 * 1000;
    try {
      const ok = await postToken(emulator, { grant_type: 'authorization_code', ...demo(), code: inTime, redirect_uri: REDIRECT });
      expect(ok.status).toBe(200);
    } finally {
      clockOffsetMs = 0;
    }
  });

  it('accepts any http loopback redirect, refuses an unregistered one on the page itself', async () => {
    const loopback = await authorize({ redirect_uri: 'http://localhost:53123/somewhere/else', state: 's' });
    expect(loopback.status).toBe(302);
    expect(loopback.location!.host).toBe('localhost:53123');
    expect(loopback.location!.searchParams.get('code')).toBeTruthy();
    const foreign = await authorize({ redirect_uri: 'https://evil.example/callback' });
    expect(foreign.status).toBe(400);
    expect(foreign.location).toBeUndefined();
    expect(JSON.parse(foreign.text)).toMatchObject({ error: 'invalid_request', error_codes: [50011] });
    const unknownApp = await authorize({ client_id: '99999999-9999-4999-8999-999999999999' });
    expect(JSON.parse(unknownApp.text)).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });
  });

  it('reports protocol errors to the redirect URI with the state', async () => {
    const badType = await authorize({ response_type: 'token', state: 'st' });
    expect(badType.location!.searchParams.get('error')).toBe('unsupported_response_type');
    expect(badType.location!.searchParams.get('state')).toBe('st');
    const plain = await authorize({ code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' });
    expect(plain.location!.searchParams.get('error')).toBe('invalid_request');
    const unconsented = await authorize({ scope: 'https://graph.microsoft.com/Mail.Read openid' });
    expect(unconsented.location!.searchParams.get('error')).toBe('consent_required');
    expect(unconsented.location!.searchParams.get('error_description')).toMatch(/^AADSTS65001/);
  });

  it('signs in the login_hint user when it exists', async () => {
    const hinted = addTestUser(emulator, 'hinted', 'Hinted-Passw0rd!');
    const code = await codeFor({ login_hint: hinted.userPrincipalName });
    const token = await postToken(emulator, { grant_type: 'authorization_code', ...demo(), code, redirect_uri: REDIRECT });
    expect(decodeJwt(String(token.body.access_token)).oid).toBe(hinted.id);
  });
});

describe('resource owner password credentials', () => {
  it('signs in with the current password only, so a password change can be proven', async () => {
    const user = addTestUser(emulator, 'ropc', 'Old-Passw0rd!');
    const ok = await ropc(user, 'Old-Passw0rd!');
    expect(ok.status).toBe(200);
    expect(decodeJwt(String(ok.body.access_token))).toMatchObject({ oid: user.id, upn: user.userPrincipalName });
    const wrong = await ropc(user, 'Not-The-Passw0rd!');
    expect([wrong.status, wrong.body.error, wrong.body.error_codes]).toEqual([400, 'invalid_grant', [50126]]);
    expect(wrong.text).not.toContain('Not-The-Passw0rd!');
    user._password = 'New-Passw0rd!';
    expect((await ropc(user, 'Old-Passw0rd!')).body.error_codes).toEqual([50126]);
    expect((await ropc(user, 'New-Passw0rd!')).status).toBe(200);
    const nobody = await ropc({ userPrincipalName: `nobody@${emulator.tenant.domain}` }, 'x');
    expect(nobody.body.error_codes).toEqual([50034]);
  });

  it('signs the seeded admin in with the well-known password', async () => {
    const answer = await ropc(admin, emulator.tenant.wellKnown.adminPassword);
    expect(answer.status).toBe(200);
    expect(decodeJwt(String(answer.body.access_token)).oid).toBe(admin.id);
  });
});

describe('delegated flows through @azure/msal-node', () => {
  function msalApp() {
    return new ConfidentialClientApplication({
      auth: {
        clientId: emulator.tenant.wellKnown.demoAppId,
        clientSecret: emulator.tenant.wellKnown.demoAppSecret,
        authority: `${emulator.origin}/${emulator.tenantId}`,
        knownAuthorities: [new URL(emulator.origin).host],
      },
      system: { networkClient: msalNetworkClient(emulator) },
    });
  }

  it('builds an account from the code redemption and refreshes silently', async () => {
    const app = msalApp();
    const { verifier, challenge } = pkcePair();
    const scopes = ['https://graph.microsoft.com/.default'];
    const url = await app.getAuthCodeUrl({ scopes, redirectUri: REDIRECT, codeChallenge: challenge, codeChallengeMethod: 'S256', state: 'msal-state' });
    const res = await emulator.fetch(url, { redirect: 'manual' });
    const location = new URL(res.headers.get('location')!);
    const result = await app.acquireTokenByCode(
      { code: location.searchParams.get('code')!, scopes, redirectUri: REDIRECT, codeVerifier: verifier, state: 'msal-state' },
      {
        code: location.searchParams.get('code')!,
        state: location.searchParams.get('state')!,
        client_info: location.searchParams.get('client_info') ?? undefined,
      },
    );
    expect(result.account?.homeAccountId).toBe(`${admin.id}.${emulator.tenantId}`);
    expect(result.account?.username).toBe(admin.userPrincipalName);
    expect(decodeJwt(result.accessToken).oid).toBe(admin.id);

    await emulator.resetStats();
    const silent = await app.acquireTokenSilent({ account: result.account!, scopes });
    expect(silent.accessToken).toBe(result.accessToken);
    expect((await emulator.stats()).tokenRequests).toBe(0);
    const forced = await app.acquireTokenSilent({ account: result.account!, scopes, forceRefresh: true });
    expect(forced.accessToken).not.toBe(result.accessToken);
    expect((await emulator.stats()).tokenRequests).toBe(1);
  });

  it('runs on-behalf-of with a user caller token', async () => {
    const user = addTestUser(emulator, 'msal-obo', 'MsalObo-Passw0rd!');
    const { wellKnown } = emulator.tenant;
    const caller = await ropc(user, 'MsalObo-Passw0rd!', `${wellKnown.gatewayApiAudience}/.default`, {
      client_id: wellKnown.callerAppId,
      client_secret: wellKnown.callerAppSecret,
    });
    const result = await msalApp().acquireTokenOnBehalfOf({ oboAssertion: String(caller.body.access_token), scopes: ['https://graph.microsoft.com/.default'] });
    expect(decodeJwt(result!.accessToken)).toMatchObject({ oid: user.id, appid: wellKnown.demoAppId });
  });
});
