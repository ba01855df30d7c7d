import { HeaderMap } from '@apollo/server';
import { ErrorCode, GatewayError } from '../../errors.js';

/**
 * Field values held by the answers of operations executing at once, across all callers, by the
 * estimate the upstream budget makes before execution (`UpstreamEstimate.values`). MAX_RESULT_VALUES
 * bounds one answer, but answers are built whole in memory and several just under it add up: under
 * the image's 128 MB heap, eight concurrent `_entities` operations of ~113,000 estimated values each
 * (one Users.Read API key, one Graph request each) aborted the process
 * (docs/security.md#answers-in-flight, test/reliability/answers-in-flight.test.ts). An operation
 * whose estimate does not fit what is left is refused before execution (429, `Retry-After`) rather
 * than queued: a queue would hold the requests, and the refusal sends nothing to Graph.
 *
 * One caller's operations hold at most its share, so that one caller cannot take the budget of all
 * (the request-body budget's rule, src/http/request-body.ts).
 */
export interface AnswerBudget {
  /** Takes `values` if they fit; otherwise takes nothing and says which bound they did not fit. */
  reserve(values: number): 'taken' | 'budget-spent' | 'share-spent';
  release(values: number): void;
}

export interface SharedAnswerBudget {
  /** The budget as one caller's operation sees it: `caller` names the caller's identity; undefined, the budget of all alone. */
  forCaller(caller: string | undefined): AnswerBudget;
  /** Values held now, for tests and metrics. */
  inUse(): number;
}

/**
 * MAX_RESULT_VALUES_IN_FLIGHT's default (twice MAX_RESULT_VALUES): two answers of the largest size allowed (MAX_RESULT_VALUES,
 * 250,000). Under the 128 MB heap one such answer peaked at ~30 MB above the ~40 MB at rest, and six
 * concurrent answers of ~113,000 values (680,000 together) left ~20 MB; eight (900,000) aborted.
 */
export const DEFAULT_MAX_RESULT_VALUES_IN_FLIGHT = 500_000;

/**
 * What one caller's operations may hold at once: a quarter of the budget, and never less than one
 * answer of the largest size allowed (so a caller's largest operation can always run when it is alone).
 */
export function callerAnswerShare(maxInFlight: number, maxResultValues: number): number {
  return Math.min(maxInFlight, Math.max(maxResultValues, Math.floor(maxInFlight / 4)));
}

/**
 * Operations estimated at this share of the budget or less are counted but never refused: a
 * hundredth (5,000 values by default; a lookup, a page of 100 users with their managers). Large
 * answers that hold the budget (callers that keep answering slowly, or do not read) must not turn
 * away the small operations of everyone else, whose answers hold little.
 */
export function smallAnswerValues(maxValues: number): number {
  return Math.floor(maxValues / 100);
}

export function createAnswerBudget(maxValues: number, perCallerValues: number = maxValues): SharedAnswerBudget {
  if (!Number.isInteger(maxValues) || maxValues < 1) throw new Error(`createAnswerBudget: maxValues must be an integer >= 1, received ${String(maxValues)}`);
  if (!Number.isInteger(perCallerValues) || perCallerValues < 1)
    throw new Error(`createAnswerBudget: perCallerValues must be an integer >= 1, received ${String(perCallerValues)}`);
  const smallValues = smallAnswerValues(maxValues);
  let inUse = 0;
  // Only callers holding values have an entry: the map is bounded by the operations executing.
  const held = new Map<string, number>();
  return {
    inUse: () => inUse,
    forCaller(caller) {
      return {
        reserve(values) {
          const mine = caller === undefined ? 0 : (held.get(caller) ?? 0);
          const small = values <= smallValues;
          if (!small && caller !== undefined && mine + values > perCallerValues) return 'share-spent';
          if (!small && inUse + values > maxValues) return 'budget-spent';
          inUse += values;
          if (caller !== undefined) held.set(caller, mine + values);
          return 'taken';
        },
        release(values) {
          if (values <= 0) return;
          inUse = Math.max(0, inUse - values);
          if (caller === undefined) return;
          const left = (held.get(caller) ?? 0) - values;
          if (left > 0) held.set(caller, left);
          else held.delete(caller);
        },
      };
    },
  };
}

/**
 * The refusal: 429 THROTTLED with `Retry-After: 1` (a plugin hook's error carries its HTTP status and
 * headers in `extensions.http`, which Apollo removes from what the caller sees).
 */
export function answersInFlightError(outcome: 'budget-spent' | 'share-spent', estimatedValues: number): GatewayError {
  const http = { status: 429, headers: new HeaderMap([['retry-after', '1']]) };
  if (outcome === 'share-spent') {
    return new GatewayError(
      ErrorCode.THROTTLED,
      `The answers of this caller's operations in progress already hold its share of the gateway's memory; this one (up to ${estimatedValues} field values) was not run. ` +
        'Wait for those answers, or ask for smaller ones (smaller `first`, fewer aliases or fields), then retry.',
      { retryAfterSeconds: 1, reason: 'CALLER_ANSWERS_IN_FLIGHT', estimatedValues, http },
    );
  }
  return new GatewayError(
    ErrorCode.THROTTLED,
    `The gateway is building too many large answers at once; this operation (up to ${estimatedValues} field values) was not run. Retry in a moment.`,
    { retryAfterSeconds: 1, reason: 'ANSWERS_IN_FLIGHT', estimatedValues, http },
  );
}
