/**
 * The floor contender's REST client: the thinnest thing that can talk to Graph. A client-credentials
 * token fetched once, keep-alive connections, `$batch` with relative URLs. No retries, no mapping:
 * any non-2xx answer (an envelope or an item) is an error, since the floor's calls are known-good.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { fetchClientCredentialsToken, type ClientCredentials } from '../lib/client-credentials.js';

export interface FloorClientOptions extends ClientCredentials {
  graphOrigin: string;
  caPem?: string;
}

export interface BatchItem {
  method: 'GET' | 'POST' | 'PATCH';
  /** Relative to the version root, e.g. `/users/{id}?$select=id`. */
  url: string;
  body?: unknown;
}

export interface BatchItemResponse {
  status: number;
  body: unknown;
}

/** Graph's `$batch` limit (docs/graph-facts.md#json-batching). */
export const BATCH_LIMIT = 20;

export interface FloorClient {
  get(url: string): Promise<unknown>;
  /** One `$batch` POST (at most 20 items); responses in the order of `items`. */
  batch(items: BatchItem[]): Promise<BatchItemResponse[]>;
  close(): Promise<void>;
}

export async function connectFloorClient(options: FloorClientOptions): Promise<FloorClient> {
  const dispatcher: Dispatcher = new Agent({ keepAliveTimeout: 30_000, ...(options.caPem ? { connect: { ca: options.caPem } } : {}) });
  const token = await fetchClientCredentialsToken(options, dispatcher, 'floor: ');
  const base = `${options.graphOrigin}/v1.0`;
  const auth = { authorization: `Bearer ${token}` };

  return {
    async get(url) {
      const res = await request(`${base}${url}`, { dispatcher, headers: auth });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`floor: GET ${url.split('?')[0]} answered HTTP ${res.statusCode}`);
      }
      return res.body.json();
    },
    async batch(items) {
      if (items.length === 0 || items.length > BATCH_LIMIT) throw new RangeError(`a $batch holds 1 to ${BATCH_LIMIT} requests, received ${items.length}`);
      // Write items need a body ({} for a body-less action) and Content-Type, or Graph refuses the
      // whole batch (docs/graph-facts.md#json-batching).
      const requests = items.map((item, i) => {
        const write = item.method !== 'GET';
        const body = item.body ?? (write ? {} : undefined);
        return {
          id: String(i + 1),
          method: item.method,
          url: item.url,
          ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
        };
      });
      const res = await request(`${base}/$batch`, {
        method: 'POST',
        dispatcher,
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ requests }),
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`floor: $batch answered HTTP ${res.statusCode}`);
      }
      const { responses } = (await res.body.json()) as { responses: Array<{ id: string; status: number; body?: unknown }> };
      const byId = new Map(responses.map((r) => [r.id, r]));
      return items.map((item, i) => {
        const answer = byId.get(String(i + 1));
        if (!answer) throw new Error(`floor: $batch answer lacks item ${i + 1}`);
        if (answer.status < 200 || answer.status > 299)
          throw new Error(`floor: $batch item ${item.method} ${item.url.split('?')[0]} answered HTTP ${answer.status}`);
        return { status: answer.status, body: answer.body };
      });
    },
    close: () => dispatcher.close(),
  };
}

/** Splits items into `$batch` calls of at most 20 and sends them all at once (one round trip). */
export async function batchAll(client: FloorClient, items: BatchItem[]): Promise<BatchItemResponse[]> {
  const chunks: BatchItem[][] = [];
  for (let i = 0; i < items.length; i += BATCH_LIMIT) chunks.push(items.slice(i, i + BATCH_LIMIT));
  return (await Promise.all(chunks.map((chunk) => client.batch(chunk)))).flat();
}
