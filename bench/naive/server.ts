/**
 * The naive contender: the GraphQL server most people write first in front of Graph. Apollo Server 5,
 * one REST call per resolver (per user, per manager, per report list), no DataLoader, no `$select`.
 * It answers the same operations as the gateway for the benchmark's scenarios, with the same shapes.
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { connectNaiveGraph, type NaiveGraphOptions } from './rest.js';

const typeDefs = /* GraphQL */ `
  type User {
    id: ID!
    displayName: String
    mail: String
    jobTitle: String
    department: String
    userPrincipalName: String
    manager: User
    directReports(first: Int = 100): UserConnection!
  }
  type UserConnection {
    nodes: [User!]!
  }
  input TerminateSessionInput {
    user: ID!
    disableAccount: Boolean = true
  }
  type TerminateSessionPayload {
    succeeded: Boolean!
  }
  type Query {
    user(id: ID!): User
    users(first: Int = 100): UserConnection!
  }
  type Mutation {
    terminateSession(input: TerminateSessionInput!): TerminateSessionPayload!
  }
`;

type GraphObject = Record<string, unknown> & { id: string };

export interface RunningNaiveServer {
  url: string;
  close(): Promise<void>;
}

export async function startNaiveServer(options: NaiveGraphOptions & { port?: number; host?: string }): Promise<RunningNaiveServer> {
  const graph = await connectNaiveGraph(options);
  const id = (u: GraphObject) => encodeURIComponent(u.id);
  const resolvers = {
    Query: {
      user: (_: unknown, args: { id: string }) => graph.get(`/users/${encodeURIComponent(args.id)}`),
      users: async (_: unknown, args: { first: number }) => {
        const page = await graph.get(`/users?$top=${args.first}`);
        return { nodes: (page?.value as GraphObject[] | undefined) ?? [] };
      },
    },
    User: {
      manager: (user: GraphObject) => graph.get(`/users/${id(user)}/manager`),
      directReports: async (user: GraphObject, args: { first: number }) => {
        const page = await graph.get(`/users/${id(user)}/directReports?$top=${args.first}`);
        return { nodes: (page?.value as GraphObject[] | undefined) ?? [] };
      },
    },
    Mutation: {
      terminateSession: async (_: unknown, args: { input: { user: string; disableAccount: boolean } }) => {
        const path = `/users/${encodeURIComponent(args.input.user)}`;
        await graph.send('POST', `${path}/revokeSignInSessions`);
        if (args.input.disableAccount) await graph.send('PATCH', path, { accountEnabled: false });
        return { succeeded: true };
      },
    },
  };

  const server = new ApolloServer<Record<string, never>>({ typeDefs, resolvers });
  const { url } = await startStandaloneServer(server, {
    listen: { port: options.port ?? 0, host: options.host ?? '127.0.0.1' },
  });
  return {
    url: new URL('/graphql', url).toString(),
    close: async () => {
      await server.stop();
      await graph.close();
    },
  };
}
