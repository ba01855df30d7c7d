import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type DocumentNode } from 'graphql';

/**
 * A second subgraph of a test supergraph, as a team beside the gateway would write it with
 * @apollo/subgraph: SOC incidents that reference Entra users by object id
 * (`User @key(fields: "id", resolvable: false)`); the users subgraph (this gateway) resolves them.
 */
export const INCIDENTS_TYPE_DEFS: DocumentNode = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])

  "A security incident handled by the SOC."
  type Incident {
    "Incident number."
    id: ID!
    "What happened."
    title: String!
    "The analyst working on it."
    assignee: User
    "Everyone notified of changes."
    watchers: [User!]!
  }

  # Owned by the users subgraph; only its key is known here (no description: the owner's wins).
  type User @key(fields: "id", resolvable: false) {
    id: ID!
  }

  type Query {
    "The first incidents in number order."
    incidents("How many (all when omitted)." first: Int): [Incident!]!
    "Users by object id, in the order asked (for example the people named in a ticket); null for an id no user has."
    people("Object ids." ids: [ID!]!): [User]!
  }
`);

export interface IncidentRecord {
  id: string;
  title: string;
  assigneeId: string | null;
  watcherIds: string[];
}

export interface IncidentsSubgraph {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  close(): Promise<void>;
}

const reference = (id: string) => ({ __typename: 'User', id });

export async function startIncidentsSubgraph(incidents: readonly IncidentRecord[]): Promise<IncidentsSubgraph> {
  const schema = buildSubgraphSchema({
    typeDefs: INCIDENTS_TYPE_DEFS,
    resolvers: {
      Query: {
        incidents: (_source: unknown, args: { first?: number | null }) => incidents.slice(0, args.first ?? incidents.length),
        people: (_source: unknown, args: { ids: string[] }) => args.ids.map(reference),
      },
      Incident: {
        assignee: (incident: IncidentRecord) => (incident.assigneeId ? reference(incident.assigneeId) : null),
        watchers: (incident: IncidentRecord) => incident.watcherIds.map(reference),
      },
    },
  });
  const server = new ApolloServer({ schema, logger: { debug() {}, info() {}, warn() {}, error() {} } });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  return { url, close: () => server.stop() };
}
