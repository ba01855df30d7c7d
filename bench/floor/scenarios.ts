/**
 * The floor: hand-written optimal REST calls for each scenario's data, the fewest requests and round
 * trips Graph allows with its documented features (docs/graph-facts.md#json-batching, #listing-users, #manager-and-bulk-lookup):
 * `$select` for only what is shown, `$expand` for one relationship in the same request, `$batch` of
 * at most 20 independent requests, and every independent request sent in the same round trip.
 *
 * Not used, on purpose: `$filter=id in (...)` to fold lookups into list requests (Graph limits `in`
 * to a small, inconsistently documented number of values for directory objects, and a gateway cannot
 * rely on it); fewer requests would need it.
 */
import type { BenchFixtures } from '../lib/fixtures.js';
import { BATCH_LIMIT, batchAll, type BatchItem, type FloorClient } from './client.js';

const enc = encodeURIComponent;

/** Per operation: Graph requests (a `$batch` counts once) and sequential round trips. */
export interface GraphCost {
  requests: number;
  roundTrips: number;
}

function expectCount(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`floor: ${what}: expected ${expected}, got ${actual}`);
}

/**
 * Scenario 1, directory page. Minimum 1 request, 1 round trip:
 * `GET /users?$top=100&$select=id,displayName,mail&$expand=manager($select=id,displayName)`.
 */
export const directoryPageCost: GraphCost = { requests: 1, roundTrips: 1 };
export async function directoryPage(client: FloorClient): Promise<void> {
  const page = (await client.get('/users?$top=100&$select=id,displayName,mail&$expand=manager($select=id,displayName)')) as { value: unknown[] };
  expectCount('users on the directory page', page.value.length, 100);
}

/**
 * Scenario 2, 50 profile cards (user, manager, first 5 direct reports). Each card needs two
 * independent requests, `GET /users/{id}?$select=...&$expand=manager($select=id,displayName)` and
 * `GET /users/{id}/directReports?$top=5&$select=id,displayName` ($expand takes one relationship), so
 * 100 requests in `$batch`es of 20: minimum 5 requests, 1 round trip (all batches sent together).
 */
export function profileCardsCost(fixtures: BenchFixtures): GraphCost {
  return { requests: Math.ceil((fixtures.cardUserIds.length * 2) / BATCH_LIMIT), roundTrips: 1 };
}
export async function profileCards(client: FloorClient, fixtures: BenchFixtures): Promise<void> {
  const items: BatchItem[] = fixtures.cardUserIds.flatMap((id): BatchItem[] => [
    { method: 'GET', url: `/users/${enc(id)}?$select=id,displayName,mail,jobTitle&$expand=manager($select=id,displayName)` },
    { method: 'GET', url: `/users/${enc(id)}/directReports?$top=5&$select=id,displayName` },
  ]);
  const answers = await batchAll(client, items);
  expectCount('profile card answers', answers.length, fixtures.cardUserIds.length * 2);
}

/** Scenario 3, single lookup. Minimum 1 request, 1 round trip: `GET /users/{id}?$select=id,displayName,mail`. */
export const singleLookupCost: GraphCost = { requests: 1, roundTrips: 1 };
export async function singleLookup(client: FloorClient, fixtures: BenchFixtures, i: number): Promise<void> {
  const id = fixtures.lookupUserIds[i % fixtures.lookupUserIds.length]!;
  const user = (await client.get(`/users/${enc(id)}?$select=id,displayName,mail`)) as { id: string };
  if (user.id !== id) throw new Error('floor: single lookup returned another user');
}

/**
 * Scenario 4, org chart (root, its reports, their reports). Level 2 needs level 1's ids and level 3
 * needs level 2's, so 2 round trips at least: first one `$batch` holding the root
 * (`GET /users/{id}?$select=id,displayName`) and its reports (`GET /users/{id}/directReports?$top=20
 * &$select=id,displayName`) — one request; then every report's reports in `$batch`es of 20. Minimum
 * 1 + ceil(k/20) requests for k reports, 2 round trips.
 */
export function orgChartCost(fixtures: BenchFixtures): GraphCost {
  return { requests: 1 + Math.ceil(fixtures.orgChartReportIds.length / BATCH_LIMIT), roundTrips: 2 };
}
export async function orgChart(client: FloorClient, fixtures: BenchFixtures): Promise<void> {
  const root = fixtures.orgChartRootId;
  const [, reportsAnswer] = await client.batch([
    { method: 'GET', url: `/users/${enc(root)}?$select=id,displayName` },
    { method: 'GET', url: `/users/${enc(root)}/directReports?$top=20&$select=id,displayName` },
  ]);
  const reports = (reportsAnswer!.body as { value: Array<{ id: string }> }).value;
  expectCount('org chart reports', reports.length, fixtures.orgChartReportIds.length);
  await batchAll(
    client,
    reports.map((r) => ({ method: 'GET', url: `/users/${enc(r.id)}/directReports?$top=20&$select=id,displayName` })),
  );
}

/**
 * Scenario 5, containment: one `terminateSession` (disable the account, revoke sign-in sessions).
 * The two writes are independent: one `$batch` of `PATCH /users/{id}` and
 * `POST /users/{id}/revokeSignInSessions`. Minimum per operation 1 request, 1 round trip.
 */
export const containmentCost: GraphCost = { requests: 1, roundTrips: 1 };
export async function containment(client: FloorClient, fixtures: BenchFixtures, i: number): Promise<void> {
  const id = fixtures.containmentUserIds[i % fixtures.containmentUserIds.length]!;
  await client.batch([
    { method: 'PATCH', url: `/users/${enc(id)}`, body: { accountEnabled: false } },
    { method: 'POST', url: `/users/${enc(id)}/revokeSignInSessions` },
  ]);
}
