import { ErrorCode, GatewayError } from '../errors.js';
import { malformedResponse, mapGraphError, readGraphErrorBody, transportError } from './errors.js';
import { batchResourceUnitCost } from './governor.js';
import { graphPaths, relativeUrl } from './paths.js';
import { RETRYABLE_STATUSES, RetryBudget, mayRepeat, parseRetryAfter, retryReasonOf, type RetryReason } from './retry.js';
import { attemptRetryReason, failureOf, routeLabel, type GraphTransport } from './transport.js';
import { carriesBody, effectOf, type GraphFailure, type GraphRequest, type GraphResult } from './types.js';

/**
 * JSON `$batch` executor (docs/graph-facts.md#json-batching, #throttling). Splits at 20, sends batches concurrently up to a
 * bound, matches answers by id (Graph returns them in any order), turns a failed envelope and
 * failed items into values, and retries only the failed items that may be repeated (`mayRepeat`:
 * reads on 429/503/504 and transport failures, writes only on 429/503) together in a new batch
 * after the longest Retry-After. A throttled batch comes in both documented shapes, an envelope
 * 200 with 429 items or a failed envelope (429/424/503/504): both are retried per item. Rounds that
 * let some items through do not use up the retry attempts; the total wait budget bounds the run
 * either way. Write items always carry a body and `Content-Type` (Graph refuses the whole batch
 * otherwise).
 */

export const GRAPH_BATCH_LIMIT = 20;

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
  /** Set when the item may be sent again. */
  retry?: { reason: RetryReason; retryAfterSeconds: number | undefined };
}

export async function executeBatch(transport: GraphTransport, requests: GraphRequest[], options: BatchOptions = {}): Promise<GraphResult[]> {
  const perBatch = Math.min(GRAPH_BATCH_LIMIT, Math.max(1, options.maxItemsPerBatch ?? GRAPH_BATCH_LIMIT));
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_BATCH_CONCURRENCY);
  if (requests.length === 0) return [];
  // A batch of one is a plain request: the same round trip, a simpler route, native retries.
  if (requests.length === 1) return [await transport.request(requests[0]!)];

  const results: Array<GraphResult | undefined> = new Array(requests.length);
  const budget = new RetryBudget(transport.retryPolicy);
  let pending = requests.map((_, index) => index);
  for (;;) {
    const chunks: number[][] = [];
    for (let i = 0; i < pending.length; i += perBatch) chunks.push(pending.slice(i, i + perBatch));
    const outcomes = new Map<number, ItemOutcome>();
    await runBounded(chunks, concurrency, async (chunk) => {
      const chunkOutcomes = await sendChunk(transport, requests, chunk);
      chunk.forEach((index, position) => outcomes.set(index, chunkOutcomes[position]!));
    });

    const again: number[] = [];
    let longestRetryAfter: number | undefined;
    for (const index of pending) {
      const outcome = outcomes.get(index)!;
      results[index] = outcome.result;
      if (outcome.retry && mayRepeat(effectOf(requests[index]!), outcome.retry.reason)) {
        again.push(index);
        const ra = outcome.retry.retryAfterSeconds;
        if (ra !== undefined) longestRetryAfter = Math.max(longestRetryAfter ?? 0, ra);
      }
    }
    if (again.length === 0) break;
    // Under steady throttling each round lets some items through; such a round is progress, not
    // a failed attempt. The total wait budget still bounds the run.
    const madeProgress = again.length < pending.length;
    const delay = budget.next(longestRetryAfter, !madeProgress);
    if (delay === undefined) break; // the failures already recorded are the answer
    for (const index of again) transport.metrics.upstreamRetries.inc({ reason: outcomes.get(index)!.retry!.reason });
    try {
      await transport.retryPolicy.sleep(delay, transport.signal);
    } catch {
      // Cancelled while waiting to repeat them: these items were conclusively refused last round.
      for (const index of again) results[index] = { ok: false, status: undefined, scope: 'item', outcome: 'failed', error: transportError('aborted') };
      break;
    }
    pending = again;
  }
  return results as GraphResult[];
}

async function sendChunk(transport: GraphTransport, requests: GraphRequest[], indices: number[]): Promise<ItemOutcome[]> {
  const items = indices.map((index) => {
    const req = requests[index]!;
    const item: { id: string; method: string; url: string; headers?: Record<string, string>; body?: unknown } = {
      id: String(index),
      method: req.method,
      url: relativeUrl(req.path, req.query),
    };
    // Write items need `headers` with Content-Type and a `body`, `{}` where the action takes none:
    // without them Graph refuses the WHOLE batch with 400 "Write request id : N does not contain
    // Content-Type header or body." (docs/graph-facts.md#json-batching). Most items (GETs without
    // headers) carry neither: no header object to build and count.
    const withBody = req.body !== undefined || carriesBody(req.method);
    if (withBody || (req.headers && Object.keys(req.headers).length > 0)) {
      const headers: Record<string, string> = { ...req.headers };
      if (withBody) headers['Content-Type'] = 'application/json';
      item.headers = headers;
    }
    if (withBody) item.body = req.body ?? {};
    return item;
  });
  transport.metrics.batchSize.observe(items.length);
  // Priced from the requests themselves: the envelope's item URLs would have to be parsed back.
  const cost = batchResourceUnitCost(
    indices.map((index) => ({ method: requests[index]!.method, template: requests[index]!.path.template, query: requests[index]!.query })),
  );
  const attempt = await transport.attempt({ method: 'POST', path: graphPaths.batch(), body: { requests: items } }, cost);

  const clientRequestId = attempt.clientRequestId;
  const sent = clientRequestId ? { clientRequestId } : {};
  if (attempt.kind !== 'response' || attempt.status < 200 || attempt.status >= 300) {
    // The envelope failed: every item shares its fate (and its Retry-After, and whether it may have been applied).
    const envelopeThrottled = attempt.kind === 'response' && attempt.status === 424;
    const failure: GraphFailure = envelopeThrottled
      ? {
          ok: false,
          status: 424,
          scope: 'batch',
          outcome: 'failed',
          error: mapGraphError({ status: 429, body: attempt.body, requestId: attempt.requestId, retryAfterSeconds: attempt.retryAfterSeconds }),
          ...sent,
        }
      : failureOf(attempt, 'batch', transport.timeoutMs);
    const reason = envelopeThrottled ? '429' : attemptRetryReason(attempt);
    const retryAfterSeconds = attempt.kind === 'response' ? attempt.retryAfterSeconds : undefined;
    return indices.map(() => ({ result: failure, ...(reason ? { retry: { reason, retryAfterSeconds } } : {}) }));
  }

  const responses = readResponses(attempt.body);
  if (!responses) {
    // Graph took the batch (2xx) but its answer cannot be read: write items may have been applied.
    const error = malformedResponse('a $batch answer without a responses array', attempt.requestId);
    return indices.map(() => ({ result: { ok: false, status: attempt.status, scope: 'batch', outcome: 'unknown', error, ...sent } }));
  }
  // One counter update per route and status, not per item: a profile-card run has 100 items.
  const counted = new Map<string, { route: string; status: string; items: number }>();
  const outcomes = indices.map((index): ItemOutcome => {
    const req = requests[index]!;
    const answer = responses.get(String(index));
    if (!answer) {
      return {
        result: {
          ok: false,
          status: undefined,
          scope: 'item',
          outcome: 'unknown',
          error: malformedResponse('a $batch answer missing one of its items', attempt.requestId),
          ...sent,
        },
      };
    }
    const status = typeof answer.status === 'number' ? answer.status : 0;
    const headers = lowerCaseHeaders(answer.headers);
    const route = routeLabel(req);
    const tally = counted.get(`${route} ${status}`);
    if (tally) tally.items += 1;
    else counted.set(`${route} ${status}`, { route, status: String(status), items: 1 });
    // Graph puts request-id on the envelope, not on items: the envelope's is the one support can trace.
    const requestId = headers['request-id'];
    if (status >= 200 && status < 300) {
      return { result: { ok: true, status, body: answer.body, requestId: requestId ?? attempt.requestId, headers, ...sent } };
    }
    const retryAfterSeconds = parseRetryAfter(headers['retry-after'], transport.retryPolicy.now());
    const error =
      status === 0
        ? new GatewayError(ErrorCode.UPSTREAM_ERROR, 'Microsoft Graph sent a $batch item without a status.', requestId ? { requestId } : {})
        : mapGraphError({
            status,
            body: answer.body,
            requestId: requestId ?? readGraphErrorBody(answer.body).requestId ?? attempt.requestId,
            retryAfterSeconds,
          });
    const reason = RETRYABLE_STATUSES.has(status) ? retryReasonOf(status) : undefined;
    // Like a single call: a 502/504 item (or one without a status) may have been applied.
    const outcome = status === 0 || status === 502 || status === 504 ? 'unknown' : 'failed';
    return { result: { ok: false, status, scope: 'item', outcome, error, ...sent }, ...(reason ? { retry: { reason, retryAfterSeconds } } : {}) };
  });
  for (const { route, status, items } of counted.values()) transport.metrics.upstreamRequests.inc({ route, status }, items);
  return outcomes;
}

interface BatchItemAnswer {
  id?: unknown;
  status?: unknown;
  headers?: unknown;
  body?: unknown;
}

function readResponses(body: unknown): Map<string, BatchItemAnswer> | undefined {
  const list = (body as { responses?: unknown } | null)?.responses;
  if (!Array.isArray(list)) return undefined;
  const byId = new Map<string, BatchItemAnswer>();
  for (const item of list as BatchItemAnswer[]) {
    // Ids are case-insensitive in Graph; ours are decimal, so String() is enough.
    if (item && (typeof item.id === 'string' || typeof item.id === 'number')) byId.set(String(item.id), item);
  }
  return byId;
}

function lowerCaseHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof headers !== 'object' || headers === null) return out;
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof value === 'string') out[name.toLowerCase()] = value;
    else if (typeof value === 'number') out[name.toLowerCase()] = String(value);
  }
  return out;
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
