import { randomUUID } from 'node:crypto';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { SignJWT, importPKCS8 } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PERMISSIONS } from '../../../src/permissions.js';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { demoAppCredential, msalNetworkClient, postToken, verifyWithJwks } from './support.js';

let emulator: TestEmulator;
const GRAPH_DEFAULT = 'https://graph.microsoft.com/.default';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 50 });
});
afterAll(async () => {
  await emulator?.close();
});

function tokenEndpoint(): string {
  return `${emulator.origin}/${emulator.tenantId}/oauth2/v2.0/token`;
}

async function assertion(
  options: { alg?: 'PS256' | 'RS256'; audience?: string; expiresInSeconds?: number; issuer?: string; jti?: boolean } = {},
): Promise<string> {
  const alg = options.alg ?? 'PS256';
  const { privateKeyPem } = demoAppCredential(emulator);
  const key = await importPKCS8(privateKeyPem, alg);
  const certificate = emulator.tenant.apps.get(emulator.tenant.wellKnown.demoAppId)!.certificates[0]!;
  const header = alg === 'PS256' ? { alg, typ: 'JWT', 'x5t#S256': certificate.thumbprintSha256 } : { alg, typ: 'JWT', x5t: certificate.thumbprintSha1 };
  const now = Math.floor(Date.now() / 1000);
  const appId = emulator.tenant.wellKnown.demoAppId;
  let jwt = new SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(options.issuer ?? appId)
    .setSubject(appId)
    .setAudience(options.audience ?? tokenEndpoint())
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + (options.expiresInSeconds ?? 600));
  if (options.jti !== false) jwt = jwt.setJti(randomUUID());
  return jwt.sign(key);
}

describe('client credentials with a secret', () => {
  it('issues an app-only Graph token whose roles are the app permissions, in the v1.0 shape Entra gives Graph tokens', async () => {
    const { wellKnown } = emulator.tenant;
    const answer = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: wellKnown.demoAppId,
      client_secret: wellKnown.demoAppSecret,
      scope: GRAPH_DEFAULT,
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600 });
    const claims = await verifyWithJwks(emulator, String(answer.body.access_token), 'https://graph.microsoft.com');
    const demo = emulator.tenant.apps.get(wellKnown.demoAppId)!;
    expect(claims.roles).toEqual(expect.arrayContaining(['User.Read.All', 'User.RevokeSessions.All', 'User-PasswordProfile.ReadWrite.All']));
    expect(claims).toMatchObject({
      iss: `https://sts.windows.net/${emulator.tenantId}/`,
      aud: 'https://graph.microsoft.com',
      ver: '1.0',
      oid: demo.servicePrincipalId,
      sub: demo.servicePrincipalId,
      appid: demo.appId,
      idtyp: 'app',
      appidacr: '1',
    });
    // v2.0 names of the same claims never appear in a v1.0 token.
    expect(claims.azp).toBeUndefined();
    expect(claims.azpacr).toBeUndefined();
    expect(claims.scp).toBeUndefined();
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(3600);
  });

  it('accepts the emulator origin as Graph resource (a loopback GRAPH_ENDPOINT), even with a double slash', async () => {
    const { wellKnown } = emulator.tenant;
    const answer = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: wellKnown.readOnlyAppId,
      client_secret: wellKnown.readOnlyAppSecret,
      scope: `${emulator.origin}//.default`,
    });
    expect(answer.status).toBe(200);
    const claims = await verifyWithJwks(emulator, String(answer.body.access_token), emulator.origin);
    expect(claims.roles).toEqual(['User.Read.All']);
  });

  it('issues caller tokens for the gateway API with the gateway roles', async () => {
    const { wellKnown } = emulator.tenant;
    const all = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: wellKnown.callerAppId,
      client_secret: wellKnown.callerAppSecret,
      scope: `${wellKnown.gatewayApiAudience}/.default`,
    });
    const reader = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: wellKnown.readerCallerAppId,
      client_secret: wellKnown.readerCallerAppSecret,
      scope: `${wellKnown.gatewayApiAudience}/.default`,
    });
    const allClaims = await verifyWithJwks(emulator, String(all.body.access_token), 'api://msgraph-user-gateway');
    const readerClaims = await verifyWithJwks(emulator, String(reader.body.access_token), 'api://msgraph-user-gateway');
    // The caller app holds every role the gateway's API defines: every gateway permission.
    expect(allClaims.roles).toEqual([...ALL_PERMISSIONS]);
    expect(readerClaims.roles).toEqual(['Users.Read']);
    // A custom API gets `idtyp` only as an optional claim; app-only tokens name the service principal as oid and sub.
    const caller = emulator.tenant.apps.get(wellKnown.callerAppId)!;
    expect(allClaims).toMatchObject({ appid: caller.appId, oid: caller.servicePrincipalId, sub: caller.servicePrincipalId, ver: '1.0' });
    expect(allClaims.idtyp).toBeUndefined();
  });

  // reference-error-codes: AADSTS7000222 InvalidClientSecretExpiredKeysProvided, the app's own secret past its end date.
  it('refuses an expired secret of the app with invalid_client AADSTS7000222 (not 7000215), naming the app and not the secret', async () => {
    const app = emulator.tenant.apps.get(emulator.tenant.wellKnown.readOnlyAppId)!;
    const secret = app.secrets[0]!;
    app.secrets = [];
    app.expiredSecrets = [secret];
    try {
      const answer = await postToken(emulator, { grant_type: 'client_credentials', client_id: app.appId, client_secret: secret, scope: GRAPH_DEFAULT });
      expect(answer.status).toBe(401);
      expect(answer.body.error).toBe('invalid_client');
      expect(answer.body.error_codes).toEqual([7000222]);
      expect(String(answer.body.error_description)).toMatch(
        new RegExp(`^AADSTS7000222: The provided client secret keys for app '${app.appId}' are expired\\.`),
      );
      expect(answer.text).not.toContain(secret);
    } finally {
      app.secrets = [secret];
      delete app.expiredSecrets;
    }
  });

  it('refuses a wrong secret with invalid_client AADSTS7000215 and does not echo the secret', async () => {
    const wrongSecret = 'not-the-secret-Q~abcdefghijklmnopqrstuvwxyz';
    const answer = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: emulator.tenant.wellKnown.demoAppId,
      client_secret: wrongSecret,
      scope: GRAPH_DEFAULT,
    });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('invalid_client');
    expect(answer.body.error_codes).toEqual([7000215]);
    expect(String(answer.body.error_description)).toMatch(/^AADSTS7000215: Invalid client secret provided\..*\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: /s);
    expect(answer.body).toHaveProperty('trace_id');
    expect(answer.body).toHaveProperty('correlation_id');
    expect(answer.body).toHaveProperty('timestamp');
    expect(answer.text).not.toContain(wrongSecret);
    expect(answer.text).not.toContain(emulator.tenant.wellKnown.demoAppSecret);
  });

  it('refuses an unknown app (700016), a missing credential (7000218), a missing parameter (900144) and a non-.default scope', async () => {
    const unknown = await postToken(emulator, { grant_type: 'client_credentials', client_id: randomUUID(), client_secret: 'x', scope: GRAPH_DEFAULT });
    expect([unknown.status, unknown.body.error, unknown.body.error_codes]).toEqual([400, 'unauthorized_client', [700016]]);
    const noCredential = await postToken(emulator, { grant_type: 'client_credentials', client_id: emulator.tenant.wellKnown.demoAppId, scope: GRAPH_DEFAULT });
    expect([noCredential.status, noCredential.body.error_codes]).toEqual([401, [7000218]]);
    const noScope = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: emulator.tenant.wellKnown.demoAppId,
      client_secret: emulator.tenant.wellKnown.demoAppSecret,
    });
    expect([noScope.status, noScope.body.error, noScope.body.error_codes]).toEqual([400, 'invalid_request', [900144]]);
    const named = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: emulator.tenant.wellKnown.demoAppId,
      client_secret: emulator.tenant.wellKnown.demoAppSecret,
      scope: 'https://graph.microsoft.com/User.Read.All',
    });
    expect([named.status, named.body.error]).toEqual([400, 'invalid_scope']);
    const foreign = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: emulator.tenant.wellKnown.demoAppId,
      client_secret: emulator.tenant.wellKnown.demoAppSecret,
      scope: 'https://vault.azure.net/.default',
    });
    expect([foreign.status, foreign.body.error, foreign.body.error_codes]).toEqual([400, 'invalid_resource', [500011]]);
    const grant = await postToken(emulator, { grant_type: 'device_code', client_id: emulator.tenant.wellKnown.demoAppId });
    expect([grant.status, grant.body.error]).toEqual([400, 'unsupported_grant_type']);
  });
});

describe('client credentials with a certificate assertion', () => {
  it('accepts a PS256 assertion identified by x5t#S256 and an RS256 one identified by x5t', async () => {
    for (const alg of ['PS256', 'RS256'] as const) {
      const answer = await postToken(emulator, {
        grant_type: 'client_credentials',
        client_id: emulator.tenant.wellKnown.demoAppId,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await assertion({ alg }),
        scope: GRAPH_DEFAULT,
      });
      expect(answer.status).toBe(200);
      const claims = await verifyWithJwks(emulator, String(answer.body.access_token), 'https://graph.microsoft.com');
      expect(claims.appidacr).toBe('2');
    }
  });

  it('refuses assertions with the wrong audience, issuer, expiry or without jti', async () => {
    const post = async (clientAssertion: string) =>
      postToken(emulator, {
        grant_type: 'client_credentials',
        client_id: emulator.tenant.wellKnown.demoAppId,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: clientAssertion,
        scope: GRAPH_DEFAULT,
      });
    const wrongAudience = await post(await assertion({ audience: 'https://login.microsoftonline.com/other/oauth2/v2.0/token' }));
    expect([wrongAudience.status, wrongAudience.body.error, wrongAudience.body.error_codes]).toEqual([401, 'invalid_client', [700027]]);
    const wrongIssuer = await post(await assertion({ issuer: randomUUID() }));
    expect(wrongIssuer.body.error_codes).toEqual([700021]);
    const expired = await post(await assertion({ expiresInSeconds: -600 }));
    expect(expired.body.error_codes).toEqual([700024]);
    const noJti = await post(await assertion({ jti: false }));
    expect(noJti.body.error_codes).toEqual([50027]);
  });

  it('refuses an assertion signed with a key whose certificate is not registered', async () => {
    const readOnly = emulator.tenant.wellKnown.readOnlyAppId;
    const { privateKeyPem } = demoAppCredential(emulator);
    const now = Math.floor(Date.now() / 1000);
    const foreign = await new SignJWT({})
      .setProtectedHeader({ alg: 'PS256', 'x5t#S256': emulator.tenant.apps.get(emulator.tenant.wellKnown.demoAppId)!.certificates[0]!.thumbprintSha256 })
      .setIssuer(readOnly)
      .setSubject(readOnly)
      .setAudience(tokenEndpoint())
      .setExpirationTime(now + 300)
      .setJti(randomUUID())
      .sign(await importPKCS8(privateKeyPem, 'PS256'));
    const answer = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: readOnly,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: foreign,
      scope: GRAPH_DEFAULT,
    });
    expect([answer.status, answer.body.error_codes]).toEqual([401, [700027]]);
  });
});

describe('client credentials through @azure/msal-node', () => {
  function msalApp(auth: { clientSecret: string } | { clientCertificate: { thumbprintSha256: string; privateKey: string } }) {
    const host = new URL(emulator.origin).host;
    return new ConfidentialClientApplication({
      auth: { clientId: emulator.tenant.wellKnown.demoAppId, authority: `${emulator.origin}/${emulator.tenantId}`, knownAuthorities: [host], ...auth },
      system: { networkClient: msalNetworkClient(emulator) },
    });
  }

  it('gets a Graph token with the client secret', async () => {
    const result = await msalApp({ clientSecret: emulator.tenant.wellKnown.demoAppSecret }).acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] });
    expect(result?.accessToken).toBeTruthy();
    const claims = await verifyWithJwks(emulator, result!.accessToken, 'https://graph.microsoft.com');
    expect(claims.roles).toContain('User.ReadWrite.All');
  });

  it('gets a Graph token with the certificate (PS256, x5t#S256) and serves the second call from its cache', async () => {
    const certificate = emulator.tenant.apps.get(emulator.tenant.wellKnown.demoAppId)!.certificates[0]!;
    const app = msalApp({
      clientCertificate: {
        thumbprintSha256: Buffer.from(certificate.thumbprintSha256, 'base64url').toString('hex'),
        privateKey: demoAppCredential(emulator).privateKeyPem,
      },
    });
    await emulator.resetStats();
    const first = await app.acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] });
    const second = await app.acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] });
    expect(second?.accessToken).toBe(first?.accessToken);
    const claims = await verifyWithJwks(emulator, first!.accessToken, 'https://graph.microsoft.com');
    expect(claims.appidacr).toBe('2');
    expect((await emulator.stats()).tokenRequests).toBe(1);
  });

  it('surfaces the AAD error code for a wrong secret', async () => {
    const failure = await msalApp({ clientSecret: 'wrong-secret' })
      .acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] })
      .then(
        () => undefined,
        (error: unknown) => error as { errorCode?: string; errorMessage?: string },
      );
    expect(failure?.errorCode).toBe('invalid_client');
    expect(failure?.errorMessage).toContain('AADSTS7000215');
  });
});

describe("Entra's throttling of token requests (switch tokenRequestsPerMinute)", () => {
  const post = (form: Record<string, string>) =>
    emulator.fetch(`/${emulator.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  const setLimit = (limit: unknown) =>
    emulator.fetch('/_emulator/identity', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tokenRequestsPerMinute: limit }),
    });

  it('answers client credentials past the limit 429 Retry-After: 60 with a plain-text body, user-facing grants invalid_grant AADSTS50196', async () => {
    const known = emulator.tenant.wellKnown;
    const credentials = { client_id: known.demoAppId, client_secret: known.demoAppSecret };
    expect((await setLimit(0)).status).toBe(400);
    expect((await setLimit('2')).status).toBe(400);
    expect((await setLimit(2)).status).toBe(200);
    try {
      const clientCredentials = { grant_type: 'client_credentials', scope: GRAPH_DEFAULT, ...credentials };
      expect((await post(clientCredentials)).status).toBe(200);
      expect((await post(clientCredentials)).status).toBe(200);
      const throttled = await post(clientCredentials);
      expect(throttled.status).toBe(429);
      expect(throttled.headers.get('retry-after')).toBe('60');
      expect(throttled.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await throttled.text()).toBe('Too Many Requests');

      // Counted per grant type: a user's sign-in (ROPC) has its own count, and past it is a loop.
      const admin = emulator.tenant.users.get(known.adminUserId)!;
      const password = { grant_type: 'password', username: admin.userPrincipalName, password: known.adminPassword, scope: GRAPH_DEFAULT, ...credentials };
      expect((await post(password)).status).toBe(200);
      expect((await post(password)).status).toBe(200);
      const loop = await post(password);
      expect(loop.status).toBe(400);
      const body = (await loop.json()) as { error: string; error_codes: number[]; error_description: string };
      expect(body.error).toBe('invalid_grant');
      expect(body.error_codes).toEqual([50196]);
      expect(body.error_description).toMatch(/^AADSTS50196: The server terminated an operation because it encountered a loop while processing a request\./);

      // Setting the switch again starts the counts afresh; null turns it off.
      expect((await setLimit(null)).status).toBe(200);
      expect((await post(clientCredentials)).status).toBe(200);
    } finally {
      await setLimit(null);
    }
  });
});
