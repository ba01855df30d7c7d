/**
 * The List directReports page names no `$top` among its query parameters, and Graph's paging page says
 * an API may ignore a page size it does not take (docs/graph-facts.md#listing-users, "Page size out of
 * range"). The gateway sends `$top=first`; under the emulator's `directReportsTop: 'ignored'` switch
 * every page of direct reports comes back at Graph's default size of 100 instead. Walking a user's
 * direct reports with a small `first` must then give the same users, in the same order, for the same
 * number of upstream requests as when `$top` is honoured.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/emulator/model.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type GraphQLResult, type TestGateway } from '../support/gateway.js';

let emulator: TestEmulator;
let gateway: TestGateway;
let manager: UserRecord;
let reports: string[];

beforeAll(async () => {
  emulator = await startTestEmulator({ seed: 11, userCount: 300 });
  gateway = await startTestGateway({ emulator, env: { LOG_LEVEL: 'warn' } });
  const users = [...emulator.tenant.users.values()];
  manager = users.find((u) => users.filter((r) => r.managerId === u.id).length >= 5)!;
  reports = users.filter((r) => r.managerId === manager.id).map((r) => r.id);
  await gateway.graphql('{ users(first: 1) { nodes { id } } }');
});

afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

const PAGE = `query($id: ID!, $after: String) {
  user(id: $id) { directReports(first: 2, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }
}`;

/** Every direct report of `manager`, two a page, with the Graph requests each page cost. */
async function walk(): Promise<{ ids: string[]; requestsPerPage: number[] }> {
  const ids: string[] = [];
  const requestsPerPage: number[] = [];
  let after: string | null = null;
  for (let page = 0; page < 50; page += 1) {
    const before = (await emulator.stats()).graphRequests;
    const result: GraphQLResult = await gateway.graphql(PAGE, { id: manager.id, after });
    requestsPerPage.push((await emulator.stats()).graphRequests - before);
    expect(result.errors).toBeUndefined();
    const connection: { nodes: Array<{ id: string }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = result.data!.user.directReports;
    ids.push(...connection.nodes.map((n) => n.id));
    if (!connection.pageInfo.hasNextPage) return { ids, requestsPerPage };
    after = connection.pageInfo.endCursor;
  }
  throw new Error('more than 50 pages of direct reports');
}

const setDirectReportsTop = async (value: 'honoured' | 'ignored') => {
  const res = await emulator.setGraph({ directReportsTop: value });
  expect(res.status).toBe(200);
};

describe('direct reports when Graph ignores $top', () => {
  it('gives the same users in the same order for the same upstream requests as when $top is honoured', async () => {
    await setDirectReportsTop('honoured');
    const honoured = await walk();
    expect([...honoured.ids].sort()).toEqual([...reports].sort());
    expect(new Set(honoured.ids).size).toBe(honoured.ids.length);

    await setDirectReportsTop('ignored');
    try {
      const ignored = await walk();
      expect(ignored.ids).toEqual(honoured.ids);
      expect(ignored.requestsPerPage).toEqual(honoured.requestsPerPage);
      expect(ignored.requestsPerPage.length).toBe(Math.ceil(reports.length / 2));
    } finally {
      await setDirectReportsTop('honoured');
    }
  });
});
