import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/emulator/model.js';
import { startTestGateway, type GraphQLResult, type TestGateway } from '../support/gateway.js';

/**
 * Filters and searches Graph would refuse never reach it (docs/graph-facts.md#listing-users): past
 * 15 expressions a filter goes as an advanced query, values and URLs past Graph's limits are
 * refused with BAD_USER_INPUT naming the limit, and `$search` with `&` carries the documented
 * `Prefer: legacySearch=false`. The emulator refuses what Graph refuses, so an upstream 4xx here
 * would mean the gateway sent something Graph does not take.
 */
let gw: TestGateway;
let users: UserRecord[];

beforeAll(async () => {
  gw = await startTestGateway();
  users = [...gw.emulator.tenant.users.values()];
  await gw.graphql('{ users(first: 1) { nodes { id } } }');
}, 60_000);
afterAll(async () => {
  await gw?.close();
});
beforeEach(async () => {
  await gw.emulator.resetStats();
});

async function upstreamProblems(): Promise<number> {
  const stats = await gw.emulator.stats();
  return Object.entries(stats.byStatus).reduce((n, [status, count]) => n + (Number(status) >= 400 ? count : 0), 0);
}
const ids = (result: GraphQLResult) => (result.data?.users.nodes as Array<{ id: string }>).map((n) => n.id).sort();
const codeOf = (result: GraphQLResult) => result.errors?.[0]?.extensions?.code;

describe('lists in a filter', () => {
  it('15 ids go as a default query, with managers expanded in the same request', async () => {
    const picked = users.slice(0, 15);
    const result = await gw.graphql('query($ids: [ID!]) { users(first: 50, filter: { ids: $ids }) { nodes { id manager { id } } } }', {
      ids: picked.map((u) => u.id),
    });
    expect(result.errors).toBeUndefined();
    expect(ids(result)).toEqual(picked.map((u) => u.id).sort());
    const stats = await gw.emulator.stats();
    expect(stats.graphRequests).toBe(1);
    expect(gw.logRecords('graph query plan').at(-1)!.graphPlan.advanced).toBe(false);
  });

  it('40 ids go as one advanced query (Graph lifts the 15-expression limit there) and answer exactly those users', async () => {
    const picked = users.slice(100, 140);
    const result = await gw.graphql('query($ids: [ID!]) { users(first: 100, filter: { ids: $ids }) { nodes { id displayName } } }', {
      ids: picked.map((u) => u.id),
    });
    expect(result.errors).toBeUndefined();
    expect(ids(result)).toEqual(picked.map((u) => u.id).sort());
    expect(await upstreamProblems()).toBe(0);
    expect((await gw.emulator.stats()).graphRequests).toBe(1);
    expect(gw.logRecords('graph query plan').at(-1)!.graphPlan.advanced).toBe(true);
  });

  it('several lists in one filter count together: 8 ids OR 8 departments is 16 expressions, an advanced query', async () => {
    const picked = users.slice(200, 208);
    const departments = [...new Set(users.map((u) => u.department).filter((d): d is string => !!d))].slice(0, 8);
    const result = await gw.graphql(
      'query($ids: [ID!], $d: [String!]) { users(first: 999, filter: { or: [{ ids: $ids }, { departmentIn: $d }] }) { nodes { id } } }',
      { ids: picked.map((u) => u.id), d: departments },
    );
    expect(result.errors).toBeUndefined();
    const expected = users.filter((u) => picked.includes(u) || departments.includes(u.department ?? '')).map((u) => u.id);
    expect(ids(result)).toEqual(expected.slice(0, 999).sort());
    expect(await upstreamProblems()).toBe(0);
    expect(gw.logRecords('graph query plan').at(-1)!.graphPlan.advanced).toBe(true);
  });

  it('a list too long for Graph’s 2,048-character URL is refused before any upstream call, pointing to user(id:) lookups', async () => {
    const result = await gw.graphql('query($ids: [ID!]) { a: user(id: "' + users[0]!.id + '") { id } users(filter: { ids: $ids }) { nodes { id } } }', {
      ids: users.slice(0, 60).map((u) => u.id),
    });
    expect(result.status).toBe(400);
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toMatch(/2048/);
    expect(result.errors![0]!.message).toMatch(/user\(id:\)/);
    expect(result.errors![0]!.extensions).toMatchObject({ limit: 'graphUrlLength', max: 2048 });
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });
});

describe('sizes of filter and search values', () => {
  it('a filter value past 120 characters is refused naming the limit, nothing upstream', async () => {
    const result = await gw.graphql('query($v: String) { users(filter: { jobTitle: $v }) { nodes { id } } }', { v: 'x'.repeat(121) });
    expect(result.status).toBe(400);
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toMatch(/at most 120 characters/);
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });

  it('a 900 KB filter value or search term is refused before anything is sent', async () => {
    const huge = 'a'.repeat(900_000);
    for (const query of [
      'query($v: String) { users(filter: { department: $v }) { nodes { id } } }',
      'query($v: String) { users(filter: { or: [{ department: "x" }, { displayNameStartsWith: $v }] }) { nodes { id } } }',
      'query($v: String) { users(search: { text: $v }) { nodes { id } } }',
    ]) {
      const result = await gw.graphql(query, { v: huge });
      expect(codeOf(result), query).toBe('BAD_USER_INPUT');
    }
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });

  it('a filter with more than 32 conditions is refused naming the limit', async () => {
    const or = Array.from({ length: 33 }, (_, i) => `{ jobTitle: "t${i}" }`).join(' ');
    const result = await gw.graphql(`{ users(filter: { or: [${or}] }) { nodes { id } } }`);
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toMatch(/more than 32 conditions/);
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });

  it('search terms that together pass the URL limit are refused, nothing upstream', async () => {
    const term = 'ü'.repeat(200); // 6 characters each once percent-encoded, three times in `text`
    const result = await gw.graphql('query($t: String) { users(search: { text: $t, displayName: $t }) { nodes { id } } }', { t: term });
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toMatch(/2048/);
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });
});

describe('$search with an ampersand', () => {
  it('finds “Hiking&Recreation” on v1.0 (Prefer: legacySearch=false), on the first page and the next', async () => {
    const template = users[0]!;
    const added = ['Hiking&Recreation Team', 'Hiking&Recreation Board', 'Hiking&Recreation Club'].map((displayName, i) => ({
      ...template,
      id: `00000000-0000-4000-8000-00000000000${i}`,
      displayName,
      userPrincipalName: `hiking${i}@${gw.emulator.tenant.domain}`,
      memberOf: [],
      ownedDevices: [],
    }));
    for (const user of added) gw.emulator.tenant.users.set(user.id, user);
    try {
      const first = await gw.graphql('{ users(first: 2, search: { displayName: "Hiking&Recreation" }) { nodes { displayName } pageInfo { endCursor } } }');
      expect(first.errors).toBeUndefined();
      expect(first.data!.users.nodes).toHaveLength(2);
      const next = await gw.graphql(
        'query($a: String) { users(first: 2, after: $a, search: { displayName: "Hiking&Recreation" }) { nodes { displayName } } }',
        {
          a: first.data!.users.pageInfo.endCursor,
        },
      );
      expect(next.errors).toBeUndefined();
      const names = [...first.data!.users.nodes, ...next.data!.users.nodes].map((n: { displayName: string }) => n.displayName).sort();
      expect(names).toEqual(added.map((u) => u.displayName).sort());
      expect(await upstreamProblems()).toBe(0);
    } finally {
      for (const user of added) gw.emulator.tenant.users.delete(user.id);
    }
  });
});
