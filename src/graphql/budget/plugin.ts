import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { DocumentNode } from 'graphql';
import { operationTooComplex } from '../limits/limit-error.js';
import { estimateUpstreamRequests, type UpstreamEstimate } from './estimate.js';
import type { PlanningRule, PlanningTunables } from './planning-rules.js';
import { estimateCacheKey } from './estimate-cache-key.js';

/**
 * Refuses, before execution, operations that could cause more upstream Graph requests than the
 * budget (`config.limits.maxUpstreamRequests`), with OPERATION_TOO_COMPLEX, the estimate and the
 * budget in `extensions`. Runs in `didResolveOperation` because the estimate needs the variables
 * (`first: $n`), which validation rules never see.
 */
export interface UpstreamBudgetOptions {
  maxUpstreamRequests: number;
  tunables?: Partial<PlanningTunables>;
  rules?: Readonly<Record<string, PlanningRule>>;
  /** Sees every estimate (logging, metrics); must not throw. */
  onEstimate?: (estimate: UpstreamEstimate, operationName: string | null) => void;
}

const MAX_ESTIMATES_PER_DOCUMENT = 256;

export function createUpstreamBudgetPlugin<TContext extends BaseContext = BaseContext>(options: UpstreamBudgetOptions): ApolloServerPlugin<TContext> {
  const budget = options.maxUpstreamRequests;
  if (!Number.isInteger(budget) || budget < 1)
    throw new Error(`createUpstreamBudgetPlugin: maxUpstreamRequests must be an integer >= 1, received ${String(budget)}`);
  // Estimates per parsed document (Apollo reuses one per query text), then per operation name and
  // variables: the same document with the same variables always gets the same estimate.
  const cache = new WeakMap<DocumentNode, Map<string, UpstreamEstimate | null>>();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          const document = requestContext.document;
          const variables = requestContext.request.variables ?? null;
          const cacheKey = estimateCacheKey(requestContext.operationName, variables);
          let perDocument = cache.get(document);
          if (!perDocument) cache.set(document, (perDocument = new Map()));
          let estimate = cacheKey === undefined ? undefined : perDocument.get(cacheKey);
          if (estimate === undefined) {
            estimate = estimateUpstreamRequests({
              schema: requestContext.schema,
              document,
              operationName: requestContext.operationName,
              variables,
              ...(options.tunables ? { tunables: options.tunables } : {}),
              ...(options.rules ? { rules: options.rules } : {}),
            });
            // Only estimates are kept: "cannot estimate" (e.g. a variable that fails coercion) may
            // differ between values of the same shape, and must never excuse a valid one. Nor is an
            // estimate of arguments that do not compile (a blank search term): it may be below that
            // of valid text of the same shape (docs/security.md#the-upstream-budget-and-its-cache).
            if (cacheKey !== undefined && estimate !== null && !estimate.uncacheable) {
              // Bounded: documents with ever-changing variables (one id per request) must not grow it.
              if (perDocument.size >= MAX_ESTIMATES_PER_DOCUMENT) perDocument.clear();
              perDocument.set(cacheKey, estimate);
            }
          }
          if (!estimate) return;
          try {
            options.onEstimate?.(estimate, requestContext.operationName);
          } catch {
            // observers never decide the outcome
          }
          if (estimate.total > budget) {
            throw operationTooComplex(
              `This operation could cause up to ${estimate.total} requests to Microsoft Graph, more than the budget of ${budget} per operation. ` +
                'Ask for fewer items (smaller `first`), fewer aliases or fewer nested relationships, and page through the rest.',
              { estimatedUpstreamRequests: estimate.total, budget },
            );
          }
        },
      };
    },
  };
}
