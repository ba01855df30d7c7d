import { generateKeyPairSync, createHmac } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { appCallerToken, decodeJwtPayload, passwordGrant, userCallerToken } from '../identity/support.js';
import { setApiTokenVersion } from '../emulator/entra/support.js';

/**
 * Caller authentication through the gateway's HTTP endpoint with CALLER_AUTH=entra and API_AUDIENCE
 * set as docs/identity.md says (App ID URI and client id): v1.0 and v2.0 tokens from Entra are
 * accepted; every bad token is refused with HTTP 401 UNAUTHENTICATED before anything goes
 * upstream, and a valid token without the needed app role gets FORBIDDEN.
 */
const APP_ID_URI = 'api://msgraph-user-gateway';
const QUERY = '{ users(first: 1) { nodes { id } } }';

describe('CALLER_AUTH=entra over HTTP', () => {
  let emulator: TestEmulator;
  let gw: TestGateway;
  let goodToken: string;
  let readerToken: string;
  let v2Token: string;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    const known = emulator.tenant.wellKnown;
    // Every bad token below comes from 127.0.0.1: the per-address failure limit
    // (docs/security.md#failed-authentication, its own tests in test/identity) is raised out of the way.
    gw = await startTestGateway({
      emulator,
      env: { CALLER_AUTH: 'entra', API_AUDIENCE: `${APP_ID_URI}, ${known.demoAppId}`, LOG_LEVEL: 'debug', AUTH_FAILURE_LIMIT: '1000' },
    });
    goodToken = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret);
    readerToken = await appCallerToken(emulator, known.readerCallerAppId, known.readerCallerAppSecret);
    await setApiTokenVersion(emulator, known.demoAppId, 2);
    try {
      v2Token = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret);
    } finally {
      await setApiTokenVersion(emulator, known.demoAppId, null);
    }
  }, 60_000);

  afterAll(async () => {
    await gw.close();
    await emulator.close();
  });

  async function post(token: string | undefined, query = QUERY) {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query }),
    });
    return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> } };
  }

  /** An app-only v1.0 token as Entra issues it for the API (signed with the tenant's key). */
  function claims(overrides: Record<string, unknown> = {}) {
    const known = gw.emulator.tenant.wellKnown;
    const servicePrincipal = gw.emulator.tenant.apps.get(known.callerAppId)!.servicePrincipalId;
    return {
      aud: APP_ID_URI,
      iss: `https://sts.windows.net/${gw.emulator.tenantId}/`,
      tid: gw.emulator.tenantId,
      oid: servicePrincipal,
      sub: servicePrincipal,
      appid: known.callerAppId,
      roles: ['Users.Read', 'Users.Terminate'],
      ver: '1.0',
      ...overrides,
    };
  }

  it('accepts a v1.0 token from the tenant for the App ID URI', async () => {
    expect(decodeJwtPayload(goodToken)).toMatchObject({ ver: '1.0', aud: APP_ID_URI });
    const { status, body } = await post(goodToken);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
  });

  it('accepts a v2.0 token from the tenant for the client id', async () => {
    expect(decodeJwtPayload(v2Token)).toMatchObject({ ver: '2.0', aud: gw.emulator.tenant.wellKnown.demoAppId });
    const { status, body } = await post(v2Token);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
  });

  it('accepts a v1.0 user token', async () => {
    const admin = gw.emulator.tenant.users.get(gw.emulator.tenant.wellKnown.adminUserId)!;
    const { status, body } = await post(await userCallerToken(gw.emulator, admin.userPrincipalName, admin._password));
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
  });

  const cases: Array<[string, () => Promise<string | undefined>]> = [
    ['no token', async () => undefined],
    ['garbage', async () => 'not-a-jwt'],
    ['expired', async () => gw.emulator.context.signer.sign(claims(), 600, Math.floor(Date.now() / 1000) - 7200)],
    ['wrong audience', async () => gw.emulator.context.signer.sign(claims({ aud: 'api://someone-else' }), 600)],
    [
      'a token Entra issued for another API of the tenant',
      async () => {
        const known = gw.emulator.tenant.wellKnown;
        return appCallerToken(gw.emulator, known.callerAppId, known.callerAppSecret, `${known.otherApiAudience}/.default`);
      },
    ],
    ['wrong issuer', async () => gw.emulator.context.signer.sign(claims({ iss: 'https://login.example/other/v2.0' }), 600)],
    ['the issuer of another cloud', async () => gw.emulator.context.signer.sign(claims({ iss: `https://sts.chinacloudapi.cn/${gw.emulator.tenantId}/` }), 600)],
    [
      'a v2.0 token whose audience is the App ID URI (never issued by Entra)',
      async () => {
        const { appid, ...rest } = claims();
        return gw.emulator.context.signer.sign({ ...rest, azp: appid, iss: `${gw.emulator.origin}/${gw.emulator.tenantId}/v2.0`, ver: '2.0' }, 600);
      },
    ],
    [
      // The API's own registration signing a user in (OpenID Connect): Entra's ID token has `aud` = that
      // client id, which API_AUDIENCE holds, the v2.0 issuer and the tenant's key; no `azp`.
      'an ID token of the API registration (the emulator token endpoint, openid scope)',
      async () => {
        const known = gw.emulator.tenant.wellKnown;
        const admin = gw.emulator.tenant.users.get(known.adminUserId)!;
        const { body } = await passwordGrant(gw.emulator, { username: admin.userPrincipalName, password: admin._password, scope: 'openid profile' });
        const idToken = body.id_token as string;
        expect(decodeJwtPayload(idToken)).toMatchObject({ aud: known.demoAppId, ver: '2.0', tid: gw.emulator.tenantId });
        expect(decodeJwtPayload(idToken)).not.toHaveProperty('azp');
        return idToken;
      },
    ],
    ['a v1.0 token that names no client (no appid)', async () => gw.emulator.context.signer.sign(claims({ appid: undefined }), 600)],
    [
      'unknown key id',
      async () => {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        const key = await importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'RS256');
        return new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: 'not-a-tenant-key' }).setIssuedAt().setExpirationTime('10m').sign(key);
      },
    ],
    [
      'alg none',
      async () => {
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        const payload = Buffer.from(JSON.stringify({ ...claims(), exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url');
        return `${header}.${payload}.`;
      },
    ],
    [
      'HS256 signed with the public key as secret',
      async () => {
        const jwk = gw.emulator.context.signer.jwk;
        const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: jwk.kid })).toString('base64url');
        const payload = Buffer.from(JSON.stringify({ ...claims(), exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url');
        const signature = createHmac('sha256', JSON.stringify(jwk)).update(`${header}.${payload}`).digest('base64url');
        return `${header}.${payload}.${signature}`;
      },
    ],
  ];

  it.each(cases)('refuses %s with 401 UNAUTHENTICATED and no upstream call', async (_name, makeToken) => {
    const token = await makeToken();
    await gw.emulator.resetStats();
    const { status, body } = await post(token);
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(body.errors?.[0]?.message ?? '').not.toContain(token ?? '#none#');
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });

  it('gives FORBIDDEN to a valid caller without the app role, before anything goes upstream', async () => {
    const target = [...gw.emulator.tenant.users.values()].find((u) => u._directoryRoles.length === 0 && u.accountEnabled)!;
    const sessionsValidFrom = target.signInSessionsValidFromDateTime;
    await gw.emulator.resetStats();
    const { body } = await post(readerToken, `mutation { terminateSession(input: { user: "${target.id}" }) { succeeded } }`);
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
    expect(gw.emulator.tenant.users.get(target.id)!.accountEnabled).toBe(true);
    expect(gw.emulator.tenant.users.get(target.id)!.signInSessionsValidFromDateTime).toBe(sessionsValidFrom);
  });

  it("does not let a user's delegated scope disable accounts while the gateway acts as itself (client credentials)", async () => {
    const admin = gw.emulator.tenant.users.get(gw.emulator.tenant.wellKnown.adminUserId)!;
    const token = await userCallerToken(gw.emulator, admin.userPrincipalName, admin._password);
    // The client app was consented the scope: every user of that app carries it.
    expect(String(decodeJwtPayload(token).scp).split(' ')).toContain('Users.Terminate');
    const target = [...gw.emulator.tenant.users.values()].find((u) => u._directoryRoles.length === 0 && u.accountEnabled)!;
    await gw.emulator.resetStats();
    const { status, body } = await post(token, `mutation { disableAccount(input: { user: "${target.id}" }) { accountEnabled } }`);
    expect(status).toBe(403);
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
    expect(gw.emulator.tenant.users.get(target.id)!.accountEnabled).toBe(true);
  });

  it('never logs the bearer token', () => {
    const logs = gw.logLines.join('\n');
    expect(logs).not.toContain(goodToken);
    expect(logs).not.toContain(readerToken);
  });
});
