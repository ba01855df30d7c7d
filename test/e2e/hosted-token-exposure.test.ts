import { randomBytes } from 'node:crypto';
import { createClient } from '@keyv/redis';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { SignJWT } from 'jose';
import { Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { identityState } from '../../src/emulator/entra/state.js';
import { setApiTokenVersion } from '../emulator/entra/support.js';
import { appCallerToken } from '../identity/support.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway } from '../support/gateway.js';
import { capturingLogger } from '../support/log-capture.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';

/**
 * The hosted broker's "Token" (BROKER_TOKEN) is the tenant id the consent flow gave the operator,
 * and with BROKER_ID and BROKER_KEY it obtains Graph tokens: a secret (docs/security.md#the-broker-token-is-a-secret).
 * The same GUID is also the `tid` of every Graph and caller token of the tenant, so code that
 * handles "the tenant" wrote it out: the Redis key of the shared rate budget, the governor's log
 * lines, the audit event of every Entra caller, the 401 of a token with the wrong issuer (which
 * named the expected issuers, the tenant id in them). This gateway runs hosted, with Entra callers,
 * a Redis CACHE_URL, traces and logs at trace level, and no byte that leaves it may hold the Token.
 */
const skip = redisSkipReason();

describe.skipIf(skip !== undefined)('the hosted broker Token never leaves the gateway', () => {
  let emulator: TestEmulator;
  let redis: TestRedis;
  let app: App;
  const lines: string[] = [];
  const exporter = new InMemorySpanExporter();
  /** Every body the gateway answered, with its headers. */
  const answers: string[] = [];
  let goodToken: string;

  const send = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${app.url}${path}`, init);
    const text = await res.text();
    answers.push(`${res.status} ${JSON.stringify([...res.headers])}\n${text}`);
    return { status: res.status, text };
  };
  const graphql = (query: string, token?: string) =>
    send('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query }),
    });

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 10 });
    redis = await startTestRedis();
    const config = loadSandboxConfig(emulator, {
      NODE_ENV: 'production',
      DEPLOYMENT_MODE: 'hosted',
      CALLER_AUTH: 'entra',
      API_AUDIENCE: `api://msgraph-user-gateway,${emulator.tenant.wellKnown.demoAppId}`,
      CACHE_URL: redis.url,
      TOKEN_CACHE_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'trace',
      METRICS_PORT: '0',
    });
    app = await startApp(config, { emulator, logger: capturingLogger(lines, 'trace'), spanExporter: exporter });
    const known = emulator.tenant.wellKnown;
    goodToken = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    await emulator?.close();
  });

  it('is the tenant id, and the gateway works with it', async () => {
    expect(app.config.hosted?.token.reveal()).toBe(emulator.tenantId);
    const ok = await graphql('{ users(first: 2) { nodes { id displayName manager { id } } } }', goodToken);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text).errors).toBeUndefined();
    // A lookup by id goes through the cross-request coalescer, partitioned by the Graph identity.
    const id = (JSON.parse(ok.text).data.users.nodes as Array<{ id: string }>)[0]!.id;
    expect((await graphql(`{ user(id: "${id}") { id } }`, goodToken)).status).toBe(200);
  });

  it('a caller token of another issuer is refused without naming the tenant', async () => {
    const stranger = await new SignJWT({ tid: randomGuid(), appid: randomGuid(), oid: randomGuid(), sub: randomGuid(), ver: '1.0', roles: ['Users.Read'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(`https://sts.windows.net/${randomGuid()}/`)
      .setAudience('api://msgraph-user-gateway')
      .setExpirationTime('10m')
      .sign(randomBytes(32));
    const refused = await graphql('{ users(first: 1) { nodes { id } } }', stranger);
    expect(refused.status).toBe(401);
    // It named the expected issuers, https://sts.windows.net/{BROKER_TOKEN}/ among them.
    expect(JSON.parse(refused.text).errors[0].message).toBe(
      "Invalid bearer token: the bearer token has the wrong issuer (expected the v1.0 or v2.0 issuer of the gateway's tenant).",
    );
    expect(refused.text).toMatch(/UNAUTHENTICATED/);
  });

  it('a refused mutation is audited without the tenant', async () => {
    const refused = await graphql('mutation { terminateSession(input: { user: "nobody@contoso.example" }) { succeeded } }', goodToken);
    expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('UNSUPPORTED_DEPLOYMENT_MODE');
    const audit = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('"audit"'))
      .map((l) => JSON.parse(l) as Record<string, any>)
      .find((r) => r.operation === 'terminateSession');
    expect(audit?.caller).toMatchObject({ kind: 'entra', principal: 'app' });
    expect(audit?.caller).not.toHaveProperty('tenantId');
  });

  it('nowhere: answers, /readyz, /metrics, logs, spans, Redis keys and values', async () => {
    await send('/readyz');
    await send('/healthz');
    const metrics = await fetch(`${app.gateway.metricsUrl()}/metrics`);
    answers.push(await metrics.text());
    await app.tracing.flush();

    const client = createClient({ url: redis.url });
    await client.connect();
    const keys = await client.keys('*');
    const stored: string[] = [];
    for (const key of keys) {
      const type = await client.type(key);
      if (type === 'string') stored.push((await client.get(key)) ?? '');
      else if (type === 'hash') stored.push(JSON.stringify(await client.hGetAll(key)));
      else if (type === 'zset') stored.push(JSON.stringify(await client.zRange(key, 0, -1)));
      else if (type === 'set') stored.push(JSON.stringify(await client.sMembers(key)));
      else stored.push(`${key}: ${type}`);
    }
    await client.quit();
    // What the test must see to mean anything: the token cache, the rate budget and the refresh token.
    expect(keys.some((k) => k.startsWith('mgug:governor:'))).toBe(true);
    expect(keys.length).toBeGreaterThan(2);
    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(0);
    expect(lines.length).toBeGreaterThan(10);

    const tenant = emulator.tenantId.toLowerCase();
    const refreshTokens = [...identityState(emulator.tenant).brokerRefreshTokens.keys()];
    expect(refreshTokens.length).toBeGreaterThan(0);
    const surfaces: Record<string, string> = {
      answers: answers.join('\n'),
      logs: lines.join(''),
      spans: JSON.stringify(
        spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status, resource: s.resource.attributes })),
      ),
      'redis keys': keys.join('\n'),
      'redis values': stored.join('\n'),
    };
    // Every place, with its context, so one run shows them all.
    const found: string[] = [];
    for (const [surface, text] of Object.entries(surfaces)) {
      for (let at = text.toLowerCase().indexOf(tenant); at >= 0; at = text.toLowerCase().indexOf(tenant, at + 1))
        found.push(`${surface}: …${text.slice(Math.max(0, at - 160), at + 60)}…`);
      for (const secret of [app.config.hosted!.key.reveal(), app.config.tokenCacheKey!.reveal(), ...refreshTokens])
        if (text.includes(secret)) found.push(`${surface}: BROKER_KEY, TOKEN_CACHE_KEY or a refresh token`);
    }
    expect(found).toEqual([]);
  });

  it("nor in the rate governor's warning once Redis is gone (its log lines name the budget's tenant)", async () => {
    const before = lines.length;
    await redis.stop();
    const answer = await graphql('{ users(first: 1) { nodes { id } } }', goodToken);
    expect(answer.status).toBe(200);
    const said = lines.slice(before).join('');
    expect(said).toMatch(/"component":"rate-governor"/);
    // The budget's tenant is the Graph identity's partition (a digest of BROKER_URL and BROKER_ID).
    expect(said).toMatch(/"tenantId":"hosted-[0-9a-f]{24}"/);
    expect(said.toLowerCase()).not.toContain(emulator.tenantId.toLowerCase());
  });
});

function randomGuid(): string {
  const hex = randomBytes(16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

describe('the hosted broker Token when the signing keys cannot be loaded', () => {
  it("is not in the warning that names the failed fetch (Entra's jwks_uri holds the tenant id)", async () => {
    const emulator = await startTestEmulator({ userCount: 4 });
    // The authority's keys answer 503: the gateway warns with what failed, the URL of the keys among
    // it. A v2.0 token's keys are the tenant's (`{authority}/{tenant}/discovery/v2.0/keys`); v1.0's are `common`'s.
    const known = emulator.tenant.wellKnown;
    await setApiTokenVersion(emulator, known.demoAppId, 2);
    const gw = await startTestGateway({
      emulator,
      env: { DEPLOYMENT_MODE: 'hosted', CALLER_AUTH: 'entra', API_AUDIENCE: known.demoAppId, LOG_LEVEL: 'trace' },
      upstream: (real) => ({
        ...real,
        fetch: (url, init) => (String(url).includes('/discovery/') ? Promise.resolve(new Response(null, { status: 503 })) : real.fetch(url, init)),
      }),
    });
    try {
      const token = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret);
      const result = await gw.graphql('{ users(first: 1) { nodes { id } } }', undefined, { authorization: `Bearer ${token}` });
      expect(result.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
      const warning = gw.logRecords("Caller tokens cannot be verified right now: the authority's signing keys could not be loaded.");
      expect(warning).toHaveLength(1);
      // The origin of the keys, not their URL (src/identity/authority.ts, originOf).
      expect(warning[0]!.err).toMatch(/^GET the signing keys at https?:\/\/[^/\s]+ answered HTTP 503$/);
      const text = gw.logLines.join('') + JSON.stringify(result);
      expect(text.toLowerCase()).not.toContain(emulator.tenantId.toLowerCase());
    } finally {
      await gw.close();
      await emulator.close();
    }
  }, 60_000);

  it('is not in the answer nor in the trace-level logs when the OpenID metadata cannot be read', async () => {
    const emulator = await startTestEmulator({ userCount: 4 });
    const known = emulator.tenant.wellKnown;
    const gw = await startTestGateway({
      emulator,
      env: { DEPLOYMENT_MODE: 'hosted', CALLER_AUTH: 'entra', API_AUDIENCE: known.demoAppId, LOG_LEVEL: 'trace' },
      upstream: (real) => ({
        ...real,
        fetch: (url, init) =>
          String(url).includes('/.well-known/openid-configuration') ? Promise.resolve(new Response(null, { status: 503 })) : real.fetch(url, init),
      }),
    });
    try {
      const token = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret);
      const result = await gw.graphql('{ users(first: 1) { nodes { id } } }', undefined, { authorization: `Bearer ${token}` });
      expect(result.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
      // What failed is said once, by the authority's origin and the document.
      const warning = gw.logRecords("Caller tokens cannot be verified right now: the tenant's OpenID metadata could not be loaded from the authority.");
      expect(warning).toHaveLength(1);
      expect(warning[0]!.err).toMatch(/^GET the tenant's v(1|2)\.0 OpenID metadata at https?:\/\/[^/\s]+ answered HTTP 503$/);
      const text = gw.logLines.join('') + JSON.stringify(result);
      expect(text.toLowerCase()).not.toContain(emulator.tenantId.toLowerCase());
    } finally {
      await gw.close();
      await emulator.close();
    }
  }, 60_000);
});
