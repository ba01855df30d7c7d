import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';

/**
 * `/readyz` needs no credential, so it must not cost an upstream call per request: answers come
 * from a cache of a few seconds, one probe at a time however many requests arrive, and the body
 * says which check failed and why. Production configuration.
 */
describe('/readyz', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { NODE_ENV: 'production', SANDBOX: 'true' } });
  }, 60_000);
  afterAll(() => gw.close());

  it('answers 50 concurrent and 50 later requests with one probe round (one Graph call at most)', async () => {
    await gw.emulator.resetStats();
    const first = await Promise.all(Array.from({ length: 50 }, () => fetch(`${gw.url}/readyz`)));
    for (const res of first) expect(res.status).toBe(200);
    const afterFirst = await gw.emulator.stats();
    // One token request (nothing was cached yet) and one reachability GET, whatever the concurrency.
    expect(afterFirst.tokenRequests).toBeLessThanOrEqual(1);
    expect(afterFirst.totalRequests).toBeLessThanOrEqual(2);
    for (let i = 0; i < 50; i++) expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    expect((await gw.emulator.stats()).totalRequests).toBe(afterFirst.totalRequests);
    const body = (await (await fetch(`${gw.url}/readyz`)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 'ready',
      graphIdentity: 'client-credentials',
      checks: [
        { name: 'graph-token', ok: true },
        { name: 'graph-reachable', ok: true },
      ],
    });
    expect(typeof body.checkedAt).toBe('string');
  });
});

describe('/readyz beside /auth/callback', () => {
  let emulator: TestEmulator;
  let app: App;
  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 50 });
    const config = loadSandboxConfig(emulator, { NODE_ENV: 'production' });
    app = await startApp(config, { emulator, logger: createLogger({ level: 'info', destination: new Writable({ write: (_c, _e, cb) => cb() }) }) });
  }, 60_000);
  afterAll(async () => {
    await app.close();
    await emulator.close();
  });

  it('a stranger requesting /auth/callback does not restart the probe (only a completed sign-in does)', async () => {
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    await emulator.resetStats();
    // Alternating the two used to forget the cached report every time: one Graph call per pair,
    // 20 of them in flight at once here, from a caller with no credential (client credentials:
    // /auth/callback is not even a route, 404).
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let i = 0; i < 5; i++) {
          const callback = await fetch(`${app.url}/auth/callback?code=x&state=y`);
          expect(callback.status).toBe(404);
          await callback.body?.cancel();
          expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
        }
      }),
    );
    // Within the 5 s cache: no probe at all. (A cache expiring mid-test costs one round: 2 calls.)
    expect((await emulator.stats()).totalRequests).toBeLessThanOrEqual(2);
  });
});

describe('/readyz when not ready', () => {
  let emulator: TestEmulator;
  let app: App;
  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 50 });
    const config = loadSandboxConfig(emulator, {
      NODE_ENV: 'production',
      GRAPH_AUTH_FLOW: 'authorization-code',
    });
    app = await startApp(config, { emulator, logger: createLogger({ level: 'info', destination: new Writable({ write: (_c, _e, cb) => cb() }) }) });
  }, 60_000);
  afterAll(async () => {
    await app.close();
    await emulator.close();
  });

  it('says which check failed and what to do, without secrets', async () => {
    const res = await fetch(`${app.url}/readyz`);
    expect(res.status).toBe(503);
    const text = await res.text();
    const body = JSON.parse(text) as { status: string; checks: Array<{ name: string; ok: boolean; reason?: string }> };
    expect(body.status).toBe('not ready');
    const token = body.checks.find((c) => c.name === 'graph-token')!;
    expect(token.ok).toBe(false);
    expect(token.reason).toMatch(/nobody has signed in yet.*\/auth\/login/);
    expect(body.checks.find((c) => c.name === 'graph-reachable')!.ok).toBe(true);
    expect(text).not.toContain(emulator.tenant.wellKnown.demoAppSecret);
  });

  it('a callback that signs nobody in (no state, unknown state, Entra error) does not restart the probe', async () => {
    expect((await fetch(`${app.url}/readyz`)).status).toBe(503);
    await emulator.resetStats();
    for (const query of ['', '?code=x&state=unknown', '?error=access_denied']) {
      for (let i = 0; i < 10; i++) {
        const callback = await fetch(`${app.url}/auth/callback${query}`);
        expect(callback.status).toBeGreaterThanOrEqual(400);
        await callback.body?.cancel();
        expect((await fetch(`${app.url}/readyz`)).status).toBe(503);
      }
    }
    expect((await emulator.stats()).totalRequests).toBeLessThanOrEqual(2);
  });
});

describe('/readyz when Microsoft Graph does not answer', () => {
  let emulator: TestEmulator;
  let app: App;
  const logLines: string[] = [];
  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 10 });
    app = await startApp(loadSandboxConfig(emulator, { NODE_ENV: 'production' }), { emulator, logger: capturingLogger(logLines, 'info') });
  }, 60_000);
  afterAll(async () => {
    await app.close();
    await emulator.close();
  });

  it('says so without naming the endpoint (anyone reads it; it may be an internal proxy); the log names it', async () => {
    // Every Graph connection is dropped without an answer; the token endpoint still answers.
    await emulator.setFaults({ dropRate: 1 });
    const res = await fetch(`${app.url}/readyz`);
    expect(res.status).toBe(503);
    const text = await res.text();
    const body = JSON.parse(text) as { checks: Array<{ name: string; ok: boolean; reason?: string }> };
    expect(body.checks.find((c) => c.name === 'graph-token')!.ok).toBe(true);
    const reachable = body.checks.find((c) => c.name === 'graph-reachable')!;
    expect(reachable.ok).toBe(false);
    expect(reachable.reason).toMatch(/^Microsoft Graph did not answer .*the gateway log names the endpoint/);
    const endpoint = new URL(app.config.graphEndpoint);
    expect(text).not.toContain(endpoint.host);
    expect(text).not.toContain(endpoint.port);
    const warned = logRecordsOf(logLines).find((r) => r.msg === 'readiness probe failed' && r.check === 'graph-reachable');
    expect(warned?.graphEndpoint).toBe(app.config.graphEndpoint);
    await emulator.setFaults({ dropRate: 0 });
  });
});

describe.skipIf(!!redisSkipReason())('/readyz with the shared-state Redis unreachable', () => {
  let emulator: TestEmulator;
  let redis: (TestRedis & { port: number }) | undefined;
  let app: App;
  let port: number;
  const logLines: string[] = [];
  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 50 });
    // The gateway opens its token store at start (it refuses to start without it), so Redis is up
    // then; it is stopped in the test, and nobody listens on CACHE_URL any more.
    redis = await startTestRedis();
    port = redis.port;
    const config = loadSandboxConfig(emulator, {
      NODE_ENV: 'production',
      CACHE_URL: redis.url,
      TOKEN_CACHE_KEY: Buffer.alloc(32, 5).toString('base64'),
      GRAPH_REPLICAS: '2',
    });
    app = await startApp(config, { emulator, logger: capturingLogger(logLines, 'info') });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    await emulator?.close();
  });

  it('says "degraded" and why without the address of Redis, which only the log names', async () => {
    // A Graph call creates the tenant's governor on the shared budget; then Redis goes away.
    const query = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ users(first: 1) { nodes { id } } }' }),
    });
    expect(query.status).toBe(200);
    expect(((await (await fetch(`${app.url}/readyz`)).json()) as { status: string }).status).toBe('ready');
    await redis!.stop();
    let text = '';
    let status = 0;
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${app.url}/readyz`);
      status = res.status;
      text = await res.text();
      if ((JSON.parse(text) as { status: string }).status === 'degraded') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const body = JSON.parse(text) as { status: string; checks: Array<{ name: string; ok: boolean; degraded?: boolean; reason?: string }> };
    expect(status).toBe(200);
    expect(body.status).toBe('degraded');
    const governor = body.checks.find((c) => c.name === 'rate-governor');
    expect(governor).toMatchObject({ ok: true, degraded: true });
    expect(governor!.reason).toMatch(/^the shared-state Redis \(CACHE_URL\) is unreachable .*1\/2, from GRAPH_REPLICAS/);
    // Unauthenticated clients learn neither the host nor the port of an internal service.
    expect(text).not.toContain(`127.0.0.1:${port}`);
    expect(text).not.toContain(String(port));
    expect(text).not.toMatch(/redis:\/\//);
    // The operator's log does name it.
    const warning = logRecordsOf(logLines).find((r) => r.level === 'warn' && String(r.msg).startsWith('rate governor: Redis is unreachable'));
    expect(warning?.redis).toBe(`Redis redis://127.0.0.1:${port}`);
  });
});
