import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/emulator/model.js';
import { startTestGateway, type GraphQLResult, type TestGateway } from '../support/gateway.js';

/**
 * A page's end cursor (and every edge's cursor) points after the right item whatever the operation
 * selects: nodes, edges, only pageInfo, aliases, fragments. A `users(first: 5)` that selects only
 * `pageInfo` used to ask Graph for one user and sign a cursor after item 1.
 */
let gw: TestGateway;
let users: UserRecord[];

beforeAll(async () => {
  gw = await startTestGateway();
  users = [...gw.emulator.tenant.users.values()];
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

/** Reads a string at a path of the answer's data. */
function at(result: GraphQLResult, path: string[]): string {
  expect(result.errors).toBeUndefined();
  let value: unknown = result.data;
  for (const key of path) value = (value as Record<string, unknown>)[key];
  return value as string;
}
const idsOf = (result: GraphQLResult, path: string[]): string[] => {
  expect(result.errors).toBeUndefined();
  let value: unknown = result.data;
  for (const key of path) value = (value as Record<string, unknown>)[key];
  return (value as Array<{ id: string }>).map((n) => n.id);
};

describe('users', () => {
  let order: string[];
  beforeAll(async () => {
    order = idsOf(await gw.graphql('{ users(first: 20) { nodes { id } } }'), ['users', 'nodes']);
  });

  const selections: Array<[string, string, string[]]> = [
    ['pageInfo only', '{ users(first: 5) { pageInfo { endCursor hasNextPage } } }', ['users', 'pageInfo', 'endCursor']],
    ['nodes and pageInfo', '{ users(first: 5) { nodes { id } pageInfo { endCursor } } }', ['users', 'pageInfo', 'endCursor']],
    ['aliases', '{ page: users(first: 5) { info: pageInfo { end: endCursor } } }', ['page', 'info', 'end']],
    ['a fragment', 'query { users(first: 5) { ...Page } } fragment Page on UserConnection { pageInfo { endCursor } }', ['users', 'pageInfo', 'endCursor']],
    ['an inline fragment', '{ users(first: 5) { ... on UserConnection { pageInfo { endCursor } } } }', ['users', 'pageInfo', 'endCursor']],
    ['totalCount and pageInfo', '{ users(first: 5) { totalCount pageInfo { endCursor } } }', ['users', 'pageInfo', 'endCursor']],
  ];
  for (const [name, query, path] of selections) {
    it(`the end cursor of first: 5 points after item 5 when the page selects ${name}`, async () => {
      const cursor = at(await gw.graphql(query), path);
      const next = await gw.graphql('query($a: String) { users(first: 5, after: $a) { nodes { id } } }', { a: cursor });
      expect(idsOf(next, ['users', 'nodes'])).toEqual(order.slice(5, 10));
    });
  }

  it('edges without nodes: five edges, the last cursor after item 5', async () => {
    const result = await gw.graphql('{ users(first: 5) { edges { cursor } pageInfo { hasNextPage } } }');
    expect(result.errors).toBeUndefined();
    const edges = result.data!.users.edges as Array<{ cursor: string }>;
    expect(edges).toHaveLength(5);
    const next = await gw.graphql('query($a: String) { users(first: 5, after: $a) { nodes { id } } }', { a: edges[4]!.cursor });
    expect(idsOf(next, ['users', 'nodes'])).toEqual(order.slice(5, 10));
    const fromSecond = await gw.graphql('query($a: String) { users(first: 2, after: $a) { nodes { id } } }', { a: edges[1]!.cursor });
    expect(idsOf(fromSecond, ['users', 'nodes'])).toEqual(order.slice(2, 4));
  });

  it('hasNextPage of a pageInfo-only page describes the page, not a page of one', async () => {
    const all = await gw.graphql('{ users(first: 999, filter: { department: "Legal" }) { nodes { id } } }');
    const count = idsOf(all, ['users', 'nodes']).length;
    expect(count).toBeGreaterThan(1);
    const whole = await gw.graphql(`{ users(first: ${count}, filter: { department: "Legal" }) { pageInfo { hasNextPage } } }`);
    expect(whole.data!.users.pageInfo.hasNextPage).toBe(false);
  });
});

describe('relationships', () => {
  async function continues(field: string, parentId: string, first: number, nodeFields = 'id') {
    const all = idsOf(await gw.graphql(`{ user(id: "${parentId}") { ${field}(first: 50) { nodes { ${nodeFields} } } } }`), ['user', field, 'nodes']);
    expect(all.length).toBeGreaterThan(first);
    for (const selection of [
      `pageInfo { endCursor }`,
      `edges { cursor }`,
      `... on ${field === 'directReports' ? 'User' : field === 'memberOf' ? 'Group' : 'Device'}Connection { pageInfo { endCursor } }`,
    ]) {
      const page = await gw.graphql(`{ user(id: "${parentId}") { rel: ${field}(first: ${first}) { ${selection} } } }`);
      expect(page.errors).toBeUndefined();
      const rel = page.data!.user.rel as { pageInfo?: { endCursor: string }; edges?: Array<{ cursor: string }> };
      const cursor = rel.pageInfo?.endCursor ?? rel.edges!.at(-1)!.cursor;
      if (rel.edges) expect(rel.edges).toHaveLength(first);
      const next = await gw.graphql(`query($a: String) { user(id: "${parentId}") { ${field}(first: ${first}, after: $a) { nodes { id } } } }`, { a: cursor });
      expect(idsOf(next, ['user', field, 'nodes']), selection).toEqual(all.slice(first, first * 2));
    }
  }

  it('directReports', async () => {
    const manager = users.find((u) => users.filter((r) => r.managerId === u.id).length >= 6)!;
    await continues('directReports', manager.id, 3);
  });

  it('memberOf', async () => {
    const member = users.find((u) => u.memberOf.length >= 4)!;
    await continues('memberOf', member.id, 2);
  });

  it('ownedDevices', async () => {
    const owner = users.find((u) => u.ownedDevices.length >= 3)!;
    await continues('ownedDevices', owner.id, 1);
  });
});
