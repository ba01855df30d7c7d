import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { DocumentNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import { operationTooComplex } from '../limits/limit-error.js';
import { estimateUpstreamRequests, type UpstreamEstimate } from './estimate.js';
import type { PlanningRule, PlanningTunables } from './planning-rules.js';
import { estimateCacheKey } from './estimate-cache-key.js';
import { answersInFlightError, type SharedAnswerBudget } from './answers-in-flight.js';

/**
 * Refuses, before execution, operations that could cause more upstream Graph requests than the
 * budget (`config.limits.maxUpstreamRequests`), with OPERATION_TOO_COMPLEX, the estimate and the
 * budget in `extensions`. Runs in `didResolveOperation` because the estimate needs the variables
 * (`first: $n`), which validation rules never see.
 */
export interface UpstreamBudgetOptions<TContext extends BaseContext = BaseContext> {
  maxUpstreamRequests: number;
  /**
   * Field values the answer of one operation may hold at most, by the same estimate
   * (`UpstreamEstimate.values`); OPERATION_TOO_COMPLEX above it. Unset: not checked.
   */
  maxResultValues?: number;
  tunables?: Partial<PlanningTunables>;
  /**
   * Tunables that depend on the request (over `tunables`): how many lookups by id one Graph request
   * answers depends on the Graph identity (getByIds, or `$batch` once getByIds refused it).
   * Estimates are cached per value, so keep them few.
   */
  tunablesOf?: (context: TContext) => Partial<PlanningTunables>;
  rules?: Readonly<Record<string, PlanningRule>>;
  /**
   * The values the answers of executing operations hold together (src/graphql/budget/answers-in-flight.ts):
   * an operation's estimate is reserved once it passed every check here and released when its
   * answer is written or its request ends. Unset: not checked.
   */
  answersInFlight?: {
    budget: SharedAnswerBudget;
    /** The caller's stable identity, for its share; undefined: the budget of all alone. */
    callerOf(context: TContext): string | undefined;
    /**
     * Hands `release` to whatever writes the answer, to be called once it is written or the
     * connection closed; false when nothing will (an operation run without HTTP), and then the
     * reservation ends with the response (willSendResponse).
     */
    untilAnswered(context: TContext, release: () => void): boolean;
  };
  /** Sees every estimate (logging, metrics); must not throw. */
  onEstimate?: (estimate: UpstreamEstimate, operationName: string | null) => void;
}

/**
 * MAX_RESULT_VALUES's default. The image's 128 MB heap (docker/Dockerfile) aborted on one answer of
 * ~1.5 million values; a quarter of a million keeps one answer to a few MB (about 30 bytes a value
 * as JSON), while a page of 999 users with every property of theirs and of their managers holds
 * about 34,000 (by this estimate).
 */
export const DEFAULT_MAX_RESULT_VALUES = 250_000;

/**
 * Memory the cached estimates may hold together, by `estimateMemory` (their keys and paths, as
 * UTF-16, plus a fixed overhead each): thousands of documents' usual estimates.
 *
 * Before, the cache was bounded per document only (256 estimates each), and a document lives as
 * long as Apollo's store keeps it (16 MiB of documents: thousands of small ones). Any caller, with
 * any credential (`{ __typename }` needs no permission), sent one small document after another,
 * each with variables of a new shape near the key's 2 KB limit: every request left ~2 KB behind,
 * and ~70,000 requests (about three minutes) exhausted the image's 128 MB heap; with an operation
 * name of 100,000 characters in the key (a copy per estimate), ~800 requests did
 * (docs/security.md#the-upstream-budget-and-its-cache).
 */
export const ESTIMATE_CACHE_MAX_BYTES = 4 * 2 ** 20;

/** What one cached estimate holds, roughly: two bytes a character of its key and path names, and the objects around them. */
function estimateMemory(estimate: UpstreamEstimate, key: string): number {
  let bytes = 2 * key.length + 200;
  for (const path of Object.keys(estimate.byPath)) bytes += 2 * path.length + 40;
  return bytes;
}

export function createUpstreamBudgetPlugin<TContext extends BaseContext = BaseContext>(options: UpstreamBudgetOptions<TContext>): ApolloServerPlugin<TContext> {
  const budget = options.maxUpstreamRequests;
  if (!Number.isInteger(budget) || budget < 1)
    throw new Error(`createUpstreamBudgetPlugin: maxUpstreamRequests must be an integer >= 1, received ${String(budget)}`);
  // Estimates per parsed document (Apollo reuses one per query text), then per operation name and
  // variables: the same document with the same variables always gets the same estimate.
  const maxValues = options.maxResultValues;
  if (maxValues !== undefined && (!Number.isInteger(maxValues) || maxValues < 1))
    throw new Error(`createUpstreamBudgetPlugin: maxResultValues must be an integer >= 1, received ${String(maxValues)}`);
  // One cache for every document, bounded by what it holds: a document's estimates are keyed by a
  // number it is given when first seen (a weak map: the number goes with the document once Apollo's
  // store drops it, and its estimates age out of the LRU).
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;
  const cache = new LRUCache<string, UpstreamEstimate>({
    maxSize: ESTIMATE_CACHE_MAX_BYTES,
    sizeCalculation: (estimate, key) => estimateMemory(estimate, key),
  });
  const inFlight = options.answersInFlight;
  return {
    async requestDidStart() {
      // Set once this operation's estimate is reserved; idempotent, so every path that ends the
      // request may call it.
      let release: (() => void) | undefined;
      return {
        async willSendResponse() {
          release?.();
        },
        async didResolveOperation(requestContext) {
          const document = requestContext.document;
          const variables = requestContext.request.variables ?? null;
          const requestTunables = options.tunablesOf?.(requestContext.contextValue);
          const tunables = requestTunables ? { ...options.tunables, ...requestTunables } : options.tunables;
          // The operation is named by its position in the document, not its name: a name is the
          // caller's text, as long as the document allows, and a key of it would hold a copy of it
          // per estimate, outside what Apollo's store counts for the document.
          const operation = requestContext.operation ? document.definitions.indexOf(requestContext.operation) : -1;
          const variablesKey = estimateCacheKey(String(operation), variables);
          const cacheKey = variablesKey === undefined || !requestTunables ? variablesKey : `${JSON.stringify(requestTunables)}\u0000${variablesKey}`;
          let documentId = documentIds.get(document);
          if (documentId === undefined) documentIds.set(document, (documentId = nextDocumentId++));
          const key = cacheKey === undefined ? undefined : `${documentId}\u0000${cacheKey}`;
          let estimate: UpstreamEstimate | null | undefined = key === undefined ? undefined : cache.get(key);
          if (estimate === undefined) {
            estimate = estimateUpstreamRequests({
              schema: requestContext.schema,
              document,
              operationName: requestContext.operationName,
              variables,
              ...(tunables ? { tunables } : {}),
              ...(options.rules ? { rules: options.rules } : {}),
            });
            // Only estimates are kept: "cannot estimate" (e.g. a variable that fails coercion) may
            // differ between values of the same shape, and must never excuse a valid one. Nor is an
            // estimate of arguments that do not compile (a blank search term): it may be below that
            // of valid text of the same shape (docs/security.md#the-upstream-budget-and-its-cache).
            // Bounded by ESTIMATE_CACHE_MAX_BYTES over all documents: new documents and new shapes of
            // variables only push the oldest estimates out.
            if (key !== undefined && estimate !== null && !estimate.uncacheable) cache.set(key, estimate);
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
          // The answer is built whole in memory before it is written: an operation that repeats
          // what Graph read (aliases of a field, the same reference thousands of times) costs
          // Graph little and the process its heap; under the image's 128 MB heap one such answer
          // of ~1.5 million values aborted the process (docs/security.md#the-size-of-an-answer).
          if (maxValues !== undefined && estimate.values > maxValues) {
            throw operationTooComplex(
              `This operation's answer could hold up to ${estimate.values} field values, more than the limit of ${maxValues} per operation. ` +
                'Ask for fewer items (smaller `first`, also on nested lists such as `directReports`), fewer aliases or fewer fields, and page through the rest.',
              { limit: 'maxResultValues', max: maxValues, estimatedValues: estimate.values },
            );
          }
          // Last, after every refusal of its own, so that only operations that will run hold values.
          if (inFlight) {
            const values = estimate.values;
            const budget = inFlight.budget.forCaller(inFlight.callerOf(requestContext.contextValue));
            const outcome = budget.reserve(values);
            if (outcome !== 'taken') throw answersInFlightError(outcome, values);
            let held = true;
            const giveBack = () => {
              if (!held) return;
              held = false;
              budget.release(values);
            };
            // Held until the answer is written, not only built: the answer text is the largest
            // thing an operation holds, and it exists only after willSendResponse.
            if (!inFlight.untilAnswered(requestContext.contextValue, giveBack)) release = giveBack;
          }
        },
      };
    },
  };
}
