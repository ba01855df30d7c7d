import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { GOOD_KEY, READ_QUERY, startKeyGuardedGateway, WRONG_KEY } from '../support/key-guarded-gateway.js';
import { appCallerToken } from '../identity/support.js';

/**
 * A request carries one credential, in one header, once (docs/security.md#one-credential-per-request).
 * Before, with CALLER_AUTH=api-key, a good `x-api-key` beside any `Authorization` (a wrong key, a
 * bearer token) was served as the `x-api-key`'s holder, and of two `Authorization` headers Node kept
 * the first. Now such a request gets 400 BAD_USER_INPUT, reason AMBIGUOUS_CREDENTIALS, before any key
 * is looked at; it is logged and counted (`ambiguous_credentials`) without using up the failure budget.
 */
const QUERY = JSON.stringify({ query: READ_QUERY });

/** POST /graphql with headers as given, repeats included (fetch folds a repeated header into one line). */
function post(url: string, headers: Array<[string, string]>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const target = new URL('/graphql', url);
    // A flat list of names and values sends each as given, repeats included; Node then adds no Host or Content-Length itself.
    const raw = [['host', target.host], ['content-type', 'application/json'], ['content-length', String(Buffer.byteLength(QUERY))], ...headers].flat();
    const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: raw });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(QUERY);
  });
}

describe('ambiguous credentials (CALLER_AUTH=api-key, production configuration)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startKeyGuardedGateway({ env: { AUTH_FAILURE_LIMIT: '2' } });
  }, 60_000);
  afterAll(() => gw.close());

  it.each([
    [
      'x-api-key and Authorization: ApiKey',
      [
        ['x-api-key', GOOD_KEY],
        ['authorization', `ApiKey ${WRONG_KEY}`],
      ],
    ],
    [
      'x-api-key and Authorization: Bearer',
      [
        ['x-api-key', GOOD_KEY],
        ['authorization', 'Bearer eyJhbGciOiJub25lIn0.e30.'],
      ],
    ],
    [
      'Authorization: ApiKey and x-api-key (the other order)',
      [
        ['authorization', `ApiKey ${GOOD_KEY}`],
        ['x-api-key', WRONG_KEY],
      ],
    ],
    [
      'x-api-key twice',
      [
        ['x-api-key', GOOD_KEY],
        ['x-api-key', WRONG_KEY],
      ],
    ],
    [
      'Authorization twice',
      [
        ['authorization', `ApiKey ${GOOD_KEY}`],
        ['Authorization', `ApiKey ${WRONG_KEY}`],
      ],
    ],
  ] as Array<[string, Array<[string, string]>]>)('refuses %s with 400 AMBIGUOUS_CREDENTIALS and no upstream call', async (_name, headers) => {
    await gw.emulator.resetStats();
    const res = await post(gw.url, headers);
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'AMBIGUOUS_CREDENTIALS' });
    expect(res.body.errors[0].message).toContain('more than one credential');
    expect((await gw.emulator.stats()).totalRequests).toBe(0);
  });

  it('takes x-api-key beside an Authorization of another scheme (Basic, from an authenticating proxy in front), which is no credential of the gateway', async () => {
    const res = await post(gw.url, [
      ['authorization', 'Basic b3BlcmF0b3I6cHJveHktcGFzc3dvcmQ='],
      ['x-api-key', GOOD_KEY],
    ]);
    expect(res.status).toBe(200);
    expect(res.body.data.users.nodes).toHaveLength(1);
  });

  it('logs and counts the refusals without the keys, and leaves the failure budget (2) untouched', async () => {
    const lines = gw.logRecords('caller authentication failed').filter((r) => r.reason === 'ambiguous_credentials');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines[0]).toMatchObject({ level: 'warn', route: '/graphql', clientAddress: '127.0.0.1' });
    expect(lines[0]!.failures).toBeUndefined();
    expect(gw.logLines.join('')).not.toContain(GOOD_KEY);
    expect(gw.logLines.join('')).not.toContain(WRONG_KEY);
    expect(await gw.metrics.registry.getSingleMetricAsString('gateway_authentication_failures_total')).toContain(
      'gateway_authentication_failures_total{reason="ambiguous_credentials"} 5',
    );
    const one = await post(gw.url, [['x-api-key', GOOD_KEY]]);
    expect(one.status).toBe(200);
    expect(one.body.data.users.nodes).toHaveLength(1);
    expect((await post(gw.url, [['authorization', `ApiKey ${GOOD_KEY}`]])).status).toBe(200);
  });
});

describe('ambiguous credentials (CALLER_AUTH=entra)', () => {
  let emulator: TestEmulator;
  let gw: TestGateway;
  let token: string;
  beforeAll(async () => {
    emulator = await startTestEmulator();
    const known = emulator.tenant.wellKnown;
    gw = await startTestGateway({ emulator, env: { CALLER_AUTH: 'entra', API_AUDIENCE: `api://msgraph-user-gateway, ${known.demoAppId}` } });
    token = await appCallerToken(emulator, known.callerAppId, known.callerAppSecret);
  }, 60_000);
  afterAll(async () => {
    await gw.close();
    await emulator.close();
  });

  it('refuses two Authorization headers (Node kept the first) with 400 AMBIGUOUS_CREDENTIALS', async () => {
    const res = await post(gw.url, [
      ['authorization', `Bearer ${token}`],
      ['authorization', 'Bearer eyJhbGciOiJub25lIn0.e30.'],
    ]);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'AMBIGUOUS_CREDENTIALS' });
  });

  it('ignores x-api-key, which is no credential of this mode (an API management layer in front may add its own)', async () => {
    const res = await post(gw.url, [
      ['authorization', `Bearer ${token}`],
      ['x-api-key', 'whatever-the-api-manager-added'],
    ]);
    expect(res.status).toBe(200);
    expect(res.body.data.users.nodes).toHaveLength(1);
  });
});
