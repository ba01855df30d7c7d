import { buildSubgraphSchema } from '@apollo/subgraph';
import { addResolversToSchema } from '@graphql-tools/schema';
import { parse, type GraphQLSchema } from 'graphql';
import type { Resolvers } from '../../generated/graphql.js';
import { Permission } from '../../permissions.js';
import { PERMISSION_DIRECTIVE } from '../permissions/requirements.js';
import { checkEntityRepresentations, resolveUserReference } from './entities.js';
import { SERVICE_FIELD } from './service-rule.js';

/**
 * The executable schema as an Apollo Federation 2 subgraph (FEDERATION=true): `buildSubgraphSchema`
 * reads the SDL with its `@link` and `@key` and adds `Query._entities` and `Query._service`; the
 * gateway's resolvers then go in exactly as `makeExecutableSchema` would put them (every resolver
 * must match a schema field), so every directive, resolver and plugin works as without federation.
 *
 * Who may use the two entry points, since no SDL of ours declares them:
 * - `_entities` returns Users, so it needs `Users.Read` like `user(id:)`; the fields selected
 *   inside `... on User` are checked like anywhere else (`authenticationMethods` needs
 *   `Users.ReadAuthMethods`), by the same document walk before execution;
 * - `_service` returns the SDL: `Users.Read` as well (every root field names a permission), and
 *   only while introspection is on (src/graphql/federation/service-rule.ts).
 */
const ENTRY_POINT_PERMISSIONS: Readonly<Record<string, Permission>> = {
  _entities: Permission.UsersRead,
  [SERVICE_FIELD]: Permission.UsersRead,
};

export function buildSubgraphGatewaySchema(typeDefs: string, resolvers: readonly Resolvers[]): GraphQLSchema {
  // Apollo's own resolver wiring knows `__resolveReference`; graphql-tools' does not, and
  // graphql-tools' knows scalars and checks that every resolver matches a field.
  const schema = buildSubgraphSchema({ typeDefs: parse(typeDefs), resolvers: { User: { __resolveReference: resolveUserReference } } as never });
  for (const map of resolvers) {
    addResolversToSchema({
      schema,
      resolvers: map as never,
      updateResolversInPlace: true,
      resolverValidationOptions: { requireResolversToMatchSchema: 'error' },
    });
  }
  checkEntityRepresentations(schema);
  const queryFields = schema.getQueryType()?.getFields() ?? {};
  for (const [name, permission] of Object.entries(ENTRY_POINT_PERMISSIONS)) {
    const field = queryFields[name];
    if (field) field.extensions = { ...field.extensions, [PERMISSION_DIRECTIVE]: permission };
  }
  return schema;
}
