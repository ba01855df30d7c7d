import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyCallers } from '../../support/api-key-callers.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

/**
 * Refusals by the answers-in-flight budget (MAX_RESULT_VALUES_IN_FLIGHT, src/graphql/budget/answers-in-flight.ts)
 * are counted in `gateway_memory_budget_refusals_total{budget="answers_in_flight", bound}`, by the bound
 * that refused: before, an operator saw only 429s, with nothing to tell this budget from Graph throttling.
 * A small budget, and Graph answering slowly (the emulator's latency), so the first operation still
 * holds its values when the next ones arrive.
 */
const ONE = 'answers-one-0123456789abcdef';
const TWO = 'answers-two-0123456789abcdef';
// 801 estimated values: one fits a caller's share (1000), two fit neither that share nor the budget of all (1200).
const QUERY = '{ users(first: 200) { nodes { id displayName mail } } }';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const refusalsIn = (metrics: string, bound: string): number =>
  Number(new RegExp(`^gateway_memory_budget_refusals_total\\{budget="answers_in_flight",bound="${bound}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);

describe('refusals by the answers in flight, in /metrics', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({
      env: {
        MAX_RESULT_VALUES: '1000',
        MAX_RESULT_VALUES_IN_FLIGHT: '1200',
        ...apiKeyCallers({ one: { key: ONE, permissions: ['Users.Read'] }, two: { key: TWO, permissions: ['Users.Read'] } }),
      },
    });
  }, 60_000);

  afterAll(async () => {
    await gateway?.emulator.setFaults({ latencyMs: 0 });
    await gateway?.close();
  });

  it('counts a refusal by the caller’s share and one by the budget of all callers, no caller named', async () => {
    const before = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(refusalsIn(before, 'caller_share')).toBe(0);
    await gateway.emulator.setFaults({ latencyMs: 6_000 });
    // The first holds 801 of the 1200 values (and of its caller's 1000) while Graph takes 6 s.
    const held = gateway.graphql(QUERY, undefined, { 'x-api-key': ONE });
    await sleep(1_500);
    const sameCaller = await gateway.graphql(QUERY, undefined, { 'x-api-key': ONE });
    const otherCaller = await gateway.graphql(QUERY, undefined, { 'x-api-key': TWO });
    expect(sameCaller.status).toBe(429);
    expect(sameCaller.errors?.[0]?.extensions?.reason).toBe('CALLER_ANSWERS_IN_FLIGHT');
    expect(otherCaller.status).toBe(429);
    expect(otherCaller.errors?.[0]?.extensions?.reason).toBe('ANSWERS_IN_FLIGHT');
    expect((await held).status).toBe(200);

    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(refusalsIn(metrics, 'caller_share')).toBe(1);
    expect(refusalsIn(metrics, 'all_callers')).toBe(1);
    for (const line of metrics.split('\n').filter((l) => l.startsWith('gateway_memory_budget_refusals_total'))) {
      expect(line).not.toContain('one');
      expect(line).not.toContain(ONE);
    }
  }, 60_000);
});
