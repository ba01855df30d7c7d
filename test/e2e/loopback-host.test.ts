import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * CALLER_AUTH=none trusts "the request came over loopback". A DNS-rebinding page (its own name
 * resolving to 127.0.0.1) is same-origin with the gateway and sends `Host: <its name>`; without the
 * Host check it got every permission (`Host: rebind.attacker.example` ran revokeSignInSessions).
 * Production configuration, sandbox tenant.
 */
interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(base: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const TERMINATE = 'mutation($id: ID!) { terminateSession(input: { user: $id, disableAccount: false }) { user { id } } }';

describe('CALLER_AUTH=none: loopback Host and allowed Origin only', () => {
  let gw: TestGateway;
  let port: string;
  let victim: string;

  beforeAll(async () => {
    gw = await startTestGateway({ env: { NODE_ENV: 'production', SANDBOX: 'true', INTROSPECTION: 'false', CORS_ORIGINS: 'https://console.contoso.example' } });
    port = new URL(gw.url).port;
    victim = [...gw.emulator.tenant.users.values()].find((u) => u.accountEnabled && u._directoryRoles.length === 0)!.id;
  }, 60_000);
  afterAll(() => gw.close());

  const graphql = (headers: Record<string, string>, query = '{ users(first: 1) { nodes { id } } }', variables?: Record<string, unknown>) =>
    send(gw.url, '/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });

  it('refuses a rebinding Host before any upstream call, on every route', async () => {
    await gw.emulator.resetStats();
    const res = await graphql({ host: `rebind.attacker.example:${port}` }, TERMINATE, { id: victim });
    expect(res.status).toBe(403);
    const body = JSON.parse(res.body) as { errors: Array<{ message: string; extensions: { code: string; reason: string } }> };
    expect(body.errors[0]!.extensions).toEqual({ code: 'FORBIDDEN', reason: 'HOST_NOT_ALLOWED' });
    expect(body.errors[0]!.message).toContain(`127.0.0.1:${port}`);
    for (const path of ['/readyz', '/metrics', '/playground', '/auth/login']) {
      expect((await send(gw.url, path, { headers: { host: `rebind.attacker.example:${port}` } })).status).toBe(403);
    }
    // A loopback name on another port is another origin too, and so is a bare 127.0.0.2.
    expect((await graphql({ host: `127.0.0.1:1` })).status).toBe(403);
    expect((await graphql({ host: `127.0.0.2:${port}` })).status).toBe(403);
    expect((await gw.emulator.stats()).totalRequests).toBe(0);
    expect(gw.emulator.tenant.users.get(victim)!.accountEnabled).toBe(true);
    expect(await gw.metrics.registry.getSingleMetricAsString('gateway_authentication_failures_total')).toMatch(/reason="host_not_allowed"\} \d+/);
  });

  it('serves localhost, 127.0.0.1 and [::1] with the listening port', async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      const res = await graphql({ host });
      expect(res.status, host).toBe(200);
      expect((JSON.parse(res.body) as { data: { users: { nodes: unknown[] } } }).data.users.nodes).toHaveLength(1);
    }
  });

  it('refuses browser requests from other origins; the gateway itself and CORS_ORIGINS are allowed', async () => {
    await gw.emulator.resetStats();
    const evil = await graphql({ host: `127.0.0.1:${port}`, origin: 'https://evil.example' }, TERMINATE, { id: victim });
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).errors[0].extensions.reason).toBe('ORIGIN_NOT_ALLOWED');
    expect((await graphql({ host: `127.0.0.1:${port}`, origin: 'null' })).status).toBe(403);
    expect((await graphql({ host: `127.0.0.1:${port}`, origin: `http://localhost:${port}` })).status).toBe(403);
    expect((await gw.emulator.stats()).totalRequests).toBe(0);
    // The playground is served by the gateway: same origin.
    expect((await graphql({ host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` })).status).toBe(200);
    expect((await graphql({ host: `localhost:${port}`, origin: `http://localhost:${port}` })).status).toBe(200);
    expect((await graphql({ host: `127.0.0.1:${port}`, origin: 'https://console.contoso.example' })).status).toBe(200);
  });

  it('refuses a request a proxy relayed (a reverse proxy on this host arrives over loopback, for clients anywhere)', async () => {
    // Before: nginx on the same host, passing X-Forwarded-For and its default Host, got directory data for 203.0.113.9.
    await gw.emulator.resetStats();
    const relayed: Array<Record<string, string>> = [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }, { 'x-real-ip': '203.0.113.9' }];
    for (const header of relayed) {
      const res = await graphql({ host: `127.0.0.1:${port}`, ...header }, TERMINATE, { id: victim });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body).errors[0].extensions.reason).toBe('FORWARDED_REQUEST');
    }
    expect((await gw.emulator.stats()).totalRequests).toBe(0);
    // One line per reason and address per minute (docs/security.md#failed-authentication); the metric counts each.
    expect(gw.logRecords('caller authentication failed').filter((r) => r.reason === 'forwarded_request')).toHaveLength(1);
    expect(await gw.metrics.registry.getSingleMetricAsString('gateway_authentication_failures_total')).toContain(
      'gateway_authentication_failures_total{reason="forwarded_request"} 3',
    );
  });
});

describe('with caller authentication the Host is not restricted', () => {
  it('CALLER_AUTH=api-key answers any Host (the key is the credential)', async () => {
    const gw = await startTestGateway({ env: { NODE_ENV: 'production', SANDBOX: 'true', CALLER_AUTH: 'api-key', API_KEYS: `a:${'0'.repeat(64)}` } });
    try {
      const res = await send(gw.url, '/healthz', { headers: { host: 'gateway.internal.example' } });
      expect(res.status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});
