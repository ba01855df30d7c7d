import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { Config } from './config-types.js';
import { ErrorCode, isGatewayError } from './errors.js';
import type { GatewayContext, IncomingRequestInfo } from './graphql/context.js';
import { correlationIdOf } from './graphql/context.js';
import { assertVariablesDepth } from './graphql/variables-depth.js';
import type { AuthRouteHandler, GraphIdentity } from './identity/types.js';
import type { Logger } from './logger.js';
import type { GatewayMetrics } from './metrics.js';
import type { Playground } from './playground/index.js';

/**
 * The HTTP routes, on plain node:http (no framework): GraphQL through Apollo's
 * executeHTTPGraphQLRequest, the playground, the SDL, health, readiness, metrics and the identity
 * layer's /auth/* routes. Everything a client can get wrong at the HTTP level (oversized or broken
 * bodies, bad credentials) gets a 4xx with a code, never a 500.
 */
export interface HttpHandlerDeps {
  config: Config;
  logger: Logger;
  metrics: GatewayMetrics;
  apollo: ApolloServer<GatewayContext>;
  identity: GraphIdentity;
  playground: Playground;
  schemaSource: string;
  authRoutes?: AuthRouteHandler;
  createContext(request: IncomingRequestInfo, correlationId: string, signal: AbortSignal): Promise<GatewayContext>;
  /** Whether Microsoft Graph answers at all (src/http/reachability.ts); readiness also needs it. */
  graphReachable?: (signal: AbortSignal) => Promise<boolean>;
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

const READY_PROBE_TIMEOUT_MS = 5_000;

export function createHttpHandler(deps: HttpHandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const schemaBody = Buffer.from(deps.schemaSource, 'utf8');
  return (req, res) => {
    route(req, res).catch((error: unknown) => {
      deps.logger.error({ err: error, path: req.url?.split('?')[0] }, 'unhandled error in an HTTP route');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }] });
      else res.destroy();
    });
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The Host header names this gateway as the caller reached it; the auth routes build their
    // redirect URI from it (Entra only redirects to registered URIs, so a forged Host gains nothing).
    const host =
      typeof req.headers.host === 'string' && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(req.headers.host)
        ? req.headers.host
        : 'gateway.invalid';
    const url = new URL(req.url ?? '/', `http://${host}`);
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (path === '/graphql') return graphql(req, res, url);
    if (path.startsWith('/playground/assets/') && (method === 'GET' || method === 'HEAD')) {
      if (deps.playground.serveAsset(req, res, path.slice('/playground/assets/'.length))) return;
      return sendText(res, 404, 'Not found\n');
    }
    if (path === '/playground' && method === 'GET') return deps.playground.servePage(res);
    if (path === '/schema.graphql' && method === 'GET') {
      // The SDL is the same information introspection gives, so it follows the same switch.
      if (!deps.config.introspection) return sendText(res, 404, 'Not found: the schema is published only when INTROSPECTION=true\n');
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': schemaBody.length, 'cache-control': 'no-cache' });
      res.end(schemaBody);
      return;
    }
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz') return readiness(res);
    if (path === '/metrics' && method === 'GET') {
      const text = await deps.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': deps.metrics.registry.contentType });
      res.end(text);
      return;
    }
    if (path.startsWith('/auth/') && deps.authRoutes) {
      if (await deps.authRoutes(req, res, url)) return;
    }
    return sendText(res, 404, 'Not found\n');
  }

  async function readiness(res: ServerResponse): Promise<void> {
    const signal = AbortSignal.timeout(READY_PROBE_TIMEOUT_MS);
    let ready = false;
    try {
      ready = (await deps.identity.probe(signal)) && (deps.graphReachable ? await deps.graphReachable(signal) : true);
    } catch (error) {
      deps.logger.warn({ err: error }, 'readiness probe failed');
    }
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', graphIdentity: deps.identity.kind });
  }

  async function graphql(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const correlationId = correlationIdOf(req.headers);
    res.setHeader('x-correlation-id', correlationId);
    if (applyCors(req, res, deps.config.corsOrigins) === 'preflight') return;
    if (method === 'GET' && !url.searchParams.has('query') && acceptsHtml(req)) return deps.playground.servePage(res);
    if (method !== 'GET' && method !== 'POST') {
      res.setHeader('allow', 'GET, POST');
      return sendProblem(
        res,
        new HttpProblem(405, ErrorCode.BAD_USER_INPUT, `Method ${method} is not allowed on /graphql; use POST (or GET for queries).`, 'METHOD_NOT_ALLOWED'),
      );
    }
    let body: unknown;
    try {
      body = method === 'POST' ? await readBody(req, deps.config.limits.maxBodyBytes) : undefined;
      // Before graphql-js or any plugin walks them (docs/reliability.md#operation-limits).
      assertVariablesDepth({ body, search: url.searchParams });
    } catch (error) {
      if (error instanceof HttpProblem) return sendProblem(res, error);
      if (isGatewayError(error)) return sendProblem(res, new HttpProblem(400, error.code, error.message, 'VARIABLES_TOO_DEEP'));
      throw error;
    }

    const abort = new AbortController();
    // The caller went away: stop spending Graph requests on an answer nobody reads.
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    let context: GatewayContext;
    try {
      context = await deps.createContext({ headers: req.headers, remoteAddress: req.socket.remoteAddress }, correlationId, abort.signal);
    } catch (error) {
      if (isGatewayError(error)) {
        const status = error.code === ErrorCode.UNAUTHENTICATED ? 401 : error.code === ErrorCode.FORBIDDEN ? 403 : 400;
        if (status === 401) res.setHeader('www-authenticate', 'Bearer');
        return sendJson(res, status, { errors: [{ message: error.message, extensions: { code: error.code } }] });
      }
      deps.logger.error({ err: error, correlationId }, 'building the request context failed');
      return sendJson(res, 500, {
        errors: [{ message: `Internal error (correlation id ${correlationId})`, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, correlationId } }],
      });
    }

    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await deps.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: method.toUpperCase(), headers, search: url.search, body },
      context: async () => context,
    });
    for (const [name, value] of response.headers) res.setHeader(name, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }
}

function acceptsHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('text/html');
}

/** Reads the body up to `limit` bytes; JSON bodies are parsed (Apollo wants an object). */
async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = () => new HttpProblem(413, ErrorCode.BAD_USER_INPUT, `The request body is larger than ${limit} bytes.`, 'PAYLOAD_TOO_LARGE');
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!type.includes('json')) return text;
  if (text.trim() === '') throw new HttpProblem(400, ErrorCode.BAD_USER_INPUT, 'The request body is empty; send {"query": "..."}.', 'EMPTY_BODY');
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpProblem(400, ErrorCode.BAD_USER_INPUT, 'The request body is not valid JSON.', 'INVALID_JSON');
  }
}

function applyCors(req: IncomingMessage, res: ServerResponse, allowed: string[]): 'preflight' | 'continue' {
  const origin = req.headers.origin;
  if (origin && (allowed.includes(origin) || allowed.includes('*'))) {
    res.setHeader('access-control-allow-origin', allowed.includes('*') ? '*' : origin);
    res.setHeader('vary', 'Origin');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST',
        'access-control-allow-headers': 'authorization, content-type, x-api-key, x-correlation-id, apollo-require-preflight',
        'access-control-max-age': '600',
      });
      res.end();
      return 'preflight';
    }
  }
  return 'continue';
}

function sendProblem(res: ServerResponse, problem: HttpProblem): void {
  sendJson(res, problem.status, {
    errors: [{ message: problem.message, extensions: { code: problem.code, ...(problem.reason ? { reason: problem.reason } : {}) } }],
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length, 'cache-control': 'no-store' });
  res.end(body);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}
