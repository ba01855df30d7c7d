import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';

/**
 * HTTPS_PROXY applies to Graph and login calls alike: a real CONNECT proxy on loopback sees the
 * gateway's tunnels to the (emulated) login and Graph host, and answers still arrive.
 */
describe('HTTPS_PROXY', () => {
  let emulator: TestEmulator;
  let proxy: ConnectProxy;
  let app: App;

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 100 });
    proxy = await startConnectProxy();
    const config = loadSandboxConfig(emulator, { HTTPS_PROXY: proxy.origin });
    app = await startApp(config, { emulator, logger: createLogger({ level: 'silent' }) });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await proxy?.close();
    await emulator?.close();
  });

  it('tunnels token and Graph requests through the proxy', async () => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ users(first: 2) { nodes { displayName } } }' }),
    });
    const body = (await res.json()) as { data: { users: { nodes: unknown[] } } };
    expect(body.data.users.nodes).toHaveLength(2);
    const target = new URL(emulator.origin).host;
    expect(proxy.tunnels.length).toBeGreaterThan(0);
    expect(proxy.tunnels.every((t) => t === target)).toBe(true);
    const stats = await emulator.stats();
    expect(stats.tokenRequests).toBeGreaterThan(0);
    expect(stats.graphRequests).toBeGreaterThan(0);
  });

  it('sends nothing around the proxy: with a proxy that refuses tunnels, no token or Graph request reaches the host', async () => {
    const refusing = await startConnectProxy();
    refusing.mode = 'refuse-502';
    await emulator.resetStats();
    const config = loadSandboxConfig(emulator, { HTTPS_PROXY: refusing.origin });
    const lines: string[] = [];
    let blocked: App | undefined;
    try {
      blocked = await startApp(config, { emulator, logger: capturingLogger(lines, 'warn') });
      // Said at start, with the cause msal's own error would not name.
      const unread = logRecordsOf(lines).find((l) => l.msg === 'Entra ID metadata could not be read at start; msal asks again at the first token request');
      expect(unread?.err).toEqual({ name: 'ProxyTunnelError', code: 'PROXY_TUNNEL_FAILED' });
      const res = await fetch(`${blocked.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ users(first: 2) { nodes { displayName } } }' }),
      });
      const body = (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
      // The tunnel was refused, so the token request never left: Graph is unreachable, not the caller unauthenticated.
      expect(body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    } finally {
      await blocked?.close();
      await refusing.close();
    }
    expect(refusing.tunnels.length).toBeGreaterThan(0);
    const stats = await emulator.stats();
    expect(stats.tokenRequests).toBe(0);
    expect(stats.graphRequests).toBe(0);
  });
});
