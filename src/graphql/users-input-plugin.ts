import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GatewayError, isGatewayError } from '../errors.js';
import type { QueryUsersArgs } from '../generated/graphql.js';
import { assertUsersQueryFitsUrl } from './users-query.js';
import { rootQueryFieldArguments } from './root-field-arguments.js';

/**
 * Checks every `users(...)` of an operation against the read path's limits (src/graphql/query-limits.ts)
 * before execution: filter and search sizes, the filter's conditions and nesting, and the request
 * URL Graph would receive. A refusal is BAD_USER_INPUT for the whole operation (HTTP 400), so no
 * other field of it has reached Graph either.
 */
export function createUsersInputPlugin<TContext extends BaseContext = BaseContext>(options: { graphEndpoint: string }): ApolloServerPlugin<TContext> {
  const usersArguments = rootQueryFieldArguments('users');
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          for (const args of usersArguments(requestContext)) {
            try {
              assertUsersQueryFitsUrl(args as QueryUsersArgs, options.graphEndpoint);
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
