import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret, type Config } from '../../src/config-types.js';
import { GatewayError } from '../../src/errors.js';
import { createGraphIdentity, graphIdentityId } from '../../src/identity/index.js';
import { openTokenStore } from '../../src/store/index.js';
import type { Caller, GraphIdentity } from '../../src/identity/types.js';
import { registerApp } from '../../src/emulator/apps.js';
import type { TestEmulator } from '../support/emulator.js';
import { decodeJwtPayload, emulatorConfig, startIdentityTestBed, type CapturedLogs, type IdentityTestBed, type TestDeps } from './support.js';

let emulator: TestEmulator;
let dataDir: string;
let logs: CapturedLogs;
let deps: TestDeps;
let bed: IdentityTestBed;
const seenTokens: string[] = [];
const identities: GraphIdentity[] = [];

beforeAll(async () => {
  bed = await startIdentityTestBed('mgug-cc-');
  ({ emulator, dataDir, logs, deps } = bed);
});

afterAll(async () => {
  for (const identity of identities) await identity.close?.();
  await bed.close();
});

async function identityFor(overrides: Partial<Config> = {}): Promise<GraphIdentity> {
  const identity = await createGraphIdentity(emulatorConfig(emulator, dataDir, overrides), deps);
  identities.push(identity);
  return identity;
}

const anonymous: Caller = { kind: 'anonymous', permissions: new Set() };

describe('client credentials', () => {
  it('gets an app-only Graph token with the client secret', async () => {
    const identity = await identityFor();
    expect(identity.kind).toBe('client-credentials');
    expect(identity.delegated).toBe(false);
    const token = await identity.tokenSourceFor(anonymous).getAccessToken();
    seenTokens.push(token);
    const claims = decodeJwtPayload(token);
    expect(claims.appid).toBe(emulator.tenant.wellKnown.demoAppId);
    expect(claims.idtyp).toBe('app');
    expect(claims.roles).toContain('User.Read.All');
    expect(await identity.probe()).toBe(true);
  });

  it('gets one with the certificate (SHA-256 thumbprint, PS256 assertion)', async () => {
    const sd = emulatorConfig(emulator, dataDir).selfDeployed!;
    const identity = await identityFor({ selfDeployed: { ...sd, credential: { kind: 'certificate', path: emulator.demoAppCertificatePath } } });
    const token = await identity.tokenSourceFor(anonymous).getAccessToken();
    seenTokens.push(token);
    const claims = decodeJwtPayload(token);
    expect(claims.appid).toBe(emulator.tenant.wellKnown.demoAppId);
    expect(claims.appidacr).toBe('2'); // certificate-authenticated client
  });

  it('200 concurrent calls on a cold cache cause exactly one token request', async () => {
    const identity = await identityFor();
    await emulator.resetStats();
    const successes = async () =>
      (await deps.metrics.tokenAcquisitions.get()).values.find((v) => v.labels.flow === 'client-credentials' && v.labels.outcome === 'success')?.value ?? 0;
    const before = await successes();
    const tokens = await Promise.all(Array.from({ length: 200 }, () => identity.tokenSourceFor(anonymous).getAccessToken()));
    seenTokens.push(tokens[0]!);
    expect(new Set(tokens).size).toBe(1);
    expect((await emulator.stats()).tokenRequests).toBe(1);
    // And the next 200 come from the cache.
    await Promise.all(Array.from({ length: 200 }, () => identity.tokenSourceFor(anonymous).getAccessToken()));
    expect((await emulator.stats()).tokenRequests).toBe(1);
    expect((await successes()) - before).toBe(1);
  });

  it("invalidate() after a Graph 401 fetches a new token instead of msal's cached one", async () => {
    const identity = await identityFor();
    const source = identity.tokenSourceFor(anonymous);
    const first = await source.getAccessToken();
    await emulator.resetStats();
    source.invalidate!();
    await new Promise((r) => setTimeout(r, 1100)); // distinct iat
    const second = await source.getAccessToken();
    seenTokens.push(first, second);
    expect(second).not.toBe(first);
    expect((await emulator.stats()).tokenRequests).toBe(1);
  });

  it('a wrong secret is a GatewayError naming the flow and the AADSTS code, never the secret', async () => {
    const sd = emulatorConfig(emulator, dataDir).selfDeployed!;
    const wrongSecret = 'wrong~secret-value-that-must-not-leak-123';
    const identity = await identityFor({ selfDeployed: { ...sd, credential: { kind: 'secret', secret: new Secret(wrongSecret) } } });
    const error = await identity
      .tokenSourceFor(anonymous)
      .getAccessToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    const ge = error as GatewayError;
    expect(ge.code).toBe('UPSTREAM_ERROR');
    expect(ge.message).toMatch(/client-credentials/);
    expect(ge.message).toMatch(/AADSTS7000215/);
    expect(ge.message).not.toContain(wrongSecret);
    expect(await identity.probe()).toBe(false);
    logs.assertNoSecrets([wrongSecret]);
  });

  // AADSTS7000222 is the app's client secret past its end date (reference-error-codes): the fix is a new
  // secret in AZURE_CLIENT_SECRET; there is no stored grant to reset in this flow.
  it('an expired client secret names AADSTS7000222 and says to create a new secret, not to run auth:reset', async () => {
    const app = registerApp(emulator.tenant, { displayName: 'expired secret app', graphAppRoles: ['User.Read.All'] });
    const secret = app.secrets[0]!;
    app.expiredSecrets = [secret];
    app.secrets = [];
    const sd = emulatorConfig(emulator, dataDir).selfDeployed!;
    const identity = await identityFor({ selfDeployed: { ...sd, clientId: app.appId, credential: { kind: 'secret', secret: new Secret(secret) } } });
    const error = (await identity
      .tokenSourceFor(anonymous)
      .getAccessToken()
      .catch((e: unknown) => e)) as GatewayError;
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.code).toBe('UPSTREAM_ERROR');
    expect(error.message).toMatch(/AADSTS7000222/);
    expect(error.message).toMatch(/client secret has expired.*AZURE_CLIENT_SECRET/);
    expect(error.message).not.toContain('auth:reset');
    expect(error.message).not.toContain(secret);
  });

  it('an unreachable authority is UPSTREAM_UNAVAILABLE', async () => {
    const identity = await identityFor({ authorityHost: 'https://127.0.0.1:1' });
    const error = (await identity
      .tokenSourceFor(anonymous)
      .getAccessToken()
      .catch((e: unknown) => e)) as GatewayError;
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.message).toMatch(/client-credentials/);
  });

  it('the msal cache plugin writes to the store only when the cache changed', async () => {
    const config = emulatorConfig(emulator, dataDir);
    const store = await openTokenStore(config, { identityId: graphIdentityId(config), keepsRefreshToken: false });
    let writes = 0;
    const counting = {
      ...store,
      set: async (record: Parameters<typeof store.set>[0], value: string) => {
        writes += 1;
        await store.set(record, value);
      },
    };
    const identity = await createGraphIdentity(config, { ...deps, store: counting });
    const source = identity.tokenSourceFor(anonymous);
    await source.getAccessToken();
    expect(writes).toBe(1);
    expect(await store.get('msal-cache')).toContain('"AccessToken"');
    // A second instance on the same store reads the cached token through the plugin: nothing changed, no write.
    await emulator.resetStats();
    const second = await createGraphIdentity(config, { ...deps, store: counting });
    await second.tokenSourceFor(anonymous).getAccessToken();
    expect((await emulator.stats()).tokenRequests).toBe(0);
    expect(writes).toBe(1);
    // A forced renewal gets a new token: one more write.
    source.invalidate!();
    await new Promise((r) => setTimeout(r, 1100));
    await source.getAccessToken();
    expect(writes).toBe(2);
    await store.close();
  });

  it('logs at trace level carry no secret or token', () => {
    expect(logs.lines.length).toBeGreaterThan(10);
    logs.assertNoSecrets([emulator.tenant.wellKnown.demoAppSecret, ...seenTokens]);
  });
});
