import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { hashApiKey } from '../../src/config.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { problemsOf } from '../support/config-problems.js';
import { rawExchange } from '../support/raw-http.js';
import { capturingLogger } from '../support/log-capture.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';

/**
 * METRICS_PORT (docs/operations.md#metrics), through the production configuration: /metrics moves
 * to a listener of its own, which serves nothing else, and the main port no longer answers it, so
 * an ingress that routes the main port cannot expose the metrics.
 */
const KEY = 'metrics-port-test-api-key-01';

describe('METRICS_PORT', () => {
  let emulator: TestEmulator;
  let app: App;

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 4 });
    const config = loadSandboxConfig(emulator, {
      NODE_ENV: 'production',
      CALLER_AUTH: 'api-key',
      API_KEYS: `soar:${hashApiKey(KEY)}:Users.Read`,
      METRICS_PORT: '0',
    });
    app = await startApp(config, { emulator, logger: capturingLogger([], 'warn') });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await emulator?.close();
  });

  it('serves /metrics on its own port only, and nothing else there', async () => {
    const metricsUrl = app.gateway.metricsUrl();
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(metricsUrl).not.toBe(app.url);

    const query = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ query: '{ users(first: 1) { nodes { id } } }' }),
    });
    expect(query.status).toBe(200);

    const scraped = await fetch(`${metricsUrl}/metrics`);
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await scraped.text();
    expect(text).toMatch(/^gateway_operation_duration_seconds_count\{.*\} 1$/m);

    const onMainPort = await fetch(`${app.url}/metrics`);
    expect(onMainPort.status).toBe(404);
    expect(await onMainPort.text()).toBe('Not found: /metrics is served on METRICS_PORT\n');

    for (const path of ['/graphql', '/healthz', '/readyz', '/playground', '/metrics/../graphql']) {
      const res = await fetch(`${metricsUrl}${path}`);
      expect(res.status, path).toBe(404);
      await res.text();
    }
    const post = await fetch(`${metricsUrl}/metrics`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    await post.text();
  });

  it('answers an Expect other than 100-continue itself, with the headers of every answer', async () => {
    // Before: Node's bare 417, without X-Content-Type-Options, X-Frame-Options or CORP.
    const { port, hostname } = new URL(app.gateway.metricsUrl()!);
    const raw = await rawExchange(Number(port), `GET /metrics HTTP/1.1\r\nhost: ${hostname}:${port}\r\nexpect: 200-ok\r\nconnection: close\r\n\r\n`);
    expect(raw.startsWith('HTTP/1.1 417 '), raw.slice(0, 200)).toBe(true);
    expect(raw).toMatch(/^x-content-type-options: nosniff$/im);
    expect(raw).toMatch(/^x-frame-options: DENY$/im);
    expect(raw).toMatch(/^cross-origin-resource-policy: same-origin$/im);
  });

  it('one address cannot take every connection of the metrics listener from the scraper', async () => {
    // Before: only its total bound (32) held there, MAX_CONNECTIONS_PER_ADDRESS only on PORT. One
    // host trickling headers held all 32 and the scraper's connection was closed on arrival.
    // Linux routes all of 127.0.0.0/8 to loopback: 127.0.0.2 is another host here.
    const { port, hostname } = new URL(app.gateway.metricsUrl()!);
    const attacker = Array.from({ length: 40 }, () => {
      const entry = { socket: net.connect({ port: Number(port), host: hostname, localAddress: '127.0.0.2' }), closed: false };
      entry.socket.on('error', () => undefined);
      entry.socket.on('close', () => (entry.closed = true));
      entry.socket.write(`GET /metrics HTTP/1.1\r\nhost: ${hostname}:${port}\r\nx-pad: aaaa`);
      return entry;
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(attacker.filter((s) => !s.closed).length).toBe(8);
      const scraped = await fetch(`${app.gateway.metricsUrl()}/metrics`, { signal: AbortSignal.timeout(5_000) });
      expect(scraped.status).toBe(200);
      // Counted like the main listener's refusals.
      expect(await scraped.text()).toMatch(/^gateway_connections_refused_total\{reason="per_address"\} 32$/m);
    } finally {
      for (const { socket } of attacker) socket.destroy();
    }
  });

  it('needs a port of its own', () => {
    const sandbox = { PORT: '4000' };
    expect(problemsOf({ ...sandbox, METRICS_PORT: '4000' })).toContainEqual(expect.stringContaining("METRICS_PORT=4000 is the gateway's PORT"));
    expect(problemsOf({ ...sandbox, METRICS_PORT: 'scrape' })).toContainEqual(expect.stringContaining('METRICS_PORT="scrape" is not valid'));
    expect(problemsOf({ ...sandbox, METRICS_PORT: '9464' })).toEqual([]);
  });
});
