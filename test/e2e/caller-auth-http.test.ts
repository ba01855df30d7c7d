import { generateKeyPairSync, createHmac } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { appCallerToken } from '../identity/support.js';

/**
 * Caller authentication through the gateway's HTTP endpoint with CALLER_AUTH=entra: every bad
 * token is refused with HTTP 401 UNAUTHENTICATED before anything goes upstream, and a valid token
 * without the needed app role gets FORBIDDEN.
 */
const AUDIENCE = 'api://msgraph-user-gateway';
const QUERY = '{ users(first: 1) { nodes { id } } }';

describe('CALLER_AUTH=entra over HTTP', () => {
  let gw: TestGateway;
  let goodToken: string;
  let readerToken: string;

  beforeAll(async () => {
    gw = await startTestGateway({ env: { CALLER_AUTH: 'entra', API_AUDIENCE: AUDIENCE, LOG_LEVEL: 'debug' } });
    const known = gw.emulator.tenant.wellKnown;
    goodToken = await appCallerToken(gw.emulator, known.callerAppId, known.callerAppSecret);
    readerToken = await appCallerToken(gw.emulator, known.readerCallerAppId, known.readerCallerAppSecret);
  }, 60_000);

  afterAll(async () => {
    await gw.close();
  });

  async function post(token: string | undefined, query = QUERY) {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query }),
    });
    return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> } };
  }

  function claims(overrides: Record<string, unknown> = {}) {
    const known = gw.emulator.tenant.wellKnown;
    return {
      aud: AUDIENCE,
      iss: gw.emulator.context.issuer,
      tid: gw.emulator.tenantId,
      oid: known.callerAppId,
      appid: known.callerAppId,
      roles: ['Users.Read', 'Users.Terminate'],
      ver: '2.0',
      ...overrides,
    };
  }

  it('accepts a token from the tenant for the API audience', async () => {
    const { status, body } = await post(goodToken);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
  });

  const cases: Array<[string, () => Promise<string | undefined>]> = [
    ['no token', async () => undefined],
    ['garbage', async () => 'not-a-jwt'],
    ['expired', async () => gw.emulator.context.signer.sign(claims(), 600, Math.floor(Date.now() / 1000) - 7200)],
    ['wrong audience', async () => gw.emulator.context.signer.sign(claims({ aud: 'api://someone-else' }), 600)],
    ['wrong issuer', async () => gw.emulator.context.signer.sign(claims({ iss: 'https://login.example/other/v2.0' }), 600)],
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

  it('never logs the bearer token', () => {
    const logs = gw.logLines.join('\n');
    expect(logs).not.toContain(goodToken);
    expect(logs).not.toContain(readerToken);
  });
});
