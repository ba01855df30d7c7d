/**
 * JSON batching (`POST /$batch`, docs/graph-facts.md#json-batching): at most 20 items, unique ids, relative URLs,
 * `dependsOn` with 424 for failed dependencies, responses in an order that is not the input order.
 * The envelope is 400 when malformed and 200 otherwise; each item carries its own status. A write
 * item (POST, PATCH, PUT) must carry a `body` (an empty object where the action takes none) and a
 * `Content-Type` header: otherwise Graph refuses the WHOLE batch, none of its items run.
 */
import type { EmulatorContext } from '../context.js';
import type { EmuRequest, EmuResponse } from '../http.js';
import { createPrng } from '../prng.js';
import { authenticate } from './authorization.js';
import { assertJsonContentType } from './content-type.js';
import { GraphError, errorBody, errorResponse, type RequestIds } from './errors.js';

export const BATCH_LIMIT = 20;
const ITEM_METHODS = new Set(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']);
/** Items that must carry `headers` with Content-Type and a `body` (docs/graph-facts.md#json-batching). */
const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT']);

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

export interface BatchItemResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

const ABSOLUTE_URL = /^[a-z][a-z0-9+.-]*:\/\//i;

const invalidPayload = (detail: string) => new GraphError(400, 'BadRequest', `Invalid batch payload format. ${detail}`.trim());

function parseItems(req: EmuRequest): BatchItem[] {
  let payload: unknown;
  try {
    payload = JSON.parse(req.body.toString('utf8'));
  } catch {
    throw invalidPayload('The body is not valid JSON.');
  }
  const requests = (payload as { requests?: unknown } | null)?.requests;
  if (!Array.isArray(requests)) throw invalidPayload("The body must be an object with a 'requests' array.");
  if (requests.length === 0) throw invalidPayload('The batch holds no requests.');
  if (requests.length > BATCH_LIMIT) throw new GraphError(400, 'BadRequest', `The number of batch requests exceeds the limit of ${BATCH_LIMIT}.`);
  const items: BatchItem[] = requests.map((raw: unknown, index) => {
    if (raw === null || typeof raw !== 'object') throw invalidPayload(`Request ${index} is not an object.`);
    const r = raw as Record<string, unknown>;
    if (typeof r.id !== 'string' || r.id === '') throw invalidPayload(`Request ${index} has no 'id'.`);
    if (typeof r.method !== 'string' || r.method === '') throw invalidPayload(`Request '${r.id}' has no 'method'.`);
    if (typeof r.url !== 'string' || r.url === '') throw invalidPayload(`Request '${r.id}' has no 'url'.`);
    // The url is relative to the version root (json-batching); one with a scheme and host sinks the whole
    // batch with Graph's bare "Invalid batch payload format." (docs/graph-facts.md#json-batching).
    if (ABSOLUTE_URL.test(r.url)) throw invalidPayload('');
    const headers: Record<string, string> = {};
    if (r.headers !== undefined) {
      if (r.headers === null || typeof r.headers !== 'object' || Array.isArray(r.headers)) throw invalidPayload(`Request '${r.id}' has invalid 'headers'.`);
      for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = String(v);
    }
    const dependsOn = r.dependsOn === undefined ? [] : r.dependsOn;
    if (!Array.isArray(dependsOn) || !dependsOn.every((d) => typeof d === 'string')) throw invalidPayload(`Request '${r.id}' has invalid 'dependsOn'.`);
    return { id: r.id, method: r.method.toUpperCase(), url: r.url, headers, body: r.body, dependsOn: dependsOn as string[] };
  });
  const ids = new Set<string>();
  for (const item of items) {
    const key = item.id.toLowerCase();
    if (ids.has(key)) throw new GraphError(400, 'BadRequest', `Batch request ids must be unique; '${item.id}' is used more than once.`);
    ids.add(key);
  }
  for (const item of items) {
    for (const dep of item.dependsOn) {
      if (!ids.has(dep.toLowerCase())) throw new GraphError(400, 'BadRequest', `Request '${item.id}' depends on '${dep}', which is not in the batch.`);
    }
  }
  // Graph's own wording (docs/graph-facts.md#json-batching): a body-less revokeSignInSessions sinks the batch.
  for (const item of items) {
    const hasBody = item.body !== undefined && item.body !== null;
    if (WRITE_METHODS.has(item.method) && (!hasBody || !item.headers['content-type'])) {
      throw new GraphError(400, 'BadRequest', `Write request id : ${item.id} does not contain Content-Type header or body.`);
    }
  }
  return items;
}

/** Dependencies first; a cycle is a malformed batch. */
function executionOrder(items: BatchItem[]): BatchItem[] {
  const byId = new Map(items.map((i) => [i.id.toLowerCase(), i]));
  const state = new Map<string, 'visiting' | 'done'>();
  const order: BatchItem[] = [];
  const visit = (item: BatchItem) => {
    const key = item.id.toLowerCase();
    if (state.get(key) === 'done') return;
    if (state.get(key) === 'visiting') throw new GraphError(400, 'BadRequest', `The dependsOn chain of request '${item.id}' is circular.`);
    state.set(key, 'visiting');
    for (const dep of item.dependsOn) visit(byId.get(dep.toLowerCase())!);
    state.set(key, 'done');
    order.push(item);
  };
  for (const item of items) visit(item);
  return order;
}

function toItemRequest(ctx: EmulatorContext, envelope: EmuRequest, version: string, item: BatchItem): EmuRequest | GraphError {
  if (!ITEM_METHODS.has(item.method)) return new GraphError(400, 'BadRequest', `Method '${item.method}' is not supported in a batch request.`);
  let body = Buffer.alloc(0);
  if (item.body !== undefined && item.body !== null) {
    if (!item.headers['content-type']) return new GraphError(400, 'BadRequest', 'A Content-Type header is required for a batch request item with a body.');
    body = Buffer.from(typeof item.body === 'string' ? item.body : JSON.stringify(item.body), 'utf8');
  }
  const relative = item.url.startsWith('/') ? item.url : `/${item.url}`;
  const rawUrl = `/${version}${relative}`;
  const queryAt = rawUrl.indexOf('?');
  const headers: Record<string, string | undefined> = { ...item.headers };
  headers.authorization = envelope.headers.authorization;
  return {
    method: item.method,
    url: new URL(rawUrl, ctx.origin),
    rawPath: queryAt >= 0 ? rawUrl.slice(0, queryAt) : rawUrl,
    rawQuery: queryAt >= 0 ? rawUrl.slice(queryAt) : '',
    headers,
    body,
    batchItemId: item.id,
  };
}

function itemHeaders(response: EmuResponse): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(response.headers ?? {})) {
    if (['content-type', 'location', 'retry-after', 'cache-control', 'odata-version'].includes(k.toLowerCase()))
      out[k.toLowerCase() === 'retry-after' ? 'Retry-After' : k] = v;
  }
  return out;
}

function itemBody(response: EmuResponse): unknown {
  if (response.body === undefined || response.body === null) return undefined;
  if (Buffer.isBuffer(response.body)) return response.body.toString('base64');
  return response.body;
}

/** Deterministic, but not input order: a seeded shuffle keyed by the batch's ids. */
function shuffle<T>(items: T[], seedText: string): T[] {
  let seed = 2166136261;
  for (const ch of seedText) seed = Math.imul(seed ^ ch.charCodeAt(0), 16777619) >>> 0;
  const prng = createPrng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = prng.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  if (out.length > 1 && out.every((x, i) => x === items[i])) out.push(out.shift()!);
  return out;
}

export async function handleBatch(
  ctx: EmulatorContext,
  req: EmuRequest,
  version: string,
  ids: RequestIds,
  runItem: (itemReq: EmuRequest) => Promise<EmuResponse>,
): Promise<EmuResponse> {
  let items: BatchItem[];
  let order: BatchItem[];
  try {
    await authenticate(ctx, req);
    // The envelope is a POST with a JSON body like any other: json-batching's request carries
    // `Content-Type: application/json`, as the OData JSON batch format it implements requires
    // (docs/graph-facts.md#json-batching). Without it, or with another type, no item runs.
    assertJsonContentType(req, `POST /${version}/$batch`);
    items = parseItems(req);
    order = executionOrder(items);
  } catch (error) {
    if (error instanceof GraphError) return errorResponse(error, ids);
    throw error;
  }
  const results = new Map<string, BatchItemResponse>();
  const itemRoutes: string[] = [];
  for (const item of order) {
    const failedDep = item.dependsOn.find((dep) => {
      const r = results.get(dep.toLowerCase());
      return r === undefined || r.status >= 400;
    });
    if (failedDep !== undefined) {
      results.set(item.id.toLowerCase(), {
        id: item.id,
        status: 424,
        headers: { 'content-type': 'application/json' },
        body: errorBody('FailedDependency', `The request depends on request '${failedDep}', which failed.`, { ...ids, requestId: ids.requestId }),
      });
      continue;
    }
    const itemReq = toItemRequest(ctx, req, version, item);
    let response: EmuResponse;
    if (itemReq instanceof GraphError) response = { ...errorResponse(itemReq, ids), route: `${item.method} (invalid batch item)` };
    else response = await runItem(itemReq);
    itemRoutes.push(response.route ?? `${item.method} (unknown)`);
    const result: BatchItemResponse = { id: item.id, status: response.status, headers: itemHeaders(response) };
    const body = itemBody(response);
    if (body !== undefined) result.body = body;
    results.set(item.id.toLowerCase(), result);
  }
  ctx.stats.recordBatch(itemRoutes);
  const responses = shuffle(
    items.map((i) => results.get(i.id.toLowerCase())!),
    items.map((i) => i.id).join('\u0000'),
  );
  return { status: 200, headers: { 'content-type': 'application/json', 'odata-version': '4.0' }, body: { responses } };
}
