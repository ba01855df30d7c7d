/**
 * End to end through a supergraph: Apollo Gateway (a supergraph composed with @apollo/composition
 * from schema/ as written, as `rover supergraph compose` would from the file) in front of this
 * gateway, started as the real app (src/app.ts) in production configuration with FEDERATION=true
 * and API-key callers, and an incidents subgraph that references Users by id. The Apollo gateway
 * forwards each caller's `x-api-key` to the subgraphs. Graph requests are counted by the emulator.
 */
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { parse } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { apiKeyCallers } from '../support/api-key-callers.js';
import type { UserRecord } from '../../src/emulator/model.js';
import { loadSchemaSource } from '../../src/graphql/schema.js';
import { createLogger } from '../../src/logger.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { INCIDENTS_TYPE_DEFS, startIncidentsSubgraph, type IncidentRecord, type IncidentsSubgraph } from '../support/incidents-subgraph.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';

const KEYS = {
  reader: 'supergraph-reader-key-0123456789',
  authReader: 'supergraph-auth-reader-key-0123456789',
  changesOnly: 'supergraph-changes-only-key-0123456789',
  admin: 'supergraph-admin-key-0123456789',
};
const CALLERS = apiKeyCallers({
  reader: { key: KEYS.reader, permissions: ['Users.Read'] },
  auth: { key: KEYS.authReader, permissions: ['Users.Read', 'Users.ReadAuthMethods'] },
  changes: { key: KEYS.changesOnly, permissions: ['Users.ReadChanges'] },
  admin: { key: KEYS.admin, permissions: ['Users.Read', 'Users.Terminate', 'Users.ChangePassword'] },
});
const MISSING = '00000000-0000-4000-8000-00000000dead';
const BUDGET = 5;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface Supergraph {
  url: string;
  query(
    query: string,
    key: string,
    variables?: Record<string, unknown>,
  ): Promise<{ data?: any; errors?: Array<{ message: string; extensions?: Record<string, any> }> }>;
  close(): Promise<void>;
}

/** Apollo Gateway + Apollo Server over the two subgraphs, forwarding the caller's API key. */
async function startSupergraph(usersUrl: string, incidentsUrl: string): Promise<Supergraph> {
  const composed = composeServices([
    { name: 'users', typeDefs: parse(loadSchemaSource()), url: usersUrl },
    { name: 'incidents', typeDefs: INCIDENTS_TYPE_DEFS, url: incidentsUrl },
  ]);
  if (composed.errors) throw new Error(`composition failed: ${composed.errors.map((e) => e.message).join('; ')}`);
  const gateway = new ApolloGateway({
    supergraphSdl: composed.supergraphSdl,
    logger: quiet,
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<{ apiKey?: string }>({
        url,
        willSendRequest({ request, context }) {
          if (context.apiKey) request.http?.headers.set('x-api-key', context.apiKey);
        },
      }),
  });
  const server = new ApolloServer<{ apiKey?: string }>({ gateway, logger: quiet });
  const { url } = await startStandaloneServer(server, {
    listen: { host: '127.0.0.1', port: 0 },
    context: async ({ req }) => {
      const key = req.headers['x-api-key'];
      return typeof key === 'string' ? { apiKey: key } : {};
    },
  });
  return {
    url,
    async query(query, key, variables) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key },
        body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
      });
      return (await res.json()) as Awaited<ReturnType<Supergraph['query']>>;
    },
    close: () => server.stop(),
  };
}

async function startUsersSubgraph(emulator: TestEmulator, env: Record<string, string>): Promise<App> {
  const config = loadSandboxConfig(emulator, {
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    FEDERATION: 'true',
    ...CALLERS,
    MAX_UPSTREAM_REQUESTS: String(BUDGET),
    ...env,
  });
  return startApp(config, { emulator, logger: createLogger({ level: 'silent' }) });
}

/** The subgraph's own error (code and message), as Apollo Gateway hands it on. */
function subgraphError(error: { extensions?: Record<string, any> } | undefined): { code?: string; message?: string } {
  const own = error?.extensions?.response?.body?.errors?.[0];
  return own ? { code: own.extensions?.code, message: own.message } : { code: error?.extensions?.code };
}

let emulator: TestEmulator;
let selfDeployed: App;
let hosted: App;
let incidents: IncidentsSubgraph;
let supergraph: Supergraph;
let hostedSupergraph: Supergraph;
let managed: UserRecord[];
let records: IncidentRecord[];

beforeAll(async () => {
  emulator = await startTestEmulator({ seed: 23, userCount: 400 });
  managed = [...emulator.tenant.users.values()].filter((u) => u.managerId !== null);
  expect(managed.length).toBeGreaterThan(150);
  // 150 incidents, each with its own assignee (who has a manager) and two watchers.
  records = managed.slice(0, 150).map((u, i) => ({
    id: `INC-${1000 + i}`,
    title: `Suspicious sign-in ${i}`,
    assigneeId: u.id,
    watcherIds: [managed[(i + 1) % 150]!.id, managed[(i + 2) % 150]!.id],
  }));
  incidents = await startIncidentsSubgraph(records);
  selfDeployed = await startUsersSubgraph(emulator, {});
  hosted = await startUsersSubgraph(emulator, { DEPLOYMENT_MODE: 'hosted' });
  supergraph = await startSupergraph(`${selfDeployed.url}/graphql`, incidents.url);
  hostedSupergraph = await startSupergraph(`${hosted.url}/graphql`, incidents.url);
  // Warm both Graph identities so token requests do not blur the counts below.
  for (const graph of [supergraph, hostedSupergraph])
    expect((await graph.query('{ incidents(first: 1) { assignee { id } } }', KEYS.reader)).errors).toBeUndefined();
}, 90_000);

afterAll(async () => {
  await supergraph?.close();
  await hostedSupergraph?.close();
  await incidents?.close();
  await selfDeployed?.close();
  await hosted?.close();
  await emulator?.close();
});

beforeEach(async () => {
  await emulator.resetStats();
});

const record = (id: string) => emulator.tenant.users.get(id)!;

describe('a supergraph over the gateway', () => {
  it('answers incidents { assignee { displayName manager { displayName } } } for 50 incidents in ceil(50 / 20) = 3 Graph requests', async () => {
    const result = await supergraph.query('{ incidents(first: 50) { id title assignee { id displayName manager { displayName } } } }', KEYS.reader);
    expect(result.errors).toBeUndefined();
    expect(result.data.incidents).toHaveLength(50);
    result.data.incidents.forEach((incident: any, i: number) => {
      const assignee = record(records[i]!.assigneeId!);
      expect(incident).toEqual({
        id: records[i]!.id,
        title: records[i]!.title,
        assignee: { id: assignee.id, displayName: assignee.displayName, manager: { displayName: record(assignee.managerId!).displayName } },
      });
    });
    const stats = await emulator.stats();
    // One `_entities` fetch: 50 $batch items with $expand=manager, 20 per POST; no second round for managers.
    expect(stats.graphRequests).toBe(3);
    expect(stats.batch.items).toBe(50);
  });

  it('answers 50 assignees without relationships in one getByIds', async () => {
    const result = await supergraph.query('{ incidents(first: 50) { assignee { displayName mail } } }', KEYS.reader);
    expect(result.errors).toBeUndefined();
    result.data.incidents.forEach((incident: any, i: number) => {
      const assignee = record(records[i]!.assigneeId!);
      expect(incident.assignee).toEqual({ displayName: assignee.displayName, mail: assignee.mail });
    });
    const stats = await emulator.stats();
    expect(stats.graphRequests).toBe(1);
    expect(stats.byRoute['POST /v1.0/directoryObjects/getByIds']).toBe(1);
  });

  it('resolves users another subgraph returns by id; a missing one keeps its key and has null for every field of the users subgraph', async () => {
    const [a, b] = managed;
    const result = await supergraph.query('query($ids: [ID!]!) { people(ids: $ids) { id displayName jobTitle } }', KEYS.reader, {
      ids: [a!.id, MISSING, b!.id],
    });
    expect(result.errors).toBeUndefined();
    // The users subgraph answers null for the missing entity; the supergraph keeps the reference the other subgraph made.
    expect(result.data.people).toEqual([
      { id: a!.id, displayName: a!.displayName, jobTitle: a!.jobTitle },
      { id: MISSING, displayName: null, jobTitle: null },
      { id: b!.id, displayName: b!.displayName, jobTitle: b!.jobTitle },
    ]);
    expect((await emulator.stats()).graphRequests).toBe(1);
  });

  it('still serves the gateway’s own fields through the supergraph', async () => {
    const target = managed[3]!;
    const result = await supergraph.query(`{ user(id: "${target.id}") { displayName manager { id } } }`, KEYS.reader);
    expect(result.errors).toBeUndefined();
    expect(result.data.user).toEqual({ displayName: target.displayName, manager: { id: target.managerId } });
  });
});

describe('refusals through the supergraph', () => {
  it('refuses a caller without Users.Read with FORBIDDEN, and Graph sees nothing', async () => {
    const result = await supergraph.query('{ incidents(first: 5) { id assignee { displayName } } }', KEYS.changesOnly);
    // The incidents subgraph answers; the users subgraph refuses the whole `_entities` fetch.
    expect(result.data.incidents.map((i: any) => i.id)).toEqual(records.slice(0, 5).map((r) => r.id));
    expect(result.data.incidents.every((i: any) => i.assignee.displayName === null)).toBe(true);
    expect(result.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(subgraphError(result.errors![0])).toEqual({ code: 'FORBIDDEN', message: expect.stringContaining('Query._entities needs Users.Read') });
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it('refuses authenticationMethods selected through the supergraph without Users.ReadAuthMethods', async () => {
    const query = '{ incidents(first: 3) { assignee { displayName authenticationMethods { type } } } }';
    const refused = await supergraph.query(query, KEYS.reader);
    expect(subgraphError(refused.errors![0])).toEqual({
      code: 'FORBIDDEN',
      message: expect.stringContaining('User.authenticationMethods needs Users.ReadAuthMethods'),
    });
    expect((await emulator.stats()).graphRequests).toBe(0);
    const allowed = await supergraph.query(query, KEYS.authReader);
    expect(allowed.errors).toBeUndefined();
    expect(allowed.data.incidents[0].assignee.displayName).toBe(record(records[0]!.assigneeId!).displayName);
  });

  it('refuses a fetch over the upstream budget with OPERATION_TOO_COMPLEX before any Graph request', async () => {
    // 150 references with the manager selected: ceil(150 / 20) = 8 $batch POSTs, over the budget of 5.
    const result = await supergraph.query('{ incidents(first: 150) { assignee { displayName manager { displayName } } } }', KEYS.reader);
    expect(subgraphError(result.errors![0])).toEqual({ code: 'OPERATION_TOO_COMPLEX', message: expect.stringContaining('up to 8 requests') });
    expect((await emulator.stats()).graphRequests).toBe(0);
    // Without the manager the same 150 references are one getByIds, well within the budget.
    const cheap = await supergraph.query('{ incidents(first: 150) { assignee { displayName } } }', KEYS.reader);
    expect(cheap.errors).toBeUndefined();
    expect((await emulator.stats()).graphRequests).toBe(1);
  });

  it('refuses a field Graph serves only to a signed-in user, under an app-only identity, with UNSUPPORTED_GRAPH_IDENTITY', async () => {
    const target = managed[0]!;
    const result = await supergraph.query(
      `mutation { changePasswordOnPremises(input: {user: "${target.id}", password: "Sup3r-Secret!pw"}) { status } }`,
      KEYS.admin,
    );
    const own = subgraphError(result.errors![0]);
    expect(own.code).toBe('UNSUPPORTED_GRAPH_IDENTITY');
    expect(JSON.stringify(result)).not.toContain('Sup3r-Secret');
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it('keeps hosted-mode refusals: terminateSession through a supergraph over a hosted gateway', async () => {
    const target = managed[0]!;
    const result = await hostedSupergraph.query(`mutation { terminateSession(input: {user: "${target.id}"}) { succeeded } }`, KEYS.admin);
    expect(subgraphError(result.errors![0])).toEqual({
      code: 'UNSUPPORTED_DEPLOYMENT_MODE',
      message: expect.stringContaining('DEPLOYMENT_MODE=self-deployed'),
    });
    expect((await emulator.stats()).totalRequests).toBe(0);
    // Reading referenced users works in hosted mode, batched the same way.
    const read = await hostedSupergraph.query('{ incidents(first: 20) { assignee { displayName } } }', KEYS.reader);
    expect(read.errors).toBeUndefined();
    expect(read.data.incidents[19].assignee.displayName).toBe(record(records[19]!.assigneeId!).displayName);
    expect((await emulator.stats()).graphRequests).toBe(1);
  });

  it('exposes neither _entities nor _service to supergraph clients, and the production subgraph keeps _service closed', async () => {
    const viaSupergraph = await supergraph.query('{ _service { sdl } }', KEYS.reader);
    expect(viaSupergraph.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const direct = await fetch(`${selfDeployed.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEYS.admin },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
    });
    const body = (await direct.json()) as { data?: unknown; errors: Array<{ extensions: { code: string } }> };
    expect(body.data).toBeUndefined();
    expect(body.errors[0]!.extensions.code).toBe('FORBIDDEN');
    expect((await emulator.stats()).graphRequests).toBe(0);
  });
});
