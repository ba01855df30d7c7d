import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/config-types.js';
import { createGraphIdentity } from '../../src/identity/index.js';
import type { Caller } from '../../src/identity/types.js';
import { demoAppAuthorizationCode, startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';
import { captureLogs, emulatorConfig, testDeps, type TestDeps } from './support.js';

const run = promisify(execFile);
const skipRedis = redisSkipReason();
const REDIRECT_URI = 'http://127.0.0.1:4000/auth/callback';
const TOKEN_CACHE_KEY = 'replica test token cache key 0123456789';
let emulator: TestEmulator;
let redis: TestRedis | undefined;
let deps: TestDeps;
let dataDir: string;

beforeAll(async () => {
  if (skipRedis) return;
  // Single-use refresh tokens (an emulator switch; Entra keeps them valid): a refresh token redeemed
  // twice, by two replicas racing, would answer invalid_grant.
  emulator = await startTestEmulator({ userCount: 20, singleUseRefreshTokens: true });
  redis = await startTestRedis();
  dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-replicas-'));
  deps = testDeps(emulator, captureLogs().logger);
});

afterAll(async () => {
  if (skipRedis) return;
  await deps.upstream.close();
  await redis?.stop();
  await emulator.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('two gateway processes sharing one Redis', () => {
  it.skipIf(!!skipRedis)('refresh the (single-use) refresh token concurrently without ever getting invalid_grant', { timeout: 60_000 }, async () => {
    // Sign in once (AUTH_CODE) so the shared cache holds an account and its refresh token.
    const code = await demoAppAuthorizationCode(emulator, REDIRECT_URI);
    const base = emulatorConfig(emulator, dataDir);
    const config = emulatorConfig(emulator, dataDir, {
      cache: { kind: 'redis', url: redis!.url },
      tokenCacheKey: new Secret(TOKEN_CACHE_KEY),
      selfDeployed: { ...base.selfDeployed!, flow: 'authorization-code', redirectUri: REDIRECT_URI, authCode: new Secret(code) },
    });
    const first = await createGraphIdentity(config, deps);
    await first.tokenSourceFor({ kind: 'anonymous', permissions: new Set() } satisfies Caller).getAccessToken();
    await first.close?.();
    await emulator.resetStats();

    const input = JSON.stringify({
      authorityHost: emulator.authorityHost,
      tenantId: emulator.tenantId,
      clientId: emulator.tenant.wellKnown.demoAppId,
      clientSecret: emulator.tenant.wellKnown.demoAppSecret,
      caFile: emulator.caFile,
      redisUrl: redis!.url,
      redirectUri: REDIRECT_URI,
      tokenCacheKey: TOKEN_CACHE_KEY,
      dataDir,
      rounds: 8,
    });
    const tsx = path.resolve('node_modules/.bin/tsx');
    const worker = path.resolve('test/identity/replica-worker.ts');
    const results = await Promise.all([run(tsx, [worker, input]), run(tsx, [worker, input])]);
    for (const { stdout } of results) {
      const outcome = JSON.parse(stdout.trim().split('\n').at(-1)!) as { ok: number; errors: string[] };
      expect(outcome.errors).toEqual([]);
      expect(outcome.ok).toBe(8);
    }
    const stats = await emulator.stats();
    expect(stats.byStatus['400'] ?? 0).toBe(0); // no invalid_grant
    expect(stats.tokenRequests).toBeGreaterThan(0);
  });
});
