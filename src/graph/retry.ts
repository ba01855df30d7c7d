/**
 * Retry policy for Graph calls (docs/graph-facts.md#throttling, #retries): reads on 429, 503, 504,
 * timeouts and connection failures; writes only when Graph certainly did not apply them (a 429 or
 * 503 answer, a connection never established), never after a timeout or a connection lost once the
 * request was sent (docs/security.md#writes-with-an-unknown-outcome). `Retry-After` (seconds or
 * HTTP date) when Graph sends one, otherwise exponential backoff with jitter; bounded attempts and a
 * bounded total wait, so a caller under sustained throttling gets THROTTLED with a hint quickly
 * instead of a hung request.
 */
import { effectOf, type GraphRequest, type RequestEffect } from './types.js';

export interface RetryPolicy {
  /** Retries after the first attempt (default 3). */
  maxRetries: number;
  /** Budget for all waits of one call (or one `$batch` run), in ms (default 20 s). */
  maxTotalWaitMs: number;
  /** First backoff step without Retry-After, in ms (default 500). */
  baseDelayMs: number;
  /** Ceiling of one backoff step, in ms (default 10 s). */
  maxDelayMs: number;
  /** Injected for deterministic tests. */
  random: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
}

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503, 504]);

/** Why a call may be sent again; `connect`: the connection was never established (nothing was sent). */
export type RetryReason = '429' | '503' | '504' | 'connect' | 'network' | 'timeout';

export function retryReasonOf(status: number | undefined, transport?: 'connect' | 'network' | 'timeout'): RetryReason | undefined {
  if (status === undefined) return transport;
  if (status === 429) return '429';
  if (status === 503) return '503';
  if (status === 504) return '504';
  return undefined;
}

/**
 * Whether a call with this effect may be sent again after a failure for `reason`. Reads may always
 * be. Writes only when Graph certainly did not apply them: it answered 429 or 503 (a throttled or
 * unavailable service does not process the request), or the connection was never established.
 * After a 504, a timeout or a connection lost after sending, Graph may have applied the write: it
 * is not repeated, and its outcome is reported as unknown.
 */
export function mayRepeat(effect: RequestEffect, reason: RetryReason): boolean {
  switch (effect) {
    case 'read':
      return true;
    case 'idempotent-write':
    case 'write':
      return reason === '429' || reason === '503' || reason === 'connect';
    default: {
      const unreachable: never = effect;
      return unreachable;
    }
  }
}

/** Whether this request may be sent again after `reason` (its effect, unless it opted out of repeats). */
export function mayRepeatRequest(req: Pick<GraphRequest, 'method' | 'effect' | 'repeat'>, reason: RetryReason): boolean {
  return req.repeat !== false && mayRepeat(effectOf(req), reason);
}

/** Backoff before retry number `retry` (1-based) without Retry-After: base·2^(n-1), jittered to 50–100 %. */
export function backoffDelayMs(retry: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs' | 'random'>): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling * (0.5 + 0.5 * policy.random()));
}

/** Wait before retry number `retry`: Retry-After when given (it is a minimum), else backoff. */
export function retryDelayMs(retry: number, retryAfterSeconds: number | undefined, policy: RetryPolicy): number {
  if (retryAfterSeconds !== undefined) return retryAfterSeconds * 1000;
  return backoffDelayMs(retry, policy);
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function defaultRetryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    maxRetries: 3,
    maxTotalWaitMs: 20_000,
    baseDelayMs: 500,
    maxDelayMs: 10_000,
    random: Math.random,
    sleep: abortableSleep,
    now: Date.now,
    ...overrides,
  };
}

/**
 * Tracks one call's (or one `$batch` run's) retry budget. `next` answers how long to wait before
 * the next attempt, or undefined when no attempt is left or the wait would overrun the budget.
 */
export class RetryBudget {
  private retries = 0;
  private waitedMs = 0;
  constructor(private readonly policy: RetryPolicy) {}

  /**
   * `chargeAttempt: false` is for a `$batch` round that made progress (some items got through):
   * it still spends wait budget, which bounds the whole run, but not one of the attempts, which
   * are meant to stop retrying what keeps failing.
   */
  next(retryAfterSeconds: number | undefined, chargeAttempt = true): number | undefined {
    if (chargeAttempt && this.retries >= this.policy.maxRetries) return undefined;
    const delay = retryDelayMs(this.retries + 1, retryAfterSeconds, this.policy);
    if (this.waitedMs + delay > this.policy.maxTotalWaitMs) return undefined;
    if (chargeAttempt) this.retries += 1;
    this.waitedMs += delay;
    return delay;
  }

  get attemptsMade(): number {
    return this.retries + 1;
  }
}
