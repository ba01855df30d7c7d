/**
 * Span attribute and event names (docs/operations.md#traces). Standard OpenTelemetry semantic
 * conventions where one exists (the stable ones from the package; the incubating `url.template`
 * and `graphql.operation.*` spelled out, since their entry point loads every convention there is);
 * `msgraph.*` for Microsoft Graph specifics and `gateway.*` for the gateway's own.
 *
 * What never goes into a span: tokens, secrets, passwords, API keys, GraphQL variables or document
 * text, filter and search values, ids or UPNs in URLs (routes are templates), caller subjects.
 */
export {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';

export const ATTR_URL_TEMPLATE = 'url.template';
export const ATTR_GRAPHQL_OPERATION_NAME = 'graphql.operation.name';
export const ATTR_GRAPHQL_OPERATION_TYPE = 'graphql.operation.type';

/** Graph's `request-id` answer header: what Microsoft support traces a call by. */
export const ATTR_GRAPH_REQUEST_ID = 'msgraph.request_id';
/** The `client-request-id` the gateway sent (a fresh GUID per HTTP request; Graph echoes it). */
export const ATTR_GRAPH_CLIENT_REQUEST_ID = 'msgraph.client_request_id';
/** Graph's error code (`Request_ResourceNotFound`, `TooManyRequests`...): a closed vocabulary of Graph's. */
export const ATTR_GRAPH_ERROR_CODE = 'msgraph.error_code';
/** `unknown` when a write was sent and no conclusive answer came back (docs/security.md#writes-with-an-unknown-outcome). */
export const ATTR_GRAPH_OUTCOME = 'msgraph.outcome';
/** Requests a `$batch` envelope carried. */
export const ATTR_GRAPH_BATCH_SIZE = 'msgraph.batch.size';
/** One entry per item: `METHOD /route/{template} STATUS` (`none` when the envelope failed). */
export const ATTR_GRAPH_BATCH_ITEMS = 'msgraph.batch.items';

/** The operation's caller: `anonymous`, `api-key` or `entra` (never the key, token or subject). */
export const ATTR_CALLER_KIND = 'gateway.caller.kind';
/** With `entra`: `user` (delegated token) or `app` (app-only token). */
export const ATTR_CALLER_PRINCIPAL = 'gateway.caller.principal';
export const ATTR_CORRELATION_ID = 'gateway.correlation_id';
/** The public error codes of the answer (`extensions.code`). */
export const ATTR_ERROR_CODES = 'gateway.error_codes';
/** HTTP requests the operation sent to Microsoft Graph (every attempt; a `$batch` envelope counts once). */
export const ATTR_UPSTREAM_REQUESTS = 'gateway.upstream_requests';

/** A failed attempt that will be repeated, with why and after how long. */
export const EVENT_RETRY = 'msgraph.retry';
export const ATTR_RETRY_ATTEMPT = 'msgraph.retry.attempt';
export const ATTR_RETRY_REASON = 'msgraph.retry.reason';
export const ATTR_RETRY_WAIT_MS = 'msgraph.retry.wait_ms';
/** Retry-After Graph sent, in seconds (absent when it sent none and the wait is a backoff). */
export const ATTR_RETRY_AFTER_S = 'msgraph.retry_after_s';
/** `$batch`: how many items of the previous round this envelope repeats. */
export const ATTR_RETRY_ITEMS = 'msgraph.retry.items';
/** The tenant's rate governor held the call back before it was sent. */
export const EVENT_GOVERNOR_QUEUED = 'msgraph.governor.queued';
export const ATTR_GOVERNOR_WAIT_MS = 'msgraph.governor.wait_ms';
/** The governor refused the call (THROTTLED) without sending it. */
export const EVENT_GOVERNOR_REFUSED = 'msgraph.governor.refused';
