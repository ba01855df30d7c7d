import { randomUUID } from 'node:crypto';
import { ErrorCode, GatewayError, isGatewayError } from '../errors.js';
import { PROXY_TUNNEL_FAILED } from '../http/proxy-tunnel.js';
import { isResponseTooLarge, requestVia, type UpstreamHttp } from '../http/upstream.js';
import type { GraphTokenSource } from '../identity/types.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import { DEFAULT_RETRY_HINT_SECONDS, graphRequestIdOf, malformedResponse, mapGraphError, transportError, type TransportFailureKind } from './errors.js';
import type { GovernorPermit, GraphGovernor } from './governor.js';
import { costOfOutgoingCall, type CallCost } from './graph-cost.js';
import { relativeUrl } from './paths.js';
import { parseRetryAfter } from '../http/retry-after.js';
import { RETRYABLE_STATUSES, RetryBudget, mayRepeatRequest, retryReasonOf, type RetryPolicy } from './retry.js';
import { longestItemRetryAfter } from './batch-envelope.js';
import { carriesBody, type GraphRequest, type GraphResult } from './types.js';
import { graphFailure, type GraphFailure } from './upstream-failure.js';
import { observeGovernorWait, recordGraphRetry, traceGraphRequest } from '../telemetry/graph-spans.js';

/**
 * One upstream Graph call and its retries: token, headers, timeout, body parsing, the debug log
 * line and the metrics. Everything above (domain methods, `$batch`, loaders) goes through here.
 */
export interface GraphTransportDeps {
  upstream: UpstreamHttp;
  tokenSource: GraphTokenSource;
  /** e.g. `https://graph.microsoft.com` (no version). */
  graphEndpoint: string;
  logger: Logger;
  metrics: GatewayMetrics;
  correlationId: string;
  /** Cancels every upstream call and retry wait (the caller went away). */
  signal?: AbortSignal;
  requestTimeoutMs: number;
  retry: RetryPolicy;
  /**
   * The Graph tenant's rate governor: every HTTP exchange waits for its resource units (a `$batch`
   * for the sum of its items) and a concurrency slot, and a 429/503 with Retry-After pauses it.
   * Absent: calls go out ungoverned (unit tests of the transport alone).
   */
  governor?: GraphGovernor;
  /** The operation deadline behind `signal`, for the error a caller sees when it passes. */
  operationTimeoutMs?: number;
  /** Whose calls these are, for the governor's fair share between callers (GovernorAcquireOptions.caller). */
  caller?: string;
}

/**
 * What one HTTP attempt produced, before mapping. `clientRequestId` is set once a request was
 * handed to the HTTP layer; `inFlight` marks a failure that happened while it was out (the
 * operation's deadline or the caller's abort), when Graph may have received it.
 */
export type Attempt =
  | {
      kind: 'response';
      status: number;
      body: unknown;
      headers: Record<string, string>;
      requestId: string | undefined;
      retryAfterSeconds: number | undefined;
      clientRequestId?: string;
    }
  | { kind: 'transport'; failure: TransportFailureKind; clientRequestId?: string; inFlight?: boolean }
  | { kind: 'error'; error: GatewayError; clientRequestId?: string; inFlight?: boolean };

const parsedEndpoints = new Map<string, { url: URL; versionRoot: string }>();

export class GraphTransport {
  /** `{endpoint}/v1.0`, without a trailing slash. */
  readonly versionRoot: string;
  readonly endpoint: URL;

  constructor(private readonly deps: GraphTransportDeps) {
    // One transport per operation, one endpoint per process: parse it once.
    let parsed = parsedEndpoints.get(deps.graphEndpoint);
    if (!parsed) {
      if (parsedEndpoints.size >= 16) parsedEndpoints.clear();
      parsed = { url: new URL(deps.graphEndpoint), versionRoot: `${deps.graphEndpoint.replace(/\/+$/, '')}/v1.0` };
      parsedEndpoints.set(deps.graphEndpoint, parsed);
    }
    this.endpoint = parsed.url;
    this.versionRoot = parsed.versionRoot;
  }

  get retryPolicy(): RetryPolicy {
    return this.deps.retry;
  }

  get signal(): AbortSignal | undefined {
    return this.deps.signal;
  }

  get timeoutMs(): number {
    return this.deps.requestTimeoutMs;
  }

  get metrics(): GatewayMetrics {
    return this.deps.metrics;
  }

  /**
   * A call with retries: reads on any transient failure, writes only when Graph certainly did not
   * apply them (`mayRepeat`). Never throws; failures are values. One span with its retries as events (docs/operations.md#traces).
   */
  request<T = unknown>(req: GraphRequest): Promise<GraphResult<T>> {
    return traceGraphRequest(req, this.endpoint, () => this.requestWithRetries<T>(req));
  }

  private async requestWithRetries<T>(req: GraphRequest): Promise<GraphResult<T>> {
    const budget = new RetryBudget(this.deps.retry);
    for (let retries = 0; ; retries++) {
      // Like the Graph SDK's RetryHandler (docs/graph-facts.md#retries): a repeat says which one it is.
      const attempt = await this.attempt(retries === 0 ? req : { ...req, headers: { ...req.headers, 'Retry-Attempt': String(retries) } });
      if (attempt.kind === 'response' && attempt.status >= 200 && attempt.status < 300) {
        return {
          ok: true,
          status: attempt.status,
          body: attempt.body as T,
          requestId: attempt.requestId,
          headers: attempt.headers,
          ...(attempt.clientRequestId ? { clientRequestId: attempt.clientRequestId } : {}),
        };
      }
      const reason = attemptRetryReason(attempt);
      if (reason !== undefined && mayRepeatRequest(req, reason)) {
        const delay = budget.next(attempt.kind === 'response' ? attempt.retryAfterSeconds : undefined);
        if (delay !== undefined) {
          this.deps.metrics.upstreamRetries.inc({ reason });
          this.deps.logger.debug({ correlationId: this.deps.correlationId, route: routeLabel(req), reason, delayMs: delay }, 'retrying Graph call');
          recordGraphRetry(attempt, retries + 1, reason, delay);
          try {
            await this.deps.retry.sleep(delay, this.deps.signal);
          } catch {
            // Cancelled between attempts: the last one was conclusively refused, nothing is out.
            return failureOf(this.cancelled(false), 'item', this.deps.requestTimeoutMs);
          }
          continue;
        }
      }
      return failureOf(attempt, 'item', this.deps.requestTimeoutMs);
    }
  }

  /**
   * Exactly one HTTP exchange (plus one repeat after a 401, with a fresh token): no other retry.
   * The `$batch` executor uses it for envelopes so that it can retry per item instead.
   */
  async attempt(req: GraphRequest, cost?: CallCost): Promise<Attempt> {
    const first = await this.exchange(req, cost);
    if (first.kind === 'response' && first.status === 401 && this.deps.tokenSource.invalidate) {
      // A cached token may have been revoked or rotated; one fresh token, one more try.
      this.deps.tokenSource.invalidate();
      return this.exchange(req, cost);
    }
    return first;
  }

  /** `cost`: the governor's price when the caller already knows it (a `$batch` of its own requests). */
  private async exchange(req: GraphRequest, cost?: CallCost): Promise<Attempt> {
    const { logger, correlationId } = this.deps;
    if (this.deps.signal?.aborted) return this.cancelled(false);
    let token: string;
    try {
      token = await this.deps.tokenSource.getAccessToken(this.deps.signal);
    } catch (error) {
      if (this.deps.signal?.aborted) return this.cancelled(false);
      if (isGatewayError(error)) return { kind: 'error', error };
      logger.warn({ correlationId, err: errorSummary(error) }, 'Graph token acquisition failed');
      return { kind: 'error', error: new GatewayError(ErrorCode.UPSTREAM_ERROR, 'The gateway could not obtain a Microsoft Graph token.', {}) };
    }
    const clientRequestId = randomUUID();
    const headers: Record<string, string> = {
      ...req.headers,
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      'client-request-id': clientRequestId,
    };
    let payload: string | undefined;
    // Every POST/PATCH/PUT carries a JSON body and its Content-Type, `{}` for body-less actions such
    // as revokeSignInSessions: Graph documents Content-Type as required on writes, and refuses a
    // `$batch` write item without both (docs/graph-facts.md#json-batching); single calls get the same shape.
    if (req.body !== undefined || carriesBody(req.method)) {
      payload = JSON.stringify(req.body ?? {});
      headers['content-type'] = 'application/json';
    }
    const url = `${this.versionRoot}${relativeUrl(req.path, req.query)}`;
    const route = routeLabel(req);
    const admitted = await this.admit(req, cost);
    if ('kind' in admitted) return admitted;
    try {
      return await this.send(req, url, route, headers, payload, clientRequestId);
    } finally {
      admitted.release();
    }
  }

  /** Waits for the governor's capacity; a refusal (THROTTLED) or the caller's abort comes back as an Attempt. */
  private async admit(req: GraphRequest, known?: CallCost): Promise<GovernorPermit | Attempt> {
    const governor = this.deps.governor;
    if (!governor) return { release() {} };
    const cost = known ?? costOfOutgoingCall({ method: req.method, template: req.path.template, query: req.query, body: req.body });
    try {
      return await observeGovernorWait(
        governor.acquire(cost.resourceUnits, {
          writes: cost.writes,
          ...(this.deps.signal ? { signal: this.deps.signal } : {}),
          ...(this.deps.caller !== undefined ? { caller: this.deps.caller } : {}),
        }),
      );
    } catch (error) {
      if (this.deps.signal?.aborted) return this.cancelled(false);
      if (isGatewayError(error)) {
        this.deps.logger.debug(
          { correlationId: this.deps.correlationId, route: routeLabel(req), code: error.code },
          'Graph call held back by the rate governor',
        );
        return { kind: 'error', error };
      }
      throw error;
    }
  }

  /**
   * The operation's signal fired: either its deadline passed (the caller gets a clear, retryable
   * error) or the caller went away (nobody reads the answer; any error will do). `inFlight`: a
   * request was out when it fired, so Graph may have received it.
   */
  private cancelled(inFlight: boolean, clientRequestId?: string): Attempt {
    const sent = { ...(clientRequestId ? { clientRequestId } : {}), ...(inFlight ? { inFlight } : {}) };
    // A gateway shutdown stops operations with the answer they are to give (src/gateway.ts).
    if (isGatewayError(this.deps.signal?.reason)) return { kind: 'error', error: this.deps.signal.reason, ...sent };
    const reason = this.deps.signal?.reason as { name?: unknown } | undefined;
    if (reason?.name === 'TimeoutError') {
      const limit = this.deps.operationTimeoutMs;
      return {
        kind: 'error',
        error: new GatewayError(
          ErrorCode.UPSTREAM_UNAVAILABLE,
          `The operation did not complete within ${limit !== undefined ? `${limit} ms` : 'its time limit'}: Microsoft Graph answered too slowly. Retry later or ask for less.`,
          { retryAfterSeconds: DEFAULT_RETRY_HINT_SECONDS, reason: 'OPERATION_TIMEOUT' },
        ),
        ...sent,
      };
    }
    return { kind: 'transport', failure: 'aborted', ...sent };
  }

  /** Retry-After from a throttled answer holds the whole tenant, not just this call (docs/graph-facts.md#throttling). */
  private pauseOnThrottle(status: number, body: unknown, retryAfterSeconds: number | undefined): void {
    const governor = this.deps.governor;
    if (!governor) return;
    let longest = status === 429 || status === 503 ? (retryAfterSeconds ?? 0) : 0;
    if (status >= 200 && status < 300) longest = Math.max(longest, longestItemRetryAfter(body, this.deps.retry.now()) ?? 0);
    if (longest > 0) governor.pause(longest);
  }

  private async send(
    req: GraphRequest,
    url: string,
    route: string,
    headers: Record<string, string>,
    payload: string | undefined,
    clientRequestId: string,
  ): Promise<Attempt> {
    const { logger, metrics, correlationId } = this.deps;
    const call = callSignal(this.deps.requestTimeoutMs, this.deps.signal);
    const signal = call.signal;
    const started = performance.now();
    try {
      const res = await requestVia(this.deps.upstream, url, { method: req.method, headers, ...(payload !== undefined ? { body: payload } : {}), signal });
      const text = res.text;
      const responseHeaders = res.headers;
      const requestId = graphRequestIdOf(responseHeaders['request-id']);
      const durationMs = Math.round(performance.now() - started);
      metrics.upstreamRequests.inc({ route, status: String(res.status) });
      if (logger.isLevelEnabled('debug'))
        logger.debug({ correlationId, method: req.method, route, status: res.status, durationMs, requestId, clientRequestId }, 'Graph call');
      let body: unknown;
      if (text.length > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          if (res.status >= 200 && res.status < 300) {
            // Graph answered 2xx but unreadably: for a write, what it did is not known for sure.
            return { kind: 'error', error: malformedResponse('the body is not JSON', requestId), clientRequestId, inFlight: true };
          }
          body = undefined;
        }
      }
      const retryAfterSeconds = parseRetryAfter(responseHeaders['retry-after'], this.deps.retry.now());
      this.pauseOnThrottle(res.status, body, retryAfterSeconds);
      return { kind: 'response', status: res.status, body, headers: responseHeaders, requestId, retryAfterSeconds, clientRequestId };
    } catch (error) {
      // A connection that was never established sent nothing; anything else may have reached Graph.
      const notSent = neverConnected(error);
      if (this.deps.signal?.aborted) {
        metrics.upstreamRequests.inc({ route, status: 'aborted' });
        logger.debug(
          { correlationId, method: req.method, route, status: 'aborted', durationMs: Math.round(performance.now() - started), clientRequestId },
          'Graph call cancelled',
        );
        return this.cancelled(!notSent, clientRequestId);
      }
      const durationMs = Math.round(performance.now() - started);
      if (isResponseTooLarge(error)) {
        // Sent and answered, but past the bound (docs/security.md#upstream-answers-are-bounded): not
        // repeated, since the same request would bring the same answer; for a write, what it did is unknown.
        metrics.upstreamRequests.inc({ route, status: 'too_large' });
        logger.warn(
          { correlationId, method: req.method, route, durationMs, clientRequestId },
          'Graph answer larger than MAX_UPSTREAM_RESPONSE_BYTES; not read',
        );
        return { kind: 'error', error: malformedResponse('the answer is larger than the gateway reads', undefined), clientRequestId, inFlight: true };
      }
      const failure: TransportFailureKind = notSent ? 'connect' : isTimeout(error, call.timedOut()) ? 'timeout' : 'network';
      metrics.upstreamRequests.inc({ route, status: failure });
      logger.debug({ correlationId, method: req.method, route, status: failure, durationMs, clientRequestId, err: errorSummary(error) }, 'Graph call failed');
      return { kind: 'transport', failure, clientRequestId };
    } finally {
      call.end();
    }
  }
}

/** Metrics and log label: method and route template, never an id. */
export function routeLabel(req: Pick<GraphRequest, 'method' | 'path'>): string {
  return `${req.method} ${req.path.template}`;
}

export function attemptRetryReason(attempt: Attempt): ReturnType<typeof retryReasonOf> {
  if (attempt.kind === 'response') return RETRYABLE_STATUSES.has(attempt.status) ? retryReasonOf(attempt.status) : undefined;
  if (attempt.kind === 'transport' && attempt.failure !== 'aborted') return attempt.failure;
  return undefined;
}

/**
 * Whether Graph may have applied a request that ended in this attempt (docs/security.md#writes-with-an-unknown-outcome):
 * it was sent and no conclusive answer came back. 502 and 504 come from a gateway in front of the
 * service that gave up waiting for it, not from the service; 429 and 503 mean it was not processed.
 */
export function outcomeUnknown(attempt: Attempt): boolean {
  switch (attempt.kind) {
    case 'response':
      return attempt.status === 502 || attempt.status === 504;
    case 'transport':
      return attempt.failure === 'network' || attempt.failure === 'timeout' || attempt.inFlight === true;
    case 'error':
      return attempt.inFlight === true;
  }
}

export function failureOf(attempt: Attempt, scope: 'item' | 'batch', timeoutMs: number): GraphFailure {
  const facts = {
    scope,
    outcome: outcomeUnknown(attempt) ? ('unknown' as const) : ('failed' as const),
    clientRequestId: attempt.clientRequestId,
  };
  switch (attempt.kind) {
    case 'response':
      return graphFailure(
        mapGraphError({ status: attempt.status, body: attempt.body, requestId: attempt.requestId, retryAfterSeconds: attempt.retryAfterSeconds }),
        { ...facts, status: attempt.status, retryAfterSeconds: attempt.retryAfterSeconds },
      );
    case 'transport':
      return graphFailure(transportError(attempt.failure, timeoutMs), { ...facts, status: undefined });
    case 'error':
      return graphFailure(attempt.error, { ...facts, status: undefined });
  }
}

/** Error codes of a connection that was never established: DNS, refusal, unreachable, connect timeout, TLS handshake. */
const NOT_CONNECTED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  // HTTPS_PROXY refused, dropped or did not answer the tunnel: nothing reached Graph.
  PROXY_TUNNEL_FAILED,
]);

function neverConnected(error: unknown): boolean {
  const candidates = [error, (error as { cause?: unknown } | null)?.cause];
  return candidates.some((e) => {
    const code = (e as { code?: unknown } | null)?.code;
    return typeof code === 'string' && NOT_CONNECTED_CODES.has(code);
  });
}

/**
 * One HTTP exchange's signal: its own time limit, or the operation's signal. A timer and a
 * listener that `end()` removes, rather than AbortSignal.timeout + AbortSignal.any, whose timer
 * and dependency tracking outlive every call by the whole timeout.
 */
function callSignal(timeoutMs: number, parent: AbortSignal | undefined): { signal: AbortSignal; timedOut(): boolean; end(): void } {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`The Graph call exceeded ${timeoutMs} ms.`, 'TimeoutError'));
  }, timeoutMs);
  timer.unref();
  const follow = () => controller.abort(parent!.reason);
  if (parent?.aborted) follow();
  else parent?.addEventListener('abort', follow, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    end() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', follow);
    },
  };
}

function isTimeout(error: unknown, timedOut: boolean): boolean {
  if (timedOut) return true;
  const names = [error, (error as { cause?: unknown } | null)?.cause];
  return names.some((e) => {
    const code = (e as { code?: unknown } | null)?.code;
    const name = (e as { name?: unknown } | null)?.name;
    return name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
  });
}

/** Enough to diagnose a transport failure without logging request data. */
function errorSummary(error: unknown): { name?: string; code?: string; message?: string } {
  const e = error as { name?: unknown; code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | null;
  return {
    name: typeof e?.name === 'string' ? e.name : undefined,
    code: typeof e?.cause?.code === 'string' ? e.cause.code : typeof e?.code === 'string' ? e.code : undefined,
    message: typeof e?.cause?.message === 'string' ? e.cause.message.slice(0, 200) : typeof e?.message === 'string' ? e.message.slice(0, 200) : undefined,
  };
}
