import { HeaderMap } from '@apollo/server';
import { ErrorCode, GatewayError } from '../../errors.js';
import { createSharedBudget, type CallerShare, type RefusedOutcome, type SharedBudget } from '../../caller-shares.js';

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
 * (the request-body budget's rule: src/caller-shares.ts). Counted in field values.
 */
export type AnswerBudget = CallerShare;
export type SharedAnswerBudget = SharedBudget;

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

export function createAnswerBudget(maxValues: number, perCallerValues: number = maxValues, onRefused?: (outcome: RefusedOutcome) => void): SharedAnswerBudget {
  return createSharedBudget({ max: maxValues, perCaller: perCallerValues, alwaysTakenUpTo: smallAnswerValues(maxValues), ...(onRefused ? { onRefused } : {}) });
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
