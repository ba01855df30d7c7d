import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { BREAK, Kind, getArgumentValues, visit, type DocumentNode, type FieldNode, type FragmentDefinitionNode } from 'graphql';
import { GatewayError, isGatewayError } from '../errors.js';
import type { QueryUsersArgs } from '../generated/graphql.js';
import { collectSubfields } from './select.js';
import { assertUsersQueryFitsUrl } from './users-query.js';
import { coerceVariablesForPlanning } from './coerce-variables.js';

/**
 * Checks every `users(...)` of an operation against the read path's limits (src/graphql/query-limits.ts)
 * before execution: filter and search sizes, the filter's conditions and nesting, and the request
 * URL Graph would receive. A refusal is BAD_USER_INPUT for the whole operation (HTTP 400), so no
 * other field of it has reached Graph either.
 */
export function createUsersInputPlugin<TContext extends BaseContext = BaseContext>(options: { graphEndpoint: string }): ApolloServerPlugin<TContext> {
  // Most operations (lookups) never name `users`: judge that once per parsed document.
  const mentionsUsers = new WeakMap<DocumentNode, boolean>();
  const namesUsers = (document: DocumentNode): boolean => {
    let found = mentionsUsers.get(document);
    if (found === undefined) {
      found = false;
      visit(document, {
        Field(node) {
          if (node.name.value !== 'users') return undefined;
          found = true;
          return BREAK;
        },
      });
      mentionsUsers.set(document, found);
    }
    return found;
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          const operation = requestContext.operation;
          const queryType = requestContext.schema.getQueryType();
          const usersField = queryType?.getFields().users;
          if (!operation || operation.operation !== 'query' || !queryType || !usersField || !namesUsers(requestContext.document)) return;
          const coerced = coerceVariablesForPlanning(requestContext.schema, operation, requestContext.request.variables);
          // Variables that do not coerce fail at execution, before any resolver.
          if (coerced.errors) return;
          const fragments: Record<string, FragmentDefinitionNode> = {};
          for (const definition of requestContext.document.definitions) {
            if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
          }
          const root = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '' }, selectionSet: operation.selectionSet } as FieldNode;
          const selection = { schema: requestContext.schema, fragments, variableValues: coerced.coerced };
          for (const node of collectSubfields(selection, [root], queryType.name).get('users') ?? []) {
            let args: QueryUsersArgs;
            try {
              args = getArgumentValues(usersField, node, coerced.coerced) as QueryUsersArgs;
            } catch {
              continue; // reported by execution
            }
            try {
              assertUsersQueryFitsUrl(args, options.graphEndpoint);
            } catch (error) {
              if (!isGatewayError(error)) throw error;
              // `http` makes Apollo answer 400 for an error thrown from a plugin hook (its default there is 500).
              throw new GatewayError(error.code, error.message, { ...error.extensions, http: { status: 400 } });
            }
          }
        },
      };
    },
  };
}
