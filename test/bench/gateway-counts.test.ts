/**
 * The gateway's upstream request count per benchmark scenario equals the Graph minimum (the floor's
 * count) for scenarios 1, 2, 4 and 5, and is one request for a lone single lookup. One operation at
 * a time through a real gateway over real sockets; counts only (timings belong to the benchmark).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickFixtures, type BenchFixtures } from '../../bench/lib/fixtures.js';
import { SCENARIOS, type Scenario } from '../../bench/scenarios.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let emulator: TestEmulator;
let gateway: TestGateway;
let fixtures: BenchFixtures;

beforeAll(async () => {
  emulator = await startTestEmulator({ seed: 42, userCount: 1000 });
  fixtures = pickFixtures(emulator.tenant);
  gateway = await startTestGateway({ emulator, env: { LOG_LEVEL: 'warn' } });
  // Warm: the token is fetched once, outside every count.
  const warm = await gateway.graphql('{ user(id: "' + fixtures.lookupUserIds[0] + '") { id } }');
  expect(warm.errors).toBeUndefined();
});

afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

const byNumber = new Map<number, Scenario>(SCENARIOS.map((s) => [s.number, s]));

async function graphRequestsDuring(run: () => Promise<void>): Promise<{ graph: number; batches: number; tokens: number }> {
  const before = await emulator.stats();
  await run();
  const after = await emulator.stats();
  return {
    graph: after.graphRequests - before.graphRequests,
    batches: after.batch.requests - before.batch.requests,
    tokens: after.tokenRequests - before.tokenRequests,
  };
}

async function runOnce(scenario: Scenario, i = 0): Promise<void> {
  const op = scenario.graphql(fixtures, i);
  const result = await gateway.graphql(op.query, op.variables);
  expect(result.errors).toBeUndefined();
  scenario.check(result.data as Record<string, unknown>, fixtures, i);
}

describe('gateway upstream requests per benchmark scenario', () => {
  it.each([1, 2, 4, 5])('scenario %i costs exactly the Graph minimum (the floor’s count)', async (n) => {
    const scenario = byNumber.get(n)!;
    const counts = await graphRequestsDuring(() => runOnce(scenario));
    expect(counts.graph).toBe(scenario.minimum(fixtures).requests);
    expect(counts.tokens).toBe(0);
  });

  it('scenario 2 sends its 100 independent requests as 5 $batch POSTs (card lookups and report lists together)', async () => {
    const counts = await graphRequestsDuring(() => runOnce(byNumber.get(2)!));
    expect(counts).toMatchObject({ graph: 5, batches: 5 });
  });

  it('scenario 4 asks for the root and its reports in one $batch, then the reports’ reports', async () => {
    const counts = await graphRequestsDuring(() => runOnce(byNumber.get(4)!));
    expect(counts.graph).toBe(1 + Math.ceil(fixtures.orgChartReportIds.length / 20));
    expect(counts.batches).toBe(counts.graph);
  });

  it('a lone single lookup (scenario 3) is one request, coalescing or not', async () => {
    const counts = await graphRequestsDuring(() => runOnce(byNumber.get(3)!, 7));
    expect(counts.graph).toBe(1);
  });

  it('a report list asked through a userPrincipalName rides the lookup’s $batch and answers the same reports', async () => {
    const root = emulator.tenant.users.get(fixtures.orgChartRootId)!;
    const query = `{ user(id: "${root.userPrincipalName}") { id directReports(first: 20) { nodes { id } } } }`;
    let data: any;
    const counts = await graphRequestsDuring(async () => {
      const result = await gateway.graphql(query);
      expect(result.errors).toBeUndefined();
      data = result.data;
    });
    expect(counts.graph).toBe(1);
    expect(data.user.id).toBe(root.id);
    expect(new Set(data.user.directReports.nodes.map((n: { id: string }) => n.id))).toEqual(new Set(fixtures.orgChartReportIds));
  });
});
