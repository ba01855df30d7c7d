import { SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { isGatewayError } from '../errors.js';
import type { RetryReason } from '../graph/retry.js';
import type { Attempt } from '../graph/transport.js';
import type { GraphRequest, GraphResult } from '../graph/types.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_GOVERNOR_WAIT_MS,
  ATTR_GRAPH_BATCH_ITEMS,
  ATTR_GRAPH_BATCH_SIZE,
  ATTR_GRAPH_CLIENT_REQUEST_ID,
  ATTR_GRAPH_ERROR_CODE,
  ATTR_GRAPH_OUTCOME,
  ATTR_GRAPH_REQUEST_ID,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_RETRY_AFTER_S,
  ATTR_RETRY_ATTEMPT,
  ATTR_RETRY_ITEMS,
  ATTR_RETRY_REASON,
  ATTR_RETRY_WAIT_MS,
  ATTR_SERVER_ADDRESS,
  ATTR_URL_TEMPLATE,
  EVENT_GOVERNOR_QUEUED,
  EVENT_GOVERNOR_REFUSED,
  EVENT_RETRY,
} from './attributes.js';
import { activeTracer } from './state.js';

/**
 * One span per Graph exchange (docs/operations.md#traces): a call from its first attempt to its
 * last (retries and the rate governor's queueing are events on it), or one `$batch` envelope with
 * its items as attributes. Named and labelled by route template (`GET /users/{id}`), never by URL:
 * URLs hold ids, UPNs and filter values. The transport and the `$batch` executor call these
 * wrappers once per exchange; with tracing off each is a single check and a direct call.
 */

const VERSION_ROOT = '/v1.0';

function exchangeAttributes(method: GraphRequest['method'], template: string, endpoint: URL): Attributes {
  return {
    [ATTR_HTTP_REQUEST_METHOD]: method,
    [ATTR_URL_TEMPLATE]: `${VERSION_ROOT}${template}`,
    [ATTR_SERVER_ADDRESS]: endpoint.hostname,
  };
}

/**
 * Runs `run` inside an active CLIENT span named `name`: `before` notes what is known up front,
 * `annotate` what the answer says (both only on a recording span); a throw marks the span failed
 * with the error's type. With tracing off it is a single check and a direct call.
 */
function inExchangeSpan<T>(
  name: string,
  attributes: Attributes,
  run: () => Promise<T>,
  annotate: (span: Span, value: T) => void,
  before?: (span: Span) => void,
): Promise<T> {
  const tracer = activeTracer();
  if (!tracer) return run();
  return tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span): Promise<T> => {
    if (before && span.isRecording()) before(span);
    try {
      const value = await run();
      if (span.isRecording()) annotate(span, value);
      return value;
    } catch (error) {
      failed(span, errorTypeOf(error));
      throw error;
    } finally {
      span.end();
    }
  });
}

/** A Graph call with its retries (`GraphTransport.request`). */
export function traceGraphRequest<T>(req: GraphRequest, endpoint: URL, run: () => Promise<GraphResult<T>>): Promise<GraphResult<T>> {
  return inExchangeSpan(`${req.method} ${req.path.template}`, exchangeAttributes(req.method, req.path.template, endpoint), run, annotateResult);
}

/** Why the next `$batch` round exists: items of the previous round that failed and may be repeated. */
export interface BatchRetryNote {
  /** The round that failed (1 = the first envelope(s)). */
  attempt: number;
  reasons: RetryReason[];
  items: number;
  waitMs: number;
  retryAfterSeconds: number | undefined;
}

/** One `$batch` envelope (`requests[i]` for each `i` of `indices`, item id `String(i)`). */
export function traceGraphBatch(
  requests: readonly GraphRequest[],
  indices: readonly number[],
  retried: BatchRetryNote | undefined,
  endpoint: URL,
  run: () => Promise<Attempt>,
): Promise<Attempt> {
  return inExchangeSpan(
    'POST /$batch',
    { ...exchangeAttributes('POST', '/$batch', endpoint), [ATTR_GRAPH_BATCH_SIZE]: indices.length },
    run,
    (span, attempt) => {
      annotateAttempt(span, attempt);
      span.setAttribute(ATTR_GRAPH_BATCH_ITEMS, batchItems(requests, indices, attempt));
    },
    retried
      ? (span) => {
          span.addEvent(EVENT_RETRY, {
            [ATTR_RETRY_ATTEMPT]: retried.attempt,
            [ATTR_RETRY_REASON]: retried.reasons.join(','),
            [ATTR_RETRY_ITEMS]: retried.items,
            [ATTR_RETRY_WAIT_MS]: retried.waitMs,
            ...(retried.retryAfterSeconds !== undefined ? { [ATTR_RETRY_AFTER_S]: retried.retryAfterSeconds } : {}),
          });
          span.setAttribute(ATTR_HTTP_REQUEST_RESEND_COUNT, retried.attempt);
        }
      : undefined,
  );
}

/** The transport is about to repeat a call: what failed, and how long it waits first. */
export function recordGraphRetry(attempt: Attempt, attemptNumber: number, reason: RetryReason, waitMs: number): void {
  if (!activeTracer()) return;
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return;
  const retryAfter = attempt.kind === 'response' ? attempt.retryAfterSeconds : undefined;
  span.addEvent(EVENT_RETRY, {
    [ATTR_RETRY_ATTEMPT]: attemptNumber,
    [ATTR_RETRY_REASON]: reason,
    [ATTR_RETRY_WAIT_MS]: waitMs,
    ...(attempt.kind === 'response' ? { [ATTR_HTTP_RESPONSE_STATUS_CODE]: attempt.status } : {}),
    ...(retryAfter !== undefined ? { [ATTR_RETRY_AFTER_S]: retryAfter } : {}),
    ...(attempt.kind === 'response' && attempt.requestId ? { [ATTR_GRAPH_REQUEST_ID]: attempt.requestId } : {}),
  });
  span.setAttribute(ATTR_HTTP_REQUEST_RESEND_COUNT, attemptNumber);
}

const SETTLED_NOW = Symbol('settled now');
const PENDING: Promise<typeof SETTLED_NOW> = Promise.resolve(SETTLED_NOW);

/**
 * Waits for the rate governor's permit; when it was not granted at once (the call queued for
 * capacity, or behind a Retry-After pause), the wait becomes an event on the exchange span, and a
 * refusal (THROTTLED without calling Graph) another. A promise the governor already settled wins
 * the race against an already-resolved one (reactions run in order), so "at once" is exact.
 */
export async function observeGovernorWait<T>(acquire: Promise<T>): Promise<T> {
  if (!activeTracer()) return acquire;
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return acquire;
  try {
    const first = await Promise.race([acquire, PENDING]);
    if (first !== SETTLED_NOW) return first as T;
  } catch (error) {
    governorRefused(span, error);
    throw error;
  }
  const started = performance.now();
  try {
    const permit = await acquire;
    span.addEvent(EVENT_GOVERNOR_QUEUED, { [ATTR_GOVERNOR_WAIT_MS]: Math.round(performance.now() - started) });
    return permit;
  } catch (error) {
    span.addEvent(EVENT_GOVERNOR_QUEUED, { [ATTR_GOVERNOR_WAIT_MS]: Math.round(performance.now() - started) });
    governorRefused(span, error);
    throw error;
  }
}

function governorRefused(span: Span, error: unknown): void {
  if (!isGatewayError(error)) return;
  const retryAfter = error.extensions.retryAfterSeconds;
  span.addEvent(EVENT_GOVERNOR_REFUSED, { [ATTR_ERROR_TYPE]: error.code, ...(typeof retryAfter === 'number' ? { [ATTR_RETRY_AFTER_S]: retryAfter } : {}) });
}

function annotateResult(span: Span, result: GraphResult): void {
  if (result.clientRequestId) span.setAttribute(ATTR_GRAPH_CLIENT_REQUEST_ID, result.clientRequestId);
  if (result.status !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, result.status);
  if (result.ok) {
    if (result.requestId) span.setAttribute(ATTR_GRAPH_REQUEST_ID, result.requestId);
    return;
  }
  const extensions = result.error.extensions;
  if (typeof extensions.requestId === 'string') span.setAttribute(ATTR_GRAPH_REQUEST_ID, extensions.requestId);
  if (typeof extensions.graphErrorCode === 'string') span.setAttribute(ATTR_GRAPH_ERROR_CODE, extensions.graphErrorCode);
  if (result.outcome === 'unknown') span.setAttribute(ATTR_GRAPH_OUTCOME, 'unknown');
  failed(span, result.status !== undefined ? String(result.status) : result.error.code);
}

function annotateAttempt(span: Span, attempt: Attempt): void {
  if (attempt.clientRequestId) span.setAttribute(ATTR_GRAPH_CLIENT_REQUEST_ID, attempt.clientRequestId);
  switch (attempt.kind) {
    case 'response':
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, attempt.status);
      if (attempt.requestId) span.setAttribute(ATTR_GRAPH_REQUEST_ID, attempt.requestId);
      if (attempt.status >= 400) failed(span, String(attempt.status));
      return;
    case 'transport':
      failed(span, attempt.failure);
      return;
    case 'error':
      failed(span, attempt.error.code);
      return;
    default: {
      const unreachable: never = attempt;
      return unreachable;
    }
  }
}

/** `METHOD /template STATUS` per item, in the envelope's order; the status as Graph gave it for that item's id. */
function batchItems(requests: readonly GraphRequest[], indices: readonly number[], attempt: Attempt): string[] {
  const statuses = new Map<string, unknown>();
  if (attempt.kind === 'response') {
    const responses = (attempt.body as { responses?: unknown } | null | undefined)?.responses;
    if (Array.isArray(responses)) {
      for (const item of responses as Array<{ id?: unknown; status?: unknown } | null>) {
        if (item && (typeof item.id === 'string' || typeof item.id === 'number')) statuses.set(String(item.id), item.status);
      }
    }
  }
  return indices.map((index) => {
    const req = requests[index]!;
    const status = statuses.get(String(index));
    return `${req.method} ${req.path.template} ${typeof status === 'number' ? status : 'none'}`;
  });
}

function failed(span: Span, errorType: string): void {
  span.setAttribute(ATTR_ERROR_TYPE, errorType);
  // No description: an exception's message could quote a body or a URL.
  span.setStatus({ code: SpanStatusCode.ERROR });
}

function errorTypeOf(error: unknown): string {
  if (isGatewayError(error)) return error.code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^[A-Za-z]{1,64}$/.test(name) ? name : 'Error';
}
