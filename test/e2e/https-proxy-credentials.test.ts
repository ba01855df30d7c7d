import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';

/**
 * The whole gateway behind an HTTPS_PROXY that carries credentials
 * (docs/reliability.md#behind-an-https-proxy): they reach the proxy as Proxy-Authorization and
 * nothing else, not a log line at trace level, an error or /readyz, whatever the proxy does; a
 * proxy that refuses or drops the tunnel gives callers UPSTREAM_UNAVAILABLE, never a 500, and
 * /readyz says not ready. NO_PROXY in the environment does not take a call around the proxy.
 */
const USER = 'svc-gateway';
const PASSWORD = 'S3cret-proxy-pa55word';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');

let emulator: TestEmulator;
let proxy: ConnectProxy;
let app: App;
const lines: string[] = [];
const previousNoProxy = process.env.NO_PROXY;

beforeAll(async () => {
  // Were NO_PROXY read (by us or by undici), the loopback emulator would be reached directly.
  process.env.NO_PROXY = '127.0.0.1,localhost';
  emulator = await startTestEmulator({ userCount: 50 });
  proxy = await startConnectProxy();
  const config = loadSandboxConfig(emulator, {
    HTTPS_PROXY: `http://${USER}:${PASSWORD}@127.0.0.1:${proxy.port}`,
    LOG_LEVEL: 'trace',
    UPSTREAM_TIMEOUT_MS: '2000',
    MAX_RETRIES: '1',
  });
  const logger = createLogger({
    level: 'trace',
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8'));
        callback();
      },
    }),
  });
  app = await startApp(config, { emulator, logger });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await proxy?.close();
  await emulator?.close();
  if (previousNoProxy === undefined) delete process.env.NO_PROXY;
  else process.env.NO_PROXY = previousNoProxy;
});

async function query(): Promise<{ status: number; text: string }> {
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ users(first: 2) { nodes { displayName } } }' }),
  });
  return { status: res.status, text: await res.text() };
}

async function readyz(): Promise<{ status: number; text: string }> {
  const res = await fetch(`${app.url}/readyz`);
  return { status: res.status, text: await res.text() };
}

function expectNoCredentials(text: string): void {
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(BASIC);
}

describe('HTTPS_PROXY with credentials', () => {
  it('sends them to the proxy only, through it for every call (NO_PROXY ignored)', async () => {
    const answer = await query();
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).data.users.nodes).toHaveLength(2);
    const ready = await readyz();
    expect(ready.status).toBe(200);
    expectNoCredentials(ready.text);
    expect(new Set(proxy.tunnels)).toEqual(new Set([new URL(emulator.origin).host]));
    expect(new Set(proxy.authorizations)).toEqual(new Set([`Basic ${BASIC}`]));
    const stats = await emulator.stats();
    expect(stats.tokenRequests).toBeGreaterThan(0);
    expect(stats.graphRequests).toBeGreaterThan(0);
  });

  // A silent proxy costs the connect timeout (10 s) per attempt here: test/http/upstream-behind-proxy.test.ts covers it.
  it.each(['refuse-407', 'refuse-502', 'drop'] as const)(
    '%s: UPSTREAM_UNAVAILABLE at once, and no credential in an answer or a log line',
    async (mode) => {
      proxy.mode = mode;
      // Tunnels kept alive from before would still carry the call past the new mode.
      proxy.cutTunnels();
      const started = performance.now();
      const answer = await query();
      const elapsed = performance.now() - started;
      proxy.mode = 'tunnel';
      expect(answer.status).not.toBe(500);
      expectNoCredentials(answer.text);
      const body = JSON.parse(answer.text) as { errors?: Array<{ extensions?: { code?: string } }> };
      expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['UPSTREAM_UNAVAILABLE']);
      // Refused at once: before, `drop` never settled (a new tunnel at once, thousands a second).
      expect(elapsed).toBeLessThan(5_000);
      expectNoCredentials(lines.join(''));
    },
    60_000,
  );

  it('/readyz through a refusing proxy: not ready, and its reasons hold no credential', async () => {
    proxy.mode = 'refuse-407';
    proxy.cutTunnels();
    await new Promise((resolve) => setTimeout(resolve, 5_100)); // past the readiness cache
    const ready = await readyz();
    proxy.mode = 'tunnel';
    expectNoCredentials(ready.text);
    expectNoCredentials(lines.join(''));
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text).status).toBe('not ready');
  }, 30_000);
});
