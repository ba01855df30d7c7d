import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { operationTooComplex } from '../limits/limit-error.js';
import { estimateUpstreamRequests, type UpstreamEstimate } from './estimate.js';
import type { PlanningRule, PlanningTunables } from './planning-rules.js';

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

export function createUpstreamBudgetPlugin<TContext extends BaseContext = BaseContext>(options: UpstreamBudgetOptions): ApolloServerPlugin<TContext> {
  const budget = options.maxUpstreamRequests;
  if (!Number.isInteger(budget) || budget < 1) throw new Error(`createUpstreamBudgetPlugin: maxUpstreamRequests must be an integer >= 1, received ${String(budget)}`);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          const estimate = estimateUpstreamRequests({
            schema: requestContext.schema,
            document: requestContext.document,
            operationName: requestContext.operationName,
            variables: requestContext.request.variables ?? null,
            ...(options.tunables ? { tunables: options.tunables } : {}),
            ...(options.rules ? { rules: options.rules } : {}),
          });
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
