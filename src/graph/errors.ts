import { ErrorCode, GatewayError, type GatewayErrorExtensions } from '../errors.js';
import { scrubbedUpstreamText } from '../http/upstream-text.js';

/**
 * Graph failure -> GatewayError (the closed set in src/errors.ts). Graph's `code` and, where it is safe and useful
 * (400, 403, 409, 412), a trimmed copy of its `message` reach the caller; never a whole body.
 *
 * Whatever answers at the Graph endpoint writes these texts, and it holds the gateway's bearer token:
 * one that echoes the request (a compromised or misbehaving Graph, a proxy in front of it) handed
 * that token, which carries every Graph permission of the gateway's app, to any caller allowed a
 * read (docs/security.md#graphs-error-text). So a code is kept only when it reads as one, a
 * request-id only when it reads as an id, and the message is printable, scrubbed and bounded.
 */

export interface GraphErrorDetail {
  /** Most specific non-empty, non-numeric code found walking `innerError`/`innererror`. */
  code: string | undefined;
  message: string | undefined;
  /** `request-id` from inside the error body (Graph repeats it there). */
  requestId: string | undefined;
}

const MAX_MESSAGE = 300;

/**
 * Graph's codes are identifiers (`Authorization_RequestDenied`, `Request_ResourceNotFound`,
 * `badRequest_ExpiredSyncState`: docs/graph-facts.md#errors-and-request-ids); anything else is no code.
 */
const GRAPH_CODE = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;

/**
 * Graph's request-ids are GUIDs (docs/graph-facts.md#errors-and-request-ids); a little more is
 * kept (letters, digits and hyphens, 64 at most) for whatever else answers there, but nothing
 * with the dots of a JWT nor the length of a token or a secret.
 */
const GRAPH_REQUEST_ID = /^[A-Za-z0-9-]{1,64}$/;

/** Graph's `request-id` (a response header, a `$batch` item's header, an error body's), or undefined when it does not read as one. */
export function graphRequestIdOf(value: unknown): string | undefined {
  return typeof value === 'string' && GRAPH_REQUEST_ID.test(value) ? value : undefined;
}

function graphCodeOf(value: unknown): string | undefined {
  return typeof value === 'string' && GRAPH_CODE.test(value) ? value : undefined;
}

/** Reads Graph's `{error:{code,message,innerError:{...}}}`, tolerating anything else. */
export function readGraphErrorBody(body: unknown): GraphErrorDetail {
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  if (!error) return { code: undefined, message: undefined, requestId: undefined };
  // An empty code says nothing: json-batching's example response has a 403 item with `"code": ""`
  // (docs/graph-facts.md#errors-and-request-ids), which must read as "no code", not as a code.
  let code = graphCodeOf(error.code);
  let requestId: string | undefined;
  let inner: unknown = error.innerError ?? error.innererror;
  for (let depth = 0; isRecord(inner) && depth < 10; depth++) {
    // Numeric inner codes ("429") say less than the outer one ("TooManyRequests").
    if (graphCodeOf(inner.code) !== undefined) code = inner.code as string;
    requestId = graphRequestIdOf(inner['request-id']) ?? requestId;
    inner = inner.innerError ?? inner.innererror;
  }
  return { code, message: typeof error.message === 'string' ? error.message : undefined, requestId };
}

/** Graph's message made safe to show: printable, one line, nothing token-shaped, bounded. */
export function safeGraphMessage(message: string | undefined): string {
  if (!message) return 'no reason given';
  return scrubbedUpstreamText(message, [], MAX_MESSAGE) || 'no reason given';
}

export interface UpstreamFailureContext {
  status: number;
  body: unknown;
  /** Graph's `request-id` response header. */
  requestId: string | undefined;
  /**
   * The request-id to give when neither the header nor the body names one: a `$batch` item's
   * envelope's (the body is read once, here, so its own request-id comes before this one).
   */
  fallbackRequestId?: string | undefined;
  /** Parsed `Retry-After`, in seconds. */
  retryAfterSeconds: number | undefined;
}

/** When Graph gives no Retry-After, the hint a caller gets for THROTTLED/UPSTREAM_UNAVAILABLE. */
export const DEFAULT_RETRY_HINT_SECONDS = 5;

export function mapGraphError(ctx: UpstreamFailureContext): GatewayError {
  const detail = readGraphErrorBody(ctx.body);
  const extensions: GatewayErrorExtensions = {};
  const requestId = ctx.requestId ?? detail.requestId ?? ctx.fallbackRequestId;
  if (requestId) extensions.requestId = requestId;
  if (detail.code) extensions.graphErrorCode = detail.code;
  const reason = `${detail.code ?? `HTTP ${ctx.status}`}: ${safeGraphMessage(detail.message)}`;
  const retryHint = ctx.retryAfterSeconds ?? DEFAULT_RETRY_HINT_SECONDS;
  switch (ctx.status) {
    case 400:
    case 409:
    case 412:
      return new GatewayError(ErrorCode.BAD_USER_INPUT, `Microsoft Graph rejected the request: ${reason}`, extensions);
    case 401:
      // Graph refused the gateway's own token: an operator problem, never the caller's.
      return new GatewayError(ErrorCode.UPSTREAM_ERROR, "Microsoft Graph rejected the gateway's credentials.", extensions);
    case 403:
      return new GatewayError(ErrorCode.FORBIDDEN, `Microsoft Graph denied the operation: ${reason}`, extensions);
    case 404:
      return new GatewayError(ErrorCode.NOT_FOUND, 'Microsoft Graph has no such resource.', extensions);
    case 429:
      return new GatewayError(ErrorCode.THROTTLED, `Microsoft Graph is throttling requests; retry after ${retryHint} seconds.`, {
        ...extensions,
        retryAfterSeconds: retryHint,
      });
    case 500:
    case 502:
    case 503:
    case 504:
      return new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, `Microsoft Graph is unavailable (HTTP ${ctx.status}); retry after ${retryHint} seconds.`, {
        ...extensions,
        retryAfterSeconds: retryHint,
      });
    default:
      return new GatewayError(ErrorCode.UPSTREAM_ERROR, `Microsoft Graph answered HTTP ${ctx.status} (${detail.code ?? 'no error code'}).`, extensions);
  }
}

/**
 * No answer from Graph at all. `connect`: the connection was never established, so nothing was
 * sent; `network`: the connection failed after the request may have been sent; `timeout`: no
 * answer within the per-call limit; `aborted`: the operation was cancelled.
 */
export type TransportFailureKind = 'connect' | 'network' | 'timeout' | 'aborted';

export function transportError(kind: TransportFailureKind, timeoutMs?: number): GatewayError {
  switch (kind) {
    case 'connect':
      return new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'Microsoft Graph could not be reached.', { retryAfterSeconds: DEFAULT_RETRY_HINT_SECONDS });
    case 'network':
      return new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'The connection to Microsoft Graph failed before it answered.', {
        retryAfterSeconds: DEFAULT_RETRY_HINT_SECONDS,
      });
    case 'timeout':
      return new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, `Microsoft Graph did not answer within ${timeoutMs ?? '?'} ms.`, {
        retryAfterSeconds: DEFAULT_RETRY_HINT_SECONDS,
      });
    case 'aborted':
      return new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'The request to Microsoft Graph was cancelled.', {});
  }
}

/** Malformed answer (not the JSON Graph promises). */
export function malformedResponse(what: string, requestId: string | undefined): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, `Microsoft Graph sent an unexpected response: ${what}.`, requestId ? { requestId } : {});
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
