import { ErrorCode, type GatewayError } from '../errors.js';

/**
 * One failed upstream Graph call as a value, whichever way it failed: an error answer, a `$batch`
 * item or envelope that failed, no answer at all, or a refusal before sending (the rate governor,
 * a token that could not be had). The one shape `request` and each `batch` item give back instead
 * of throwing; the $batch executor, the loaders, the writes and the doctor all read it.
 */
export interface GraphFailure {
  ok: false;
  /** The gateway's code for the failure (the error's; src/errors.ts). */
  code: ErrorCode;
  /** Graph's status, or undefined when no answer came (connection failure, timeout). */
  status: number | undefined;
  /** Graph's `Retry-After` in seconds, when it sent one (the error carries the hint a caller sees). */
  retryAfterSeconds: number | undefined;
  /** Graph's `request-id` (for a `$batch` item: the item's, else the envelope's), when it answered. */
  requestId: string | undefined;
  /** The `client-request-id` of the last attempt, when one was sent (for a `$batch` item: the envelope's). */
  clientRequestId?: string;
  /** `item`: this request alone failed; `batch`: the `$batch` envelope carrying it failed. */
  scope: 'item' | 'batch';
  /**
   * `failed`: Graph did not apply the request (it refused it, or it was never sent).
   * `unknown`: the request was sent and no conclusive answer came back (timeout, connection lost
   * after sending, 502/504 from a gateway in front of Graph, an unreadable `$batch` answer), so
   * Graph may have applied it. Only meaningful for writes.
   */
  outcome: 'failed' | 'unknown';
  /** What the caller sees (safe message, code, request-id, retry hint). */
  error: GatewayError;
}

/** The one way a GraphFailure is made: code and request-id come from the error, so they cannot disagree. */
export function graphFailure(
  error: GatewayError,
  facts: {
    status: number | undefined;
    scope: GraphFailure['scope'];
    outcome: GraphFailure['outcome'];
    retryAfterSeconds?: number | undefined;
    clientRequestId?: string | undefined;
  },
): GraphFailure {
  const requestId = error.extensions.requestId;
  return {
    ok: false,
    code: error.code,
    status: facts.status,
    retryAfterSeconds: facts.retryAfterSeconds,
    requestId: typeof requestId === 'string' ? requestId : undefined,
    scope: facts.scope,
    outcome: facts.outcome,
    error,
    ...(facts.clientRequestId ? { clientRequestId: facts.clientRequestId } : {}),
  };
}

/** A failure that may pass if asked again soon: its envelope failed, Graph throttled, or Graph was unavailable. */
export function isTransientFailure(failure: GraphFailure): boolean {
  if (failure.scope === 'batch') return true;
  return failure.code === ErrorCode.THROTTLED || failure.code === ErrorCode.UPSTREAM_UNAVAILABLE;
}
