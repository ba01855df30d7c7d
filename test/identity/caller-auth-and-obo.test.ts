import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT, exportSPKI, generateKeyPair, importJWK, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config-types.js';
import { GatewayError } from '../../src/errors.js';
import { createCallerAuthenticator, createGraphIdentity, issuerFor } from '../../src/identity/index.js';
import { Permission, type Caller, type CallerAuthenticator } from '../../src/identity/types.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { appCallerToken, captureLogs, decodeJwtPayload, emulatorConfig, testDeps, userCallerToken, type CapturedLogs, type TestDeps } from './support.js';

let emulator: TestEmulator;
let dataDir: string;
let logs: CapturedLogs;
let deps: TestDeps;
let entra: CallerAuthenticator;
const AUDIENCE = 'api://msgraph-user-gateway';
const seen: string[] = [];
const loopback = '127.0.0.1';

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 20 });
  dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-caller-'));
  logs = captureLogs();
  deps = testDeps(emulator, logs.logger);
  entra = createCallerAuthenticator(emulatorConfig(emulator, dataDir, { callerAuth: { mode: 'entra', audience: AUDIENCE } }), deps);
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

/** Claims the emulator would put in a caller token, signed by the emulator's own key. */
function callerClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aud: AUDIENCE,
    iss: issuerFor(emulator.authorityHost, emulator.tenantId),
    tid: emulator.tenantId,
    oid: emulator.tenant.wellKnown.adminUserId,
    scp: 'Users.Read',
    idtyp: 'user',
    ...overrides,
  };
}

function admin() {
  const user = emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!;
  return { upn: user.userPrincipalName, password: emulator.tenant.wellKnown.adminPassword || user._password, id: user.id };
}

function anotherUser() {
  const user = [...emulator.tenant.users.values()].find((u) => u.id !== emulator.tenant.wellKnown.adminUserId && u.accountEnabled && u.userType === 'Member')!;
  return { upn: user.userPrincipalName, password: user._password, id: user.id };
}

describe('caller authentication: entra', () => {
  it('accepts an app caller token and maps its app roles to permissions', async () => {
    const known = emulator.tenant.wellKnown;
    const token = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret);
    seen.push(token);
    const caller = await entra.authenticate(bearer(token));
    expect(caller.kind).toBe('entra');
    if (caller.kind !== 'entra') return;
    expect(caller.principal).toBe('app');
    expect([...caller.permissions].sort()).toEqual(Object.values(Permission).sort());

    const reader = await entra.authenticate(bearer(await appCallerToken(emulator, known.readerCallerAppId, known.readerCallerAppSecret)));
    // Missing role: authenticated, but without the permission (the resolver then answers FORBIDDEN).
    expect([...reader.permissions]).toEqual([Permission.UsersRead]);
    expect(reader.permissions.has(Permission.UsersTerminate)).toBe(false);
  });

  it('accepts a user token (delegated scp) with the user as subject', async () => {
    const { upn, password, id } = admin();
    const token = await userCallerToken(emulator, upn, password);
    seen.push(token, password);
    const caller = await entra.authenticate(bearer(token));
    expect(caller.kind === 'entra' && caller.principal).toBe('user');
    expect(caller.kind === 'entra' && caller.subject).toBe(id);
  });

  it('rejects every bad token with a reason and never echoes it', async () => {
    const signer = emulator.context.signer;
    const nowS = Math.floor(Date.now() / 1000);
    const cases: Array<[string, string, RegExp]> = [
      ['expired', await signer.sign(callerClaims(), 600, nowS - 3600), /expired/],
      ['wrong audience', await signer.sign(callerClaims({ aud: 'api://someone-else' }), 600, nowS), /audience/],
      ['wrong issuer', await signer.sign(callerClaims({ iss: 'https://login.example.com/other/v2.0' }), 600, nowS), /issuer/],
    ];
    // Unknown kid: a well-formed RS256 token from a key the authority never published.
    const stranger = await generateKeyPair('RS256');
    cases.push([
      'unknown kid',
      await new SignJWT(callerClaims())
        .setProtectedHeader({ alg: 'RS256', kid: 'not-a-published-kid' })
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(stranger.privateKey),
      /unknown key id/,
    ]);
    // alg: none
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    cases.push(['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...callerClaims(), exp: nowS + 600 })}.`, /algorithm|not a valid/]);
    // HS256 "signed" with the authority's public key as the HMAC secret (the classic confusion attack).
    const publicPem = await exportSPKI((await importJWK(signer.jwk, 'RS256', { extractable: true })) as CryptoKey);
    const hs = await new SignJWT(callerClaims())
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
      emulatorConfig(emulator, dataDir, { selfDeployed: { ...base.selfDeployed!, flow: 'on-behalf-of' }, callerAuth: { mode: 'entra', audience: AUDIENCE } }),
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

  it('logs at trace level carry no token, password or secret', () => {
    logs.assertNoSecrets([emulator.tenant.wellKnown.demoAppSecret, emulator.tenant.wellKnown.callerAppSecret, ...seen]);
  });
});
