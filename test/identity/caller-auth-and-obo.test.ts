import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT, exportSPKI, generateKeyPair, importJWK, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config-types.js';
import { GatewayError } from '../../src/errors.js';
import { CLOCK_SKEW_SECONDS } from '../../src/identity/caller-token-verifier.js';
import { createCallerAuthenticator, createGraphIdentity } from '../../src/identity/index.js';
import { Permission, type Caller, type CallerAuthenticator } from '../../src/identity/types.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { setApiTokenVersion } from '../emulator/entra/support.js';
import { appCallerToken, captureLogs, decodeJwtPayload, emulatorConfig, testDeps, userCallerToken, type CapturedLogs, type TestDeps } from './support.js';

let emulator: TestEmulator;
let dataDir: string;
let logs: CapturedLogs;
let deps: TestDeps;
let entra: CallerAuthenticator;
const APP_ID_URI = 'api://msgraph-user-gateway';
/** API_AUDIENCE as docs/identity.md tells operators: the App ID URI (v1.0 tokens) and the client id (v2.0 tokens). */
let audiences: string[];
const seen: string[] = [];
const loopback = '127.0.0.1';

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 20 });
  dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-caller-'));
  logs = captureLogs();
  deps = testDeps(emulator, logs.logger);
  audiences = [APP_ID_URI, emulator.tenant.wellKnown.demoAppId];
  entra = createCallerAuthenticator(emulatorConfig(emulator, dataDir, { callerAuth: { mode: 'entra', audiences } }), deps);
});

afterAll(async () => {
  await deps.upstream.close();
  await emulator.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` }, remoteAddress: '10.0.0.7' });

async function rejection(authenticator: CallerAuthenticator, request: Parameters<CallerAuthenticator['authenticate']>[0]): Promise<GatewayError> {
  const error = await authenticator.authenticate(request).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatewayError);
  expect((error as GatewayError).code).toBe('UNAUTHENTICATED');
  return error as GatewayError;
}

const v1Issuer = () => `https://sts.windows.net/${emulator.tenantId}/`;
const v2Issuer = () => `${emulator.origin}/${emulator.tenantId}/v2.0`;

/** A v1.0 delegated token as Entra issues it for the gateway's API, signed by the emulator's own key. */
function v1Claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aud: APP_ID_URI,
    iss: v1Issuer(),
    tid: emulator.tenantId,
    oid: emulator.tenant.wellKnown.adminUserId,
    sub: 'pairwise-subject-of-the-admin',
    appid: emulator.tenant.wellKnown.callerAppId,
    scp: 'Users.Read',
    ver: '1.0',
    ...overrides,
  };
}

/** The same user as a v2.0 token: `aud` is the API's client id. */
function v2Claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aud: emulator.tenant.wellKnown.demoAppId,
    iss: v2Issuer(),
    tid: emulator.tenantId,
    oid: emulator.tenant.wellKnown.adminUserId,
    sub: 'pairwise-subject-of-the-admin',
    azp: emulator.tenant.wellKnown.callerAppId,
    scp: 'Users.Read',
    ver: '2.0',
    ...overrides,
  };
}

const sign = (claims: Record<string, unknown>, lifetimeSeconds = 600, issuedAt = Math.floor(Date.now() / 1000)) =>
  emulator.context.signer.sign(claims, lifetimeSeconds, issuedAt);

function admin() {
  const user = emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!;
  return { upn: user.userPrincipalName, password: emulator.tenant.wellKnown.adminPassword || user._password, id: user.id };
}

function anotherUser() {
  const user = [...emulator.tenant.users.values()].find((u) => u.id !== emulator.tenant.wellKnown.adminUserId && u.accountEnabled && u.userType === 'Member')!;
  return { upn: user.userPrincipalName, password: user._password, id: user.id };
}

/** Tokens issued while the gateway's API registration asks for v2.0 tokens. */
async function withV2Api<T>(fn: () => Promise<T>): Promise<T> {
  await setApiTokenVersion(emulator, emulator.tenant.wellKnown.demoAppId, 2);
  try {
    return await fn();
  } finally {
    await setApiTokenVersion(emulator, emulator.tenant.wellKnown.demoAppId, null);
  }
}

describe('caller authentication: entra', () => {
  it('accepts a v1.0 app caller token (aud: the App ID URI) and maps its app roles to permissions', async () => {
    const known = emulator.tenant.wellKnown;
    const token = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret);
    seen.push(token);
    expect(decodeJwtPayload(token)).toMatchObject({ ver: '1.0', iss: v1Issuer(), aud: APP_ID_URI });
    const caller = await entra.authenticate(bearer(token));
    expect(caller.kind).toBe('entra');
    if (caller.kind !== 'entra') return;
    // No idtyp in a custom API's token: app-only is told by oid = sub.
    expect(caller.principal).toBe('app');
    expect(caller.tenantId).toBe(emulator.tenantId);
    expect([...caller.permissions].sort()).toEqual(Object.values(Permission).sort());

    const reader = await entra.authenticate(bearer(await appCallerToken(emulator, known.readerCallerAppId, known.readerCallerAppSecret)));
    // Missing role: authenticated, but without the permission (the resolver then answers FORBIDDEN).
    expect([...reader.permissions]).toEqual([Permission.UsersRead]);
    expect(reader.permissions.has(Permission.UsersTerminate)).toBe(false);
  });

  it('accepts a v1.0 user token (delegated scp) with the user as subject', async () => {
    const { upn, password, id } = admin();
    const token = await userCallerToken(emulator, upn, password);
    seen.push(token, password);
    const caller = await entra.authenticate(bearer(token));
    expect(caller.kind === 'entra' && caller.principal).toBe('user');
    expect(caller.kind === 'entra' && caller.subject).toBe(id);
  });

  it("takes of a user's delegated scopes only Users.Read while the gateway acts as itself; on behalf of the user, all of them", async () => {
    const claims = v1Claims({ scp: 'Users.Read Users.Terminate Users.ChangePassword Gateway.Admin', roles: ['Users.ReadAuthMethods'] });
    const token = await sign(claims);
    // Client credentials (and a signed-in operator, the hosted broker): the gateway's Graph identity
    // acts, and the scope is the client app's consent, the same for each of its users.
    const asItself = await entra.authenticate(bearer(token));
    expect([...asItself.permissions].sort()).toEqual([Permission.UsersRead, Permission.UsersReadAuthMethods].sort());
    // On behalf of the caller: Graph checks what this user may do, so the scopes count.
    const base = emulatorConfig(emulator, dataDir, { callerAuth: { mode: 'entra', audiences } });
    const onBehalf = createCallerAuthenticator({ ...base, selfDeployed: { ...base.selfDeployed!, flow: 'on-behalf-of' } }, deps);
    const asTheUser = await onBehalf.authenticate(bearer(token));
    expect([...asTheUser.permissions].sort()).toEqual(
      [Permission.UsersRead, Permission.UsersTerminate, Permission.UsersChangePassword, Permission.GatewayAdmin, Permission.UsersReadAuthMethods].sort(),
    );
  });

  it("takes nothing of a guest's scopes while the gateway acts as itself: acct not 0, or without acct another idp; its app roles and, on behalf of it, its scopes count", async () => {
    const guestIdp = 'https://sts.windows.net/5b2c4e8a-1f3d-4a6b-9c7e-2d8f0a1b3c5d/';
    const base = emulatorConfig(emulator, dataDir, { callerAuth: { mode: 'entra', audiences } });
    const onBehalf = createCallerAuthenticator({ ...base, selfDeployed: { ...base.selfDeployed!, flow: 'on-behalf-of' } }, deps);
    const permissions = async (authenticator: CallerAuthenticator, claims: Record<string, unknown>) =>
      [...(await authenticator.authenticate(bearer(await sign(claims)))).permissions].sort();
    // Another identity provider (a B2B guest, a personal account invited in), in v1.0 and v2.0 tokens.
    expect(await permissions(entra, v1Claims({ idp: guestIdp }))).toEqual([]);
    expect(await permissions(entra, v2Claims({ idp: guestIdp }))).toEqual([]);
    expect(await permissions(entra, v1Claims({ idp: 'live.com' }))).toEqual([]);
    // The optional `acct` claim decides when present: 1 is a guest, 0 a member (an external member too).
    expect(await permissions(entra, v1Claims({ acct: 1 }))).toEqual([]);
    expect(await permissions(entra, v1Claims({ acct: 0 }))).toEqual([Permission.UsersRead]);
    expect(await permissions(entra, v1Claims({ acct: 0, idp: guestIdp }))).toEqual([Permission.UsersRead]);
    expect(await permissions(entra, v1Claims({ acct: '0' }))).toEqual([]);
    // An idp that is the tenant's own issuer (v1.0 or v2.0) is a member.
    expect(await permissions(entra, v1Claims({ idp: v1Issuer() }))).toEqual([Permission.UsersRead]);
    expect(await permissions(entra, v2Claims({ idp: v2Issuer() }))).toEqual([Permission.UsersRead]);
    // An app role assigned to the guest is the operator's decision.
    expect(await permissions(entra, v1Claims({ idp: guestIdp, roles: ['Users.ReadMemberships'] }))).toEqual([Permission.UsersReadMemberships]);
    // On behalf of the guest, Graph applies the guest's own (restricted) rights: the scopes count.
    expect(await permissions(onBehalf, v1Claims({ idp: guestIdp, scp: 'Users.Read Users.Terminate' }))).toEqual(
      [Permission.UsersRead, Permission.UsersTerminate].sort(),
    );
  });

  it('accepts a v1.0 token requested by client id (aud: the client id)', async () => {
    const { upn, password, id } = admin();
    const token = await userCallerToken(emulator, upn, password, `${emulator.tenant.wellKnown.demoAppId}/.default`);
    seen.push(token);
    expect(decodeJwtPayload(token)).toMatchObject({ ver: '1.0', aud: emulator.tenant.wellKnown.demoAppId });
    expect(await entra.authenticate(bearer(token))).toMatchObject({ kind: 'entra', principal: 'user', subject: id });
  });

  it('accepts v2.0 app and user tokens (aud: the client id) once the API registration asks for v2.0', async () => {
    const known = emulator.tenant.wellKnown;
    const { upn, password, id } = admin();
    const [appToken, userToken] = await withV2Api(async () => [
      await appCallerToken(emulator, known.callerAppId, known.callerAppSecret),
      await userCallerToken(emulator, upn, password),
    ]);
    seen.push(appToken, userToken);
    expect(decodeJwtPayload(userToken)).toMatchObject({ ver: '2.0', iss: v2Issuer(), aud: known.demoAppId });
    const app = await entra.authenticate(bearer(appToken));
    expect(app).toMatchObject({ kind: 'entra', principal: 'app' });
    expect(app.permissions.size).toBe(Object.values(Permission).length);
    expect(await entra.authenticate(bearer(userToken))).toMatchObject({ kind: 'entra', principal: 'user', subject: id });
  });

  it('tells app-only from delegated by idtyp, else by oid = sub, never by the absence of scp', async () => {
    const userWithRolesOnly = await entra.authenticate(bearer(await sign(v1Claims({ scp: undefined, roles: ['Users.Read'] }))));
    expect(userWithRolesOnly).toMatchObject({ kind: 'entra', principal: 'user' });
    const servicePrincipal = emulator.tenant.apps.get(emulator.tenant.wellKnown.callerAppId)!.servicePrincipalId;
    const appOnly = await entra.authenticate(
      bearer(await sign(v1Claims({ scp: undefined, roles: ['Users.Read'], oid: servicePrincipal, sub: servicePrincipal }))),
    );
    expect(appOnly).toMatchObject({ kind: 'entra', principal: 'app' });
    const declared = await entra.authenticate(bearer(await sign(v1Claims({ idtyp: 'app', scp: undefined, roles: ['Users.Read'] }))));
    expect(declared).toMatchObject({ kind: 'entra', principal: 'app' });
  });

  it('reads the issuers from the tenant metadata once: later tokens cost no request to the authority', async () => {
    const fresh = createCallerAuthenticator(emulatorConfig(emulator, dataDir, { callerAuth: { mode: 'entra', audiences } }), deps);
    await emulator.resetStats();
    for (const claims of [v1Claims(), v2Claims(), v1Claims({ sub: 'another' }), v2Claims({ sub: 'another' })]) {
      await fresh.authenticate(bearer(await sign(claims)));
    }
    const stats = await emulator.stats();
    expect(stats.byRoute['GET /{tenant}/.well-known/openid-configuration']).toBe(1);
    expect(stats.byRoute['GET /{tenant}/v2.0/.well-known/openid-configuration']).toBe(1);
    expect(stats.byRoute['GET /{tenant}/discovery/keys']).toBe(1);
    expect(stats.byRoute['GET /{tenant}/discovery/v2.0/keys']).toBe(1);
    expect(stats.totalRequests).toBe(4);
  });

  it('rejects every bad token with a reason and never echoes it', async () => {
    const signer = emulator.context.signer;
    const nowS = Math.floor(Date.now() / 1000);
    const known = emulator.tenant.wellKnown;
    const otherApiToken = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret, `${known.otherApiAudience}/.default`);
    const otherTenant = '0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b';
    const cases: Array<[string, string, RegExp]> = [
      ['expired', await sign(v1Claims(), 600, nowS - 3600), /expired/],
      ['wrong audience', await sign(v1Claims({ aud: 'api://someone-else' })), /audience/],
      // A real Entra token of this tenant, for another API: only the audience is wrong.
      ['a token for another API of the tenant', otherApiToken, /audience/],
      // Self-deployed, the tenant id is public, and the issuers say which tenant to get a token from
      // (hosted mode names none: test/e2e/hosted-token-exposure.test.ts).
      [
        'another tenant (issuer)',
        await sign(v1Claims({ iss: `https://sts.windows.net/${otherTenant}/`, tid: otherTenant })),
        new RegExp(`wrong issuer \\(expected https://sts\\.windows\\.net/${emulator.tenantId}/ or `),
      ],
      ['another tenant (tid)', await sign(v2Claims({ tid: otherTenant })), /another tenant/],
      ['another cloud', await sign(v1Claims({ iss: `https://sts.chinacloudapi.cn/${emulator.tenantId}/` })), /wrong issuer/],
      ['a login-host v1 issuer', await sign(v1Claims({ iss: `${emulator.origin}/${emulator.tenantId}/` })), /wrong issuer/],
      // Entra never issues a v2.0 token for an App ID URI: one is forged or misconfigured.
      ['v2.0 token with the App ID URI as audience', await sign(v2Claims({ aud: APP_ID_URI })), /v2\.0 token whose audience is not a client id/],
      ['v1.0 issuer with ver 2.0', await sign(v1Claims({ ver: '2.0' })), /version/],
      ['v2.0 issuer without ver', await sign(v2Claims({ ver: undefined })), /version/],
    ];
    // Unknown kid: a well-formed RS256 token from a key the authority never published.
    const stranger = await generateKeyPair('RS256');
    cases.push([
      'unknown kid',
      await new SignJWT(v1Claims())
        .setProtectedHeader({ alg: 'RS256', kid: 'not-a-published-kid' })
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(stranger.privateKey),
      /unknown key id/,
    ]);
    // alg: none
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    cases.push(['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...v1Claims(), exp: nowS + 600 })}.`, /algorithm|not a valid/]);
    // HS256 "signed" with the authority's public key as the HMAC secret (the classic confusion attack).
    const publicPem = await exportSPKI((await importJWK(signer.jwk, 'RS256', { extractable: true })) as CryptoKey);
    const hs = await new SignJWT(v1Claims())
      .setProtectedHeader({ alg: 'HS256', kid: signer.kid })
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(publicPem));
    cases.push(['HS256 with the public key', hs, /unsupported algorithm/]);
    cases.push(['garbage', 'not.a.jwt', /not a valid|could not be verified/]);

    for (const [name, token, reason] of cases) {
      const error = await rejection(entra, bearer(token));
      expect(error.message, name).toMatch(reason);
      expect(error.message, name).not.toContain(token.slice(0, 30));
      seen.push(token);
    }
    expect((await rejection(entra, { headers: {}, remoteAddress: loopback })).message).toMatch(/Bearer/);
    expect((await rejection(entra, { headers: { authorization: 'Basic abc' }, remoteAddress: loopback })).message).toMatch(/Bearer/);
  });

  it('tolerates clock skew between Entra and the gateway up to CLOCK_SKEW_SECONDS (60 s), and no more', async () => {
    // A gateway host whose clock is behind sees a fresh token as not yet valid, one whose clock is
    // ahead sees it expire early: a minute either way is accepted, five minutes is not.
    const nowS = Math.floor(Date.now() / 1000);
    const skew = CLOCK_SKEW_SECONDS;
    // nbf is 5 s before iat (src/emulator/keys.ts): an issuer this far ahead puts nbf skew - 15 s ahead.
    expect(await entra.authenticate(bearer(await sign(v1Claims(), 600, nowS + skew - 10)))).toMatchObject({ kind: 'entra' });
    expect((await rejection(entra, bearer(await sign(v1Claims(), 600, nowS + 300)))).message).toMatch(/not (yet )?(valid|active)|nbf/i);
    // Expired half the tolerance ago: accepted; twice the tolerance ago: refused.
    expect(await entra.authenticate(bearer(await sign(v1Claims(), 600, nowS - 600 - skew / 2)))).toMatchObject({ kind: 'entra' });
    expect((await rejection(entra, bearer(await sign(v1Claims(), 600, nowS - 600 - 2 * skew)))).message).toMatch(/expired/);
  });

  it('accepts a v2.0 token only for an audience API_AUDIENCE lists', async () => {
    const onlyUri = createCallerAuthenticator(emulatorConfig(emulator, dataDir, { callerAuth: { mode: 'entra', audiences: [APP_ID_URI] } }), deps);
    expect((await rejection(onlyUri, bearer(await sign(v2Claims())))).message).toMatch(/audience/);
    expect(await onlyUri.authenticate(bearer(await sign(v1Claims())))).toMatchObject({ kind: 'entra' });
  });

  it('answers UPSTREAM_UNAVAILABLE, not UNAUTHENTICATED, when the tenant metadata cannot be loaded', async () => {
    const base = emulatorConfig(emulator, dataDir);
    const unknownTenant = createCallerAuthenticator(
      emulatorConfig(emulator, dataDir, {
        selfDeployed: { ...base.selfDeployed!, tenantId: 'unknown-tenant.example' },
        callerAuth: { mode: 'entra', audiences },
      }),
      deps,
    );
    const token = await sign(v1Claims());
    const error = (await unknownTenant.authenticate(bearer(token)).catch((e: unknown) => e)) as GatewayError;
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.message).not.toContain(token.slice(0, 30));
  });
});

describe('caller authentication: entra in a national cloud', () => {
  it('takes the v1.0 issuer from the metadata (another STS host) and refuses the public cloud issuer', async () => {
    const china = await startTestEmulator({ userCount: 10, stsHost: 'https://sts.chinacloudapi.cn', dataDir: emulator.dataDir });
    const chinaDeps = testDeps(china, logs.logger);
    try {
      const authenticator = createCallerAuthenticator(
        emulatorConfig(china, dataDir, { callerAuth: { mode: 'entra', audiences: [APP_ID_URI, china.tenant.wellKnown.demoAppId] } }),
        chinaDeps,
      );
      const known = china.tenant.wellKnown;
      const token = await appCallerToken(china, known.callerAppId, known.callerAppSecret);
      seen.push(token);
      expect(decodeJwtPayload(token).iss).toBe(`https://sts.chinacloudapi.cn/${china.tenantId}/`);
      expect(await authenticator.authenticate(bearer(token))).toMatchObject({ kind: 'entra', principal: 'app' });
      const publicCloud = await china.context.signer.sign({ ...decodeJwtPayload(token), iss: `https://sts.windows.net/${china.tenantId}/` }, 600);
      expect((await rejection(authenticator, bearer(publicCloud))).message).toMatch(/wrong issuer/);
      // A token of the public-cloud emulator (same tenant id, other keys and issuer host) is refused too.
      const fromOtherCloud = await appCallerToken(emulator, emulator.tenant.wellKnown.callerAppId, emulator.tenant.wellKnown.callerAppSecret);
      expect((await rejection(authenticator, bearer(fromOtherCloud))).message).toMatch(/wrong issuer/);
    } finally {
      await chinaDeps.upstream.close();
      await china.close();
    }
  });
});

describe('caller authentication: api-key and none', () => {
  const key = 'k-3f8a9c1d2e7b4a6f9e0d1c2b3a4f5e6d';
  const readerKey = 'k-reader-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
  const sha = (k: string) => createHash('sha256').update(k).digest();
  let apiKeys: CallerAuthenticator;

  beforeAll(() => {
    const callerAuth: Config['callerAuth'] = {
      mode: 'api-key',
      keys: [
        { id: 'soar', sha256: sha(key), permissions: new Set([Permission.UsersRead, Permission.UsersTerminate]) },
        { id: 'reader', sha256: sha(readerKey), permissions: new Set([Permission.UsersRead]) },
      ],
    };
    apiKeys = createCallerAuthenticator(emulatorConfig(emulator, dataDir, { callerAuth }), deps);
  });

  it('accepts x-api-key and Authorization: ApiKey, each key with its permissions', async () => {
    const a = await apiKeys.authenticate({ headers: { 'x-api-key': key }, remoteAddress: '10.1.1.1' });
    expect(a).toMatchObject({ kind: 'api-key', keyId: 'soar' });
    expect(a.permissions.has(Permission.UsersTerminate)).toBe(true);
    const b = await apiKeys.authenticate({ headers: { authorization: `ApiKey ${readerKey}` }, remoteAddress: '10.1.1.1' });
    expect(b).toMatchObject({ kind: 'api-key', keyId: 'reader' });
    expect(b.permissions.has(Permission.UsersTerminate)).toBe(false);
  });

  it('rejects a missing or wrong key without echoing it', async () => {
    expect((await rejection(apiKeys, { headers: {}, remoteAddress: loopback })).message).toMatch(/x-api-key/);
    const wrong = 'k-wrong-key-value-1234567890';
    const error = await rejection(apiKeys, { headers: { 'x-api-key': wrong }, remoteAddress: loopback });
    expect(error.message).not.toContain(wrong);
  });

  it('none admits loopback callers only, with every permission', async () => {
    const none = createCallerAuthenticator(emulatorConfig(emulator, dataDir), deps);
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      const caller: Caller = await none.authenticate({ headers: {}, remoteAddress: address });
      expect(caller.kind).toBe('anonymous');
      expect(caller.permissions.size).toBe(Object.values(Permission).length);
    }
    expect((await rejection(none, { headers: {}, remoteAddress: '192.168.1.20' })).message).toMatch(/loopback/);
    await rejection(none, { headers: {}, remoteAddress: undefined });
  });
});

describe('on-behalf-of', () => {
  it('two different callers get their own Graph tokens, in different partitions', async () => {
    const base = emulatorConfig(emulator, dataDir);
    const identity = await createGraphIdentity(
      emulatorConfig(emulator, dataDir, { selfDeployed: { ...base.selfDeployed!, flow: 'on-behalf-of' }, callerAuth: { mode: 'entra', audiences } }),
      deps,
    );
    expect(identity.kind).toBe('on-behalf-of');
    expect(identity.delegated).toBe(true);
    const first = admin();
    const second = anotherUser();
    seen.push(first.password, second.password);
    const callerA = await entra.authenticate(bearer(await userCallerToken(emulator, first.upn, first.password)));
    const callerB = await entra.authenticate(bearer(await userCallerToken(emulator, second.upn, second.password)));
    const sourceA = identity.tokenSourceFor(callerA);
    const sourceB = identity.tokenSourceFor(callerB);
    expect(sourceA.partition).not.toBe(sourceB.partition);

    await emulator.resetStats();
    const [a1, a2, b1] = await Promise.all([sourceA.getAccessToken(), identity.tokenSourceFor(callerA).getAccessToken(), sourceB.getAccessToken()]);
    seen.push(a1, b1);
    expect(a1).toBe(a2);
    expect(decodeJwtPayload(a1).oid).toBe(first.id);
    expect(decodeJwtPayload(b1).oid).toBe(second.id);
    expect(decodeJwtPayload(a1).idtyp).toBe('user');
    expect((await emulator.stats()).tokenRequests).toBe(2);

    // An app-only or non-Entra caller cannot be exchanged.
    const app = await entra.authenticate(
      bearer(await appCallerToken(emulator, emulator.tenant.wellKnown.callerAppId, emulator.tenant.wellKnown.callerAppSecret)),
    );
    const refused = (await identity
      .tokenSourceFor(app)
      .getAccessToken()
      .catch((e: unknown) => e)) as GatewayError;
    expect(refused.code).toBe('UNAUTHENTICATED');
    expect(refused.message).toMatch(/on-behalf-of/);
    await identity.close?.();
  });

  it('exchanges a v2.0 caller token (aud: the client id) for a Graph token of the same user', async () => {
    const base = emulatorConfig(emulator, dataDir);
    const identity = await createGraphIdentity(
      emulatorConfig(emulator, dataDir, { selfDeployed: { ...base.selfDeployed!, flow: 'on-behalf-of' }, callerAuth: { mode: 'entra', audiences } }),
      deps,
    );
    const user = anotherUser();
    const token = await withV2Api(() => userCallerToken(emulator, user.upn, user.password));
    seen.push(token);
    const caller = await entra.authenticate(bearer(token));
    const graphToken = await identity.tokenSourceFor(caller).getAccessToken();
    seen.push(graphToken);
    expect(decodeJwtPayload(graphToken)).toMatchObject({ oid: user.id, ver: '1.0', appid: emulator.tenant.wellKnown.demoAppId });
    await identity.close?.();
  });

  it('logs at trace level carry no token, password or secret', () => {
    logs.assertNoSecrets([emulator.tenant.wellKnown.demoAppSecret, emulator.tenant.wellKnown.callerAppSecret, ...seen]);
  });
});
