/**
 * The benchmark's scenarios as GraphQL Mesh's OData source can ask them (docs/benchmark.md#graphql-mesh).
 * Its schema is generated from the emulator's $metadata: `usersByid(id:)`, `users(queryOptions:)`,
 * and on a user `manager` / `directReports` typed as directoryObject (as Graph types them), whose
 * profile is read through the config's `asUser` field (bench/mesh/.meshrc.yml).
 */
import type { BenchFixtures } from '../lib/fixtures.js';
import type { GraphqlOperation } from '../scenarios.js';

export interface MeshError {
  message?: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string };
}

export interface MeshOperation {
  graphql(fixtures: BenchFixtures, i: number): GraphqlOperation;
  check(data: Record<string, unknown>, fixtures: BenchFixtures, i: number): void;
}

function fail(message: string): never {
  throw new Error(message);
}

/**
 * Graph answers a user without a manager with 404 `Request_ResourceNotFound` on `/manager`
 * (docs/graph-facts.md#manager-and-bulk-lookup); Mesh's OData source passes that on as a GraphQL
 * error on the `manager` field with a null value, where the others answer `manager: null`. That one
 * error is the same answer; any other error fails the operation.
 */
export function isNoManagerError(error: MeshError): boolean {
  return error.path?.at(-1) === 'manager' && error.extensions?.code === 'Request_ResourceNotFound';
}

const CARD = 'id displayName mail jobTitle manager { asUser { id displayName } } directReports(queryOptions: { top: 5 }) { asUser { id displayName } }';

/** Scenario number → the Mesh operation; scenario 5 has none (see `MESH_UNSUPPORTED`). */
export const MESH_OPERATIONS: Partial<Record<number, MeshOperation>> = {
  1: {
    graphql: () => ({ query: 'query DirectoryPage { users(queryOptions: { top: 100 }) { id displayName mail manager { asUser { id displayName } } } }' }),
    check: (data) => {
      const users = data.users as unknown[] | null | undefined;
      if (users?.length !== 100) fail(`directory page: expected 100 users, got ${users?.length ?? 'none'}`);
    },
  },
  2: {
    graphql: (fx) => ({
      query: `query ProfileCards { ${fx.cardUserIds.map((id, n) => `u${n}: usersByid(id: ${JSON.stringify(id)}) { ...Card }`).join(' ')} }\nfragment Card on user { ${CARD} }`,
    }),
    check: (data, fx) => {
      fx.cardUserIds.forEach((id, n) => {
        if ((data[`u${n}`] as { id?: string } | null)?.id !== id) fail(`profile cards: card u${n} is not user ${id}`);
      });
    },
  },
  3: {
    graphql: (fx, i) => ({
      query: 'query SingleLookup($id: String!) { usersByid(id: $id) { id displayName mail } }',
      variables: { id: fx.lookupUserIds[i % fx.lookupUserIds.length] },
    }),
    check: (data, fx, i) => {
      if ((data.usersByid as { id?: string } | null)?.id !== fx.lookupUserIds[i % fx.lookupUserIds.length]) fail('single lookup: wrong or missing user');
    },
  },
  4: {
    graphql: (fx) => ({
      query:
        'query OrgChart($id: String!) { usersByid(id: $id) { id displayName directReports(queryOptions: { top: 20 }) { asUser { id displayName directReports(queryOptions: { top: 20 }) { asUser { id displayName } } } } } }',
      variables: { id: fx.orgChartRootId },
    }),
    check: (data, fx) => {
      const reports = (data.usersByid as { directReports?: Array<{ asUser?: { id?: string } | null }> } | null)?.directReports;
      if (reports?.length !== fx.orgChartReportIds.length) fail(`org chart: expected ${fx.orgChartReportIds.length} reports, got ${reports?.length ?? 'none'}`);
      if (reports.some((r) => !r.asUser?.id)) fail('org chart: a report without its profile');
    },
  },
};

/**
 * Why a scenario has no Mesh operation. Containment revokes sessions and disables the account: the
 * $metadata declares no revokeSignInSessions action, and Mesh's generated `updateusersByid` fails on
 * Graph's 204 No Content answer to PATCH (it parses the empty body as JSON) after the write is done.
 */
export const MESH_UNSUPPORTED: Partial<Record<number, string>> = {
  5: 'containment is not expressible: the $metadata declares no revokeSignInSessions action, and Mesh reports an error for the PATCH that disables the account (Graph answers 204 with no body) although the write is done',
};
