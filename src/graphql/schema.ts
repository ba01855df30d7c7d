import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import type { Resolvers } from '../generated/graphql.js';
import { buildSubgraphGatewaySchema, withoutFederationSyntax } from './federation/index.js';
import { readResolvers } from './resolvers/index.js';

/** schema/ sits at the package root, two levels above this file in src/ and three in dist/src/. */
function schemaDirectory(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.resolve(here, '../../schema'), path.resolve(here, '../../../schema')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`schema/ directory not found near ${here}`);
}

/** The SDL exactly as written in schema/*.graphql (descriptions and applied directives kept), files in name order. */
export function loadSchemaSource(directory = schemaDirectory()): string {
  const files = readdirSync(directory)
    .filter((f) => f.endsWith('.graphql'))
    .sort();
  return files.map((f) => `# ${f}\n${readFileSync(path.join(directory, f), 'utf8').trimEnd()}\n`).join('\n');
}

export interface GatewaySchemaOptions {
  /** The SDL (default: schema/ as written, federation syntax included). */
  typeDefs?: string;
  /** Resolvers of later layers (mutations) next to the read resolvers. */
  extraResolvers?: Resolvers[];
  /**
   * Build an Apollo Federation 2 subgraph (`_entities`, `_service`; FEDERATION=true). Otherwise the
   * federation syntax of the SDL is left out and the schema has no federation surface at all.
   */
  federation?: boolean;
}

/** The executable schema; `extraResolvers` lets later layers (mutations) add theirs. */
export function buildGatewaySchema(options: GatewaySchemaOptions = {}): GraphQLSchema {
  const typeDefs = options.typeDefs ?? loadSchemaSource();
  const resolvers = [readResolvers, ...(options.extraResolvers ?? [])];
  if (options.federation) return buildSubgraphGatewaySchema(typeDefs, resolvers);
  return makeExecutableSchema({
    typeDefs: withoutFederationSyntax(typeDefs),
    resolvers,
    resolverValidationOptions: { requireResolversToMatchSchema: 'error' },
  });
}
