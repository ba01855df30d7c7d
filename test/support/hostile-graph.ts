import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fetch as undiciFetch } from 'undici';
import { startApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { apiKeyCallers } from './api-key-callers.js';
import { startTestEmulator, type TestEmulator } from './emulator.js';

/**
 * A Microsoft Graph that another party controls: an HTTPS server on loopback, with the emulator's
 * server certificate (so a gateway trusting the emulator's CA trusts it), that relays every request
 * to the emulator unless the test's `answer` takes it over. A gateway whose GRAPH_ENDPOINT is this
 * server's origin gets real tokens from the emulator's Entra (the origin is added to the Graph
 * audiences the emulator issues tokens for) and real data, except where the test answers itself.
 */
export interface HostileRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Return true when the answer was written; false relays the request to the emulator. */
export type HostileAnswer = (req: HostileRequest, res: ServerResponse) => boolean;

export interface HostileGraph {
  /** `https://127.0.0.1:<port>` */
  origin: string;
  /** Every request received, relayed or answered. */
  seen: HostileRequest[];
  /** Replaces the answering function (default: relay everything). */
  answer: HostileAnswer;
  close(): Promise<void>;
}

export async function startHostileGraph(emulator: TestEmulator): Promise<HostileGraph> {
  const dir = path.dirname(emulator.caFile);
  const hostile: HostileGraph = {
    origin: '',
    seen: [],
    answer: () => false,
    close: async () => undefined,
  };
  const server = createServer(
    { cert: readFileSync(path.join(dir, 'emulator-server.pem')), key: readFileSync(path.join(dir, 'emulator-server.key')) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const seen: HostileRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        hostile.seen.push(seen);
        if (hostile.answer(seen, res)) return;
        void relay(emulator, hostile.origin, seen, res);
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hostile.origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The emulator's Entra issues Graph tokens for the resources it knows as Graph.
  emulator.context.graphAudiences.push(hostile.origin, `${hostile.origin}/`);
  hostile.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return hostile;
}

async function relay(emulator: TestEmulator, hostileOrigin: string, req: HostileRequest, res: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string' && !['host', 'connection', 'content-length', 'transfer-encoding'].includes(name)) headers[name] = value;
  }
  try {
    const answer = await undiciFetch(`${emulator.origin}${req.url}`, {
      method: req.method,
      headers,
      ...(req.body && req.method !== 'GET' ? { body: req.body } : {}),
      dispatcher: emulator.dispatcher,
    });
    // Graph's links (nextLink, deltaLink) name the origin they were asked at: this one.
    const text = (await answer.text()).split(emulator.origin).join(hostileOrigin);
    const out: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(name)) out[name] = value;
    });
    res.writeHead(answer.status, out);
    res.end(text);
  } catch {
    res.destroy();
  }
}

/** Writes a JSON answer. */
export function answerJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): true {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
  return true;
}

/**
 * The Graph identity of a gateway whose Graph is `graph`: the emulator tenant's demo app, SANDBOX=false,
 * the emulator's CA, a memory cache. What a spawned production build (which sets its own NODE_ENV,
 * HOST, PORT and DATA_DIR) takes.
 */
export function graphIdentityEnvBehind(emulator: TestEmulator, graph: HostileGraph): Record<string, string> {
  const known = emulator.tenant.wellKnown;
  return {
    SANDBOX: 'false',
    AZURE_TENANT_ID: emulator.tenantId,
    AZURE_CLIENT_ID: known.demoAppId,
    AZURE_CLIENT_SECRET: known.demoAppSecret,
    AZURE_AUTHORITY_HOST: emulator.authorityHost,
    GRAPH_ENDPOINT: graph.origin,
    NODE_EXTRA_CA_CERTS: emulator.caFile,
    CACHE_URL: 'memory',
  };
}

/** The same for an in-process `startApp` in production configuration (NODE_ENV=production): what the hostile-Graph suites run. */
export function gatewayEnvBehind(emulator: TestEmulator, graph: HostileGraph): Record<string, string> {
  return { NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', DATA_DIR: emulator.dataDir, ...graphIdentityEnvBehind(emulator, graph) };
}

export interface AppBehindHostileGraph {
  emulator: TestEmulator;
  graph: HostileGraph;
  app: App;
  /** Closes the gateway, then the hostile Graph, then the emulator. */
  close(): Promise<void>;
}

/**
 * What the hostile-Graph suites start: an emulator tenant of `userCount` users, a hostile Graph
 * relaying to it, and the gateway in process behind it in production configuration
 * (gatewayEnvBehind) with the given API-key callers. `env` adds the suite's own settings
 * (LOG_LEVEL, ...), `logger` captures its lines.
 */
export async function startAppBehindHostileGraph(options: {
  userCount: number;
  callers: Parameters<typeof apiKeyCallers>[0];
  env?: Record<string, string>;
  logger?: Logger;
}): Promise<AppBehindHostileGraph> {
  const emulator = await startTestEmulator({ userCount: options.userCount });
  const graph = await startHostileGraph(emulator);
  let app: App;
  try {
    const config = loadConfig({ ...gatewayEnvBehind(emulator, graph), ...options.env, ...apiKeyCallers(options.callers) });
    app = await startApp(config, options.logger ? { logger: options.logger } : {});
  } catch (error) {
    await graph.close();
    await emulator.close();
    throw error;
  }
  return {
    emulator,
    graph,
    app,
    async close() {
      await app.close();
      await graph.close();
      await emulator.close();
    },
  };
}
