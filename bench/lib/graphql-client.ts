/** A minimal GraphQL-over-HTTP client for the load generator: keep-alive, JSON, errors as throws. */
import { Agent, request } from 'undici';
import type { GraphqlOperation } from '../scenarios.js';

export interface GraphqlClient {
  /** The `data` of the answer; throws with the first error's code and message otherwise. */
  execute(operation: GraphqlOperation): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export function createGraphqlClient(url: string, headers: Record<string, string> = {}): GraphqlClient {
  const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 128 });
  return {
    async execute(operation) {
      const res = await request(url, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: JSON.stringify(operation),
      });
      const text = await res.body.text();
      let answer: { data?: Record<string, unknown> | null; errors?: Array<{ message?: string; extensions?: { code?: string } }> };
      try {
        answer = JSON.parse(text) as typeof answer;
      } catch {
        throw new Error(`HTTP ${res.statusCode}, not JSON: ${text.slice(0, 200)}`);
      }
      const first = answer.errors?.[0];
      if (first) throw new Error(`${first.extensions?.code ?? 'ERROR'}: ${first.message ?? 'no message'}`);
      if (!answer.data) throw new Error(`HTTP ${res.statusCode} without data`);
      return answer.data;
    },
    close: () => dispatcher.close(),
  };
}
