import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@keyv/redis';
import { startApp, type App } from '../../src/app.js';
import { hashApiKey } from '../../src/config.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { expectLinkRefusedUnrecorded, operatorSignInLink } from '../support/sign-in-link.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * The shared Redis when it is full (docs/operations.md#redis). With `maxmemory-policy noeviction` a
 * full Redis still answers reads and refuses every write with `OOM command not allowed`; each user
 * of it must then fail closed rather than act as if the write had happened:
 * - failed authentications: before, the count went to the replica's memory but the check read only
 *   Redis (which answered, with the old count), so a guesser was never blocked while Redis was full;
 * - a one-time sign-in link that cannot be recorded as spent is refused (503), as when Redis is down;
 * - the Graph budget falls back to the replica's share and `/readyz` says `degraded`;
 * - a sign-in started by an operator is refused at once when what its callback needs cannot be kept
 *   (before, the write was lost silently and the callback failed with "unknown state");
 * - a token that cannot be stored is still served, with a warning (other replicas do not see it).
 * And at start-up a Redis whose policy evicts keys when full gets a warning.
 * Production configuration, API keys, a real redis-server.
 */
const TOKEN_CACHE_KEY = 'redis full test token cache key';
const KEYS = { soar: 'soar-key-0123456789', admin: 'admin-key-0123456789' };
const WRONG_KEY = 'a-guessed-key-0000000000';
const skipRedis = redisSkipReason();

const captureLogs = (lines: string[]) => capturingLogger(lines, 'info');
const records = (lines: string[]) => logRecordsOf(lines);

async function redisClient(url: string) {
  const client = createClient({ url });
  await client.connect();
  return client;
}

describe.skipIf(!!skipRedis)('a full Redis (maxmemory reached, noeviction)', () => {
  let emulator: TestEmulator;
  let redis: TestRedis;
  let app: App;
  const logLines: string[] = [];

  const graphql = (headers: Record<string, string>) =>
    fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: '{ users(first: 1) { nodes { id } } }' }),
    });
  const from = (client: string) => ({ 'x-forwarded-for': client });

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 20 });
    redis = await startTestRedis(undefined, ['--maxmemory', '8mb', '--maxmemory-policy', 'noeviction']);
    app = await startApp(
      loadSandboxConfig(emulator, {
        NODE_ENV: 'production',
        CACHE_URL: redis.url,
        GRAPH_AUTH_FLOW: 'client-credentials',
        ...apiKeyCallers({ soar: { key: KEYS.soar, permissions: ['Users.Read'] }, admin: { key: KEYS.admin, permissions: ['Gateway.Admin'] } }),
        TOKEN_CACHE_KEY,
        TRUSTED_PROXIES: 'loopback',
        AUTH_FAILURE_LIMIT: '3',
        AUTH_FAILURE_WINDOW_SECONDS: '60',
      }),
      { emulator, logger: captureLogs(logLines) },
    );
    // Fill Redis, then lower its limit well below what it holds: every write is refused from here
    // on, however memory use moves a little.
    const client = await redisClient(redis.url);
    try {
      const value = 'x'.repeat(1_000);
      for (let i = 0; i < 8_000; i++) await client.set(`filler:${i}`, value);
    } catch (error) {
      expect(String(error)).toMatch(/OOM command not allowed/);
    }
    await client.sendCommand(['CONFIG', 'SET', 'maxmemory', '1mb']);
    await expect(client.set('probe', '1')).rejects.toThrow(/OOM command not allowed/);
    expect(await client.get('filler:0')).toBe('x'.repeat(1_000)); // reads still answered
    await client.close();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    await emulator?.close();
  });

  it('serves a token it could not store: the acquisition succeeds and the log says other replicas do not see it', async () => {
    // The first Graph call of this process comes after Redis filled up.
    expect((await graphql({ 'x-api-key': KEYS.soar })).status).toBe(200);
    const warning = records(logLines).find((r) => r.component === 'token-cache' && r.level === 'warn');
    expect(warning?.msg).toMatch(/token cache not persisted/);
    expect(warning?.err).toMatch(/refused the write/);
    expect(JSON.stringify(records(logLines))).not.toMatch(/eyJ[\w-]{10,}\./); // no token in any line
  });

  it('still blocks a guesser after the limit: failures Redis refused are counted in memory and checked', async () => {
    const guesser = '198.51.100.7';
    for (let i = 0; i < 3; i++) expect((await graphql({ 'x-api-key': WRONG_KEY, ...from(guesser) })).status).toBe(401);
    const blocked = await graphql({ 'x-api-key': KEYS.soar, ...from(guesser) });
    expect(blocked.status).toBe(429);
    expect(((await blocked.json()) as { errors: Array<{ extensions: Record<string, unknown> }> }).errors[0]!.extensions).toMatchObject({
      code: 'THROTTLED',
      reason: 'AUTHENTICATION_FAILURES',
    });
    // Another client is served: reads go on, on the Graph budget's fallback share.
    expect((await graphql({ 'x-api-key': KEYS.soar, ...from('198.51.100.8') })).status).toBe(200);
    expect(logLines.join('')).not.toContain(WRONG_KEY);
  });

  it('falls back to its share of the Graph budget and says so in /readyz and the log', async () => {
    expect((await graphql({ 'x-api-key': KEYS.soar, ...from('198.51.100.10') })).status).toBe(200);
    const ready = (await (await fetch(`${app.url}/readyz`)).json()) as { status: string; checks: Array<{ name: string; reason?: string }> };
    expect(ready.status).toBe('degraded');
    expect(ready.checks.find((c) => c.name === 'rate-governor')?.reason).toMatch(/refuses the governor's commands.*not full/);
    const warning = records(logLines).find((r) => r.component === 'rate-governor' && r.level === 'warn');
    expect(warning?.msg).toMatch(/Redis is unreachable or refuses its commands/);
    expect(warning?.err?.message).toMatch(/OOM command not allowed/);
  });

  it('refuses a one-time sign-in link it cannot record as spent (503), as when Redis is down', async () => {
    // Only an authorization-code gateway has the sign-in routes: a second replica on the same Redis.
    const lines: string[] = [];
    const signIn = await startApp(
      loadSandboxConfig(emulator, {
        NODE_ENV: 'production',
        CACHE_URL: redis.url,
        GRAPH_AUTH_FLOW: 'authorization-code',
        ...apiKeyCallers({ admin: { key: KEYS.admin, permissions: ['Gateway.Admin'] } }),
        TOKEN_CACHE_KEY,
      }),
      { emulator, logger: captureLogs(lines) },
    );
    try {
      await expectLinkRefusedUnrecorded(operatorSignInLink(signIn).url);
      const warning = records(lines).find((r) => /sign-in link refused/.test(String(r.msg)));
      expect(warning?.err?.message).toMatch(/OOM command not allowed/);
      // An operator credential starts a sign-in without a link, but what the callback needs (the
      // PKCE verifier, the binding) cannot be kept: refused at once, not at the callback.
      const operator = await fetch(`${signIn.url}/auth/login`, { headers: { 'x-api-key': KEYS.admin }, redirect: 'manual' });
      expect(operator.status).toBe(503);
      expect(operator.headers.get('location')).toBeNull();
      const refusal = ((await operator.json()) as { message: string }).message;
      expect(refusal).toMatch(/token store \(Redis\) refused the write/);
      // The store's kind, never its address: a caller has no use for the Redis host and port.
      expect(refusal).not.toContain(new URL(redis.url).host);
      // A Graph token for this replica needs the refresh lock, which a full Redis cannot record either:
      // 503 naming the store, not Entra's fault and not a 500.
      const query = await fetch(`${signIn.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEYS.admin },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(query.status).toBe(200); // no Graph call, no token
      // /readyz asks for a token: the acquisition fails on the lock, and the log says so.
      const readiness = (await (await fetch(`${signIn.url}/readyz`)).json()) as { checks: Array<{ name: string; ok: boolean }> };
      expect(readiness.checks.find((c) => c.name === 'graph-token')?.ok).toBe(false);
      const failed = records(lines).find((r) => r.flow === 'authorization-code' && r.level === 'warn');
      expect(failed?.msg).toMatch(/token store \(Redis\) did not take the token refresh lock/);
    } finally {
      await signIn.close();
    }
  });
});

describe.skipIf(!!skipRedis)('start-up check of the eviction policy', () => {
  let emulator: TestEmulator;
  let redis: TestRedis;
  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 5 });
    redis = await startTestRedis(undefined, ['--maxmemory', '64mb', '--maxmemory-policy', 'volatile-lru']);
  }, 60_000);
  afterAll(async () => {
    await redis?.stop();
    await emulator?.close();
  });

  const start = async () => {
    const lines: string[] = [];
    const app = await startApp(
      loadSandboxConfig(emulator, {
        NODE_ENV: 'production',
        CACHE_URL: redis.url,
        CALLER_AUTH: 'api-key',
        API_KEYS: `soar:${hashApiKey(KEYS.soar)}`,
        TOKEN_CACHE_KEY,
      }),
      { emulator, logger: captureLogs(lines) },
    );
    await app.close();
    return records(lines).filter((r) => r.level === 'warn' && /evicts keys when full/.test(String(r.msg)));
  };

  it('warns when a full Redis would drop keys (volatile-lru, the managed services’ default), not with noeviction', async () => {
    const warnings = await start();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ maxmemoryPolicy: 'volatile-lru', maxmemoryBytes: 64 * 1024 * 1024 });
    expect(warnings[0]!.msg).toMatch(/set maxmemory-policy noeviction/);

    const client = await redisClient(redis.url);
    await client.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
    await client.close();
    expect(await start()).toEqual([]);
  });
});
