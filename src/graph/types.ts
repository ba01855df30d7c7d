import type { GraphPath } from './paths.js';
import type { GraphFailure } from './upstream-failure.js';

export type { GraphFailure } from './upstream-failure.js';

/**
 * One Graph call as the client's primitives (`request`, `batch`) take it. The path can only come
 * from the helpers in paths.ts, so no caller-controlled text reaches a URL unencoded and every call
 * carries a route template for metrics and logs.
 */
export interface GraphRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: GraphPath;
  /** OData and other query parameters (`$select`, `$top`, ...); values are encoded by the client. */
  query?: Record<string, string | undefined>;
  /** Extra request headers (`ConsistencyLevel`, `Prefer`). Auth and ids are added by the client. */
  headers?: Record<string, string>;
  /** JSON body. POST, PATCH and PUT always carry one (`{}` when this is undefined). */
  body?: unknown;
  /** What repeating the call could do; see `RequestEffect`. Default: `read` for GET, `write` otherwise. */
  effect?: RequestEffect;
  /**
   * `false`: never repeated, whatever the effect. For a read whose answer only adds detail to the
   * writes it travels with (who the user is, beside a revocation): waiting for its repeats would
   * hold back the answer about the writes.
   */
  repeat?: false;
}

/**
 * What sending a call twice could do, which decides when the client may repeat it
 * (docs/reliability.md, docs/security.md#writes-with-an-unknown-outcome):
 * - `read`: nothing (GET, and POST actions that only read, such as getByIds). Repeated on any
 *   transient failure: 429/503/504, a timeout, a lost connection.
 * - `idempotent-write`: a second application leaves the same state (disable, revoke, set the same
 *   password). Repeated only when Graph certainly did not apply it: a 429 or 503 answer, or a
 *   connection that was never established. Never after a timeout or a connection lost once the
 *   request was sent: the outcome is then unknown and is reported as such.
 * - `write`: a second application would do something again (create a user, mint a pass, start a
 *   reset). Repeated under the same rule as `idempotent-write`; an unknown outcome carries no
 *   retry hint, because the caller must look before trying again.
 */
export type RequestEffect = 'read' | 'idempotent-write' | 'write';

/** A Graph answer with a 2xx status. */
export interface GraphSuccess<T = unknown> {
  ok: true;
  status: number;
  /** Parsed JSON body; `undefined` for an empty body (204). */
  body: T;
  /** Graph's `request-id`. */
  requestId: string | undefined;
  headers: Record<string, string>;
  /** The `client-request-id` the gateway sent (for a `$batch` item: the envelope's). */
  clientRequestId?: string;
}

export type GraphResult<T = unknown> = GraphSuccess<T> | GraphFailure;

export function effectOf(req: Pick<GraphRequest, 'method' | 'effect'>): RequestEffect {
  return req.effect ?? (req.method === 'GET' ? 'read' : 'write');
}

/** Methods whose request carries a body (docs/graph-facts.md#json-batching: write items need a body and Content-Type). */
export function carriesBody(method: GraphRequest['method']): boolean {
  return method === 'POST' || method === 'PATCH' || method === 'PUT';
}
