import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logRecords, startProductionGateway, type GatewayProcess } from '../support/gateway-process.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * Faults no code caught, in the production build (docs/operations.md#process-faults). A preload
 * (fixtures/fault-on-signal.mjs) makes them on SIGUSR2, shaped like an HTTP client's error that
 * carries a bearer token and the configured TOKEN_CACHE_KEY. Before the handlers, Node ended the
 * process on the unhandled rejection and printed the whole error object, token and key included,
 * to stderr.
 */
const KEY = 'faults-key-0123456789abcdef';
const FAULT_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmYXVsdC10ZXN0In0.c2lnbmF0dXJlLW9mLWEtdG9rZW4';
const TOKEN_CACHE_KEY = 'process-faults-token-cache-key';

describe('production build: faults no code caught', () => {
  let gw: GatewayProcess;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-faults-'));

  beforeAll(async () => {
    gw = await startProductionGateway({
      dataDir,
      nodeArgs: ['--import', path.join(import.meta.dirname, 'fixtures', 'fault-on-signal.mjs')],
      env: {
        SANDBOX_USERS: '20',
        ...apiKeyCallers({ reader: { key: KEY, permissions: ['Users.Read'] } }),
        LOG_LEVEL: 'info',
        TOKEN_CACHE_KEY,
        FAULT_TOKEN,
      },
    });
  }, 240_000);

  afterAll(() => {
    gw?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const query = () =>
    fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ query: '{ users(first: 2) { nodes { id } } }' }),
    });

  const faultLines = () =>
    logRecords(gw.stdout()).filter((r) => typeof r['msg'] === 'string' && /nothing handled it|escaped every handler/.test(r['msg'] as string));

  it('logs an unhandled rejection without its token or key, counts it, and keeps serving', async () => {
    process.kill(gw.child.pid!, 'SIGUSR2');
    await expect.poll(() => faultLines().length, { timeout: 10_000 }).toBe(1);
    const [line] = faultLines();
    expect(line!['level']).toBe('error');
    expect(line!['err']['name']).toBe('Error');
    expect(line!['err']['errorCode']).toBe('UND_ERR_SOCKET');
    expect(line!['err']['message']).toMatch(/^request failed: Authorization: Bearer \[redacted\]/);
    expect(line!['err']['stack']).toMatch(/fault-on-signal\.mjs/);
    expect(line!['err']).not.toHaveProperty('headers');

    const res = await query();
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { users: { nodes: unknown[] } } }).data.users.nodes).toHaveLength(2);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_process_faults_total\{kind="unhandled_rejection"\} 1/);
    expect(gw.child.exitCode).toBeNull();
  });

  it('logs an uncaught exception as fatal without its token or key and exits 1', async () => {
    process.kill(gw.child.pid!, 'SIGUSR2');
    const exit = await gw.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    const fatal = faultLines().find((r) => r['level'] === 'fatal');
    expect(fatal?.['err']['message']).toMatch(/Bearer \[redacted\] key=\[redacted\]/);
    // Nothing printed the error object: neither the token nor the key is anywhere in the output.
    expect(gw.output()).not.toContain(FAULT_TOKEN);
    expect(gw.output()).not.toContain(TOKEN_CACHE_KEY);
    expect(gw.output()).not.toContain('signatur');
  });
});
