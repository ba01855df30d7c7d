import { graphPaths, relativeUrl } from './paths.js';
import { parseRetryAfter } from '../http/retry-after.js';
import { carriesBody, type GraphRequest } from './types.js';

/**
 * The JSON `$batch` wire format in one place (docs/graph-facts.md#json-batching): splitting
 * requests into envelopes of at most 20, building an envelope's items, and reading Graph's answer
 * (its items by id, their headers, the longest Retry-After of throttled items). What to do with
 * the answers (retries, failures as values) is the executor's (batch.ts).
 */

export const GRAPH_BATCH_LIMIT = 20;

/** One item of a `$batch` request body. */
export interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** One item of a `$batch` answer, as Graph sent it (anything may be missing). */
export interface BatchItemAnswer {
  id?: unknown;
  status?: unknown;
  headers?: unknown;
  body?: unknown;
}

/** `ids` in envelopes of at most `perEnvelope` (itself at most GRAPH_BATCH_LIMIT), in order. */
export function splitIntoEnvelopes<T>(ids: T[], perEnvelope: number): T[][] {
  const size = Math.min(GRAPH_BATCH_LIMIT, Math.max(1, perEnvelope));
  const envelopes: T[][] = [];
  for (let i = 0; i < ids.length; i += size) envelopes.push(ids.slice(i, i + size));
  return envelopes;
}

/** The `POST /$batch` request carrying `items`. */
export function batchEnvelopeRequest(items: BatchItem[]): GraphRequest {
  return { method: 'POST', path: graphPaths.batch(), body: { requests: items } };
}

export function batchItemOf(id: string, req: GraphRequest): BatchItem {
  const item: BatchItem = { id, method: req.method, url: relativeUrl(req.path, req.query) };
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
}

/** One item of an outgoing `$batch` body as the cost model reads it: method, path and query of its relative URL. */
export interface OutgoingBatchItem {
  method: string;
  pathname: string;
  query: Record<string, string>;
}

/** True for the `POST /$batch` envelope (its path template as the transport names it). */
export function isBatchEnvelope(call: { method: string; template: string }): boolean {
  return call.method.toUpperCase() === 'POST' && /(^|\/)\$batch$/.test(call.template);
}

/** The items of an outgoing envelope's body (`{ requests: [...] }`), each URL split into path and query. */
export function outgoingBatchItems(body: unknown): OutgoingBatchItem[] {
  const items = (body as { requests?: Array<{ method?: unknown; url?: unknown }> } | undefined)?.requests ?? [];
  return items.map((item) => {
    const url = new URL(String(item.url ?? '/'), 'https://graph.invalid');
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, name) => {
      query[name] = value;
    });
    return { method: typeof item.method === 'string' ? item.method : 'GET', pathname: url.pathname, query };
  });
}

/**
 * The answer's items by id, or undefined when the body has no `responses` array. An id answered
 * twice maps to `AMBIGUOUS`: Graph answers each request of a batch once (docs/graph-facts.md#json-batching),
 * and of two answers (a 204 and a 403 for one PATCH) neither says what became of the request.
 */
export function readBatchAnswers(body: unknown): Map<string, BatchItemAnswer | typeof AMBIGUOUS> | undefined {
  const list = (body as { responses?: unknown } | null)?.responses;
  if (!Array.isArray(list)) return undefined;
  const byId = new Map<string, BatchItemAnswer | typeof AMBIGUOUS>();
  for (const item of list as BatchItemAnswer[]) {
    // Ids are case-insensitive in Graph; ours are decimal, so String() is enough.
    if (!item || (typeof item.id !== 'string' && typeof item.id !== 'number')) continue;
    const id = String(item.id);
    byId.set(id, byId.has(id) ? AMBIGUOUS : item);
  }
  return byId;
}

/** An item id a `$batch` answer answered more than once. */
export const AMBIGUOUS = Symbol('answered more than once');

/** An item's headers with lower-case names (Graph's casing varies), string values only. */
export function batchItemHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof headers !== 'object' || headers === null) return out;
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof value === 'string') out[name.toLowerCase()] = value;
    else if (typeof value === 'number') out[name.toLowerCase()] = String(value);
  }
  return out;
}

/**
 * The longest Retry-After, in seconds, among the 429/503 items of a `$batch` answer (a throttled
 * item holds the whole tenant, docs/graph-facts.md#throttling); undefined when there is none.
 */
export function longestItemRetryAfter(body: unknown, now: number): number | undefined {
  const items = (body as { responses?: unknown } | null | undefined)?.responses;
  if (!Array.isArray(items)) return undefined;
  let longest: number | undefined;
  for (const item of items as Array<{ status?: unknown; headers?: unknown } | null>) {
    if (item?.status !== 429 && item?.status !== 503) continue;
    const headers = (typeof item.headers === 'object' && item.headers !== null ? item.headers : {}) as Record<string, unknown>;
    const raw = Object.entries(headers).find(([name]) => name.toLowerCase() === 'retry-after')?.[1];
    const seconds = parseRetryAfter(typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw : undefined, now);
    if (seconds !== undefined) longest = Math.max(longest ?? 0, seconds);
  }
  return longest;
}
