/**
 * The benchmark's scenarios (docs/benchmark.md): the GraphQL operation the gateway and the naive server answer,
 * the floor's hand-written REST equivalent, the Graph minimum (the floor's cost) and what the naive
 * server costs by construction (one REST call per resolver).
 */
import * as floor from './floor/scenarios.js';
import type { FloorClient } from './floor/client.js';
import type { BenchFixtures } from './lib/fixtures.js';

export type GraphCost = floor.GraphCost;

export interface GraphqlOperation {
  query: string;
  variables?: Record<string, unknown>;
}

export interface Scenario {
  /** Stable key in results, e.g. `s3-c64`. */
  key: string;
  number: 1 | 2 | 3 | 4 | 5;
  title: string;
  /** Operations in flight at once. */
  concurrency: number;
  /** The i-th operation (gateway and naive). */
  graphql(fixtures: BenchFixtures, i: number): GraphqlOperation;
  /** Checks a GraphQL answer's data; throws when it is not the data the scenario asked for. */
  check(data: Record<string, unknown>, fixtures: BenchFixtures, i: number): void;
  /** The i-th operation done with optimal REST calls. */
  floor(client: FloorClient, fixtures: BenchFixtures, i: number): Promise<void>;
  /** Graph minimum per operation (= the floor's cost). */
  minimum(fixtures: BenchFixtures): GraphCost;
  /** The naive server's cost per operation, from its resolver structure. */
  naive(fixtures: BenchFixtures): GraphCost;
}

function fail(message: string): never {
  throw new Error(message);
}

const directoryPage: Omit<Scenario, 'key' | 'concurrency'> = {
  number: 1,
  title: 'directory page: users(first: 100) { displayName mail manager { displayName } }',
  graphql: () => ({ query: 'query DirectoryPage { users(first: 100) { nodes { id displayName mail manager { id displayName } } } }' }),
  check: (data) => {
    const nodes = (data.users as { nodes?: unknown[] } | undefined)?.nodes;
    if (nodes?.length !== 100) fail(`directory page: expected 100 users, got ${nodes?.length ?? 'none'}`);
  },
  floor: (client) => floor.directoryPage(client),
  minimum: () => floor.directoryPageCost,
  // The list, then one GET /users/{id}/manager per user, all at once: 101 requests in 2 round trips.
  naive: () => ({ requests: 101, roundTrips: 2 }),
};

const CARD = 'id displayName mail jobTitle manager { id displayName } directReports(first: 5) { nodes { id displayName } }';

const profileCards: Omit<Scenario, 'key' | 'concurrency'> = {
  number: 2,
  title: 'profile cards: 50 aliased user(id:) with manager and directReports(first: 5)',
  graphql: (fx) => ({
    query: `query ProfileCards { ${fx.cardUserIds.map((id, n) => `u${n}: user(id: ${JSON.stringify(id)}) { ...Card }`).join(' ')} }\nfragment Card on User { ${CARD} }`,
  }),
  check: (data, fx) => {
    fx.cardUserIds.forEach((id, n) => {
      if ((data[`u${n}`] as { id?: string } | null)?.id !== id) fail(`profile cards: card u${n} is not user ${id}`);
    });
  },
  floor: (client, fx) => floor.profileCards(client, fx),
  minimum: (fx) => floor.profileCardsCost(fx),
  // Per card: GET user, then GET manager and GET directReports: 3 requests per card, 2 round trips.
  naive: (fx) => ({ requests: fx.cardUserIds.length * 3, roundTrips: 2 }),
};

const singleLookup: Omit<Scenario, 'key' | 'concurrency'> = {
  number: 3,
  title: 'single lookup: user(id:) { id displayName mail }',
  graphql: (fx, i) => ({
    query: 'query SingleLookup($id: ID!) { user(id: $id) { id displayName mail } }',
    variables: { id: fx.lookupUserIds[i % fx.lookupUserIds.length] },
  }),
  check: (data, fx, i) => {
    if ((data.user as { id?: string } | null)?.id !== fx.lookupUserIds[i % fx.lookupUserIds.length]) fail('single lookup: wrong or missing user');
  },
  floor: (client, fx, i) => floor.singleLookup(client, fx, i),
  minimum: () => floor.singleLookupCost,
  naive: () => ({ requests: 1, roundTrips: 1 }),
};

const orgChart: Omit<Scenario, 'key' | 'concurrency'> = {
  number: 4,
  title: "org chart: a manager, their reports and the reports' reports",
  graphql: (fx) => ({
    query:
      'query OrgChart($id: ID!) { user(id: $id) { id displayName directReports(first: 20) { nodes { id displayName directReports(first: 20) { nodes { id displayName } } } } } }',
    variables: { id: fx.orgChartRootId },
  }),
  check: (data, fx) => {
    const nodes = (data.user as { directReports?: { nodes?: unknown[] } } | null)?.directReports?.nodes;
    if (nodes?.length !== fx.orgChartReportIds.length) fail(`org chart: expected ${fx.orgChartReportIds.length} reports, got ${nodes?.length ?? 'none'}`);
  },
  floor: (client, fx) => floor.orgChart(client, fx),
  minimum: (fx) => floor.orgChartCost(fx),
  // GET root, then GET its reports, then one GET per report's reports: 2 + k requests, 3 round trips.
  naive: (fx) => ({ requests: 2 + fx.orgChartReportIds.length, roundTrips: 3 }),
};

const containment: Omit<Scenario, 'key' | 'concurrency'> = {
  number: 5,
  title: 'containment: 20 concurrent terminateSession (service-to-service)',
  graphql: (fx, i) => ({
    query: 'mutation Containment($user: ID!) { terminateSession(input: { user: $user, disableAccount: true }) { succeeded } }',
    variables: { user: fx.containmentUserIds[i % fx.containmentUserIds.length] },
  }),
  check: (data) => {
    if ((data.terminateSession as { succeeded?: boolean } | null)?.succeeded !== true) fail('containment: terminateSession did not succeed');
  },
  floor: (client, fx, i) => floor.containment(client, fx, i),
  minimum: () => floor.containmentCost,
  // `await revoke; await disable`: 2 requests, 2 round trips.
  naive: () => ({ requests: 2, roundTrips: 2 }),
};

/** Every measured cell in run order. Scenario 3 runs at three concurrencies. */
export const SCENARIOS: readonly Scenario[] = [
  { ...directoryPage, key: 's1', concurrency: 1 },
  { ...profileCards, key: 's2', concurrency: 1 },
  { ...singleLookup, key: 's3-c1', concurrency: 1 },
  { ...singleLookup, key: 's3-c16', concurrency: 16 },
  { ...singleLookup, key: 's3-c64', concurrency: 64 },
  { ...orgChart, key: 's4', concurrency: 1 },
  { ...containment, key: 's5', concurrency: 20 },
];
