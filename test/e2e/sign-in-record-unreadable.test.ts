import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { apiKeyCallers } from '../support/api-key-callers.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';

/**
 * A sign-in in progress is kept in the token store, sealed with TOKEN_CACHE_KEY, so that its
 * callback may reach another replica (docs/security.md#replicas). A replica that cannot open that
 * record (during a TOKEN_CACHE_KEY rotation, one still on the old key while another, on the new
 * key, started the sign-in; or a record altered in Redis) answered the callback 500 "Internal
 * error" and wrote an `error` line with a stack, `unhandled error in an HTTP route`. Now it answers
 * 503 UPSTREAM_UNAVAILABLE naming the cause (docs/security.md#sign-in-is-an-operator-act), writes
 * one `warn` line, and does not count the callback as a failed authentication. Production
 * configuration, authorization-code flow, two replicas on one Redis.
 */
const skip = redisSkipReason();
const ADMIN_KEY = 'admin-key-0123456789';
const OLD_KEY = randomBytes(32).toString('base64');
const NEW_KEY = randomBytes(32).toString('base64');

describe.skipIf(skip !== undefined)('a callback whose sign-in record this replica cannot open', () => {
  let emulator: TestEmulator;
  let redis: TestRedis;
  let oldReplica: App;
  let newReplica: App;
  const oldLines: string[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 4 });
    redis = await startTestRedis();
    const env = (keys: Record<string, string>) =>
      loadSandboxConfig(emulator, {
        NODE_ENV: 'production',
        GRAPH_AUTH_FLOW: 'authorization-code',
        ...apiKeyCallers({ admin: { key: ADMIN_KEY, permissions: ['Gateway.Admin'] } }),
        CACHE_URL: redis.url,
        ...keys,
      });
    // A rotation under way (docs/operations.md#rotating-keys): one replica still on the old key, one restarted with the new.
    oldReplica = await startApp(env({ TOKEN_CACHE_KEY: OLD_KEY }), { emulator, logger: capturingLogger(oldLines, 'info') });
    newReplica = await startApp(env({ TOKEN_CACHE_KEY: NEW_KEY, TOKEN_CACHE_KEY_PREVIOUS: OLD_KEY }), {
      emulator,
      logger: capturingLogger([], 'info'),
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([oldReplica?.close(), newReplica?.close()]);
    await redis?.stop();
    await emulator?.close();
  });

  it('is answered 503 UPSTREAM_UNAVAILABLE with the cause, not 500, and not counted as a guess', async () => {
    const login = await fetch(`${newReplica.url}/auth/login`, { redirect: 'manual', headers: { 'x-api-key': ADMIN_KEY } });
    expect(login.status).toBe(302);
    const state = new URL(login.headers.get('location')!).searchParams.get('state')!;
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;

    for (const query of [`code=some-code&state=${state}`, `error=access_denied&state=${state}`]) {
      const callback = await fetch(`${oldReplica.url}/auth/callback?${query}`, { headers: { cookie } });
      expect(callback.status).toBe(503);
      const body = (await callback.json()) as { message: string };
      expect(body.message).toMatch(/cannot open the record of this sign-in/);
      expect(body.message).toMatch(/TOKEN_CACHE_KEY/);
    }
    const records = logRecordsOf(oldLines);
    expect(records.filter((r) => r.level >= 50)).toEqual([]);
    expect(oldLines.join('\n')).not.toContain('unhandled error in an HTTP route');
    expect(records.filter((r) => r.msg === 'caller authentication failed')).toEqual([]);
    expect(records.filter((r) => r.msg === 'sign-in record not readable: it was sealed with a key this gateway does not hold, or altered')).toHaveLength(2);

    // The sign-in itself is intact: its own replica still knows it (the callback there gets past the state).
    const there = await fetch(`${newReplica.url}/auth/callback?error=access_denied&state=${state}`, { headers: { cookie } });
    expect(there.status).toBe(400);
    expect(((await there.json()) as { message: string }).message).toMatch(/The gateway's log has Entra's description/);
  }, 30_000);

  it('the same when the signed-in identity the sign-in would replace does not open; the sign-in stays waiting for a replica that can', async () => {
    /** What a browser does after /auth/login: through the tenant, and back with the code. */
    const signIn = async (replica: App) => {
      const login = await fetch(`${replica.url}/auth/login`, { redirect: 'manual', headers: { 'x-api-key': ADMIN_KEY } });
      expect(login.status).toBe(302);
      const consent = await emulator.fetch(login.headers.get('location')!, { redirect: 'manual' });
      expect(consent.status).toBe(302);
      const callback = new URL(consent.headers.get('location')!);
      return { query: callback.search, cookie: (login.headers.get('set-cookie') ?? '').split(';')[0]! };
    };
    // The replica on the new key signs in: the stored identity is sealed with the new key.
    const first = await signIn(newReplica);
    expect((await fetch(`${newReplica.url}/auth/callback${first.query}`, { headers: { cookie: first.cookie } })).status).toBe(200);

    // The replica on the old key starts a sign-in of its own and gets its callback.
    oldLines.length = 0;
    const second = await signIn(oldReplica);
    const refused = await fetch(`${oldReplica.url}/auth/callback${second.query}`, { headers: { cookie: second.cookie } });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { message: string }).message).toMatch(/cannot open the record of this sign-in \(the signed-in account it replaces\)/);
    expect(logRecordsOf(oldLines).filter((r) => r.level >= 50)).toEqual([]);
    // Not spent: the replica on the new key (which opens what the old key sealed) completes it.
    expect((await fetch(`${newReplica.url}/auth/callback${second.query}`, { headers: { cookie: second.cookie } })).status).toBe(200);
  }, 30_000);
});
