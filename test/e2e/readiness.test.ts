import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';

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
});
