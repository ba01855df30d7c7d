import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { createAuthenticationGuard, UNCOUNTED_REFUSAL_LOG_INTERVAL_MS } from '../../src/identity/authentication-failures.js';
import { createMetrics } from '../../src/metrics.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * Refusals that are not guesses do not use up the failure budget, so nothing stopped them: a valid
 * key without Gateway.Admin calling /auth/login, or (CALLER_AUTH=none) any page in the operator's
 * browser sending a rebinding Host, wrote one `warn` line per request without bound. Now one line per
 * reason and address per minute; the next line says how many were not written, and the metric
 * counts every refusal (docs/security.md#failed-authentication). Production configuration.
 */
const KEYS = { reader: 'reader-key-0123456789', admin: 'admin-key-0123456789' };
const REQUESTS = 40;

const authFailures = (lines: readonly string[]) => logRecordsOf(lines).filter((r) => r.msg === 'caller authentication failed');

describe('a valid key without Gateway.Admin at /auth/login, again and again', () => {
  let emulator: TestEmulator;
  let app: App;
  const logLines: string[] = [];
  beforeAll(async () => {
    emulator = await startTestEmulator();
    const config = loadSandboxConfig(emulator, {
      NODE_ENV: 'production',
      GRAPH_AUTH_FLOW: 'authorization-code',
      ...apiKeyCallers({ reader: { key: KEYS.reader, permissions: ['Users.Read'] }, admin: { key: KEYS.admin, permissions: ['Gateway.Admin'] } }),
      TOKEN_CACHE_KEY: 'uncounted refusal lines test token cache key',
    });
    app = await startApp(config, { emulator, logger: capturingLogger(logLines, 'info') });
  }, 60_000);
  afterAll(async () => {
    await app.close();
    await emulator.close();
  });

  it('writes one line for the address, counts every refusal, and still lets the operator in', async () => {
    for (let i = 0; i < REQUESTS; i += 1) {
      const res = await fetch(`${app.url}/auth/login`, { redirect: 'manual', headers: { 'x-api-key': KEYS.reader } });
      expect(res.status).toBe(403);
      await res.body?.cancel();
    }
    const lines = authFailures(logLines).filter((r) => r.reason === 'not_operator');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', route: '/auth/login', clientAddress: '127.0.0.1' });
    expect(await app.metrics.registry.getSingleMetricAsString('gateway_authentication_failures_total')).toContain(
      `gateway_authentication_failures_total{reason="not_operator"} ${REQUESTS}`,
    );
    const operator = await fetch(`${app.url}/auth/login`, { redirect: 'manual', headers: { 'x-api-key': KEYS.admin } });
    expect(operator.status).toBe(302);
  });

  it('refuses two credentials at /auth/login with 400 AMBIGUOUS_CREDENTIALS and starts nothing (docs/security.md#one-credential-per-request)', async () => {
    const res = await fetch(`${app.url}/auth/login`, {
      redirect: 'manual',
      headers: { 'x-api-key': KEYS.admin, authorization: `ApiKey ${KEYS.reader}` },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(((await res.json()) as { message: string }).message).toContain('more than one credential');
    expect(authFailures(logLines).filter((r) => r.reason === 'ambiguous_credentials')).toHaveLength(1);
  });
});

describe('CALLER_AUTH=none: a rebinding page sending request after request', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { NODE_ENV: 'production', SANDBOX: 'true', INTROSPECTION: 'false' } });
  }, 60_000);
  afterAll(() => gw.close());

  it('writes one line per reason, not one per request', async () => {
    const url = new URL(gw.url);
    const send = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: url.hostname, port: url.port, path: '/graphql', method: 'POST', headers }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end('{"query":"{ users(first: 1) { nodes { id } } }"}');
      });
    for (let i = 0; i < REQUESTS; i += 1) {
      expect(await send({ 'content-type': 'application/json', host: `rebind.attacker.example:${url.port}` })).toBe(403);
      expect(await send({ 'content-type': 'application/json', host: `127.0.0.1:${url.port}`, origin: 'https://attacker.example' })).toBe(403);
    }
    const lines = gw.logRecords('caller authentication failed');
    expect(lines.map((r) => r.reason).sort()).toEqual(['host_not_allowed', 'origin_not_allowed']);
    const metric = await gw.metrics.registry.getSingleMetricAsString('gateway_authentication_failures_total');
    expect(metric).toContain(`gateway_authentication_failures_total{reason="host_not_allowed"} ${REQUESTS}`);
    expect(metric).toContain(`gateway_authentication_failures_total{reason="origin_not_allowed"} ${REQUESTS}`);
  });
});

describe('the quiet interval of refusals that are not guesses', () => {
  it('writes the next line after the interval with how many were not written, per reason and address; guesses keep one line each', async () => {
    const lines: string[] = [];
    let clock = 1_000_000;
    const guard = createAuthenticationGuard({
      config: { callerAuth: { mode: 'api-key', keys: [] }, authFailures: { limit: 100, windowSeconds: 300 }, trustedProxies: [] },
      logger: capturingLogger(lines, 'info'),
      metrics: createMetrics({ defaultMetrics: false }),
      now: () => clock,
    });
    const attempt = (clientAddress: string) => ({ clientAddress, correlationId: 'corr-quiet-0001', route: '/auth/login' });
    for (let i = 0; i < 5; i += 1) await guard.recordFailure('not_operator', attempt('203.0.113.7'), { countsTowardsLimit: false });
    await guard.recordFailure('not_operator', attempt('203.0.113.8'), { countsTowardsLimit: false });
    await guard.recordFailure('origin_not_allowed', attempt('203.0.113.7'), { countsTowardsLimit: false });
    for (let i = 0; i < 3; i += 1) await guard.recordFailure('invalid_api_key', attempt('203.0.113.7'));
    expect(authFailures(lines).map((r) => [r.reason, r.clientAddress, r.notLogged])).toEqual([
      ['not_operator', '203.0.113.7', undefined],
      ['not_operator', '203.0.113.8', undefined],
      ['origin_not_allowed', '203.0.113.7', undefined],
      ['invalid_api_key', '203.0.113.7', undefined],
      ['invalid_api_key', '203.0.113.7', undefined],
      ['invalid_api_key', '203.0.113.7', undefined],
    ]);
    clock += UNCOUNTED_REFUSAL_LOG_INTERVAL_MS - 1;
    await guard.recordFailure('not_operator', attempt('203.0.113.7'), { countsTowardsLimit: false });
    expect(authFailures(lines)).toHaveLength(6);
    clock += 1;
    await guard.recordFailure('not_operator', attempt('203.0.113.7'), { countsTowardsLimit: false });
    expect(authFailures(lines).at(-1)).toMatchObject({ reason: 'not_operator', clientAddress: '203.0.113.7', notLogged: 5 });
  });
});
