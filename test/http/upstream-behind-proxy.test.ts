import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Secret, type Config } from '../../src/config-types.js';
import { createCertificate } from '../../src/emulator/tls.js';
import { createGraphClient } from '../../src/graph/client.js';
import { createUpstreamHttp, type UpstreamHttp } from '../../src/http/upstream.js';
import { createGraphIdentity } from '../../src/identity/index.js';
import type { GraphTokenSource } from '../../src/identity/types.js';
import { createMetrics } from '../../src/metrics.js';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { captureLogs, emulatorConfig, type CapturedLogs } from '../identity/support.js';

/**
 * The upstream protections hold behind HTTPS_PROXY too, for Graph calls, msal's token requests
 * (self-deployed) and the hosted broker alike: a real CONNECT proxy on loopback (with credentials
 * in its URL) in front of a hostile HTTPS host that answers an endless body, a 307 to another host
 * or nothing (docs/reliability.md#behind-an-https-proxy). And a proxy that refuses the tunnel (407,
 * 502), drops the connection or never answers fails the call with UPSTREAM_UNAVAILABLE within the
 * connect timeout. Before, undici's ProxyAgent opened a new tunnel in a tight loop, thousands a
 * second, against a proxy that dropped the connection, and waited 300 s for one that never
 * answered: the call never settled, its timeout did not cut it.
 */
const MB = 2 ** 20;
const PROXY_PASSWORD = 'pr0xy-Passw0rd-never-logged';
const TIMEOUT_MS = 800;
const CONNECT_TIMEOUT_MS = 1_000;
// Small, so that the endless answer reaches it well within TIMEOUT_MS even on a machine busy with
// other work (2 MB through the tunnel once took longer than 800 ms under a load average of 15).
const MAX_BYTES = 256 * 1024;

type HostileMode = 'ok' | 'endless' | 'redirect' | 'stall-headers' | 'stall-body';

let emulator: TestEmulator;
let proxy: ConnectProxy;
let hostile: Server;
let hostileOrigin = '';
let hostileCa = '';
let elsewhere: Server;
let elsewhereHost = '';
let mode: HostileMode = 'ok';
let metadata = '';
let dataDir = '';
/** Bytes the hostile host wrote of its last endless answer. */
let written = 0;
const elsewhereReceived: string[] = [];
let logs: CapturedLogs;
let upstream: UpstreamHttp;

const listen = async (server: Server): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

function misbehave(req: IncomingMessage, res: ServerResponse): void {
  res.on('error', () => undefined);
  if (req.url?.endsWith('/v2.0/.well-known/openid-configuration')) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(metadata);
    return;
  }
  switch (mode) {
    case 'ok':
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    case 'endless': {
      written = 0;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":"');
      const chunk = Buffer.alloc(MB, 0x61);
      const pump = () => {
        while (!res.destroyed && written < 256 * MB) {
          written += MB;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end('"}');
      };
      pump();
      return;
    }
    case 'redirect':
      res.writeHead(307, { location: `http://${elsewhereHost}/steal` }).end();
      return;
    case 'stall-headers':
      return;
    case 'stall-body':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":');
      return;
  }
}

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 20 });
  dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-proxy-bound-'));
  const ca = createCertificate({ commonName: 'proxy-bound test CA', isCa: true, days: 2 });
  const server = createCertificate({ commonName: '127.0.0.1', issuer: ca, altNames: [{ type: 7, ip: '127.0.0.1' }], days: 2 });
  hostileCa = ca.certPem;
  hostile = createHttpsServer({ cert: server.certPem, key: server.keyPem }, (req, res) => {
    req.resume();
    req.on('end', () => misbehave(req, res));
  });
  hostileOrigin = `https://127.0.0.1:${await listen(hostile)}`;
  // The emulator's own metadata with its host swapped for the hostile one: msal then asks the hostile host for tokens.
  const real = await emulator.fetch(`/${emulator.tenantId}/v2.0/.well-known/openid-configuration`);
  metadata = (await real.text()).split(emulator.origin).join(hostileOrigin);
  elsewhere = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      elsewhereReceived.push(`${req.method} ${req.url} ${body}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'token-from-elsewhere', expires_in: 3600 }));
    });
  });
  elsewhereHost = `127.0.0.1:${await listen(elsewhere)}`;
  proxy = await startConnectProxy();
});

beforeEach(() => {
  mode = 'ok';
  proxy.mode = 'tunnel';
  proxy.tunnels.length = 0;
  proxy.authorizations.length = 0;
  elsewhereReceived.length = 0;
  logs = captureLogs();
  upstream = createUpstreamHttp({
    extraCaPem: [hostileCa],
    httpsProxy: `http://gateway:${PROXY_PASSWORD}@127.0.0.1:${proxy.port}`,
    requestTimeoutMs: TIMEOUT_MS,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    maxResponseBytes: MAX_BYTES,
  });
  return async () => {
    await upstream.close();
    // Nothing of the proxy's credentials in any line, at trace level.
    logs.assertNoSecrets([PROXY_PASSWORD, Buffer.from(`gateway:${PROXY_PASSWORD}`).toString('base64')]);
  };
});

afterAll(async () => {
  await proxy?.close();
  for (const s of [hostile, elsewhere]) {
    s?.closeAllConnections();
    await new Promise((resolve) => s?.close(resolve));
  }
  await emulator?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Every call of the test went through the proxy to the hostile host, with the proxy's credentials, and never elsewhere. */
function expectTunnelledOnly(): void {
  expect(proxy.tunnels.length).toBeGreaterThan(0);
  expect(new Set(proxy.tunnels)).toEqual(new Set([new URL(hostileOrigin).host]));
  expect(new Set(proxy.authorizations)).toEqual(new Set([`Basic ${Buffer.from(`gateway:${PROXY_PASSWORD}`).toString('base64')}`]));
  expect(elsewhereReceived).toEqual([]);
}

async function timed<T>(work: () => Promise<T>): Promise<{ outcome: unknown; ms: number }> {
  const started = performance.now();
  const outcome = await work().catch((error: unknown) => error);
  return { outcome, ms: performance.now() - started };
}

function graphClient() {
  const tokenSource: GraphTokenSource = { partition: 'test', getAccessToken: async () => 'graph-token', invalidate: () => undefined };
  return createGraphClient({
    upstream,
    tokenSource,
    graphEndpoint: `${hostileOrigin}/v1.0`,
    logger: logs.logger,
    metrics: createMetrics({ defaultMetrics: false }),
    correlationId: 'corr-proxy',
    requestTimeoutMs: TIMEOUT_MS,
    maxRetries: 1,
    retry: { random: () => 0.5, sleep: async () => undefined },
  });
}

function selfDeployedConfig(): Config {
  return emulatorConfig(emulator, dataDir, {
    authorityHost: hostileOrigin,
    extraCaPem: [hostileCa],
    limits: { ...emulatorConfig(emulator, dataDir).limits, upstreamTimeoutMs: TIMEOUT_MS },
  });
}

function hostedConfig(): Config {
  return emulatorConfig(emulator, dataDir, {
    deploymentMode: 'hosted',
    hosted: {
      brokerUrl: `${hostileOrigin}/broker/obtain-token`,
      registrationId: 'reg-0123',
      token: new Secret('reg-token'),
      key: new Secret(randomBytes(32).toString('base64')),
    },
    extraCaPem: [hostileCa],
    limits: { ...emulatorConfig(emulator, dataDir).limits, upstreamTimeoutMs: TIMEOUT_MS },
  });
}

/** One token acquisition of a fresh identity built from `config` on the proxied upstream layer. */
async function acquireToken(config: Config): Promise<unknown> {
  const identity = await createGraphIdentity(config, { logger: logs.logger, metrics: createMetrics({ defaultMetrics: false }), upstream });
  try {
    return await identity
      .tokenSourceFor({ kind: 'anonymous', permissions: new Set() })
      .getAccessToken()
      .catch((error: unknown) => error);
  } finally {
    await identity.close?.();
  }
}

describe('Graph calls behind HTTPS_PROXY', () => {
  it('an endless answer is read up to MAX_UPSTREAM_RESPONSE_BYTES only, once, and fails with UPSTREAM_ERROR', async () => {
    mode = 'endless';
    await expect(graphClient().getUser('u1', ['displayName'])).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect(written).toBeLessThan(64 * MB);
    expectTunnelledOnly();
  });

  it('a 307 to another host is not followed', async () => {
    mode = 'redirect';
    await expect(graphClient().getUser('u1', ['displayName'])).rejects.toMatchObject({ code: expect.stringMatching(/^UPSTREAM_/) });
    expectTunnelledOnly();
  });

  it.each(['stall-headers', 'stall-body'] as const)('%s: UPSTREAM_UNAVAILABLE after the request timeout', async (stall) => {
    mode = stall;
    const { outcome, ms } = await timed(() => graphClient().getUser('u1', ['displayName']));
    expect(outcome).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    // Two attempts (maxRetries 1) of TIMEOUT_MS each, and not much more.
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS / 2);
    expect(ms).toBeLessThan(2 * TIMEOUT_MS + 2_000);
    expectTunnelledOnly();
  });
});

describe('a proxy that does not open the tunnel', () => {
  it.each(['refuse-407', 'refuse-502', 'drop', 'silent'] as const)(
    '%s: Graph calls fail with UPSTREAM_UNAVAILABLE within the connect timeout, without a storm of tunnels',
    async (proxyMode) => {
      proxy.mode = proxyMode;
      const { outcome, ms } = await timed(() => graphClient().getUser('u1', ['displayName']));
      expect(outcome).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', message: 'Microsoft Graph could not be reached.' });
      expect(JSON.stringify(outcome)).not.toContain(PROXY_PASSWORD);
      expect(ms).toBeLessThan(2 * CONNECT_TIMEOUT_MS + 2_000);
      // One tunnel asked per attempt (two attempts): before, thousands a second for `drop`.
      expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
      expect(proxy.tunnels.length).toBeLessThanOrEqual(2);
      // Nothing reached the host around the proxy.
      expect(elsewhereReceived).toEqual([]);
    },
  );

  it('refuse-407: the token request says which answer the proxy gave, and carries no credential', async () => {
    proxy.mode = 'refuse-407';
    const outcome = (await acquireToken(selfDeployedConfig())) as { code?: string; message?: string };
    // msal reports its own discovery failure (endpoints_resolution_error), not the network module's text.
    expect(outcome).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(outcome.message).not.toContain(PROXY_PASSWORD);
    const brokerOutcome = (await acquireToken(hostedConfig())) as { code?: string; message?: string };
    expect(brokerOutcome).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(brokerOutcome.message).toContain('proxy answered 407');
    expect(brokerOutcome.message).not.toContain(PROXY_PASSWORD);
  });

  it('drop: a token request settles too', async () => {
    proxy.mode = 'drop';
    const { outcome, ms } = await timed(() => acquireToken(selfDeployedConfig()));
    expect(outcome).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(ms).toBeLessThan(10_000);
    expect(proxy.tunnels.length).toBeLessThan(10);
  });
});

describe.each([
  { flow: 'msal token requests (self-deployed)', config: selfDeployedConfig },
  { flow: 'the hosted broker', config: hostedConfig },
])('$flow behind HTTPS_PROXY', ({ config }) => {
  it('an endless token answer is not read past the bound', async () => {
    mode = 'endless';
    const outcome = await acquireToken(config());
    expect(outcome).toMatchObject({ code: expect.stringMatching(/^UPSTREAM_/) });
    expect(written).toBeLessThan(64 * MB);
    expectTunnelledOnly();
  });

  it('a 307 to another host is not followed, and nothing it would answer is used', async () => {
    mode = 'redirect';
    const outcome = await acquireToken(config());
    expect(outcome).not.toBe('token-from-elsewhere');
    // UPSTREAM_ERROR, not UNAUTHENTICATED: msal took the bodiless 307 for an answer without a token.
    expect(outcome).toMatchObject({ code: 'UPSTREAM_ERROR', message: expect.stringContaining('307') });
    expectTunnelledOnly();
  });

  it.each(['stall-headers', 'stall-body'] as const)('%s: UPSTREAM_UNAVAILABLE after the request timeout', async (stall) => {
    mode = stall;
    const { outcome, ms } = await timed(() => acquireToken(config()));
    expect(outcome).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    // undici's timers are coarse (they fire up to a few hundred ms early or late).
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS / 2);
    expect(ms).toBeLessThan(4 * TIMEOUT_MS + 3_000);
    expectTunnelledOnly();
  });
});
