import { ErrorCode, GatewayError } from '../errors.js';
import { AMBIGUOUS, GRAPH_BATCH_LIMIT, batchEnvelopeRequest, batchItemHeaders, batchItemOf, readBatchAnswers, splitIntoEnvelopes } from './batch-envelope.js';
import { graphRequestIdOf, malformedResponse, mapGraphError, transportError } from './errors.js';
import { batchResourceUnitCost } from './graph-cost.js';
import { parseRetryAfter } from '../http/retry-after.js';
import { RETRYABLE_STATUSES, RetryBudget, mayRepeatRequest, retryReasonOf, type RetryReason } from './retry.js';
import { attemptRetryReason, failureOf, routeLabel, type GraphTransport } from './transport.js';
import { type GraphRequest, type GraphResult } from './types.js';
import { graphFailure, type GraphFailure } from './upstream-failure.js';
import { traceGraphBatch, type BatchRetryNote } from '../telemetry/graph-spans.js';

/**
 * JSON `$batch` executor (docs/graph-facts.md#json-batching, #throttling). Splits at 20, sends batches concurrently up to a
 * bound, matches answers by id (Graph returns them in any order), turns a failed envelope and
 * failed items into values, and retries only the failed items that may be repeated (`mayRepeat`:
 * reads on 429/503/504 and transport failures, writes only on 429/503) together in a new batch
 * after the longest Retry-After. A throttled batch comes in both documented shapes, an envelope
 * 200 with 429 items or a failed envelope (429/424/503/504): both are retried per item. Rounds that
 * let some items through do not use up the retry attempts; the total wait budget bounds the run
 * either way. Write items always carry a body and `Content-Type` (Graph refuses the whole batch
 * otherwise). The wire format (envelopes, items, answers) is batch-envelope.ts's.
 */

/**
 * `$batch` POSTs sent at once by one run: 10 carries 200 items (e.g. 100 profile cards with
 * their report lists) in one round trip. The tenant's governor (GRAPH_MAX_CONCURRENCY, default 16)
 * still bounds what is in flight across all operations.
 */
export const DEFAULT_BATCH_CONCURRENCY = 10;

export interface BatchOptions {
  /** Items per `$batch` POST (Graph allows at most 20). */
  maxItemsPerBatch?: number;
  /** `$batch` POSTs in flight at once. */
  concurrency?: number;
}

interface ItemOutcome {
  result: GraphResult;
  /** Set when the item may be sent again (after the failure's Retry-After, when Graph sent one). */
  retry?: { reason: RetryReason };
}

export async function executeBatch(transport: GraphTransport, requests: GraphRequest[], options: BatchOptions = {}): Promise<GraphResult[]> {
  const perBatch = options.maxItemsPerBatch ?? GRAPH_BATCH_LIMIT;
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_BATCH_CONCURRENCY);
  if (requests.length === 0) return [];
  // A batch of one is a plain request: the same round trip, a simpler route, native retries.
  if (requests.length === 1) return [await transport.request(requests[0]!)];

  const results: Array<GraphResult | undefined> = new Array(requests.length);
  const budget = new RetryBudget(transport.retryPolicy);
  let pending = requests.map((_, index) => index);
  // Why the current round's envelopes exist, for their spans (docs/operations.md#traces).
  let retried: BatchRetryNote | undefined;
  for (let round = 1; ; round++) {
    const chunks = splitIntoEnvelopes(pending, perBatch);
    const outcomes = new Map<number, ItemOutcome>();
    await runBounded(chunks, concurrency, async (chunk) => {
      const chunkOutcomes = await sendChunk(transport, requests, chunk, retried);
      chunk.forEach((index, position) => outcomes.set(index, chunkOutcomes[position]!));
    });

    const again: number[] = [];
    let answered = 0;
    let longestRetryAfter: number | undefined;
    for (const index of pending) {
      const outcome = outcomes.get(index)!;
      results[index] = outcome.result;
      if (!outcome.retry) answered += 1;
      else if (mayRepeatRequest(requests[index]!, outcome.retry.reason)) {
        again.push(index);
        const ra = outcome.result.ok ? undefined : outcome.result.retryAfterSeconds;
        if (ra !== undefined) longestRetryAfter = Math.max(longestRetryAfter ?? 0, ra);
      }
    }
    if (again.length === 0) break;
    // Under steady throttling each round lets some items through; such a round is progress, not
    // a failed attempt. The total wait budget still bounds the run. An item that failed transiently
    // and is not repeated (a write after a timeout, a read that opted out) is no progress.
    const madeProgress = answered > 0;
    const delay = budget.next(longestRetryAfter, !madeProgress);
    if (delay === undefined) break; // the failures already recorded are the answer
    for (const index of again) transport.metrics.upstreamRetries.inc({ reason: outcomes.get(index)!.retry!.reason });
    const reasons = [...new Set(again.map((index) => outcomes.get(index)!.retry!.reason))];
    retried = { attempt: round, reasons, items: again.length, waitMs: delay, retryAfterSeconds: longestRetryAfter };
    try {
      await transport.retryPolicy.sleep(delay, transport.signal);
    } catch {
      // Cancelled while waiting to repeat them: these items were conclusively refused last round.
      for (const index of again) results[index] = graphFailure(transportError('aborted'), { status: undefined, scope: 'item', outcome: 'failed' });
      break;
    }
    pending = again;
  }
  return results as GraphResult[];
}

async function sendChunk(transport: GraphTransport, requests: GraphRequest[], indices: number[], retried?: BatchRetryNote): Promise<ItemOutcome[]> {
  const items = indices.map((index) => batchItemOf(String(index), requests[index]!));
  transport.metrics.batchSize.observe(items.length);
  // Priced from the requests themselves: the envelope's item URLs would have to be parsed back.
  const cost = batchResourceUnitCost(
    indices.map((index) => ({ method: requests[index]!.method, template: requests[index]!.path.template, query: requests[index]!.query })),
  );
  const attempt = await traceGraphBatch(requests, indices, retried, transport.endpoint, () => transport.attempt(batchEnvelopeRequest(items), cost));

  const clientRequestId = attempt.clientRequestId;
  if (attempt.kind !== 'response' || attempt.status < 200 || attempt.status >= 300) {
    // The envelope failed: every item shares its fate (and its Retry-After, and whether it may have been applied).
    const envelopeThrottled = attempt.kind === 'response' && attempt.status === 424;
    const failure: GraphFailure = envelopeThrottled
      ? graphFailure(mapGraphError({ status: 429, body: attempt.body, requestId: attempt.requestId, retryAfterSeconds: attempt.retryAfterSeconds }), {
          status: 424,
          scope: 'batch',
          outcome: 'failed',
          retryAfterSeconds: attempt.retryAfterSeconds,
          clientRequestId,
        })
      : failureOf(attempt, 'batch', transport.timeoutMs);
    const reason = envelopeThrottled ? '429' : attemptRetryReason(attempt);
    return indices.map(() => ({ result: failure, ...(reason ? { retry: { reason } } : {}) }));
  }

  const responses = readBatchAnswers(attempt.body);
  if (!responses) {
    // Graph took the batch (2xx) but its answer cannot be read: write items may have been applied.
    const error = malformedResponse('a $batch answer without a responses array', attempt.requestId);
    const failure = graphFailure(error, { status: attempt.status, scope: 'batch', outcome: 'unknown', clientRequestId });
    return indices.map(() => ({ result: failure }));
  }
  // One counter update per route and status, not per item: a profile-card run has 100 items.
  const counted = new Map<string, { route: string; status: string; items: number }>();
  const outcomes = indices.map((index): ItemOutcome => {
    const req = requests[index]!;
    const answer = responses.get(String(index));
    // Two answers for one request, or none: whether Graph applied it is not known (a write is UNKNOWN,
    // not whichever answer came last).
    if (answer === AMBIGUOUS || !answer) {
      const what = answer === AMBIGUOUS ? 'a $batch answer with two answers for one of its items' : 'a $batch answer missing one of its items';
      return {
        result: graphFailure(malformedResponse(what, attempt.requestId), { status: undefined, scope: 'item', outcome: 'unknown', clientRequestId }),
      };
    }
    // Only an HTTP status is one: any other number (3.5, 1e9, -1) is an item without a status, like a
    // missing one. Each distinct status is a label of gateway_upstream_requests_total, so the numbers
    // an answer made up grew /metrics by a series each (docs/security.md#batch-item-statuses).
    const status = isHttpStatus(answer.status) ? answer.status : 0;
    const headers = batchItemHeaders(answer.headers);
    const route = routeLabel(req);
    const tally = counted.get(`${route} ${status}`);
    if (tally) tally.items += 1;
    else counted.set(`${route} ${status}`, { route, status: String(status), items: 1 });
    // Graph puts request-id on the envelope, not on items: the envelope's is the one support can trace.
    const requestId = graphRequestIdOf(headers['request-id']);
    if (status >= 200 && status < 300) {
      return {
        result: { ok: true, status, body: answer.body, requestId: requestId ?? attempt.requestId, headers, ...(clientRequestId ? { clientRequestId } : {}) },
      };
    }
    const retryAfterSeconds = parseRetryAfter(headers['retry-after'], transport.retryPolicy.now());
    const error =
      status === 0
        ? new GatewayError(ErrorCode.UPSTREAM_ERROR, 'Microsoft Graph sent a $batch item without a status.', requestId ? { requestId } : {})
        : mapGraphError({
            status,
            body: answer.body,
            requestId,
            fallbackRequestId: attempt.requestId,
            retryAfterSeconds,
          });
    const reason = RETRYABLE_STATUSES.has(status) ? retryReasonOf(status) : undefined;
    // Like a single call: a 502/504 item (or one without a status) may have been applied.
    const outcome = status === 0 || status === 502 || status === 504 ? 'unknown' : 'failed';
    return {
      result: graphFailure(error, { status, scope: 'item', outcome, retryAfterSeconds, clientRequestId }),
      ...(reason ? { retry: { reason } } : {}),
    };
  });
  for (const { route, status, items } of counted.values()) transport.metrics.upstreamRequests.inc({ route, status }, items);
  return outcomes;
}

function isHttpStatus(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599;
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function runBounded<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  });
  await Promise.all(workers);
}
