import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StatsSnapshot } from '../../src/emulator/stats.js';
import { startTestGateway, type GraphQLResult, type TestGateway } from '../support/gateway.js';

/**
 * One user's relationship read failing upstream (its `$batch` item refused, throttled past its
 * retries, or malformed) nulls only that user's field, with the error at exactly that path; the
 * rest of the page arrives, and the gateway sends Graph nothing it would not have sent anyway
 * (docs/querying.md#partial-answers). Faults come from the emulator's targeted fault rules
 * (`POST /_emulator/faults/rules`), over real sockets.
 */
let gw: TestGateway;

const PAGE = 30;
/** The user whose item fails: in the middle of the first `$batch` POST of 20. */
const VICTIM = 7;

beforeAll(async () => {
  gw = await startTestGateway();
  // Warm the Graph token so token requests do not blur the counts below.
  await gw.graphql('{ users(first: 1) { nodes { id } } }');
}, 60_000);
afterAll(async () => {
  await gw?.close();
});
beforeEach(async () => {
  await gw.emulator.setFaultRules([]);
  await gw.emulator.resetStats();
});

interface Counts {
  graphRequests: number;
  batchItems: number;
  itemsByRoute: Record<string, number>;
}
const counts = (stats: StatsSnapshot): Counts => ({
  graphRequests: stats.graphRequests,
  batchItems: stats.batch.items,
  itemsByRoute: stats.batch.itemsByRoute,
});

/** Runs `query` without faults and then with `rule` aimed at the victim, returning both answers and both counts. */
async function withAndWithout(query: string, rule: (victimId: string) => Record<string, unknown>) {
  const clean = await gw.graphql(query);
  expect(clean.errors).toBeUndefined();
  const cleanCounts = counts(await gw.emulator.stats());
  const victimId = (clean.data!.users.nodes as Array<{ id: string }>)[VICTIM]!.id;
  await gw.emulator.resetStats();
  await gw.emulator.setFaultRules([rule(victimId)]);
  const faulted = await gw.graphql(query);
  const faultedCounts = counts(await gw.emulator.stats());
  return { clean, cleanCounts, faulted, faultedCounts, victimId };
}

/** Every user but the victim is exactly as in the clean answer; the victim only lost `field`. */
function expectOnlyVictimLost(clean: GraphQLResult, faulted: GraphQLResult, field: string) {
  expect(faulted.status).toBe(200);
  const before = clean.data!.users.nodes as Array<Record<string, unknown>>;
  const after = faulted.data?.users?.nodes as Array<Record<string, unknown>> | undefined;
  expect(after, `the page was lost: ${JSON.stringify(faulted.data)} ${JSON.stringify(faulted.errors)}`).toHaveLength(PAGE);
  after!.forEach((node, i) => {
    if (i === VICTIM) expect(node).toEqual({ ...before[i], [field]: null });
    else expect(node).toEqual(before[i]);
  });
  expect(faulted.errors).toHaveLength(1);
  expect(faulted.errors![0]!.path).toEqual(['users', 'nodes', VICTIM, field]);
  return faulted.errors![0]!;
}

describe("one user's relationship failing upstream nulls that user's field only", () => {
  it('directReports refused (403) for one user: FORBIDDEN at that path, the page intact, no extra request', async () => {
    const query = `{ users(first: ${PAGE}) { nodes { id displayName directReports(first: 5) { nodes { id } } } } }`;
    const { clean, cleanCounts, faulted, faultedCounts } = await withAndWithout(query, (id) => ({ path: `/users/${id}/directReports`, answer: 403 }));
    const error = expectOnlyVictimLost(clean, faulted, 'directReports');
    expect(error.extensions).toMatchObject({ code: 'FORBIDDEN', graphErrorCode: 'Authorization_RequestDenied' });
    expect(error.extensions!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    // "No reports" stays an empty page, told apart from "could not read them" (null with an error).
    const withoutReports = (faulted.data!.users.nodes as Array<{ directReports: { nodes: unknown[] } | null }>).filter(
      (node, i) => i !== VICTIM && node.directReports!.nodes.length === 0,
    );
    expect(withoutReports.length).toBeGreaterThan(0);
    // 1 list + ceil(30 / 20) = 2 $batch POSTs either way: the failure is not retried or read again.
    expect(cleanCounts.graphRequests).toBe(3);
    expect(faultedCounts).toEqual(cleanCounts);
  });

  it('directReports under edges: the error is at edges.N.node.directReports', async () => {
    const query = `{ users(first: ${PAGE}) { edges { cursor node { id directReports(first: 5) { nodes { id } } } } } }`;
    const clean = await gw.graphql(query);
    expect(clean.errors).toBeUndefined();
    const edges = clean.data!.users.edges as Array<{ cursor: string; node: { id: string } }>;
    await gw.emulator.setFaultRules([{ path: `/users/${edges[VICTIM]!.node.id}/directReports`, answer: 403 }]);
    const faulted = await gw.graphql(query);
    const after = faulted.data?.users?.edges as typeof edges | undefined;
    expect(after).toHaveLength(PAGE);
    expect(after![VICTIM]!.node).toEqual({ id: edges[VICTIM]!.node.id, directReports: null });
    expect(faulted.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['users', 'edges', VICTIM, 'node', 'directReports'], 'FORBIDDEN']]);
  });

  it('memberOf of a user Graph no longer finds (404): NOT_FOUND at that path, the page intact, no extra request', async () => {
    const query = `{ users(first: ${PAGE}) { nodes { id memberOf(first: 5) { nodes { id displayName } } } } }`;
    const { clean, cleanCounts, faulted, faultedCounts } = await withAndWithout(query, (id) => ({ path: `/users/${id}/memberOf`, answer: 404 }));
    const error = expectOnlyVictimLost(clean, faulted, 'memberOf');
    expect(error.extensions).toMatchObject({ code: 'NOT_FOUND', graphErrorCode: 'Request_ResourceNotFound' });
    expect(error.extensions!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(faultedCounts).toEqual(cleanCounts);
  });

  it('ownedDevices answered with a malformed body: UPSTREAM_ERROR at that path, the page intact, no extra request', async () => {
    const query = `{ users(first: ${PAGE}) { nodes { id ownedDevices(first: 5) { nodes { id displayName } } } } }`;
    const { clean, cleanCounts, faulted, faultedCounts } = await withAndWithout(query, (id) => ({ path: `/users/${id}/ownedDevices`, answer: 'malformed' }));
    const error = expectOnlyVictimLost(clean, faulted, 'ownedDevices');
    expect(error.extensions?.code).toBe('UPSTREAM_ERROR');
    // The item carries no request-id of its own: the $batch envelope's is given.
    expect(error.extensions!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(faultedCounts).toEqual(cleanCounts);
  });

  it('authenticationMethods throttled (429) past its retries: THROTTLED at that path, the page intact, only the retries sent', async () => {
    const query = `{ users(first: ${PAGE}) { nodes { id authenticationMethods { id type } } } }`;
    const { clean, cleanCounts, faulted, faultedCounts, victimId } = await withAndWithout(query, (id) => ({
      path: `/users/${id}/authentication/methods`,
      answer: 429,
    }));
    const error = expectOnlyVictimLost(clean, faulted, 'authenticationMethods');
    expect(error.extensions).toMatchObject({ code: 'THROTTLED', retryAfterSeconds: 1 });
    expect(error.extensions!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    // MAX_RETRIES (3) resends of that one item, each alone in a new $batch; nothing else again.
    // The item alone, in new $batch POSTs, and nothing else again: first after a round in which the
    // other 29 were answered (progress, not a failed attempt: src/graph/batch.ts), then MAX_RETRIES (3)
    // more, all refused.
    const retries = gw.config.limits.maxRetries;
    expect(retries).toBe(3);
    expect(faultedCounts.graphRequests).toBe(cleanCounts.graphRequests + 1 + retries);
    expect(faultedCounts.batchItems).toBe(cleanCounts.batchItems + 1 + retries);
    const rules = (await (await gw.emulator.fetch('/_emulator/faults/rules')).json()) as { rules: Array<{ path: string }> };
    expect(rules.rules.map((r) => r.path)).toEqual([`/users/${victimId}/authentication/methods`]);
  }, 60_000);

  it("a report's memberOf failing under user(id:) { directReports }: only that report's memberOf is null", async () => {
    const all = [...gw.emulator.tenant.users.values()];
    const boss = all.find((u) => all.filter((r) => r.managerId === u.id).length >= 3)!;
    const query = `query Team($id: ID!) { user(id: $id) { id displayName directReports(first: 10) { nodes { id memberOf(first: 3) { nodes { id } } } } } }`;
    const clean = await gw.graphql(query, { id: boss.id });
    expect(clean.errors).toBeUndefined();
    const reports = clean.data!.user.directReports.nodes as Array<{ id: string; memberOf: unknown }>;
    await gw.emulator.setFaultRules([{ path: `/users/${reports[1]!.id}/memberOf`, answer: 403 }]);
    const faulted = await gw.graphql(query, { id: boss.id });
    expect(faulted.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['user', 'directReports', 'nodes', 1, 'memberOf'], 'FORBIDDEN']]);
    expect(faulted.data).toEqual({
      user: { ...clean.data!.user, directReports: { nodes: reports.map((r, i) => (i === 1 ? { ...r, memberOf: null } : r)) } },
    });
  });

  it('under _entities (FEDERATION=true): the reference keeps its other fields, its neighbour is whole', async () => {
    const subgraph = await startTestGateway({ emulator: gw.emulator, env: { FEDERATION: 'true' } });
    try {
      const [a, b] = [...gw.emulator.tenant.users.values()];
      const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id displayName ownedDevices(first: 3) { nodes { id } } } } }';
      const variables = { r: [a!, b!].map((u) => ({ __typename: 'User', id: u.id })) };
      const clean = await subgraph.graphql(query, variables);
      expect(clean.errors).toBeUndefined();
      await gw.emulator.setFaultRules([{ path: `/users/${a!.id}/ownedDevices`, answer: 503 }]);
      const faulted = await subgraph.graphql(query, variables);
      expect(faulted.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['_entities', 0, 'ownedDevices'], 'UPSTREAM_UNAVAILABLE']]);
      const entities = clean.data!._entities as Array<Record<string, unknown>>;
      expect(faulted.data).toEqual({ _entities: [{ ...entities[0], ownedDevices: null }, entities[1]] });
    } finally {
      await subgraph.close();
    }
  }, 60_000);

  it('authenticationMethods unavailable (503) once, then answered: the retry heals it, no error', async () => {
    const query = `{ users(first: ${PAGE}) { nodes { id authenticationMethods { id type } } } }`;
    const { clean, cleanCounts, faulted, faultedCounts } = await withAndWithout(query, (id) => ({
      path: `/users/${id}/authentication/methods`,
      answer: 503,
      times: 1,
    }));
    expect(faulted.errors).toBeUndefined();
    expect(faulted.data).toEqual(clean.data);
    expect(faultedCounts.graphRequests).toBe(cleanCounts.graphRequests + 1);
  }, 60_000);
});

describe('a root list failing upstream nulls that root field only', () => {
  it('users refused (403): an error at users, users null, an aliased user(id:) and userChanges of the same operation answered', async () => {
    const someone = [...gw.emulator.tenant.users.values()][3]!;
    const query = `query($id: ID!) { someone: user(id: $id) { id displayName } users(first: 5) { nodes { id } } userChanges { kind } }`;
    const clean = await gw.graphql(query, { id: someone.id });
    expect(clean.errors).toBeUndefined();
    await gw.emulator.setFaultRules([{ path: '/users', answer: 403 }]);
    const faulted = await gw.graphql(query, { id: someone.id });
    expect(faulted.status).toBe(200);
    expect(faulted.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['users'], 'FORBIDDEN']]);
    // Before, `users: UserConnection!` carried the null to `data`: the lookup and the feed were lost with it.
    expect(faulted.data).toEqual({ ...clean.data, users: null });
    expect(faulted.data!.someone).toEqual({ id: someone.id, displayName: someone.displayName });
  }, 60_000);

  it('userChanges unavailable past the retries: an error at userChanges, userChanges null, users answered', async () => {
    const query = `{ users(first: 5) { nodes { id } } userChanges { kind } }`;
    const clean = await gw.graphql(query);
    expect(clean.errors).toBeUndefined();
    await gw.emulator.setFaultRules([{ path: '/users/delta', answer: 500 }]);
    const faulted = await gw.graphql(query);
    expect(faulted.status).toBe(200);
    expect(faulted.errors?.map((e) => e.path)).toEqual([['userChanges']]);
    expect(faulted.data).toEqual({ users: clean.data!.users, userChanges: null });
  }, 60_000);
});
