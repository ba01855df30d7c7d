import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { apiKeyCallers } from '../support/api-key-callers.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';

/**
 * A stored token record that opened at start-up but no longer opens while serving: during a
 * TOKEN_CACHE_KEY rotation a restarted replica (new key, old as previous) writes the refreshed msal
 * cache or broker refresh token under the new key, and a replica still on the old key reads it at its
 * next acquisition (or the record was altered in Redis). Every caller of that replica was told
 * "TOKEN_CACHE_KEY does not decrypt the existing token cache at Redis redis://host:port …; restore
 * the key or run npm run auth:reset" as a non-retryable UPSTREAM_ERROR: the store's address, and the
 * advice to delete the sign-in every replica serves. Now 503-class UPSTREAM_UNAVAILABLE naming the
 * rotation (docs/security.md#tokens-at-rest). Production configuration, two replicas on one Redis.
 */
const skip = redisSkipReason();
const KEYS = { reader: 'reader-key-0123456789', admin: 'admin-key-0123456789' };
const OLD_KEY = randomBytes(32).toString('base64');
const NEW_KEY = randomBytes(32).toString('base64');

type Answer = { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };

describe.skipIf(skip !== undefined)('a token record sealed under a key this replica does not hold, met while serving', () => {
  let emulator: TestEmulator;
  let redis: TestRedis;
  const replicas: App[] = [];

  const graphql = async (replica: App, query: string): Promise<Answer> => {
    const res = await fetch(`${replica.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEYS.reader },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as Answer;
  };
  /** The old-key and new-key replicas of one Graph identity on the shared Redis; the old one logs to `oldLines`. */
  const rotation = async (env: Record<string, string>, oldLines: string[]) => {
    const config = (keys: Record<string, string>) =>
      loadSandboxConfig(emulator, {
        NODE_ENV: 'production',
        ...apiKeyCallers({ reader: { key: KEYS.reader, permissions: ['Users.Read'] }, admin: { key: KEYS.admin, permissions: ['Gateway.Admin'] } }),
        CACHE_URL: redis.url,
        ...env,
        ...keys,
      });
    const oldReplica = await startApp(config({ TOKEN_CACHE_KEY: OLD_KEY }), { emulator, logger: capturingLogger(oldLines, 'info') });
    replicas.push(oldReplica);
    const newReplica = await startApp(config({ TOKEN_CACHE_KEY: NEW_KEY, TOKEN_CACHE_KEY_PREVIOUS: OLD_KEY }), {
      emulator,
      logger: capturingLogger([], 'info'),
    });
    replicas.push(newReplica);
    return { oldReplica, newReplica };
  };
  const expectRotationAnswer = (answer: Answer, flow: string, redisUrl: string) => {
    const error = answer.errors?.[0];
    expect(error?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryAfterSeconds: 5 });
    expect(error?.message).toContain(`Graph token acquisition (${flow}) cannot open the stored token record`);
    expect(error?.message).toMatch(/TOKEN_CACHE_KEY and TOKEN_CACHE_KEY_PREVIOUS/);
    expect(error?.message).not.toContain('auth:reset');
    expect(error?.message).not.toContain(new URL(redisUrl).host);
  };

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 4 });
    redis = await startTestRedis();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await redis?.stop();
    await emulator?.close();
  });

  it('authorization code: the old-key replica answers UPSTREAM_UNAVAILABLE naming the rotation, not "run auth:reset"', async () => {
    const oldLines: string[] = [];
    const { oldReplica, newReplica } = await rotation({ GRAPH_AUTH_FLOW: 'authorization-code' }, oldLines);
    // The restarted replica signs in: the stored msal cache is sealed with the new key.
    const login = await fetch(`${newReplica.url}/auth/login`, { redirect: 'manual', headers: { 'x-api-key': KEYS.admin } });
    expect(login.status).toBe(302);
    const consent = await emulator.fetch(login.headers.get('location')!, { redirect: 'manual' });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const done = await fetch(`${newReplica.url}/auth/callback${new URL(consent.headers.get('location')!).search}`, { headers: { cookie } });
    expect(done.status).toBe(200);
    expect((await graphql(newReplica, '{ me { id } }')).errors).toBeUndefined();

    await emulator.resetStats();
    expectRotationAnswer(await graphql(oldReplica, '{ me { id } }'), 'authorization-code', redis.url);
    expect((await emulator.stats()).totalRequests).toBe(0);
    const records = logRecordsOf(oldLines);
    expect(records.filter((r) => r.level >= 50)).toEqual([]);
    expect(oldLines.join('\n')).not.toContain('auth:reset');
  }, 60_000);

  it('hosted broker: the same for the kept broker refresh token', async () => {
    const oldLines: string[] = [];
    const { oldReplica, newReplica } = await rotation({ DEPLOYMENT_MODE: 'hosted' }, oldLines);
    // The restarted replica gets a token: the broker's refresh token is kept, sealed with the new key.
    expect((await graphql(newReplica, '{ users(first: 1) { nodes { id } } }')).errors).toBeUndefined();

    await emulator.resetStats();
    expectRotationAnswer(await graphql(oldReplica, '{ users(first: 1) { nodes { id } } }'), 'hosted-broker', redis.url);
    expect((await emulator.stats()).totalRequests).toBe(0);
    expect(logRecordsOf(oldLines).filter((r) => r.level >= 50)).toEqual([]);
    expect(oldLines.join('\n')).not.toContain('auth:reset');
  }, 60_000);
});
