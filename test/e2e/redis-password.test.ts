import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createClient } from '@keyv/redis';
import { startApp, type App } from '../../src/app.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { REPO_ROOT } from '../support/production-build.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * A Redis that requires a password, started with deploy/redis.yaml's options, then with docker/compose.yaml's
 * (docs/operations.md#redis): the
 * password travels in CACHE_URL (`redis://:password@host:port`) and every user of the shared Redis
 * (token cache, failed-authentication counts, Graph budget, spent sign-in links) authenticates with
 * it. A wrong password stops the start with a message that names neither it nor the URL's userinfo.
 * Production configuration, API keys, a real redis-server.
 */
const PASSWORD = 'redis-pass-3f9a0c5e7b1d2468ace0';
const TOKEN_CACHE_KEY = 'redis password test token cache key';
const KEY = 'soar-key-0123456789';
const skipRedis = redisSkipReason();

describe.skipIf(!!skipRedis)('a Redis that requires a password', () => {
  let emulator: TestEmulator;
  let redis: TestRedis & { port: number };
  let app: App | undefined;
  const logLines: string[] = [];
  const urlWith = (password: string) => `redis://:${encodeURIComponent(password)}@127.0.0.1:${redis.port}`;
  const configWith = (cacheUrl: string) =>
    loadSandboxConfig(emulator, {
      NODE_ENV: 'production',
      CACHE_URL: cacheUrl,
      GRAPH_AUTH_FLOW: 'client-credentials',
      ...apiKeyCallers({ soar: { key: KEY, permissions: ['Users.Read'] } }),
      TOKEN_CACHE_KEY,
    });

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 20 });
    // The server options of deploy/redis.yaml, with Kubernetes' $(REDIS_PASSWORD) expansion done here.
    const manifestArgs = (parseAllDocuments(readFileSync(path.join(REPO_ROOT, 'deploy', 'redis.yaml'), 'utf8'))[0]!.toJS() as any).spec.template.spec
      .containers[0].args as string[];
    expect(manifestArgs).toContain('$(REDIS_PASSWORD)');
    redis = await startTestRedis(
      undefined,
      manifestArgs.slice(1).map((arg) => arg.replace('$(REDIS_PASSWORD)', PASSWORD)),
    );
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    await emulator?.close();
  });

  it('refuses a client without the password; redis-cli, as the readiness probe runs it, gets in with REDISCLI_AUTH', async () => {
    const anonymous = createClient({ url: redis.url });
    anonymous.on('error', () => {});
    await expect(anonymous.connect().then(() => anonymous.get('x'))).rejects.toThrow(/NOAUTH|WRONGPASS/);
    await anonymous.close().catch(() => {});
    const ping = (env: Record<string, string>) =>
      execFileSync('redis-cli', ['-p', String(redis.port), 'ping'], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8' }).trim();
    expect(ping({ REDISCLI_AUTH: PASSWORD })).toBe('PONG');
    expect(ping({})).toMatch(/NOAUTH/);
  });

  it('with the password in CACHE_URL: serves, caches the token in Redis, and logs no password', async () => {
    app = await startApp(configWith(urlWith(PASSWORD)), { emulator, logger: capturingLogger(logLines, 'debug') });
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ query: '{ users(first: 2) { nodes { id } } }' }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { users: { nodes: unknown[] } } }).data.users.nodes).toHaveLength(2);
    const ready = (await (await fetch(`${app.url}/readyz`)).json()) as { status: string };
    expect(ready.status).toBe('ready');

    const client = createClient({ url: urlWith(PASSWORD) });
    await client.connect();
    try {
      expect((await client.keys('*')).length).toBeGreaterThan(0); // the token cache and the budget live there
    } finally {
      await client.close();
    }
    expect(logLines.join('\n')).not.toContain(PASSWORD);
    expect(logLines.join('\n')).not.toContain('takes commands without a password');
    await app.close();
    app = undefined;
  });

  it('a Redis that takes commands without a password: the gateway serves, and its start-up log warns and names the fix', async () => {
    // The doctor fails on it too (test/doctor/shared-state.test.ts); the start-up log is where an
    // operator who skipped the doctor still reads it.
    const open = await startTestRedis();
    const lines: string[] = [];
    let started: App | undefined;
    try {
      started = await startApp(configWith(open.url), { emulator, logger: capturingLogger(lines, 'info') });
      const warning = logRecordsOf(lines).find((r) => r.level === 'warn' && /takes commands without a password/.test(String(r.msg)));
      expect(warning?.msg).toMatch(/^Redis \(CACHE_URL\) takes commands without a password: .*requirepass.*docs\/operations\.md#redis/);
      expect(warning?.redis).toBe(`Redis redis://127.0.0.1:${open.port}`);
    } finally {
      await started?.close();
      await open.stop();
    }
  });

  it('with a wrong password: the start fails and says so, naming no password', async () => {
    const wrong = 'a-wrong-redis-password-000';
    const failure = await startApp(configWith(urlWith(wrong)), { emulator, logger: capturingLogger(logLines, 'debug') }).then(
      (started) => {
        app = started;
        return undefined;
      },
      (error: unknown) => error as Error,
    );
    expect(failure?.message).toMatch(/WRONGPASS|password|auth/i);
    expect(failure?.message).not.toContain(wrong);
    expect(logLines.join('\n')).not.toContain(wrong);
  });

  it("with docker/compose.yaml's Redis options and CACHE_URL: anonymous clients are refused, the gateway serves", async () => {
    const compose = parseAllDocuments(readFileSync(path.join(REPO_ROOT, 'docker', 'compose.yaml'), 'utf8'))[0]!.toJS() as any;
    const interpolate = (value: string) => value.replace(/\$\{REDIS_PASSWORD:\?[^}]*\}/g, PASSWORD);
    const command = (compose.services.redis.command as string[]).map(interpolate);
    expect(command[0]).toBe('redis-server');
    const composeRedis = await startTestRedis(undefined, command.slice(1));
    let composeApp: App | undefined;
    try {
      const anonymous = createClient({ url: composeRedis.url });
      anonymous.on('error', () => {});
      await expect(anonymous.connect().then(() => anonymous.get('x'))).rejects.toThrow(/NOAUTH|WRONGPASS/);
      await anonymous.close().catch(() => {});
      // compose's CACHE_URL, with the service name `redis` replaced by this server's address.
      const cacheUrl = interpolate(compose.services.gateway.environment.CACHE_URL as string).replace('@redis:6379', `@127.0.0.1:${composeRedis.port}`);
      composeApp = await startApp(configWith(cacheUrl), { emulator, logger: capturingLogger(logLines, 'debug') });
      const res = await fetch(`${composeApp.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY },
        body: JSON.stringify({ query: '{ users(first: 1) { nodes { id } } }' }),
      });
      expect(res.status).toBe(200);
      expect(logLines.join('\n')).not.toContain(PASSWORD);
    } finally {
      await composeApp?.close();
      await composeRedis.stop();
    }
  });
});
