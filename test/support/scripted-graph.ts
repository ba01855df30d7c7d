import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createUpstreamHttp, type UpstreamHttp } from '../../src/http/upstream.js';

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
    async close() {
      await upstream.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
