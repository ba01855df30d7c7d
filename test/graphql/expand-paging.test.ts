import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateUpstreamRequests } from '../../src/graphql/budget/index.js';
import { buildGatewaySchema } from '../../src/graphql/schema.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type GraphQLResult, type TestGateway } from '../support/gateway.js';

/**
 * `users(first: N > 100)` with `manager` selected sends `$expand=manager`, and Graph may answer
 * fewer users than `$top` on such pages (docs/graph-facts.md#expand-and-page-size). Under both
 * readings of the documentation (the emulator's `expandPageCap` switch) the gateway answers
 * `first` users, with cursors that resume exactly after their edge, in the fewest requests.
 */
const schema = buildGatewaySchema();

interface UserNode {
  id: string;
  manager: { id: string } | null;
}

describe.each([
  { reading: 'pages with $expand hold at most 100 users', expandPageCap: 100 as number | null },
  { reading: '$top is honoured with $expand', expandPageCap: null },
])('users(first > 100) with manager, when $reading', ({ expandPageCap }) => {
  let emulator: TestEmulator;
  let gw: TestGateway;
  let order: string[];
  const capped = expandPageCap !== null;

  beforeAll(async () => {
    emulator = await startTestEmulator({ graph: { expandPageCap } });
    gw = await startTestGateway({ emulator, env: { MAX_UPSTREAM_REQUESTS: '100' } });
    // Graph's order of the list, from pages without $expand (and the token warmed up).
    const plain = await gw.graphql('{ users(first: 999) { nodes { id } } }');
    order = (plain.data!.users.nodes as Array<{ id: string }>).map((n) => n.id);
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await emulator?.close();
  });

  const managerOf = (id: string) => emulator.tenant.users.get(id)?.managerId ?? null;

  async function run(query: string, variables?: Record<string, unknown>) {
    await emulator.resetStats();
    const result: GraphQLResult = await gw.graphql(query, variables);
    const stats = await emulator.stats();
    const estimate = estimateUpstreamRequests({ schema, document: parse(query), variables: variables ?? null })!.total;
    return { result, stats, estimate };
  }

  it('answers first: 250 users in Graph’s order with their managers, in ceil(250 / 100) requests at most', async () => {
    const { result, stats, estimate } = await run('{ users(first: 250) { nodes { id manager { id } } pageInfo { hasNextPage endCursor } } }');
    expect(result.errors).toBeUndefined();
    const nodes = result.data!.users.nodes as UserNode[];
    expect(nodes.map((n) => n.id)).toEqual(order.slice(0, 250));
    for (const node of nodes) expect(node.manager?.id ?? null).toBe(managerOf(node.id));
    expect(result.data!.users.pageInfo.hasNextPage).toBe(true);
    expect(stats.graphRequests).toBe(capped ? 3 : 1);
    expect(stats.byRoute['GET /v1.0/users']).toBe(stats.graphRequests);
    // The managers came in the list requests, never one by one.
    expect(stats.batch.requests).toBe(0);
    expect(estimate).toBeGreaterThanOrEqual(stats.graphRequests);
    if (capped) expect(estimate).toBe(stats.graphRequests);
  });

  it('answers first: 999 in ten requests when Graph caps pages, one otherwise', async () => {
    const { result, stats, estimate } = await run('{ users(first: 999) { nodes { id manager { id } } } }');
    expect(result.errors).toBeUndefined();
    expect((result.data!.users.nodes as UserNode[]).map((n) => n.id)).toEqual(order.slice(0, 999));
    expect(stats.graphRequests).toBe(capped ? 10 : 1);
    expect(estimate).toBe(10);
  });

  it('walks all 1,000 users with first: 250, each exactly once; the end cursor of a page ends where the page ends', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    await emulator.resetStats();
    for (let pages = 0; pages < 10; pages += 1) {
      const result: GraphQLResult = await gw.graphql(
        'query Walk($after: String) { users(first: 250, after: $after) { nodes { id manager { id } } pageInfo { hasNextPage endCursor } } }',
        { after },
      );
      expect(result.errors).toBeUndefined();
      const nodes = result.data!.users.nodes as UserNode[];
      expect(nodes).toHaveLength(250);
      for (const node of nodes) expect(node.manager?.id ?? null).toBe(managerOf(node.id));
      seen.push(...nodes.map((n) => n.id));
      if (!result.data!.users.pageInfo.hasNextPage) break;
      after = result.data!.users.pageInfo.endCursor;
    }
    expect(seen).toEqual(order.concat([...emulator.tenant.users.keys()].filter((id) => !order.includes(id))).slice(0, 1000));
    expect(new Set(seen).size).toBe(1000);
    // Capped: 10 Graph pages of 100, and the two pages a Relay page ends inside are asked twice.
    expect((await emulator.stats()).graphRequests).toBe(capped ? 12 : 4);
  });

  it('gives every edge of a merged page a cursor that resumes right after it', async () => {
    const first = await gw.graphql('{ users(first: 250) { edges { cursor node { id manager { id } } } } }');
    expect(first.errors).toBeUndefined();
    const edges = first.data!.users.edges as Array<{ cursor: string; node: UserNode }>;
    for (const at of [0, 99, 100, 150, 199, 249]) {
      const next = await gw.graphql('query($a: String) { users(first: 120, after: $a) { nodes { id manager { id } } } }', { a: edges[at]!.cursor });
      expect(next.errors).toBeUndefined();
      expect((next.data!.users.nodes as UserNode[]).map((n) => n.id)).toEqual(order.slice(at + 1, at + 121));
    }
  });

  it('estimates a continued page with manager as an upper bound of its real cost', async () => {
    const start = await gw.graphql('{ users(first: 150) { nodes { id manager { id } } pageInfo { endCursor } } }');
    const after = start.data!.users.pageInfo.endCursor as string;
    const { result, stats, estimate } = await run('query($a: String) { users(first: 250, after: $a) { nodes { id manager { id } } } }', { a: after });
    expect(result.errors).toBeUndefined();
    expect((result.data!.users.nodes as UserNode[]).map((n) => n.id)).toEqual(order.slice(150, 400));
    expect(estimate).toBeGreaterThanOrEqual(stats.graphRequests);
  });
});
