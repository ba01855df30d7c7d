import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret, type Config } from '../../src/config-types.js';
import { identityState } from '../../src/emulator/entra/state.js';
import { GatewayError } from '../../src/errors.js';
import { createGraphIdentity, decryptBrokerToken, encryptBrokerToken, graphIdentityId } from '../../src/identity/index.js';
import type { Caller } from '../../src/identity/types.js';
import { openTokenStore } from '../../src/store/index.js';
import type { TestEmulator } from '../support/emulator.js';
import { decodeJwtPayload, emulatorConfig, startIdentityTestBed, type CapturedLogs, type IdentityTestBed, type TestDeps } from './support.js';

let emulator: TestEmulator;
let dataDir: string;
let logs: CapturedLogs;
let deps: TestDeps;
let bed: IdentityTestBed;
const seen: string[] = [];
const anonymous: Caller = { kind: 'anonymous', permissions: new Set() };

beforeAll(async () => {
  bed = await startIdentityTestBed('mgug-broker-');
  ({ emulator, dataDir, logs, deps } = bed);
});

afterAll(async () => {
  await bed.close();
});

function hostedConfig(overrides: { key?: string; cache?: Config['cache']; now?: number } = {}): Config {
  const registration = emulator.tenant.brokerRegistrations.get(emulator.tenant.wellKnown.brokerRegistrationId)!;
  return emulatorConfig(emulator, dataDir, {
    deploymentMode: 'hosted',
    hosted: {
      brokerUrl: emulator.brokerUrl,
      registrationId: registration.id,
      token: new Secret(registration.token),
      key: new Secret(overrides.key ?? registration.key),
    },
    cache: overrides.cache ?? { kind: 'sqlite', path: path.join(dataDir, 'broker.sqlite') },
  });
}

describe('broker crypto', () => {
  it('is base64(nonce ‖ AES-256-GCM ‖ tag) of "epoch:content", the emulator decrypts it', async () => {
    const key = randomBytes(32).toString('base64');
    const a = encryptBrokerToken(key, 'tenant-id', 1_700_000_000);
    const b = encryptBrokerToken(key, 'tenant-id', 1_700_000_000);
    expect(a).not.toBe(b); // fresh 12-byte nonce
    expect(Buffer.from(a, 'base64').length).toBe(12 + '1700000000:tenant-id'.length + 16);
    expect(decryptBrokerToken(key, a)).toEqual({ epochSeconds: 1_700_000_000, content: 'tenant-id' });
    const { decryptBrokerToken: emulatorDecrypt } = await import('../../src/emulator/broker.js');
    expect(emulatorDecrypt(a, key)).toBe('1700000000:tenant-id');
    expect(() => decryptBrokerToken(randomBytes(32).toString('base64'), a)).toThrow();
  });
});

describe('hosted broker', () => {
  it('gets a Graph token, keeps the rotated refresh token encrypted and sends it back', async () => {
    const config = hostedConfig();
    const identity = await createGraphIdentity(config, deps);
    expect(identity.kind).toBe('hosted-broker');
    const source = identity.tokenSourceFor(anonymous);
    const token = await source.getAccessToken();
    seen.push(token);
    expect(decodeJwtPayload(token).appid).toBe(emulator.tenant.wellKnown.hostedAppId);
    const brokerTokens = identityState(emulator.tenant).brokerRefreshTokens;
    const firstRefresh = [...brokerTokens.keys()].at(-1)!;

    source.invalidate!();
    seen.push(await source.getAccessToken());
    // The kept refresh token was redeemed (spent) and a new one kept.
    expect(brokerTokens.get(firstRefresh)!.spent).toBe(true);
    const secondRefresh = [...brokerTokens.keys()].at(-1)!;
    await identity.close?.();

    const store = await openTokenStore(config, { identityId: graphIdentityId(config), keepsRefreshToken: true });
    expect(await store.get('broker-refresh-token')).toBe(secondRefresh);
    await store.close();
    seen.push(firstRefresh, secondRefresh);
  });

  it('falls back to the registration token when the kept refresh token is refused', async () => {
    const config = hostedConfig();
    const store = await openTokenStore(config, { identityId: graphIdentityId(config), keepsRefreshToken: true });
    await store.set('broker-refresh-token', 'broker.not-a-refresh-token-this-broker-issued');
    const identity = await createGraphIdentity(config, { ...deps, store });
    seen.push(await identity.tokenSourceFor(anonymous).getAccessToken());
    expect(await store.get('broker-refresh-token')).toMatch(/^broker\./);
    expect(await store.get('broker-refresh-token')).not.toBe('broker.not-a-refresh-token-this-broker-issued');
    await store.close();
  });

  it('a wrong key is a clear error, then requests back off (bounded) with a clear message', async () => {
    const wrongKey = randomBytes(32).toString('base64');
    const identity = await createGraphIdentity(hostedConfig({ key: wrongKey, cache: { kind: 'memory' } }), deps);
    const source = identity.tokenSourceFor(anonymous);
    await emulator.resetStats();
    const first = (await source.getAccessToken().catch((e: unknown) => e)) as GatewayError;
    expect(first).toBeInstanceOf(GatewayError);
    expect(first.code).toBe('UPSTREAM_ERROR');
    expect(first.message).toMatch(/Status: 401/);
    expect(first.message).toMatch(/BROKER_KEY does not match/);
    expect(first.message).not.toContain(wrongKey);

    const delayed = (await source.getAccessToken().catch((e: unknown) => e)) as GatewayError;
    expect(delayed.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(delayed.message).toMatch(/delayed until \d{4}-\d\d-\d\dT/);
    expect(delayed.extensions.retryAfterSeconds).toBeLessThanOrEqual(64);
    expect((await emulator.stats()).byRoute['POST /broker/obtain-token']).toBe(1); // the delayed call never left
    expect(await identity.probe()).toBe(false);
    seen.push(wrongKey);
  });

  it('logs at trace level carry no token, refresh token or key', () => {
    const registration = emulator.tenant.brokerRegistrations.get(emulator.tenant.wellKnown.brokerRegistrationId)!;
    logs.assertNoSecrets([registration.key, ...seen, ...identityState(emulator.tenant).brokerRefreshTokens.keys()]);
  });
});
