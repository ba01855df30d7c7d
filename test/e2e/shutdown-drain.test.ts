import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * The drain's bound (DRAIN_TIMEOUT_MS): an operation still waiting on Graph when the drain time is
 * up is stopped with an answer (UPSTREAM_UNAVAILABLE, reason GATEWAY_SHUTDOWN, honest about a write
 * that may have been applied) and its audit event (outcome unknown), rather than a cut connection;
 * close() then ends.
 * New connections are refused from the first moment of the drain.
 */
let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 50 });
});
afterAll(async () => {
  await emulator?.close();
});

describe('gateway.close() drain time', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ emulator, env: { DRAIN_TIMEOUT_MS: '400', LOG_LEVEL: 'info' } });
  });
  afterAll(async () => {
    await gw?.close();
    await emulator.setFaults({ latencyMs: 0 });
  });

  it('stops an operation still running at the deadline with an answer and an audit event', async () => {
    const target = [...emulator.tenant.users.values()].find((u) => u.accountEnabled && u.id !== emulator.tenant.wellKnown.adminUserId)!;
    const warm = await gw.graphql(`{ user(id: "${target.id}") { id } }`);
    expect(warm.errors).toBeUndefined();
    await emulator.setFaults({ latencyMs: 5_000 });

    const mutation = gw.graphql('mutation($input: ChangePasswordInput!) { changePassword(input: $input) { user { id } } }', {
      input: { user: target.id, password: 'Deadline!Drain-77zq' },
    });
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const closed = gw.gateway.close();
    // Not accepting any more: a new connection is refused at once.
    await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow();

    const result = await mutation;
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', reason: 'GATEWAY_SHUTDOWN' });
    expect(result.errors![0]!.message).toMatch(/shutting down.*may or may not have been applied/s);
    await closed;
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(2_500);

    // The password PATCH was out when it was stopped: Graph may have applied it, and the audit says so.
    const audit = gw.logRecords('audit changePassword unknown');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ targetUser: target.id, outcome: 'unknown', steps: [{ step: 'SET_PASSWORD', outcome: 'UNKNOWN' }] });
    expect(gw.logRecords('shutdown: drained')[0]).toMatchObject({ operationsAtStart: 1, stopped: 1 });
    expect(gw.logLines.join('\n')).not.toContain('Deadline!Drain-77zq');
  }, 20_000);
});

describe('gateway.close() with nothing in flight', () => {
  it('returns at once and keeps answering nothing afterwards', async () => {
    const gw = await startTestGateway({ emulator });
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const started = Date.now();
    await gw.gateway.close();
    // The kept-alive connection of the /healthz call above does not hold the drain for its keep-alive timeout.
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow();
    await gw.close();
  });
});
