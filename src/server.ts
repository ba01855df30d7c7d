import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { AuditLog } from './audit/log.js';
import { wasAudited } from './audit/plugin.js';
import { auditRefusedRequest } from './audit/refused-request.js';
import { auditCaller } from './audit/event.js';
import type { Config } from './config-types.js';
import { ErrorCode, httpStatusOf, isGatewayError, type GatewayError } from './errors.js';
import type { GatewayContext, IncomingRequestInfo } from './graphql/context.js';
import { correlationIdOf } from './http/correlation-id.js';
import { HttpProblem } from './http/http-problem.js';
import { DEFAULT_ANSWER_MIN_BYTES_PER_SECOND, DEFAULT_ANSWER_WRITE_GRACE_MS, writeAnswer, type AnswerWriteRule } from './http/answer-writer.js';
import { bodyBudgetBytes, callerBodyShareBytes, ClientClosedError, createBodyBudget, readBody } from './http/request-body.js';
import { assertVariablesDepth } from './graphql/variables-depth.js';
import { createFieldRepetitionCheck } from './graphql/limits/index.js';
import { checkLoopbackRequest } from './http/loopback-guard.js';
import { expectsContinue, hasUnmetExpectation, MAX_HEADER_LINES, repeatedSingleHeader, requestUrl, tooManyHeaderLines } from './http/request-target.js';
import { securityHeaders, setBaselineSecurityHeaders } from './http/security-headers.js';
import { servedOverHttpsResolver } from './http/served-over-https.js';
import type { GovernorHealth } from './graph/governor.js';
import { createReadiness, withGovernorCheck } from './http/readiness.js';
import { createAuthenticationGuard, refusedCredential, type AuthenticationGuard } from './identity/authentication-failures.js';
import { authenticationChallenge } from './identity/caller-authenticator.js';
import type { AuthRouteHandler, Caller, GraphIdentity } from './identity/types.js';
import type { Logger } from './logger.js';
import { countMemoryBudgetRefusal, type GatewayMetrics } from './metrics.js';
import type { Playground } from './playground/index.js';
import { traceGraphqlRequest } from './telemetry/operation.js';

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
  /**
   * `operation`: the operation's controller, aborted when the caller leaves or the gateway shuts
   * down; the context adds the operation's deadline to it.
   */
  createContext(request: IncomingRequestInfo, correlationId: string, operation: AbortController): Promise<GatewayContext>;
  /** In-flight GraphQL operations, so a shutdown can stop those still running at its deadline (src/gateway.ts). */
  inFlightOperations?: Set<AbortController>;
  /** Whether Microsoft Graph answers at all (src/http/reachability.ts); readiness also needs it. */
  graphReachable?: (signal: AbortSignal) => Promise<boolean>;
  /** The rate governor's budget state (shared, or a fallback share while Redis is unreachable) for /readyz. */
  governorHealth?: () => GovernorHealth;
  /** Failed-authentication logging, metric and per-address limit; shared with the auth routes (one is built from config when absent). */
  authGuard?: AuthenticationGuard;
  /**
   * The gateway's audit log and the schema's mutation field names: a mutation attempt refused before
   * Apollo ran it leaves an event too (docs/security.md#audit-of-refused-requests).
   */
  auditLog: AuditLog;
  mutationFields: ReadonlySet<string>;
}

/** The failed-authentication reason of each loopback refusal (CALLER_AUTH=none). */
const LOOPBACK_REFUSAL_REASONS = {
  HOST_NOT_ALLOWED: 'host_not_allowed',
  ORIGIN_NOT_ALLOWED: 'origin_not_allowed',
  FORWARDED_REQUEST: 'forwarded_request',
} as const;

export function createHttpHandler(deps: HttpHandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const schemaBody = Buffer.from(deps.schemaSource, 'utf8');
  const authGuard = deps.authGuard ?? createAuthenticationGuard({ config: deps.config, logger: deps.logger, metrics: deps.metrics });
  const challenge = authenticationChallenge(deps.config.callerAuth);
  const readiness = createReadiness({
    identity: deps.identity,
    graphEndpoint: deps.config.graphEndpoint,
    logger: deps.logger,
    ...(deps.graphReachable ? { graphReachable: deps.graphReachable } : {}),
  });
  // One caller's bodies hold at most its share: any credential has bodies read, and one caller
  // holding the whole budget refused every other caller's POST (docs/security.md#request-bodies-per-caller).
  const bodyBudget = createBodyBudget(
    bodyBudgetBytes(deps.config.limits.maxBodyBytes),
    callerBodyShareBytes(deps.config.limits.maxBodyBytes),
    countMemoryBudgetRefusal(deps.metrics, 'request_bodies'),
  );
  const setSecurityHeaders = securityHeaders(servedOverHttpsResolver(deps.config.trustedProxies ?? []));
  // graphql-js's validation is quadratic in fields sharing a response name; judged before Apollo
  // parses a document (docs/security.md#repeated-fields-in-one-selection).
  const assertFieldRepetition = createFieldRepetitionCheck({ maxTokens: deps.config.limits.maxTokens });
  // A caller that does not read its answer must not keep it, and what its operation reserved, for as
  // long as it keeps the connection open (docs/security.md#answers-nobody-reads).
  const answerWriteRule: AnswerWriteRule = {
    graceMs: deps.config.limits.answerWriteGraceMs ?? DEFAULT_ANSWER_WRITE_GRACE_MS,
    minBytesPerSecond: deps.config.limits.answerMinBytesPerSecond ?? DEFAULT_ANSWER_MIN_BYTES_PER_SECOND,
  };
  return (req, res) => {
    closeWhenBodyUnread(req, res);
    setSecurityHeaders(req, res);
    route(req, res).catch((error: unknown) => {
      deps.logger.error({ err: error, path: req.url?.split('?')[0] }, 'unhandled error in an HTTP route');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }] });
      else res.destroy();
    });
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The Host header names this gateway as the caller reached it; the auth routes build their
    // redirect URI from it (Entra only redirects to registered URIs, so a forged Host gains nothing).
    // The request target gives only the path and query, never the host (src/http/request-target.ts).
    // The refusals of a request that is not what a well-behaved client sends (too many header lines, a
    // repeated Host or credential, faulty framing, an unmet expectation, a proxy's target) close the
    // connection: its peer's idea of where the next request starts is not to be trusted.
    if (tooManyHeaderLines(req.rawHeaders)) {
      // Node dropped the lines past those it keeps: judged by the rest, a repeated Host or credential
      // after them would pass (docs/security.md#one-host-one-content-type). No log line, as below.
      return sendProblem(
        res,
        new HttpProblem(431, ErrorCode.BAD_USER_INPUT, `The request carries more than ${MAX_HEADER_LINES} header lines; send fewer.`, 'HEADERS_TOO_LARGE', {
          connection: 'close',
        }),
      );
    }
    const repeated = repeatedSingleHeader(req.rawHeaders);
    if (repeated) {
      // A caller's mistake (or a smuggling attempt), not ours: no log line, as for the target below.
      return sendProblem(
        res,
        new HttpProblem(400, ErrorCode.BAD_USER_INPUT, `The request carries the ${repeated} header more than once; send it once.`, 'DUPLICATE_HEADER', {
          connection: 'close',
        }),
      );
    }
    if (req.httpVersion === '1.0' && req.headers['transfer-encoding'] !== undefined) {
      // RFC 9112 §6.1: HTTP/1.0 has no transfer codings, so such a message's framing is faulty and the
      // connection closes after it. A front end speaking HTTP/1.0 frames the body another way than
      // Node, which read it as chunked: what one reads as a body the other may read as a request.
      res.setHeader('connection', 'close');
      return sendProblem(
        res,
        new HttpProblem(
          400,
          ErrorCode.BAD_USER_INPUT,
          'The request is not well-formed HTTP: an HTTP/1.0 request may not carry Transfer-Encoding.',
          'MALFORMED_HTTP_REQUEST',
        ),
      );
    }
    if (hasUnmetExpectation(req.headers)) {
      // RFC 9110 §10.1.1: 417 for an expectation the server does not meet; the body is left unread.
      return sendProblem(
        res,
        new HttpProblem(
          417,
          ErrorCode.BAD_USER_INPUT,
          'This gateway meets no expectation but 100-continue: send the request without that Expect header.',
          'UNSUPPORTED_EXPECTATION',
          { connection: 'close' },
        ),
      );
    }
    const url = requestUrl(req.url, req.headers);
    if (!url) {
      // A caller's mistake, not ours: no log line (anyone can send it, as often as they like).
      return sendProblem(
        res,
        new HttpProblem(
          400,
          ErrorCode.BAD_USER_INPUT,
          'The request target must be a path such as /graphql (origin-form): this gateway is not a proxy.',
          'INVALID_REQUEST_TARGET',
          { connection: 'close' },
        ),
      );
    }
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (deps.config.callerAuth.mode === 'none') {
      // The loopback credential must not be usable through DNS rebinding or from another origin.
      const refusal = checkLoopbackRequest(req.headers, req.socket.localPort, deps.config.corsOrigins);
      if (refusal) {
        await authGuard.recordFailure(
          LOOPBACK_REFUSAL_REASONS[refusal.reason],
          { clientAddress: authGuard.clientAddressOf(req), correlationId: correlationIdOf(req.headers), route: routeTemplate(path) },
          // Not a guess at a credential, and counting it would let a hostile page lock the local operator out.
          { countsTowardsLimit: false },
        );
        // Not audited: uncounted, so a page could write audit lines at will (docs/security.md#audit-of-refused-requests).
        return sendProblem(res, new HttpProblem(403, ErrorCode.FORBIDDEN, refusal.message, refusal.reason));
      }
    }
    if (path === '/graphql') return traceGraphqlRequest(req, res, () => graphql(req, res, url));
    if (path.startsWith('/playground/assets/') && (method === 'GET' || method === 'HEAD')) {
      if (deps.playground.serveAsset(req, res, path.slice('/playground/assets/'.length))) return;
      // Another build's hash (a page from another replica during a rolling upgrade): not stored,
      // so the same URL works once this replica has that build.
      res.setHeader('cache-control', 'no-store');
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
    if (path === '/readyz') {
      const report = withGovernorCheck(await readiness.check(), deps.governorHealth?.());
      return sendJson(res, report.status === 'not ready' ? 503 : 200, report);
    }
    if (path === '/metrics' && method === 'GET') {
      // With METRICS_PORT, only the scraper's port serves them (docs/operations.md#metrics).
      if (deps.config.listen.metricsPort !== undefined) return sendText(res, 404, 'Not found: /metrics is served on METRICS_PORT\n');
      return serveMetrics(deps.metrics, res);
    }
    if (path.startsWith('/auth/') && deps.authRoutes) {
      const outcome = await deps.authRoutes(req, res, url);
      // A completed sign-in replaced the Graph identity: readiness re-checks at once. Only then:
      // anyone may request /auth/callback, and forgetting the report on every request let a stranger
      // alternating /auth/callback and /readyz make one readiness probe (a Graph call, a token
      // request while tokens fail) per pair, many in flight at once, past the 5 s cache and the
      // one-probe-at-a-time bound.
      if (outcome === 'signed-in') readiness.invalidate();
      if (outcome !== false) return;
    }
    return sendText(res, 404, 'Not found\n');
  }

  /** Answers a GatewayError that ends the request, after auditing it when the document asked for a mutation. */
  function refuse(res: ServerResponse, error: GatewayError, url: URL, req: IncomingMessage, body: unknown, caller: Caller | undefined): void {
    auditRefusal(req, url, { status: httpStatusOf[error.code], code: error.code, reason: error.extensions.reason }, body, caller);
    sendGatewayError(res, error, challenge);
  }

  /**
   * One `refused` audit event for a mutation document refused before Apollo ran it
   * (src/audit/refused-request.ts). The document is the POST body's `query` once read (JSON, or
   * JSON sent as another type, the way a cross-site form sends it), or a GET's `query` parameter;
   * a POST whose body was not read (not yet authenticated, or too large) has none.
   */
  function auditRefusal(
    req: IncomingMessage,
    url: URL,
    refusal: { status: number; code: string; reason?: unknown },
    body: unknown,
    caller: Caller | undefined,
  ): void {
    const documents = requestedDocumentsOf(req.method ?? 'GET', url, body);
    if (documents.length === 0) return;
    auditRefusedRequest(deps.auditLog, deps.mutationFields, {
      documents,
      code: refusal.code,
      reasonDetail: refusal.reason,
      httpStatus: refusal.status,
      caller,
      clientAddress: caller ? undefined : authGuard.clientAddressOf(req),
      correlationId: correlationIdOf(req.headers),
    });
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
    const attempt = { clientAddress: authGuard.clientAddressOf(req), correlationId, route: '/graphql' };
    try {
      // An address that failed too often is refused before its body is even read.
      await authGuard.admit(attempt);
    } catch (error) {
      // Not audited: a stranger refused here could write audit lines at will; the failures that
      // used up the budget were (docs/security.md#audit-of-refused-requests).
      if (isGatewayError(error)) return sendGatewayError(res, error, challenge);
      throw error;
    }
    const abort = new AbortController();
    deps.inFlightOperations?.add(abort);
    // What the operation's answer holds (src/graphql/budget/answers-in-flight.ts) is given back when
    // the response is done: written to the socket, or the caller gone mid-answer.
    let responseClosed = false;
    const releases: Array<() => void> = [];
    let context: GatewayContext | undefined;
    // The caller went away: stop spending Graph requests on an answer nobody reads.
    res.on('close', () => {
      deps.inFlightOperations?.delete(abort);
      // The deadline's timer too, whichever way the request ended (answered, refused, or abandoned).
      context?.endOperation?.();
      if (!res.writableFinished) abort.abort();
      responseClosed = true;
      for (const release of releases.splice(0)) release();
    });
    // The caller is authenticated from its headers before its body is read: a stranger cannot make
    // the gateway buffer request bodies (src/http/request-body.ts).
    try {
      context = await deps.createContext({ headers: req.headers, rawHeaders: req.rawHeaders, remoteAddress: req.socket.remoteAddress }, correlationId, abort);
    } catch (error) {
      if (isGatewayError(error)) {
        // Recorded, and THROTTLED when the address's budget is spent, by the rule the sign-in routes share.
        const refusal = await refusedCredential(authGuard, error, req.headers, attempt);
        // A 401 (counted towards the address's budget, or a contained user's token, whose lines are
        // bounded), so audited at most so often: a GET's mutation (a POST's body is not read before authentication).
        if (refusal?.kind === 'refused') return refuse(res, error, url, req, undefined, undefined);
        return sendGatewayError(res, refusal?.error ?? error, challenge);
      }
      deps.logger.error({ err: error, correlationId }, 'building the request context failed');
      return sendJson(res, 500, {
        errors: [{ message: `Internal error (correlation id ${correlationId})`, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, correlationId } }],
      });
    }
    context.untilAnswered = (release) => {
      if (responseClosed) release();
      else releases.push(release);
    };
    const blocked = authGuard.blockedNow(attempt);
    if (blocked) {
      // A right guess inside a burst of wrong ones must not be told apart from them.
      context.endOperation?.();
      return refuse(res, blocked, url, req, undefined, context.caller);
    }
    let body: unknown;
    try {
      // The caller's share (none for CALLER_AUTH=none's loopback user: the budget of all alone bounds its bodies).
      // A client that waits for `100 Continue` gets it only now, authenticated and admitted, its body to be read
      // (docs/security.md#expectations): a stranger's body is never asked for.
      body =
        method === 'POST'
          ? await readBody(req, deps.config.limits.maxBodyBytes, bodyBudget.forCaller(context.callerShare), () => {
              if (expectsContinue(req.headers)) res.writeContinue();
            })
          : undefined;
      // Before graphql-js or any plugin walks them (docs/reliability.md#operation-limits).
      assertVariablesDepth({ body, search: url.searchParams });
      assertFieldRepetition({ body, search: url.searchParams });
    } catch (error) {
      if (error instanceof ClientClosedError) {
        deps.logger.debug({ correlationId }, 'the caller closed the connection before its request body ended');
        return;
      }
      // The body could not be read (413 PAYLOAD_TOO_LARGE, 400 INVALID_JSON or EMPTY_BODY): what it
      // asked for is not known, so no audit event (docs/security.md#audit-of-refused-requests).
      if (error instanceof HttpProblem) return sendProblem(res, error);
      // The depth refusal (400, VARIABLES_TOO_DEEP), the repeated fields' (400, OPERATION_TOO_COMPLEX) and the body budget's (429, REQUEST_BODIES_IN_FLIGHT, or CALLER_REQUEST_BODIES_IN_FLIGHT past the caller's share).
      if (isGatewayError(error)) return refuse(res, error, url, req, body, context.caller);
      throw error;
    }

    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await deps.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: method.toUpperCase(), headers, search: url.search, body },
      context: async () => context,
    });
    // Every answer is one caller's view of the directory: no shared cache may keep it (a GET query
    // with `x-api-key`, which is not `Authorization`, is otherwise storable by RFC 9111). (nosniff,
    // like every answer's baseline headers, was set before routing: src/http/security-headers.ts.)
    res.setHeader('cache-control', 'no-store');
    for (const [name, value] of response.headers) res.setHeader(name, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      // Refused by Apollo without an audit event (a cross-site request, a mutation by GET, an
      // unknown operationName, a syntax error, a batch): audited here if the document asked for a
      // mutation. A 5xx is our fault, not a refusal: the operation line and error log have it.
      if (res.statusCode >= 400 && res.statusCode < 500 && !wasAudited(context)) {
        const answered = firstErrorOf(response.body.string);
        if (answered) auditRefusal(req, url, { status: res.statusCode, ...answered }, body, context.caller);
      }
      await writeAnswer(res, response.body.string, answerWriteRule, (cut) =>
        // Once per answer. The caller as audit events name it: never the credential, nor a tenant id
        // that is a secret (hosted mode's BROKER_TOKEN).
        deps.logger.warn(
          { correlationId, caller: auditCaller(context.caller), ...cut },
          'answer cut: the caller did not read it within ANSWER_WRITE_GRACE_MS plus its size at ANSWER_MIN_BYTES_PER_SECOND; its connection was closed',
        ),
      );
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }
}

/**
 * The listener of METRICS_PORT: `GET /metrics` and nothing else. No caller authentication, like
 * /metrics on the main port: counts only, closed label sets; its own port is what keeps it from
 * the ingress (docs/security.md#routes-and-who-may-use-them).
 */
export function createMetricsHandler(metrics: GatewayMetrics, logger: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    setBaselineSecurityHeaders(res);
    if (tooManyHeaderLines(req.rawHeaders)) {
      res.setHeader('connection', 'close');
      return sendText(res, 431, `Request header fields too large: more than ${MAX_HEADER_LINES} lines\n`);
    }
    if (hasUnmetExpectation(req.headers)) return sendText(res, 417, 'Expectation failed: send the request without that Expect header\n');
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return sendText(res, 404, 'Not found: this port serves GET /metrics only\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendText(res, 405, 'Method not allowed: GET /metrics\n');
    }
    serveMetrics(metrics, res).catch((error: unknown) => {
      logger.error({ err: error }, 'collecting /metrics failed');
      if (!res.headersSent) sendText(res, 500, 'Internal error\n');
      else res.destroy();
    });
  };
}

async function serveMetrics(metrics: GatewayMetrics, res: ServerResponse): Promise<void> {
  const text = await metrics.registry.metrics();
  res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
  res.end(text);
}

function acceptsHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('text/html');
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

/**
 * A response sent before the request body was read to its end (413, 405, a refused caller) leaves
 * unread bytes on the connection; the next request on a kept-alive socket would be parsed from the
 * middle of them or reset. `Connection: close` makes the client open a fresh connection instead.
 * Every way of starting a response goes through writeHead (res.end() calls it implicitly).
 */
function closeWhenBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    if (!req.complete && mayCarryBody(req) && !this.headersSent) {
      this.setHeader('connection', 'close');
      this.shouldKeepAlive = false;
      lingerWhenClosing(req.socket);
    }
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
}

/**
 * Whether the request has a body at all. One without Content-Length and Transfer-Encoding has none
 * (RFC 9112 §6.3), nor one of Content-Length 0: nothing is left unread on the connection. Node
 * marks such a request complete only after the handler's turn, so a GET answered in that turn
 * (`/healthz`, a 404) was closed as if its body had been left unread, and probes reconnected each time.
 */
function mayCarryBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && Number(length) !== 0;
}

/** How long a connection closed with its request body unread keeps reading (and discarding) before it is cut. */
const LINGER_MS = 2_000;

/**
 * Closing a connection while the caller's body is still arriving makes the kernel answer those bytes
 * with a reset, and a reset makes the caller's TCP stack drop what it had not read yet: the 401 or
 * 413 just sent (under load, one of 300 stalled-body callers got nothing at all). Node ends such a
 * connection with `socket.destroySoon()` once the answer is written; here the connection is closed
 * the way RFC 9112 §9.6 describes instead: the answer and a FIN are sent, the socket keeps reading
 * and discarding until the caller closes its side or LINGER_MS pass, then it is destroyed.
 */
function lingerWhenClosing(socket: Socket): void {
  socket.destroySoon = function (this: Socket) {
    if (this.destroyed) return;
    const cut = setTimeout(() => this.destroy(), LINGER_MS);
    cut.unref();
    this.once('close', () => clearTimeout(cut));
    this.once('end', () => this.destroy());
    this.resume();
    if (this.writable) this.end();
  };
}

type RequestedDocument = { document: string; operationName: unknown };

/**
 * The GraphQL documents a request carries, each with its operationName, as Apollo would read them
 * (a batch, which Apollo refuses, one per element); none when they are not at hand.
 */
function requestedDocumentsOf(method: string, url: URL, body: unknown): RequestedDocument[] {
  if (method === 'GET') {
    const query = url.searchParams.get('query');
    return query === null ? [] : [{ document: query, operationName: url.searchParams.get('operationName') }];
  }
  let value = body;
  if (typeof value === 'string') {
    // A body sent as text/plain (what a cross-site form can send): bounded by MAX_BODY_BYTES, like every JSON body read.
    try {
      value = JSON.parse(value);
    } catch {
      return [];
    }
  }
  const documents: RequestedDocument[] = [];
  for (const request of Array.isArray(value) ? value : [value]) {
    if (request === null || typeof request !== 'object') continue;
    const { query, operationName } = request as Record<string, unknown>;
    if (typeof query === 'string') documents.push({ document: query, operationName });
  }
  return documents;
}

/** The code and reason of the first error of an answer Apollo refused (our formatError made it: codes of src/errors.ts). */
function firstErrorOf(text: string): { code: string; reason: unknown } | undefined {
  try {
    const first = (JSON.parse(text) as { errors?: Array<{ extensions?: { code?: unknown; reason?: unknown } }> }).errors?.[0];
    const code = first?.extensions?.code;
    return typeof code === 'string' && Object.hasOwn(httpStatusOf, code) ? { code, reason: first?.extensions?.reason } : undefined;
  } catch {
    return undefined;
  }
}

/** Routes by template for logs and metrics (never the caller's raw path). */
function routeTemplate(path: string): string {
  if (path.startsWith('/playground/assets/')) return '/playground/assets/*';
  return ['/graphql', '/playground', '/schema.graphql', '/healthz', '/readyz', '/metrics', '/auth/login', '/auth/login-link', '/auth/callback'].includes(path)
    ? path
    : 'other';
}

/** A GatewayError that ends the whole request, with its HTTP status (429 + Retry-After for THROTTLED). */
function sendGatewayError(res: ServerResponse, error: GatewayError, challenge: string): void {
  const status = httpStatusOf[error.code];
  if (status === 401) res.setHeader('www-authenticate', challenge);
  const retryAfter = error.extensions.retryAfterSeconds;
  if (typeof retryAfter === 'number') res.setHeader('retry-after', String(retryAfter));
  const reason = typeof error.extensions.reason === 'string' ? { reason: error.extensions.reason } : {};
  const retry = typeof retryAfter === 'number' ? { retryAfterSeconds: retryAfter } : {};
  sendJson(res, status, { errors: [{ message: error.message, extensions: { code: error.code, ...reason, ...retry } }] });
}

function sendProblem(res: ServerResponse, problem: HttpProblem): void {
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  sendJson(res, problem.status, {
    errors: [{ message: problem.message, extensions: { code: problem.code, ...(problem.reason ? { reason: problem.reason } : {}) } }],
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': body.length,
    'cache-control': 'no-store',
  });
  res.end(body);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}
