import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { operationTooComplex } from '../limits/limit-error.js';
import { rootQueryFieldArguments } from '../root-field-arguments.js';

/**
 * How many representations the `_entities` fields of one operation may carry together
 * (MAX_ENTITY_REPRESENTATIONS), checked before execution: above it the operation is refused with
 * OPERATION_TOO_COMPLEX (HTTP 400) and Graph sees nothing.
 *
 * Why: every other list of the API holds at most a page (999), and what is in it is the directory's
 * data. `_entities` holds whatever the caller sends, bounded only by the body (about 14,500 GUID
 * references in 1 MB) and by the upstream budget, which counts Graph requests: the same user
 * repeated 14,500 times is one Graph request. Each reference is answered with the whole selection,
 * so 14,500 references with 100 fields (84 of them aliases of `displayName`) made a 33 MB answer,
 * and a production build with the image's 128 MB heap aborted on the first such request, from a
 * caller holding only `Users.Read`, in a tenant of 20 users (docs/security.md#the-federation-entry-points).
 * The references of every `_entities` of the operation count together, since aliases of it can
 * reuse one variable. A router sends one representation per entity it holds, repeats included, so
 * the default covers a fetch for up to 1000 items of another subgraph's answers.
 */
export const DEFAULT_MAX_ENTITY_REPRESENTATIONS = 1000;

export function createEntityRepresentationsLimitPlugin<TContext extends BaseContext = BaseContext>(options: {
  maxRepresentations: number;
}): ApolloServerPlugin<TContext> {
  const max = options.maxRepresentations;
  if (!Number.isInteger(max) || max < 1) {
    throw new Error(`createEntityRepresentationsLimitPlugin: maxRepresentations must be an integer >= 1, received ${String(max)}`);
  }
  const entitiesArguments = rootQueryFieldArguments('_entities');
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          let total = 0;
          for (const args of entitiesArguments(requestContext)) total += Array.isArray(args.representations) ? args.representations.length : 0;
          if (total > max) {
            throw operationTooComplex(
              `This operation asks \`_entities\` for ${total} representations, more than the ${max} this gateway resolves in one operation. ` +
                'Send fewer references per fetch (a router sends one fetch per entity path: ask for smaller pages of the list that references them).',
              { limit: 'maxEntityRepresentations', max, found: total },
            );
          }
        },
      };
    },
  };
}
