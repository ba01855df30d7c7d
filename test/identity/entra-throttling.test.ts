import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret, type Config } from '../../src/config-types.js';
import { GatewayError } from '../../src/errors.js';
import { createGraphIdentity } from '../../src/identity/index.js';
import type { Caller, GraphIdentity } from '../../src/identity/types.js';
import { demoAppAuthorizationCode, type TestEmulator } from '../support/emulator.js';
import { startTestGateway } from '../support/gateway.js';
import { emulatorConfig, startIdentityTestBed, type IdentityTestBed, type TestDeps } from './support.js';

/**
 * Entra's server throttling of token requests (docs/graph-facts.md#msal-node): client credentials
 * get HTTP 429 with `Retry-After: 60` (the body need not be an OAuth error), user-facing grants
 * `invalid_grant` AADSTS50196. The emulator throttles behind its `tokenRequestsPerMinute` switch.
 */
let bed: IdentityTestBed;
let emulator: TestEmulator;
let dataDir: string;
let deps: TestDeps;
const identities: GraphIdentity[] = [];
const anonymous: Caller = { kind: 'anonymous', permissions: new Set() };

beforeAll(async () => {
  bed = await startIdentityTestBed('mgug-throttle-');
  ({ emulator, dataDir, deps } = bed);
});

afterAll(async () => {
  for (const identity of identities) await identity.close?.();
  await bed.close();
});

async function setTokenLimit(limit: number | null): Promise<void> {
  const res = await emulator.fetch('/_emulator/identity', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tokenRequestsPerMinute: limit }),
  });
  if (!res.ok) throw new Error(`POST /_emulator/identity answered ${res.status}: ${await res.text()}`);
}

async function identityFor(config: Config): Promise<GraphIdentity> {
  const identity = await createGraphIdentity(config, deps);
  identities.push(identity);
  return identity;
}

async function failureOf(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected the token acquisition to fail');
}

describe("Entra's throttling of token requests", () => {
  it('client credentials: a 429 with a plain-text body is THROTTLED with its Retry-After, and the throttled app does not ask again before it ends', async () => {
    await setTokenLimit(1);
    try {
      const first = await identityFor(emulatorConfig(emulator, dataDir));
      await first.tokenSourceFor(anonymous).getAccessToken();
      // A second process of the same app without a shared token cache: Entra's documented cause.
      await emulator.resetStats();
      const second = await identityFor(emulatorConfig(emulator, dataDir));
      const refused = await failureOf(second.tokenSourceFor(anonymous).getAccessToken());
      expect(refused.code).toBe('THROTTLED');
      expect(refused.extensions.retryAfterSeconds).toBe(60);
      expect(refused.message).toMatch(/^Graph token acquisition \(client-credentials\) was throttled by Entra ID \(HTTP 429\): retry after 60 s\./);
      let stats = await emulator.stats();
      expect(stats.tokenRequests).toBe(1);
      expect(stats.byStatus['429']).toBe(1);
      // Asking again within the Retry-After sends nothing (msal's throttle state) and is still THROTTLED.
      const again = await failureOf(second.tokenSourceFor(anonymous).getAccessToken());
      expect(again.code).toBe('THROTTLED');
      expect(again.extensions.retryAfterSeconds).toBe(60);
      stats = await emulator.stats();
      expect(stats.tokenRequests).toBe(1);
    } finally {
      await setTokenLimit(null);
    }
  });

  it('a refresh answered AADSTS50196 (loop detected) is THROTTLED, not a dead grant: the stored sign-in works once it ends', async () => {
    const redirectUri = 'http://127.0.0.1:4000/auth/callback';
    const base = emulatorConfig(emulator, dataDir);
    const config = emulatorConfig(emulator, dataDir, {
      selfDeployed: {
        ...base.selfDeployed!,
        flow: 'authorization-code',
        redirectUri,
        authCode: new Secret(await demoAppAuthorizationCode(emulator, redirectUri)),
      },
    });
    const identity = await identityFor(config);
    const source = identity.tokenSourceFor(anonymous);
    const signedIn = await source.getAccessToken();
    await setTokenLimit(1);
    try {
      source.invalidate!();
      const refreshed = await source.getAccessToken(); // the app's first refresh of the minute
      expect(refreshed).not.toBe(signedIn);
      source.invalidate!();
      const refused = await failureOf(source.getAccessToken());
      expect(refused.code).toBe('THROTTLED');
      expect(refused.extensions.retryAfterSeconds).toBe(60);
      expect(refused.message).toMatch(/throttled by Entra ID \(AADSTS50196\): retry after 60 s\./);
      expect(refused.message).not.toMatch(/auth:reset|sign in again/i);
    } finally {
      await setTokenLimit(null);
    }
    // Nothing was thrown away: the same identity refreshes with its stored grant.
    const after = await source.getAccessToken();
    expect(after).not.toBe(signedIn);
  });

  it('an operation whose token acquisition is throttled answers THROTTLED with retryAfterSeconds', async () => {
    const gatewayA = await startTestGateway({ emulator });
    const gatewayB = await startTestGateway({ emulator });
    try {
      await setTokenLimit(1);
      const ok = await gatewayA.graphql('{ users(first: 1) { nodes { id } } }');
      expect(ok.errors).toBeUndefined();
      const throttled = await gatewayB.graphql('{ users(first: 1) { nodes { id } } }');
      expect(throttled.errors?.[0]?.extensions?.code).toBe('THROTTLED');
      expect(throttled.errors?.[0]?.extensions?.retryAfterSeconds).toBe(60);
    } finally {
      await setTokenLimit(null);
      await gatewayA.close();
      await gatewayB.close();
    }
  });
});
