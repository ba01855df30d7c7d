import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { DocumentNode } from 'graphql';
import { operationTooComplex } from '../limits/limit-error.js';
import { QUERY_LIMITS } from '../query-limits.js';
import { estimateUpstreamRequests, type UpstreamEstimate } from './estimate.js';
import type { PlanningRule, PlanningTunables } from './planning-rules.js';
import { isGuid } from '../../guid.js';

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
const MAX_CACHED_VARIABLES_LENGTH = 2_048;

const ENUM_SHAPE = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * What of a variable's value the estimate can depend on. The planning rules read numbers
 * (`first`), presence (`after`, `search`, filter keys), enum values (`orderBy.field`) and whether
 * an id is a GUID, never the text of other strings: a lookup per user id must not be a cache miss.
 */
function shapeOf(value: unknown, depth = 0): unknown {
  // The HTTP layer refuses deeper variables; this keeps the walk bounded whoever calls it.
  if (depth > QUERY_LIMITS.variablesDepth) throw new RangeError('variables nest too deeply to key an estimate');
  if (typeof value === 'string') return isGuid(value) ? '\u0001guid' : ENUM_SHAPE.test(value) ? value : '\u0001text';
  if (Array.isArray(value)) return value.map((item) => shapeOf(item, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) out[key] = shapeOf(inner, depth + 1);
    return out;
  }
  return value;
}

/** Cache key of an estimate within one document; undefined = too large (or deep) to be worth keeping. */
function estimateCacheKey(operationName: string | null | undefined, variables: Record<string, unknown> | null): string | undefined {
  let variablesText: string;
  try {
    variablesText = variables ? JSON.stringify(shapeOf(variables)) : '';
  } catch {
    return undefined;
  }
  if (variablesText.length > MAX_CACHED_VARIABLES_LENGTH) return undefined;
  return `${operationName ?? ''}\u0000${variablesText}`;
}

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
            // differ between values of the same shape, and must never excuse a valid one.
            if (cacheKey !== undefined && estimate !== null) {
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
