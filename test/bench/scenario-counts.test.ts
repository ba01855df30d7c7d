/**
 * Each scenario's upstream request counts for the floor and the naive contender are what the scenario
 * documents (bench/scenarios.ts, bench/floor/scenarios.ts). Counts only: timings belong to the
 * benchmark, never to a test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectFloorClient, type FloorClient } from '../../bench/floor/client.js';
import { pickFixtures, type BenchFixtures } from '../../bench/lib/fixtures.js';
import { createGraphqlClient, type GraphqlClient } from '../../bench/lib/graphql-client.js';
import { startNaiveServer, type RunningNaiveServer } from '../../bench/naive/server.js';
import { SCENARIOS, type Scenario } from '../../bench/scenarios.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';

let emulator: TestEmulator;
let fixtures: BenchFixtures;
let floor: FloorClient;
let naive: RunningNaiveServer;
let naiveClient: GraphqlClient;

beforeAll(async () => {
  emulator = await startTestEmulator({ seed: 42, userCount: 1000 });
  fixtures = pickFixtures(emulator.tenant);
  const { wellKnown } = emulator.tenant;
  const credentials = {
    graphOrigin: emulator.graphEndpoint,
    authorityOrigin: emulator.authorityHost,
    tenantId: emulator.tenantId,
    clientId: wellKnown.demoAppId,
    clientSecret: wellKnown.demoAppSecret,
    caPem: emulator.caCertPem,
  };
  floor = await connectFloorClient(credentials);
  naive = await startNaiveServer(credentials);
  naiveClient = createGraphqlClient(naive.url);
});

afterAll(async () => {
  await naiveClient?.close();
  await naive?.close();
  await floor?.close();
  await emulator?.close();
});

/** One scenario per number (scenario 3 appears at three concurrencies with the same operation). */
const distinct: Scenario[] = [...new Map(SCENARIOS.map((s) => [s.number, s])).values()];

async function countDuring(run: () => Promise<void>) {
  const before = await emulator.stats();
  await run();
  const after = await emulator.stats();
  return {
    graph: after.graphRequests - before.graphRequests,
    tokens: after.tokenRequests - before.tokenRequests,
    batches: after.batch.requests - before.batch.requests,
    batchItems: after.batch.items - before.batch.items,
    errors: Object.entries(after.byStatus).reduce(
      (n, [status, count]) => n + (Number(status) >= 400 && Number(status) !== 404 ? count - (before.byStatus[status] ?? 0) : 0),
      0,
    ),
  };
}

describe('fixtures', () => {
  it('are deterministic for a seed and give scenario 4 three levels within one page each', () => {
    expect(pickFixtures(emulator.tenant)).toEqual(fixtures);
    expect(fixtures.cardUserIds).toHaveLength(50);
    expect(new Set(fixtures.containmentUserIds).size).toBe(20);
    expect(fixtures.orgChartReportIds.length).toBeGreaterThan(0);
    expect(fixtures.orgChartReportIds.length).toBeLessThanOrEqual(20);
    const hasGrandReports = fixtures.orgChartReportIds.some((id) => [...emulator.tenant.users.values()].some((u) => u.managerId === id));
    expect(hasGrandReports).toBe(true);
  });
});

describe('floor: Graph minimum per operation', () => {
  it.each(distinct.map((s) => [s.key, s] as const))('%s sends exactly the documented requests', async (_key, scenario) => {
    const counts = await countDuring(() => scenario.floor(floor, fixtures, 0));
    expect(counts.graph).toBe(scenario.minimum(fixtures).requests);
    expect(counts.tokens).toBe(0);
    expect(counts.errors).toBe(0);
  });

  it('puts every independent request of scenarios 2, 4 and 5 into $batch envelopes of at most 20', async () => {
    const byKey = Object.fromEntries(distinct.map((s) => [s.key, s]));
    const s2 = await countDuring(() => byKey.s2!.floor(floor, fixtures, 0));
    expect(s2).toMatchObject({ batches: 5, batchItems: 100 });
    const s4 = await countDuring(() => byKey.s4!.floor(floor, fixtures, 0));
    expect(s4).toMatchObject({ batches: 1 + Math.ceil(fixtures.orgChartReportIds.length / 20), batchItems: 2 + fixtures.orgChartReportIds.length });
    const s5 = await countDuring(() => byKey.s5!.floor(floor, fixtures, 0));
    expect(s5).toMatchObject({ batches: 1, batchItems: 2 });
  });

  it('documents the minimum the issue states: 1, 5, 1, 2 and 1 requests; 1, 1, 1, 2 and 1 round trips', () => {
    expect(distinct.map((s) => s.minimum(fixtures))).toEqual([
      { requests: 1, roundTrips: 1 },
      { requests: 5, roundTrips: 1 },
      { requests: 1, roundTrips: 1 },
      { requests: 1 + Math.ceil(fixtures.orgChartReportIds.length / 20), roundTrips: 2 },
      { requests: 1, roundTrips: 1 },
    ]);
  });
});

describe('naive: one REST call per resolver', () => {
  it.each(distinct.map((s) => [s.key, s] as const))('%s sends exactly the documented requests and answers the right data', async (_key, scenario) => {
    const counts = await countDuring(async () => {
      const data = await naiveClient.execute(scenario.graphql(fixtures, 0));
      scenario.check(data, fixtures, 0);
    });
    expect(counts.graph).toBe(scenario.naive(fixtures).requests);
    expect(counts.tokens).toBe(0);
    expect(counts.batches).toBe(0);
  });

  it('lists users once and then asks for each listed user’s manager separately (no $expand)', async () => {
    const seen: string[] = [];
    const stats = emulator.context.stats;
    const original = stats.recordRequest.bind(stats);
    stats.recordRequest = (route, status, kind) => {
      seen.push(route);
      original(route, status, kind);
    };
    try {
      const scenario = distinct.find((s) => s.number === 1)!;
      await naiveClient.execute(scenario.graphql(fixtures, 0));
    } finally {
      stats.recordRequest = original;
    }
    expect(seen).toHaveLength(101);
    expect(seen.filter((r) => /^GET \S*\/users\/\{[^}]+\}\/manager$/.test(r))).toHaveLength(100);
    expect(seen.filter((r) => /^GET \S*\/users$/.test(r))).toHaveLength(1);
  });
});
