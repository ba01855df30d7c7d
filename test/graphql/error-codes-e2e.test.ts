import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/config-types.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';

/**
 * The closed set of error codes, each produced by a real case end to end (the rest are pinned in
 * errors.test.ts, caller-auth-http.test.ts and the mutation tests): what a caller sees when the
 * target does not exist, when Graph is unavailable, and when the gateway's own Graph credentials
 * are rejected (never the caller's fault, never a 500, never the secret).
 */
describe('error codes end to end', () => {
  let emulator: TestEmulator;
  let gw: TestGateway;
  let misconfigured: TestGateway;

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 100 });
    gw = await startTestGateway({ emulator });
    misconfigured = await startTestGateway({
      emulator,
      configure: (config) => ({
        ...config,
        selfDeployed: { ...config.selfDeployed!, credential: { kind: 'secret', secret: new Secret('wrong-secret-value-for-test') } },
      }),
    });
  }, 60_000);

  afterAll(async () => {
    await misconfigured.close();
    await gw.close();
    await emulator.close();
  });

  it('NOT_FOUND for a mutation on a user that does not exist, with Graph request id', async () => {
    const { data, errors } = await gw.graphql('mutation { enableAccount(input: { user: "00000000-0000-4000-8000-0000000000ff" }) { user { id } } }');
    expect(data?.enableAccount ?? null).toBeNull();
    expect(errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(errors?.[0]?.extensions?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('UPSTREAM_UNAVAILABLE with a retry hint when Graph keeps answering 503', async () => {
    await emulator.setFaults({ unavailableRate: 1, retryAfterSeconds: 1 });
    try {
      const { status, errors } = await gw.graphql('{ user(id: "nobody@contoso.example") { id } }');
      expect(status).toBeLessThan(500);
      expect(errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    } finally {
      await emulator.setFaults({ unavailableRate: 0 });
    }
  }, 40_000);

  it("UPSTREAM_ERROR: the gateway's own rejected credentials are an upstream problem, not the caller's, and never echo the secret", async () => {
    const { status, errors } = await misconfigured.graphql('{ users(first: 1) { nodes { id } } }');
    expect(status).toBeLessThan(500);
    expect(errors?.[0]?.extensions?.code).toBe('UPSTREAM_ERROR');
    expect(errors?.[0]?.message).toMatch(/AADSTS7000215/);
    expect(JSON.stringify(errors)).not.toContain('wrong-secret-value-for-test');
    expect(misconfigured.logLines.join('\n')).not.toContain('wrong-secret-value-for-test');
    const ready = await fetch(`${misconfigured.url}/readyz`);
    expect(ready.status).toBe(503);
  });
});
