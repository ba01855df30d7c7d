import { ConfidentialClientApplication } from '@azure/msal-node';
import { SignJWT, decodeJwt, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../../src/emulator/model.js';
import { ALL_PERMISSIONS } from '../../../src/permissions.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { addTestUser, decodeClientInfo, ensureAdmin, msalNetworkClient, pkcePair, postToken, setApiTokenVersion, verifyWithJwks } from './support.js';

let emulator: TestEmulator;
let clockOffsetMs = 0;
let admin: UserRecord;
const REDIRECT = 'http://127.0.0.1:4000/auth/callback';
const GRAPH_DELEGATED = 'https://graph.microsoft.com/.default openid profile offline_access';

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 50, now: () => Date.now() + clockOffsetMs });
  admin = ensureAdmin(emulator);
});
afterAll(async () => {
  await emulator?.close();
});

function demo() {
  const { wellKnown } = emulator.tenant;
  return { client_id: wellKnown.demoAppId, client_secret: wellKnown.demoAppSecret };
}

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

async function ropc(user: { userPrincipalName: string }, password: string, scope = GRAPH_DELEGATED, client = demo()) {
  return postToken(emulator, { grant_type: 'password', ...client, username: user.userPrincipalName, password, scope });
}

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

describe('refresh tokens', () => {
  it('are replaced on use, and the redeemed one stays valid as in Entra', async () => {
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

  it('are single-use behind the singleUseRefreshTokens switch (admin route), until reset', async () => {
    const setSwitch = async (value: unknown) =>
      emulator.fetch('/_emulator/identity', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ singleUseRefreshTokens: value }),
      });
    expect((await setSwitch('yes')).status).toBe(400);
    expect(await (await setSwitch(true)).json()).toEqual({ singleUseRefreshTokens: true });
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
    expect(await (await emulator.fetch('/_emulator/identity')).json()).toEqual({ singleUseRefreshTokens: false });
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

describe('caller tokens and on-behalf-of', () => {
  async function callerToken(user: UserRecord, password: string, caller: 'all' | 'reader' = 'all'): Promise<string> {
    const { wellKnown } = emulator.tenant;
    const client =
      caller === 'all'
        ? { client_id: wellKnown.callerAppId, client_secret: wellKnown.callerAppSecret }
        : { client_id: wellKnown.readerCallerAppId, client_secret: wellKnown.readerCallerAppSecret };
    const answer = await ropc(user, password, `${wellKnown.gatewayApiAudience}/.default`, client);
    expect(answer.status).toBe(200);
    return String(answer.body.access_token);
  }

  it('issues delegated caller tokens for the gateway API with the caller app scopes, v1.0 by default', async () => {
    const user = addTestUser(emulator, 'caller', 'Caller-Passw0rd!');
    const all = await verifyWithJwks(emulator, await callerToken(user, 'Caller-Passw0rd!'), 'api://msgraph-user-gateway');
    expect(all).toMatchObject({
      iss: `https://sts.windows.net/${emulator.tenantId}/`,
      oid: user.id,
      appid: emulator.tenant.wellKnown.callerAppId,
      upn: user.userPrincipalName,
      scp: ALL_PERMISSIONS.join(' '),
    });
    // `idtyp` is an optional claim a custom API must ask for; a user's `sub` is pairwise, never the oid.
    expect(all.idtyp).toBeUndefined();
    expect(all.sub).not.toBe(user.id);
    const reader = await verifyWithJwks(emulator, await callerToken(user, 'Caller-Passw0rd!', 'reader'), 'api://msgraph-user-gateway');
    expect(reader.scp).toBe('Users.Read');
    const named = await ropc(user, 'Caller-Passw0rd!', 'api://msgraph-user-gateway/Users.Read', {
      client_id: emulator.tenant.wellKnown.readerCallerAppId,
      client_secret: emulator.tenant.wellKnown.readerCallerAppSecret,
    });
    expect(decodeJwt(String(named.body.access_token)).scp).toBe('Users.Read');
    const notGranted = await ropc(user, 'Caller-Passw0rd!', 'api://msgraph-user-gateway/Users.Terminate', {
      client_id: emulator.tenant.wellKnown.readerCallerAppId,
      client_secret: emulator.tenant.wellKnown.readerCallerAppSecret,
    });
    expect(notGranted.body.error_codes).toEqual([65001]);
    // No delegated permission on another API: nothing to consent to.
    const other = await ropc(user, 'Caller-Passw0rd!', `${emulator.tenant.wellKnown.otherApiAudience}/.default`, {
      client_id: emulator.tenant.wellKnown.callerAppId,
      client_secret: emulator.tenant.wellKnown.callerAppSecret,
    });
    expect(other.body.error_codes).toEqual([65001]);
  });

  it('issues v2.0 caller tokens (aud: the client id) once the API registration asks for them', async () => {
    const user = addTestUser(emulator, 'caller-v2', 'CallerV2-Passw0rd!');
    const { wellKnown } = emulator.tenant;
    await setApiTokenVersion(emulator, wellKnown.demoAppId, 2);
    try {
      const claims = await verifyWithJwks(emulator, await callerToken(user, 'CallerV2-Passw0rd!'), wellKnown.demoAppId, '2.0');
      expect(claims).toMatchObject({
        iss: `${emulator.origin}/${emulator.tenantId}/v2.0`,
        aud: wellKnown.demoAppId,
        azp: wellKnown.callerAppId,
        oid: user.id,
        preferred_username: user.userPrincipalName,
        scp: ALL_PERMISSIONS.join(' '),
      });
      expect(claims.upn).toBeUndefined();
      expect(claims.appid).toBeUndefined();
    } finally {
      await setApiTokenVersion(emulator, wellKnown.demoAppId, null);
    }
  });

  async function obo(assertion: string, client = demo(), extra: Record<string, string> = { requested_token_use: 'on_behalf_of' }) {
    return postToken(emulator, {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      ...client,
      assertion,
      scope: 'https://graph.microsoft.com/.default',
      ...extra,
    });
  }

  it('exchanges a v1.0 or a v2.0 user caller token for a delegated Graph token (v1.0) for the same user', async () => {
    const { wellKnown } = emulator.tenant;
    const user = addTestUser(emulator, 'obo', 'Obo-Passw0rd!');
    const v1 = await callerToken(user, 'Obo-Passw0rd!');
    await setApiTokenVersion(emulator, wellKnown.demoAppId, 2);
    let v2: string;
    try {
      v2 = await callerToken(user, 'Obo-Passw0rd!');
    } finally {
      await setApiTokenVersion(emulator, wellKnown.demoAppId, null);
    }
    expect([decodeJwt(v1).ver, decodeJwt(v2).ver]).toEqual(['1.0', '2.0']);
    for (const assertion of [v1, v2]) {
      const answer = await obo(assertion);
      expect(answer.status).toBe(200);
      const claims = await verifyWithJwks(emulator, String(answer.body.access_token), 'https://graph.microsoft.com');
      expect(claims).toMatchObject({ oid: user.id, appid: wellKnown.demoAppId, idtyp: 'user', upn: user.userPrincipalName, ver: '1.0' });
      expect(String(claims.scp).split(' ')).toEqual(expect.arrayContaining(['Directory.AccessAsUser.All', 'User.Read', 'User.ReadWrite.All']));
    }
  });

  it('refuses an assertion issued for another app (AADSTS500131), app-only assertions and a missing requested_token_use', async () => {
    const { wellKnown } = emulator.tenant;
    const user = addTestUser(emulator, 'obo-refused', 'Obo-Passw0rd!');
    const assertion = await callerToken(user, 'Obo-Passw0rd!');
    // The read-only app presents a token issued for the gateway's API (the demo app).
    const otherClient = await obo(assertion, { client_id: wellKnown.readOnlyAppId, client_secret: wellKnown.readOnlyAppSecret });
    expect([otherClient.status, otherClient.body.error, otherClient.body.error_codes]).toEqual([400, 'invalid_grant', [500131]]);
    expect(String(otherClient.body.error_description)).toMatch(/Assertion audience does not match the Client app presenting the assertion/);
    expect(otherClient.text).not.toContain(assertion);
    // A Graph token is for Graph, not for the demo app.
    const graphToken = await ropc(admin, wellKnown.adminPassword);
    expect((await obo(String(graphToken.body.access_token))).body.error_codes).toEqual([500131]);

    const appOnly = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: wellKnown.callerAppId,
      client_secret: wellKnown.callerAppSecret,
      scope: `${wellKnown.gatewayApiAudience}/.default`,
    });
    const appOnlyAnswer = await obo(String(appOnly.body.access_token));
    expect([appOnlyAnswer.status, appOnlyAnswer.body.error, appOnlyAnswer.body.error_codes]).toEqual([400, 'invalid_grant', [50013]]);
    const noUse = await obo(assertion, demo(), {});
    expect([noUse.body.error, noUse.body.error_codes]).toEqual(['invalid_request', [900144]]);
  });

  it('refuses an expired assertion (AADSTS500133) and one signed by another key (AADSTS50013)', async () => {
    const user = addTestUser(emulator, 'obo-expired', 'Obo-Passw0rd!');
    const assertion = await callerToken(user, 'Obo-Passw0rd!');
    clockOffsetMs = 2 * 3600 * 1000;
    try {
      expect((await obo(assertion)).body.error_codes).toEqual([500133]);
    } finally {
      clockOffsetMs = 0;
    }
    const claims = decodeJwt(assertion);
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'forged' }).sign(privateKey);
    expect((await obo(forged)).body.error_codes).toEqual([50013]);
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

describe('session revocation at Graph precision', () => {
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
