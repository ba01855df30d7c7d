import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/emulator/model.js';
import { startTestGateway, type GraphQLResult, type TestGateway } from '../support/gateway.js';
import { recordingUpstream } from '../support/recording-upstream.js';

/** What a query costs Graph, counted by the emulator over real sockets. */
let gw: TestGateway;
let users: UserRecord[];

/** Every URL the gateway requested upstream, in order (cursors are encrypted: the wire is where a query shows). */
const requested: URL[] = [];

/** The last `GET /v1.0/users` list request the gateway sent to Graph. */
function lastUsersListRequest(): URL {
  const url = requested.findLast((u) => u.pathname.endsWith('/v1.0/users'));
  if (!url) throw new Error('the gateway sent no GET /v1.0/users');
  return url;
}

beforeAll(async () => {
  gw = await startTestGateway({
    upstream: recordingUpstream((url) => requested.push(new URL(url))),
  });
  users = [...gw.emulator.tenant.users.values()];
  // Warm the Graph token so token requests do not blur the counts below.
  await gw.graphql('{ users(first: 1) { nodes { id } } }');
});
afterAll(async () => {
  await gw?.close();
});
beforeEach(async () => {
  await gw.emulator.resetStats();
});

describe('upstream cost', () => {
  it('answers 50 aliased user(id:) lookups by GUID with their managers in at most 3 upstream requests', async () => {
    const chosen = users.slice(0, 50);
    const query = `{ ${chosen.map((u, i) => `u${i}: user(id: "${u.id}") { id displayName manager { displayName } }`).join('\n')} }`;
    const result = await gw.graphql(query);
    expect(result.errors).toBeUndefined();
    chosen.forEach((u, i) => {
      const got = result.data![`u${i}`];
      expect(got.id).toBe(u.id);
      expect(got.displayName).toBe(u.displayName);
      const manager = u.managerId ? gw.emulator.tenant.users.get(u.managerId) : undefined;
      expect(got.manager?.displayName ?? null).toBe(manager?.displayName ?? null);
    });
    expect(chosen.filter((u) => u.managerId !== null).length).toBeGreaterThan(10);
    const stats = await gw.emulator.stats();
    expect(stats.graphRequests).toBeLessThanOrEqual(3);
  });

  it('sends identical lookups upstream once', async () => {
    const target = users[7]!;
    const query = `{ a: user(id: "${target.id}") { displayName } b: user(id: "${target.id}") { displayName } c: user(id: "${target.id}") { displayName } }`;
    const result = await gw.graphql(query);
    expect(result.data).toEqual({ a: { displayName: target.displayName }, b: { displayName: target.displayName }, c: { displayName: target.displayName } });
    const stats = await gw.emulator.stats();
    expect(stats.graphRequests).toBe(1);
    expect(stats.batch.items).toBeLessThanOrEqual(1);
  });

  it('lists 100 users with their managers in exactly one upstream request ($expand=manager)', async () => {
    const result = await gw.graphql('{ users(first: 100) { nodes { id displayName manager { displayName } } } }');
    expect(result.errors).toBeUndefined();
    const nodes = result.data!.users.nodes as Array<{ id: string; displayName: string; manager: { displayName: string } | null }>;
    expect(nodes).toHaveLength(100);
    for (const node of nodes) {
      const record = gw.emulator.tenant.users.get(node.id)!;
      const manager = record.managerId ? gw.emulator.tenant.users.get(record.managerId) : undefined;
      expect(node.manager?.displayName ?? null).toBe(manager?.displayName ?? null);
    }
    expect(nodes.some((n) => n.manager !== null)).toBe(true);
    const stats = await gw.emulator.stats();
    expect(stats.graphRequests).toBe(1);
    expect(stats.byRoute['GET /v1.0/users']).toBe(1);
  });

  it('asks Graph only for the selected properties: displayName alone sends $select=id,displayName', async () => {
    const before = gw.logRecords('graph query plan').length;
    const result = await gw.graphql('{ users(first: 5) { nodes { displayName } pageInfo { endCursor } } }');
    expect(result.errors).toBeUndefined();
    const plans = gw.logRecords('graph query plan').slice(before);
    expect(plans.at(-1)?.graphPlan.select).toEqual(['id', 'displayName']);
    // The request the gateway sent: the proof of what went over the wire.
    const sent = lastUsersListRequest();
    expect(sent.searchParams.get('$select')).toBe('id,displayName');
    expect(sent.searchParams.get('$top')).toBe('5');
    expect((await gw.emulator.stats()).graphRequests).toBe(1);
  });

  it('follows fragments, inline fragments and aliases into $select', async () => {
    const query = `
      query { users(first: 2) { edges { node { ...Card ... on User { title: jobTitle } } } pageInfo { endCursor } } }
      fragment Card on User { name: displayName mail @include(if: true) department @skip(if: true) }`;
    const result = await gw.graphql(query);
    expect(result.errors).toBeUndefined();
    expect(lastUsersListRequest().searchParams.get('$select')!.split(',').sort()).toEqual(['displayName', 'id', 'jobTitle', 'mail']);
  });

  it('walks all 1,000 users with first: 250, each exactly once, one request per page', async () => {
    const seen = new Map<string, number>();
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const result: GraphQLResult = await gw.graphql(
        'query Walk($after: String) { users(first: 250, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }',
        { after },
      );
      expect(result.errors).toBeUndefined();
      pages += 1;
      for (const node of result.data!.users.nodes) seen.set(node.id, (seen.get(node.id) ?? 0) + 1);
      if (!result.data!.users.pageInfo.hasNextPage) break;
      after = result.data!.users.pageInfo.endCursor;
      expect(pages).toBeLessThan(10);
    }
    expect(seen.size).toBe(gw.emulator.tenant.users.size);
    expect(seen.size).toBe(1000);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(pages).toBe(4);
    expect((await gw.emulator.stats()).graphRequests).toBe(4);
  });

  it('asks for totalCount only when it is selected, as an advanced query', async () => {
    await gw.graphql('{ users(first: 3) { nodes { id } } }');
    const withoutCount = gw.logRecords('graph query plan').at(-1)!.graphPlan;
    expect(withoutCount).toMatchObject({ count: false, advanced: false });
    const counted = await gw.graphql('{ users(first: 3) { totalCount } }');
    expect(counted.data!.users.totalCount).toBe(1000);
    expect(gw.logRecords('graph query plan').at(-1)!.graphPlan).toMatchObject({ count: true, advanced: true, select: ['id'] });
  });

  it('fetches direct reports of many managers through $batch', async () => {
    const managers = users.filter((u) => users.some((r) => r.managerId === u.id)).slice(0, 15);
    const query = `{ ${managers.map((m, i) => `m${i}: user(id: "${m.id}") { directReports(first: 50) { nodes { id } } }`).join('\n')} }`;
    const result = await gw.graphql(query);
    expect(result.errors).toBeUndefined();
    managers.forEach((m, i) => {
      const expected = users
        .filter((r) => r.managerId === m.id)
        .map((r) => r.id)
        .sort();
      const got = (result.data![`m${i}`].directReports.nodes as Array<{ id: string }>).map((n) => n.id).sort();
      expect(got).toEqual(expected.slice(0, 50));
    });
    // 15 user lookups + 15 report pages: a couple of batched round trips, not 30 requests.
    expect((await gw.emulator.stats()).graphRequests).toBeLessThanOrEqual(4);
  });
});
