/**
 * The naive contender's Graph access: what a first GraphQL-over-Graph server usually has. A
 * client-credentials token fetched once at start, then one plain `fetch` per call, full default
 * objects (no `$select`), 404 read as null. Deliberately no batching, no caching, no retries.
 */
import { Agent, fetch, type Dispatcher } from 'undici';
import { fetchClientCredentialsToken, type ClientCredentials } from '../lib/client-credentials.js';

export interface NaiveGraphOptions extends ClientCredentials {
  /** Graph origin without version, e.g. `https://127.0.0.1:8443`; the token authority shares it. */
  graphOrigin: string;
  /** Extra CA to trust (the emulator's); without it the process's default trust applies. */
  caPem?: string;
}

export interface NaiveGraph {
  get(path: string): Promise<Record<string, unknown> | null>;
  send(method: 'POST' | 'PATCH', path: string, body?: unknown): Promise<void>;
  close(): Promise<void>;
}

export async function connectNaiveGraph(options: NaiveGraphOptions): Promise<NaiveGraph> {
  const dispatcher: Dispatcher = new Agent(options.caPem ? { connect: { ca: options.caPem } } : {});
  const token = await fetchClientCredentialsToken(options, dispatcher);
  const base = `${options.graphOrigin}/v1.0`;

  return {
    async get(path) {
      const res = await fetch(`${base}${path}`, { dispatcher, headers: { authorization: `Bearer ${token}` } });
      if (res.status === 404) {
        await res.body?.cancel();
        return null;
      }
      if (!res.ok) throw new Error(`Graph GET ${path.split('?')[0]} failed with HTTP ${res.status}`);
      return (await res.json()) as Record<string, unknown>;
    },
    async send(method, path, body) {
      const res = await fetch(`${base}${path}`, {
        method,
        dispatcher,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`Graph ${method} ${path} failed with HTTP ${res.status}`);
    },
    close: () => dispatcher.close(),
  };
}
