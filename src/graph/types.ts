import type { GatewayError } from '../errors.js';
import type { GraphPath } from './paths.js';

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
  /** JSON body. */
  body?: unknown;
  /**
   * Whether repeating the call cannot change the outcome. GETs always are; writes are retried on
   * 429/503/504/connection failures only when marked so (disable, revoke, set the same password).
   */
  idempotent?: boolean;
}

/** A Graph answer with a 2xx status. */
export interface GraphSuccess<T = unknown> {
  ok: true;
  status: number;
  /** Parsed JSON body; `undefined` for an empty body (204). */
  body: T;
  /** Graph's `request-id`. */
  requestId: string | undefined;
  headers: Record<string, string>;
}

/** A failed call as a value: what `request` and each `batch` item give back instead of throwing. */
export interface GraphFailure {
  ok: false;
  /** Graph's status, or undefined when no answer came (connection failure, timeout). */
  status: number | undefined;
  error: GatewayError;
  /** `item`: this request alone failed; `batch`: the `$batch` envelope carrying it failed. */
  scope: 'item' | 'batch';
}

export type GraphResult<T = unknown> = GraphSuccess<T> | GraphFailure;

export function isIdempotent(req: GraphRequest): boolean {
  return req.method === 'GET' || req.idempotent === true;
}
