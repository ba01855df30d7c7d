/**
 * Failed-authentication budgets behind a supergraph router (docs/security.md#the-federation-entry-points).
 *
 * Every fetch a router sends to this subgraph comes from the router's address, and a router adds no
 * `X-Forwarded-For` of its own. With the router configuration docs/querying.md used to give (the
 * caller's credential propagated, nothing else) all supergraph clients therefore shared one failure
 * budget: anyone on the internet who sent `AUTH_FAILURE_LIMIT` wrong keys to the router shut every
 * client out of the users subgraph for `AUTH_FAILURE_WINDOW_SECONDS`. Reproduced here through a real
 * Apollo Gateway over the real app (production configuration, FEDERATION=true, API-key callers): the
 * reader's fetch gets 429 THROTTLED after an attacker's ten guesses. With the router propagating the
 * `X-Forwarded-For` of the load balancer in front of it and `TRUSTED_PROXIES` naming the router, each
 * client keeps its own budget. The gateway now warns at start when FEDERATION=true runs without
 * `TRUSTED_PROXIES`.
 */
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { loadSchemaSource } from '../../src/graphql/schema.js';
import { apiKeyCallers } from '../support/api-key-callers.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { INCIDENTS_TYPE_DEFS, startIncidentsSubgraph, type IncidentsSubgraph } from '../support/incidents-subgraph.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';

const READER = 'client-address-reader-key-0123456789';
const CALLERS = apiKeyCallers({ reader: { key: READER, permissions: ['Users.Read'] } });
const LIMIT = 10;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const FEDERATION_WITHOUT_PROXIES = 'FEDERATION=true without TRUSTED_PROXIES';

interface Supergraph {
  /** Sends as a client; `forwardedFor` is what the load balancer in front of the router appended. */
  query(query: string, key: string, forwardedFor: string): Promise<{ data?: any; errors?: Array<{ extensions?: Record<string, any> }> }>;
  close(): Promise<void>;
}

/** Apollo Gateway forwarding the caller's key and, when `propagateForwardedFor`, the `X-Forwarded-For` it received. */
async function startSupergraph(usersUrl: string, incidentsUrl: string, propagateForwardedFor: boolean): Promise<Supergraph> {
  const composed = composeServices([
    { name: 'users', typeDefs: parse(loadSchemaSource()), url: usersUrl },
    { name: 'incidents', typeDefs: INCIDENTS_TYPE_DEFS, url: incidentsUrl },
  ]);
  if (composed.errors) throw new Error(`composition failed: ${composed.errors.map((e) => e.message).join('; ')}`);
  type Context = { apiKey?: string; forwardedFor?: string };
  const gateway = new ApolloGateway({
    supergraphSdl: composed.supergraphSdl,
    logger: quiet,
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<Context>({
        url,
        willSendRequest({ request, context }) {
          if (context.apiKey) request.http?.headers.set('x-api-key', context.apiKey);
          if (propagateForwardedFor && context.forwardedFor) request.http?.headers.set('x-forwarded-for', context.forwardedFor);
        },
      }),
  });
  const server = new ApolloServer<Context>({ gateway, logger: quiet });
  const { url } = await startStandaloneServer(server, {
    listen: { host: '127.0.0.1', port: 0 },
    context: async ({ req }) => {
      const key = req.headers['x-api-key'];
      const forwardedFor = req.headers['x-forwarded-for'];
      return { ...(typeof key === 'string' ? { apiKey: key } : {}), ...(typeof forwardedFor === 'string' ? { forwardedFor } : {}) };
    },
  });
  return {
    async query(query, key, forwardedFor) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key, 'x-forwarded-for': forwardedFor },
        body: JSON.stringify({ query }),
      });
      return (await res.json()) as Awaited<ReturnType<Supergraph['query']>>;
    },
    close: () => server.stop(),
  };
}

/** The subgraph's own error code, as Apollo Gateway hands it on (under `extensions.response`). */
function subgraphCode(error: { extensions?: Record<string, any> } | undefined): string | undefined {
  return error?.extensions?.response?.body?.errors?.[0]?.extensions?.code ?? error?.extensions?.code;
}

let emulator: TestEmulator;
let incidents: IncidentsSubgraph;
const apps: App[] = [];
const supergraphs: Supergraph[] = [];
const startLines = new Map<string, string[]>();

async function startUsersSubgraph(name: string, env: Record<string, string>): Promise<App> {
  const lines: string[] = [];
  startLines.set(name, lines);
  const config = loadSandboxConfig(emulator, {
    NODE_ENV: 'production',
    FEDERATION: 'true',
    ...CALLERS,
    AUTH_FAILURE_LIMIT: String(LIMIT),
    ...env,
  });
  const app = await startApp(config, { emulator, logger: capturingLogger(lines, 'warn') });
  apps.push(app);
  return app;
}

beforeAll(async () => {
  emulator = await startTestEmulator({ seed: 29, userCount: 40 });
  const assignees = [...emulator.tenant.users.values()].slice(0, 3);
  incidents = await startIncidentsSubgraph(assignees.map((u, i) => ({ id: `INC-${i}`, title: `Incident ${i}`, assigneeId: u.id, watcherIds: [] })));
}, 90_000);

afterAll(async () => {
  for (const supergraph of supergraphs) await supergraph.close();
  await incidents?.close();
  for (const app of apps) await app.close();
  await emulator?.close();
});

const ASSIGNEES = '{ incidents(first: 3) { id assignee { displayName } } }';
const READER_ADDRESS = '203.0.113.10';
const ATTACKER_ADDRESS = '198.51.100.66';

async function guess(supergraph: Supergraph, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const result = await supergraph.query(ASSIGNEES, `wrong-key-${i}-0123456789abcdef`, ATTACKER_ADDRESS);
    expect(subgraphCode(result.errors?.[0])).toBe('UNAUTHENTICATED');
  }
}

describe('failed authentication through a supergraph router', () => {
  it('with only the credential propagated, one client’s wrong keys shut every client out, and the gateway warned at start', async () => {
    const app = await startUsersSubgraph('credential-only', {});
    const supergraph = await startSupergraph(`${app.url}/graphql`, incidents.url, false);
    supergraphs.push(supergraph);
    expect((await supergraph.query(ASSIGNEES, READER, READER_ADDRESS)).errors).toBeUndefined();
    await guess(supergraph, LIMIT);
    // The router is the only client the gateway sees: the reader shares the attacker's budget.
    const reader = await supergraph.query(ASSIGNEES, READER, READER_ADDRESS);
    expect(subgraphCode(reader.errors?.[0])).toBe('THROTTLED');
    expect(reader.data.incidents.every((i: { assignee: { displayName: string | null } }) => i.assignee.displayName === null)).toBe(true);
    const warnings = logRecordsOf(startLines.get('credential-only')!).filter((r) => String(r.msg).startsWith(FEDERATION_WITHOUT_PROXIES));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe('warn');
  });

  it('with X-Forwarded-For propagated and TRUSTED_PROXIES naming the router, each client keeps its own budget, and no warning', async () => {
    const app = await startUsersSubgraph('forwarded', { TRUSTED_PROXIES: 'loopback' });
    const supergraph = await startSupergraph(`${app.url}/graphql`, incidents.url, true);
    supergraphs.push(supergraph);
    await guess(supergraph, LIMIT);
    const attacker = await supergraph.query(ASSIGNEES, READER, ATTACKER_ADDRESS);
    expect(subgraphCode(attacker.errors?.[0])).toBe('THROTTLED');
    const reader = await supergraph.query(ASSIGNEES, READER, READER_ADDRESS);
    expect(reader.errors).toBeUndefined();
    expect(reader.data.incidents[0].assignee.displayName).toEqual(expect.any(String));
    expect(startLines.get('forwarded')!.filter((line) => line.includes(FEDERATION_WITHOUT_PROXIES))).toEqual([]);
  });
});
