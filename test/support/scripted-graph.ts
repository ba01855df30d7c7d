import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGraphClient, type GraphClient } from '../../src/graph/client.js';
import { createUpstreamHttp, type UpstreamHttp } from '../../src/http/upstream.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';

/**
 * A plain-HTTP server on loopback whose answers a test scripts, plus the real upstream HTTP layer
 * to reach it: for transport shapes the emulator does not produce on demand.
 */

/** One request as the scripted server received it (the whole body read). */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface ScriptedGraph {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  origin: string;
  upstream: UpstreamHttp;
  /**
   * A Graph client whose endpoint is this server, sending the bearer token `secret-token`, silent,
   * and retrying without waiting (so a test of what the client does with an answer takes no time).
   */
  graphClient(options: { requestTimeoutMs: number }): GraphClient;
  close(): Promise<void>;
}

/** `answer` is called once per request, after its body has arrived. */
export async function startScriptedGraph(answer: (req: SeenRequest, res: ServerResponse) => void): Promise<ScriptedGraph> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      answer({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const upstream = createUpstreamHttp({ extraCaPem: [] });
  return {
    origin,
    upstream,
    graphClient: ({ requestTimeoutMs }) =>
      createGraphClient({
        upstream,
        tokenSource: { partition: 'test', getAccessToken: async () => 'secret-token', invalidate: () => undefined },
        graphEndpoint: origin,
        logger: createLogger({ level: 'silent' }),
        metrics: createMetrics({ defaultMetrics: false }),
        correlationId: 'corr-1',
        requestTimeoutMs,
        retry: { random: () => 0.5, sleep: async () => undefined },
      }),
    async close() {
      await upstream.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
