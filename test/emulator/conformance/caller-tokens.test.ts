/**
 * docs/graph-facts.md#caller-tokens: access tokens Entra issues for the gateway's own API, and
 * on-behalf-of. The token version follows the API's registration (`requestedAccessTokenVersion`;
 * null or 1 → v1.0; learn.microsoft.com/entra/identity-platform/access-tokens, reference-app-manifest);
 * v1.0: `iss https://sts.windows.net/{tid}/`, `aud` the App ID URI or the client id as requested, `appid`
 * and `upn`; v2.0: `iss {authority}/{tid}/v2.0`, `aud` always the client id, `azp` and
 * `preferred_username` (access-token-claims-reference); each verifies against the metadata document of
 * its version (access-tokens "Validate the issuer"); a national cloud names its own STS host
 * (MicrosoftDocs/azure-docs#123050); `idtyp` is an optional claim. On-behalf-of with an assertion issued
 * for another app is AADSTS500131 (AzureTRE-Deployment#65; company-communicator#214;
 * learn.microsoft.com/entra/identity-platform/reference-error-codes), an app-only or forged one 50013,
 * an expired one 500133. A guest's token names its home identity provider in `idp`
 * (access-token-claims-reference). A Conditional Access policy on the downstream API refuses the
 * exchange with `interaction_required` AADSTS50079 and a `claims` challenge (v2-oauth2-on-behalf-of-flow,
 * "Error response example"); a scope nobody consented to is AADSTS65001 with suberror consent_required.
 */
import { SignJWT, decodeJwt, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PERMISSIONS } from '../../../src/permissions.js';
import { GUEST_HOME_TENANT_ID } from '../../../src/emulator/seed.js';
import type { UserRecord } from '../../../src/emulator/model.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { addTestUser, demoClient, ensureAdmin, passwordGrant, postToken, setApiTokenVersion, verifyWithJwks } from '../entra/support.js';

let emulator: TestEmulator;
let clockOffsetMs = 0;
let admin: UserRecord;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 50, now: () => Date.now() + clockOffsetMs });
  admin = ensureAdmin(emulator);
});
afterAll(async () => {
  await emulator?.close();
});

const demo = () => demoClient(emulator);

const ropc = (user: { userPrincipalName: string }, password: string, scope?: string, client?: { client_id: string; client_secret: string }) =>
  passwordGrant(emulator, user, password, scope, client);

describe('token version and audience follow the API registration (regression: v1 by default, v2 when asked)', () => {
  it('names the API by App ID URI or client id in v1.0 tokens, and always by client id in v2.0 tokens', async () => {
    const { wellKnown } = emulator.tenant;
    const clientCredentials = (scope: string) =>
      postToken(emulator, { grant_type: 'client_credentials', client_id: wellKnown.callerAppId, client_secret: wellKnown.callerAppSecret, scope });
    // v1.0 (the registration's default): aud is the identifier the client asked for.
    const byClientId = await clientCredentials(`${wellKnown.demoAppId}/.default`);
    expect((await verifyWithJwks(emulator, String(byClientId.body.access_token), wellKnown.demoAppId)).roles).toContain('Users.Read');

    await setApiTokenVersion(emulator, wellKnown.demoAppId, 2);
    try {
      for (const scope of [`${wellKnown.gatewayApiAudience}/.default`, `${wellKnown.demoAppId}/.default`]) {
        const answer = await clientCredentials(scope);
        const claims = await verifyWithJwks(emulator, String(answer.body.access_token), wellKnown.demoAppId, '2.0');
        expect(claims).toMatchObject({ iss: `${emulator.origin}/${emulator.tenantId}/v2.0`, azp: wellKnown.callerAppId, azpacr: '1', ver: '2.0' });
        expect(claims.appid).toBeUndefined();
      }
    } finally {
      await setApiTokenVersion(emulator, wellKnown.demoAppId, null);
    }
  });

  it('issues tokens for another API of the tenant (v2.0), without roles the client does not hold', async () => {
    const { wellKnown } = emulator.tenant;
    const answer = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: wellKnown.callerAppId,
      client_secret: wellKnown.callerAppSecret,
      scope: `${wellKnown.otherApiAudience}/.default`,
    });
    expect(answer.status).toBe(200);
    const other = [...emulator.tenant.apps.values()].find((a) => a.api?.identifierUris.includes(wellKnown.otherApiAudience))!;
    const claims = await verifyWithJwks(emulator, String(answer.body.access_token), other.appId, '2.0');
    expect(claims.roles).toBeUndefined();
  });

  it('publishes the v1.0 OpenID configuration with the v1.0 issuer on the STS host and keys that verify v1.0 tokens', async () => {
    const res = await emulator.fetch(`/${emulator.tenantId}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc.issuer).toBe(`https://sts.windows.net/${emulator.tenantId}/`);
    expect(doc.jwks_uri).toBe(`${emulator.origin}/common/discovery/keys`);
    expect(doc.token_endpoint).toBe(`${emulator.origin}/${emulator.tenantId}/oauth2/token`);
    const keys = (await (await emulator.fetch(String(doc.jwks_uri))).json()) as { keys: Array<{ kid: string }> };
    expect(keys.keys.map((k) => k.kid)).toEqual([emulator.context.signer.kid]);
    const multi = (await (await emulator.fetch('/organizations/.well-known/openid-configuration')).json()) as Record<string, unknown>;
    expect(multi.issuer).toBe('https://sts.windows.net/{tenantid}/');
  });

  it('names the issuer of v1.0 tokens after the STS host it was started with (a national cloud)', async () => {
    const china = await startTestEmulator({ userCount: 10, stsHost: 'https://sts.chinacloudapi.cn/', dataDir: emulator.dataDir });
    try {
      const doc = (await (await china.fetch(`/${china.tenantId}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(doc.issuer).toBe(`https://sts.chinacloudapi.cn/${china.tenantId}/`);
      const answer = await postToken(china, {
        grant_type: 'client_credentials',
        client_id: china.tenant.wellKnown.demoAppId,
        client_secret: china.tenant.wellKnown.demoAppSecret,
        scope: 'https://graph.microsoft.com/.default',
      });
      expect((await verifyWithJwks(china, String(answer.body.access_token), 'https://graph.microsoft.com')).iss).toBe(doc.issuer);
    } finally {
      await china.close();
    }
  });
});

describe('caller tokens and on-behalf-of (access-token-claims-reference; on-behalf-of errors from reference-error-codes)', () => {
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
    expect(notGranted.body.suberror).toBe('consent_required');
    // No delegated permission on another API: nothing to consent to.
    const other = await ropc(user, 'Caller-Passw0rd!', `${emulator.tenant.wellKnown.otherApiAudience}/.default`, {
      client_id: emulator.tenant.wellKnown.callerAppId,
      client_secret: emulator.tenant.wellKnown.callerAppSecret,
    });
    expect(other.body.error_codes).toEqual([65001]);
  });

  // access-token-claims-reference: `idp` "is identical to the value of the issuer claim unless the
  // user account isn't in the same tenant as the issuer - guests, for instance"; absent, `iss` stands.
  it("names a guest's home identity provider in `idp`, and none for a member", async () => {
    const guest = addTestUser(emulator, 'guest', 'Guest-Passw0rd!');
    guest.userType = 'Guest';
    const member = addTestUser(emulator, 'member', 'Member-Passw0rd!');
    const guestClaims = await verifyWithJwks(emulator, await callerToken(guest, 'Guest-Passw0rd!'), 'api://msgraph-user-gateway');
    expect(guestClaims.idp).toBe(`https://sts.windows.net/${GUEST_HOME_TENANT_ID}/`);
    expect(guestClaims.idp).not.toBe(guestClaims.iss);
    expect(guestClaims.tid).toBe(emulator.tenantId);
    const memberClaims = await verifyWithJwks(emulator, await callerToken(member, 'Member-Passw0rd!'), 'api://msgraph-user-gateway');
    expect(memberClaims.idp).toBeUndefined();
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

  // v2-oauth2-on-behalf-of-flow, "Error response example": a Conditional Access policy on the
  // downstream API refuses the exchange with `interaction_required`, AADSTS50079 and a `claims`
  // challenge (a JSON object in a string) for the middle tier to hand back to its client.
  it('refuses the exchange under a Conditional Access policy on Graph with interaction_required and a claims challenge', async () => {
    const user = addTestUser(emulator, 'obo-ca', 'Obo-Passw0rd!');
    const assertion = await callerToken(user, 'Obo-Passw0rd!');
    user._graphRequiresMfa = true;
    const answer = await obo(assertion);
    expect([answer.status, answer.body.error, answer.body.error_codes]).toEqual([400, 'interaction_required', [50079]]);
    expect(String(answer.body.error_description)).toMatch(/^AADSTS50079: .*you must enroll in multifactor authentication/);
    expect(JSON.parse(String(answer.body.claims))).toEqual({ access_token: { polids: { essential: true, values: [expect.any(String)] } } });
    expect(answer.text).not.toContain(assertion);
    // Without the policy the same assertion is exchanged.
    user._graphRequiresMfa = false;
    expect((await obo(assertion)).status).toBe(200);
  });

  // A user who has a second factor must use it: AADSTS50076 (UserStrongAuthClientAuthNRequired,
  // reference-error-codes), which Entra sends as invalid_grant with suberror basic_action and the
  // challenge under `capolids` (the raw body quoted in AzureAD/microsoft-authentication-library-for-js#5491).
  it('refuses a user with a second factor with invalid_grant AADSTS50076, suberror basic_action and a claims challenge', async () => {
    const user = addTestUser(emulator, 'obo-ca-mfa', 'Obo-Passw0rd!');
    user.authMethods.push({ id: 'b6332ec1-7057-4abe-9331-3d72feddfe41', type: 'phone', data: { phoneNumber: '+1 555 0100', phoneType: 'mobile' } });
    const assertion = await callerToken(user, 'Obo-Passw0rd!');
    user._graphRequiresMfa = true;
    const answer = await obo(assertion);
    expect([answer.status, answer.body.error, answer.body.error_codes, answer.body.suberror]).toEqual([400, 'invalid_grant', [50076], 'basic_action']);
    expect(String(answer.body.error_description)).toMatch(/^AADSTS50076: .*you must use multi-factor authentication/);
    expect(JSON.parse(String(answer.body.claims))).toEqual({ access_token: { capolids: { essential: true, values: [expect.any(String)] } } });
    user._graphRequiresMfa = false;
    expect((await obo(assertion)).status).toBe(200);
  });
});

// v2-oauth-ropc: users who must use multifactor authentication "will be blocked instead"; the password
// grant cannot carry a second factor, so the Conditional Access policy on Graph refuses it as it refuses
// an exchange whose assertion lacks `mfa` (docs/graph-facts.md#password-grant). The gateway never sends
// this grant: tests use it to sign users in.
describe('password grant (ROPC) under a Conditional Access policy asking for MFA', () => {
  it('regression: a Graph token for a flagged user is refused (AADSTS50076 with a second factor, AADSTS50079 without); a token for another API and an unflagged user are not', async () => {
    const withFactor = addTestUser(emulator, 'ropc-ca-mfa', 'Ropc-Passw0rd!');
    withFactor.authMethods.push({ id: '3179e48a-750b-4051-897c-87b9720928f7', type: 'phone', data: { phoneNumber: '+1 555 0101', phoneType: 'mobile' } });
    const withoutFactor = addTestUser(emulator, 'ropc-ca', 'Ropc-Passw0rd!');
    const graphScope = 'https://graph.microsoft.com/.default';
    for (const user of [withFactor, withoutFactor]) {
      user._graphRequiresMfa = true;
      const { wellKnown } = emulator.tenant;
      const caller = { client_id: wellKnown.callerAppId, client_secret: wellKnown.callerAppSecret };
      expect((await ropc(user, 'Ropc-Passw0rd!', `${wellKnown.gatewayApiAudience}/.default`, caller)).status).toBe(200);
    }
    const used = await ropc(withFactor, 'Ropc-Passw0rd!', graphScope, demo());
    expect([used.status, used.body.error, used.body.error_codes, used.body.suberror]).toEqual([400, 'invalid_grant', [50076], 'basic_action']);
    expect(used.body.access_token).toBeUndefined();
    const enrol = await ropc(withoutFactor, 'Ropc-Passw0rd!', graphScope, demo());
    expect([enrol.status, enrol.body.error, enrol.body.error_codes]).toEqual([400, 'interaction_required', [50079]]);
    withFactor._graphRequiresMfa = false;
    expect((await ropc(withFactor, 'Ropc-Passw0rd!', graphScope, demo())).status).toBe(200);
  });
});

// The answer to a scope nobody consented to (a Microsoft Q&A report of an on-behalf-of request,
// quoted in docs/graph-facts.md#caller-tokens): invalid_grant, AADSTS65001, suberror consent_required.
describe('consent missing', () => {
  it('answers AADSTS65001 with the suberror consent_required', async () => {
    const user = addTestUser(emulator, 'consent', 'Consent-Passw0rd!');
    const refused = await ropc(user, 'Consent-Passw0rd!', 'api://msgraph-user-gateway/Users.Terminate', {
      client_id: emulator.tenant.wellKnown.readerCallerAppId,
      client_secret: emulator.tenant.wellKnown.readerCallerAppSecret,
    });
    expect([refused.body.error, refused.body.error_codes, refused.body.suberror]).toEqual(['invalid_grant', [65001], 'consent_required']);
  });
});
