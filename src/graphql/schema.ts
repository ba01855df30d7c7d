import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import type { Resolvers } from '../generated/graphql.js';
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

/** The executable schema; `extraResolvers` lets later layers (mutations) add theirs. */
export function buildGatewaySchema(options: { typeDefs?: string; extraResolvers?: Resolvers[] } = {}): GraphQLSchema {
  return makeExecutableSchema({
    typeDefs: options.typeDefs ?? loadSchemaSource(),
    resolvers: [readResolvers, ...(options.extraResolvers ?? [])] as never,
    resolverValidationOptions: { requireResolversToMatchSchema: 'error' },
  });
}
