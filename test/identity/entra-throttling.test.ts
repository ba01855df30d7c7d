import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret, type Config } from '../../src/config-types.js';
import { GatewayError } from '../../src/errors.js';
import { createGraphIdentity } from '../../src/identity/index.js';
import type { Caller, GraphIdentity } from '../../src/identity/types.js';
import type { UpstreamHttp } from '../../src/http/upstream.js';
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

async function identityFor(config: Config, upstream: UpstreamHttp = deps.upstream): Promise<GraphIdentity> {
  const identity = await createGraphIdentity(config, { ...deps, upstream });
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
      expect(refused.message).toMatch(/^Graph token acquisition \(client-credentials\) failed: Entra ID throttled it \(HTTP 429\): retry after 60 s\./);
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
      expect(refused.message).toMatch(/failed: Entra ID throttled it \(AADSTS50196\): retry after 60 s\./);
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

describe('Entra unavailable (5xx)', () => {
  /**
   * The real upstream layer, except that the first `failures` token requests get `status` (an
   * Entra outage the emulator does not simulate); counts the token requests that were sent.
   */
  function failingTokenEndpoint(failures: number, answer: { status: number; headers: Record<string, string>; text: string }) {
    const real = deps.upstream;
    const counts = { sent: 0 };
    let left = failures;
    const upstream: UpstreamHttp = {
      dispatcher: real.dispatcher,
      fetch: real.fetch.bind(real),
      close: real.close.bind(real),
      request: async (url, init) => {
        if (url.includes('/oauth2/v2.0/token')) {
          counts.sent += 1;
          if (left-- > 0) return answer;
        }
        return real.request!(url, init);
      },
    };
    return { upstream, counts };
  }

  it("stays UPSTREAM_UNAVAILABLE while msal replays Entra's 503 without asking, with the wait msal keeps (Retry-After, else 60 s)", async () => {
    const outage = failingTokenEndpoint(1, { status: 503, headers: { 'content-type': 'text/html' }, text: '<html>Service Unavailable</html>' });
    const identity = await identityFor(emulatorConfig(emulator, dataDir), outage.upstream);
    for (let attempt = 0; attempt < 3; attempt++) {
      const refused = await failureOf(identity.tokenSourceFor(anonymous).getAccessToken());
      // It used to be UPSTREAM_ERROR "failed with : ..." from the second attempt on (msal's replay has no error code).
      expect(refused.code, `attempt ${attempt}`).toBe('UPSTREAM_UNAVAILABLE');
      expect(refused.extensions.retryAfterSeconds).toBe(60);
      expect(refused.message).toBe('Graph token acquisition (client-credentials) failed: Entra ID answered HTTP 503; retry after 60 s.');
    }
    expect(outage.counts.sent).toBe(1);

    const withHint = failingTokenEndpoint(1, {
      status: 503,
      headers: { 'content-type': 'application/json', 'retry-after': '7' },
      text: JSON.stringify({
        error: 'temporarily_unavailable',
        error_description: 'a JSON OAuth error (test body)',
      }),
    });
    const second = await identityFor(emulatorConfig(emulator, dataDir), withHint.upstream);
    for (let attempt = 0; attempt < 2; attempt++) {
      const refused = await failureOf(second.tokenSourceFor(anonymous).getAccessToken());
      expect(refused.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(refused.extensions.retryAfterSeconds).toBe(7);
    }
    expect(withHint.counts.sent).toBe(1);
  });
});
