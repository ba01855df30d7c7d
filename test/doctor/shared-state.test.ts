import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { doctorInProcess, leastApplicationPermissions, registerTestApp, spawnDoctor, tenantEnv, type DoctorRun } from './support.js';

/**
 * `npm run doctor` and the shared Redis of CACHE_URL (docs/operations.md#redis): before, the doctor
 * reported every check ok for a Redis that evicts keys when full (the managed services' default
 * volatile-lru) or that anyone reaching it may write to without a password; the gateway said the
 * first only as a warn line at its start, the second nowhere. Real redis-servers, the emulator as
 * the tenant.
 */
const PASSWORD = 'doctor-redis-pass-5e1c07a9b3d2';
const TOKEN_CACHE_KEY = Buffer.alloc(32, 4).toString('base64');
const skipRedis = redisSkipReason();

function line(result: DoctorRun, pattern: RegExp): string | undefined {
  return result.lines.find((l) => pattern.test(l));
}

describe.skipIf(!!skipRedis)('npm run doctor with CACHE_URL on Redis', () => {
  let emulator: TestEmulator;
  const servers: TestRedis[] = [];
  const redisWith = async (args: string[]) => {
    const server = await startTestRedis(undefined, args);
    servers.push(server);
    return server;
  };
  const envFor = (cacheUrl: string) => {
    const app = registerTestApp(emulator, leastApplicationPermissions());
    return { env: tenantEnv(emulator, app, { CACHE_URL: cacheUrl, TOKEN_CACHE_KEY }), secrets: app.secrets };
  };

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 20 });
  }, 60_000);
  afterAll(async () => {
    for (const server of servers) await server.stop();
    await emulator?.close();
  });

  it('a Redis as deploy/redis.yaml runs it (password, noeviction): ok, exit 0, as a separate process, the password never printed', async () => {
    const redis = await redisWith(['--requirepass', PASSWORD, '--maxmemory', '96mb', '--maxmemory-policy', 'noeviction']);
    const { env, secrets } = envFor(`redis://:${PASSWORD}@127.0.0.1:${redis.port}`);
    const result = await spawnDoctor(env);
    expect(result.stderr).toBe('');
    expect(line(result, /^ok\s+shared state: Redis redis:\/\/127\.0\.0\.1:\d+ \(CACHE_URL\) answers, with a password$/)).toBeDefined();
    expect(line(result, /^ok\s+shared state: Redis refuses writes when full \(maxmemory-policy noeviction\)/)).toBeDefined();
    expect(result.code).toBe(0);
    for (const secret of [PASSWORD, ...secrets]) expect(`${result.stdout}${result.stderr}`).not.toContain(secret);
  }, 120_000);

  it('a Redis that evicts keys when full (volatile-lru with a maxmemory): failed, naming the fix, exit 1', async () => {
    const redis = await redisWith(['--requirepass', PASSWORD, '--maxmemory', '64mb', '--maxmemory-policy', 'volatile-lru']);
    const result = await doctorInProcess(envFor(`redis://:${PASSWORD}@127.0.0.1:${redis.port}`).env);
    expect(line(result, /^failed\s+shared state: Redis evicts keys when full \(maxmemory-policy volatile-lru\)/)).toMatch(
      /spent sign-in links and failed-authentication counts .*set maxmemory-policy noeviction \(docs\/operations\.md#redis\)$/,
    );
    expect(result.code).toBe(1);
  }, 120_000);

  it('a Redis without maxmemory never evicts: ok', async () => {
    const redis = await redisWith(['--requirepass', PASSWORD, '--maxmemory-policy', 'allkeys-lru']);
    const result = await doctorInProcess(envFor(`redis://:${PASSWORD}@127.0.0.1:${redis.port}`).env);
    expect(line(result, /^ok\s+shared state: Redis .*no maxmemory/)).toBeDefined();
    expect(result.code).toBe(0);
  }, 120_000);

  it('a Redis that takes commands without a password: failed, exit 1', async () => {
    const redis = await redisWith(['--maxmemory-policy', 'noeviction']);
    const result = await doctorInProcess(envFor(redis.url).env);
    expect(line(result, /^failed\s+shared state: Redis redis:\/\/127\.0\.0\.1:\d+ \(CACHE_URL\) takes commands without a password/)).toMatch(
      /requirepass.*CACHE_URL=redis:\/\/:PASSWORD@host:6379/,
    );
    expect(result.code).toBe(1);
  }, 120_000);

  it('a Redis that refuses INFO (a managed service, an ACL): could not check, not a failure', async () => {
    const redis = await redisWith(['--requirepass', PASSWORD, '--rename-command', 'INFO', '']);
    const result = await doctorInProcess(envFor(`redis://:${PASSWORD}@127.0.0.1:${redis.port}`).env);
    expect(line(result, /^could not check\s+shared state: Redis did not answer INFO memory/)).toMatch(/check by hand that maxmemory-policy is noeviction/);
    expect(result.code).toBe(0);
  }, 120_000);

  it('a Redis that is down: failed, with the reason and no password', async () => {
    const redis = await redisWith([]);
    await redis.stop();
    const result = await doctorInProcess(envFor(`redis://:${PASSWORD}@127.0.0.1:${redis.port}`).env);
    expect(line(result, /^failed\s+shared state: Redis redis:\/\/127\.0\.0\.1:\d+ \(CACHE_URL\) could not be used: .*ECONNREFUSED/)).toBeDefined();
    expect(result.stdout).not.toContain(PASSWORD);
    expect(result.code).toBe(1);
  }, 120_000);
});
