import { createServer, type Server, type ServerResponse } from 'node:http';
import { auditPlugin, createAuditLog } from './audit/index.js';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import type { Config } from './config-types.js';
import { ErrorCode, GatewayError } from './errors.js';
import type { Resolvers } from './generated/graphql.js';
import type { GraphGovernorRegistry } from './graph/governor-registry.js';
import { createGraphSessions } from './graph/session.js';
import { createRequestContextFactory, type GatewayContext, type GraphSessionFactory } from './graphql/context.js';
import { CursorCodec } from './graphql/cursor.js';
import { deploymentModeRule } from './graphql/deployment/index.js';
import { graphIdentityFactsOf, graphIdentityRule } from './graphql/graph-identity/index.js';
import {
  callerAnswerShare,
  createAnswerBudget,
  createUpstreamBudgetPlugin,
  DEFAULT_MAX_RESULT_VALUES,
  DEFAULT_MAX_RESULT_VALUES_IN_FLIGHT,
} from './graphql/budget/index.js';
import { createUsersInputPlugin } from './graphql/users-input-plugin.js';
import { formatGatewayError } from './graphql/format-error.js';
import { createOperationLimitsPlugin, suggestionMaskPlugin } from './graphql/limits/index.js';
import { createMutationResolvers } from './graphql/mutations/index.js';
import { assertPermissionDirectives, permissionPlugin, withPermissionGuards } from './graphql/permissions/index.js';
import { operationLogPlugin } from './graphql/plugins/operation-log.js';
import { answerMediaTypePlugin } from './graphql/plugins/answer-media-type.js';
import { sensitiveDataPlugin } from './graphql/sensitive/index.js';
import { buildGatewaySchema, loadSchemaSource } from './graphql/schema.js';
import {
  createEntityRepresentationsLimitPlugin,
  DEFAULT_MAX_ENTITY_REPRESENTATIONS,
  subgraphServiceRule,
  withoutFederationSyntax,
} from './graphql/federation/index.js';
import { answerClientErrors } from './http/client-error.js';
import { oneRequestAtATime } from './http/pipelined-requests.js';
import { MAX_HEADER_LINES } from './http/request-target.js';
import { limitConnectionsPerAddress } from './http/connections-per-address.js';
import { createReachabilityProbe } from './http/reachability.js';
import { createTokenCipher } from './store/encryption.js';
import type { UpstreamHttp } from './http/upstream.js';
import { createAuthenticationGuard, type AuthenticationGuard } from './identity/authentication-failures.js';
import { graphIdentityId } from './identity/identity-id.js';
import type { AuthRouteHandler, CallerAuthenticator, CallerRevocations, GraphIdentity } from './identity/types.js';
import type { Logger } from './logger.js';
import { countMemoryBudgetRefusal, type GatewayMetrics } from './metrics.js';
import type { ExampleOptions } from './playground/examples.js';
import { createPlayground } from './playground/index.js';
import { createHttpHandler, createMetricsHandler } from './server.js';
import { tracingPlugin } from './telemetry/plugin.js';
import { createDocumentStore } from './graphql/document-store.js';
import { operationTypeRule } from './graphql/operation-type-rule.js';

/**
 * Composition of the process-wide parts into a running gateway. All I/O comes in through `deps`
 * (tests pass real ones wired to the emulator); the per-request parts are built by the one
 * context factory in src/graphql/context.ts.
 */
export interface GatewayDeps {
  config: Config;
  logger: Logger;
  metrics: GatewayMetrics;
  upstream: UpstreamHttp;
  identity: GraphIdentity;
  callerAuthenticator: CallerAuthenticator;
  /** Containments the mutations record for the caller authenticator to enforce (CALLER_AUTH=entra; src/identity/caller-revocations.ts). */
  callerRevocations?: CallerRevocations;
  authRoutes?: AuthRouteHandler;
  /** Failed-authentication handling shared with the auth routes; built from config when absent. */
  authGuard?: AuthenticationGuard;
  /** Key of cursors and delta tokens (≥ 32 bytes; sealing keys are derived from it); random per process when absent. Share one across replicas behind a load balancer. */
  cursorKey?: Buffer;
  /** CURSOR_KEY_PREVIOUS during a rotation: what it sealed or signed is still accepted (docs/operations.md#rotating-keys). */
  previousCursorKey?: Buffer;
  /** Playground example variables (the sandbox passes a user that has reports). */
  playground?: ExampleOptions;
  /** Resolvers of later layers (mutations) merged with the read resolvers. */
  extraResolvers?: Resolvers[];
  /**
   * Per-tenant Graph rate governors, one registry per process (src/app.ts builds it; gateways
   * sharing a process and a Graph app should share it). Absent: the gateway builds its own from
   * config.graphGovernor and closes it with itself.
   */
  governors?: GraphGovernorRegistry;
}

export interface Gateway {
  server: Server;
  /** Starts listening on config.listen (and METRICS_PORT when set); resolves to the base URL (`http://host:port`). */
  listen(): Promise<string>;
  /** With METRICS_PORT, once listening: the base URL of the /metrics listener. */
  metricsUrl(): string | undefined;
  /**
   * Graceful stop (docs/operations.md#shutdown): stops accepting, lets in-flight operations finish
   * within `config.drainTimeoutMs`, then stops the ones still running with an answer
   * (UPSTREAM_UNAVAILABLE, reason GATEWAY_SHUTDOWN; mutations are audited either way), then stops
   * Apollo. Resolves when every HTTP exchange has ended.
   */
  close(): Promise<void>;
}

export const DEFAULT_DRAIN_TIMEOUT_MS = 8_000;
/** How long a client may take to send its request headers (Node's default: 60 s). */
export const HEADERS_TIMEOUT_MS = 10_000;
/** MAX_CONNECTIONS_PER_ADDRESS's default, for a Config built without it. */
const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;
/**
 * Beyond the drain time, before src/main.ts exits 1 regardless: stopped operations answering,
 * closing the stores and the emulator, the last spans, flushing the log. An orchestrator's grace
 * period must cover both (deploy/ is checked against it).
 */
export const SHUTDOWN_CLOSE_MARGIN_MS = 4_000;
/** After the drain deadline: how long stopped operations get to send their answer before their connections are cut. */
const STOPPED_ANSWER_GRACE_MS = 1_000;

export async function createGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, logger, metrics } = deps;
  const schemaSource = loadSchemaSource();
  // Mutations: resolvers, the caller-permission check and the audit trail go together.
  const mutationResolvers = createMutationResolvers({
    graphEndpoint: config.graphEndpoint,
    passwordResetTimeoutMs: Math.max(1_000, config.limits.operationTimeoutMs - 2_000),
  });
  // Every field that names a permission checks it in its resolver too (the plugin below refuses
  // the whole operation first); a root field without one stops the start.
  const federation = config.federation === true;
  const maxResultValues = config.limits.maxResultValues ?? DEFAULT_MAX_RESULT_VALUES;
  const maxResultValuesInFlight = config.limits.maxResultValuesInFlight ?? Math.max(DEFAULT_MAX_RESULT_VALUES_IN_FLIGHT, 2 * maxResultValues);
  const schema = withPermissionGuards(
    buildGatewaySchema({ typeDefs: schemaSource, extraResolvers: [mutationResolvers, ...(deps.extraResolvers ?? [])], federation }),
  );
  assertPermissionDirectives(schema);
  const auditLog = createAuditLog({ logger, metrics });

  const apollo = new ApolloServer<GatewayContext>({
    schema,
    // Apollo's own SIGINT/SIGTERM handler (on unless NODE_ENV=test) stops the server and re-raises
    // the signal, which kills the process mid-drain: in-flight mutations lost their answer and their
    // audit line. Shutdown belongs to src/main.ts and close() below.
    stopOnTerminationSignals: false,
    csrfPrevention: true,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    // The parser itself stops at the token limit, before any validation work.
    parseOptions: { maxTokens: config.limits.maxTokens },
    // Parsed documents cached by what they hold in memory, not Apollo's 30 MiB of JSON text (src/graphql/document-store.ts).
    documentStore: createDocumentStore(),
    // No automatic persisted queries: each registered query text would be kept in another 30 MiB
    // cache, and nothing here needs them (answers are not HTTP-cached; docs/querying.md#persisted-queries).
    persistedQueries: false,
    formatError: formatGatewayError,
    // Hosted mode refuses self-deployed-only fields for the whole document, before any resolver;
    // so does an app-only Graph identity for fields Graph serves only to a signed-in user.
    // A subgraph's `_service` (the SDL) follows the introspection switch.
    validationRules: [
      operationTypeRule,
      deploymentModeRule(config.deploymentMode),
      graphIdentityRule(graphIdentityFactsOf(deps.identity), config.deploymentMode),
      ...(federation ? [subgraphServiceRule(config.introspection)] : []),
    ],
    plugins: [
      // Error text is cleaned first (hooks run in plugin order), so nothing after it logs or
      // formats a secret the request sent, or a schema hint: `@sensitive` values are redacted and,
      // with introspection off, "Did you mean ...?" suggestions of every kind removed.
      sensitiveDataPlugin<GatewayContext>(),
      ...(config.introspection ? [] : [suggestionMaskPlugin<GatewayContext>()]),
      ApolloServerPluginLandingPageDisabled() as ApolloServerPlugin<GatewayContext>,
      // No HTTP caching of answers (they depend on the caller); Apollo's default cache-control
      // plugin would otherwise wrap every field resolver of every operation.
      ApolloServerPluginCacheControlDisabled() as ApolloServerPlugin<GatewayContext>,
      // Apollo Server turns on federated tracing for a subgraph schema: any caller sending
      // `apollo-federation-include-trace: ftv1` would get per-field resolver timings in the answer
      // (and pay a trace node per field). Nothing here consumes them (docs/querying.md#federation).
      ApolloServerPluginInlineTraceDisabled() as ApolloServerPlugin<GatewayContext>,
      operationLogPlugin(metrics, logger),
      // Apollo's Content-Type negotiation, done once per distinct Accept value.
      answerMediaTypePlugin<GatewayContext>(),
      // Names the operation's span (docs/operations.md#traces); no hooks when the request is not traced.
      tracingPlugin<GatewayContext>(),
      // Who may do what comes before what it would cost: a caller without the permission learns
      // nothing from the limits below, and Graph sees nothing of a refused operation.
      permissionPlugin<GatewayContext>(),
      // The one implementation of the depth/alias/directive limits (graphql-armor's rules, hardened
      // against introspection-looking names; the parser enforces the token limit, and the HTTP layer
      // the repeated fields that would make validation itself slow), and the
      // Graph-aware upstream request budget (needs variables, so it runs after validation).
      createOperationLimitsPlugin<GatewayContext>(config.limits),
      // Filter, search and URL limits of every users list (src/graphql/query-limits.ts), before any Graph call.
      createUsersInputPlugin<GatewayContext>({ graphEndpoint: config.graphEndpoint }),
      // A subgraph's `_entities` carries as many references as the caller sends; the answer repeats
      // the selection for each (docs/security.md#the-federation-entry-points).
      ...(federation
        ? [
            createEntityRepresentationsLimitPlugin<GatewayContext>({
              maxRepresentations: config.limits.maxEntityRepresentations ?? DEFAULT_MAX_ENTITY_REPRESENTATIONS,
            }),
          ]
        : []),
      createUpstreamBudgetPlugin<GatewayContext>({
        maxUpstreamRequests: config.limits.maxUpstreamRequests,
        // Lookups by id cost a getByIds per 1000, or a `$batch` POST per 20 for a Graph identity
        // getByIds refused (1000 `_entities` references: 50 requests, not 1).
        tunablesOf: (context) => ({ getByIdsSize: context.loaders.idLookupsPerRequest() }),
        maxResultValues,
        // Answers are built whole in memory: what executing operations hold together is bounded
        // too, with a share per caller (docs/security.md#answers-in-flight).
        answersInFlight: {
          budget: createAnswerBudget(
            maxResultValuesInFlight,
            callerAnswerShare(maxResultValuesInFlight, maxResultValues),
            countMemoryBudgetRefusal(metrics, 'answers_in_flight'),
          ),
          callerOf: (context) => context.callerShare,
          untilAnswered: (context, release) => {
            if (!context.untilAnswered) return false;
            context.untilAnswered(release);
            return true;
          },
        },
      }),
      auditPlugin<GatewayContext>({ auditLog }),
    ],
    logger: {
      debug: (message) => logger.debug(message),
      info: (message) => logger.info(message),
      warn: (message) => logger.warn(message),
      error: (message) => logger.error(message),
    },
  });
  await apollo.start();

  const graphSessions = createGraphSessions({
    config,
    logger,
    metrics,
    upstream: deps.upstream,
    delegatedIdentity: deps.identity.delegated,
    ...(deps.governors ? { governors: deps.governors } : {}),
    othersBusy: () => inFlightOperations.size > 1,
  });
  const graphSession: GraphSessionFactory = (input) => graphSessions.open(input);
  const createContext = createRequestContextFactory({
    config,
    logger,
    identity: deps.identity,
    callerAuthenticator: deps.callerAuthenticator,
    ...(deps.callerRevocations ? { callerRevocations: deps.callerRevocations } : {}),
    // Cursors are sealed like the token cache, by the same implementation (src/graphql/cursor.ts), and
    // bound to the Graph identity whose query they continue: gateways of other customers (hosted) or
    // app registrations given the same CURSOR_KEY do not open each other's.
    cursors: new CursorCodec({
      createCipher: createTokenCipher,
      key: deps.cursorKey,
      previousKey: deps.previousCursorKey,
      ...(config.hosted || config.selfDeployed ? { graphIdentity: graphIdentityId(config) } : {}),
    }),
    graphSession,
  });

  const inFlightOperations = new Set<AbortController>();
  // Owned here when not given, so that close() writes the refusal counts it still holds (src/identity/quiet-windows.ts).
  const authGuard = deps.authGuard ?? createAuthenticationGuard({ config, logger, metrics });
  const handler = createHttpHandler({
    inFlightOperations,
    config,
    logger,
    metrics,
    apollo,
    identity: deps.identity,
    playground: createPlayground({
      ...deps.playground,
      enabled: config.playground !== false,
      callerAuth: config.callerAuth.mode,
      ...(config.callerAuth.mode === 'entra' ? { audience: config.callerAuth.audiences.join(' or ') } : {}),
      introspection: config.introspection,
    }),
    // The subgraph SDL (what `rover supergraph compose` reads) when federated; without federation,
    // an SDL that tools knowing nothing of federation can build.
    schemaSource: federation ? schemaSource : withoutFederationSyntax(schemaSource),
    ...(deps.authRoutes ? { authRoutes: deps.authRoutes } : {}),
    authGuard,
    createContext: (request, correlationId, operation) => createContext(request, correlationId, operation),
    auditLog,
    mutationFields: new Set(Object.keys(schema.getMutationType()?.getFields() ?? {})),
    graphReachable: createReachabilityProbe({ upstream: deps.upstream, graphEndpoint: config.graphEndpoint }),
    governorHealth: () => graphSessions.governorHealth(),
  });
  // HTTP exchanges in progress; while draining, each one closes its connection when it is answered.
  const exchanges = new Set<ServerResponse>();
  let draining = false;
  const requestTimeoutMs = config.limits.operationTimeoutMs + 5_000;
  const refusePipelined = () => metrics.connectionsRefused.inc({ reason: 'pipelined_requests' });
  // One request of a connection at a time: pipelined requests wait their turn, a bounded number
  // of them (docs/security.md#pipelined-requests).
  const serveRequest = oneRequestAtATime(
    (req, res) => {
      exchanges.add(res);
      res.once('close', () => {
        exchanges.delete(res);
        if (draining) server.closeIdleConnections();
      });
      // A request that arrives on a connection opened before the drain is served; its connection then closes.
      if (draining) res.setHeader('connection', 'close');
      handler(req, res);
    },
    { onRefused: refusePipelined },
  );
  const server = createServer(
    {
      keepAliveTimeout: 5_000,
      requestTimeout: requestTimeoutMs,
      // A client has this long to send its request headers (Node's default is 60 s, checked every 30 s):
      // a connection that trickles headers holds ~10 KB, so a slow-header flood is bounded by this
      // and by MAX_CONNECTIONS (docs/reliability.md#operation-limits).
      // (Node refuses a headers timeout above the request timeout: a short OPERATION_TIMEOUT_MS.)
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs),
      connectionsCheckingInterval: 1_000,
    },
    serveRequest,
  );
  // A request whose Expect header Node does not meet itself (anything but 100-continue) goes to the
  // routes too, which answer 417 with the headers every answer carries; Node's own 417 had none.
  server.on('checkExpectation', serveRequest);
  // And `Expect: 100-continue` too: Node would answer `100 Continue` before any route, inviting
  // the body of a caller not yet authenticated; the GraphQL route sends it once it reads the body.
  server.on('checkContinue', serveRequest);
  countHeaderLines(server);
  // Every listener of the gateway is bounded the same way: in all, and per client address.
  const perAddress = config.limits.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
  const boundConnections = (listener: Server, max: number, maxPerAddress: number) => {
    // Past it, Node closes a new connection at once: 8,000 connections that each sent part of their
    // headers held ~80 MB; unbounded, a flood of them outgrows any container memory limit.
    listener.maxConnections = max;
    // And one address may not take them all (docs/security.md#connections-per-address).
    limitConnectionsPerAddress(listener, {
      max: maxPerAddress,
      trustedProxies: config.trustedProxies ?? [],
      onRefused: () => metrics.connectionsRefused.inc({ reason: 'per_address' }),
    });
  };
  boundConnections(server, config.limits.maxConnections, perAddress);
  answerClientErrors(server);
  // METRICS_PORT: /metrics on a listener of its own (docs/operations.md#metrics), the scraper's only.
  const serveMetricsRequest = oneRequestAtATime(createMetricsHandler(metrics, logger), { onRefused: refusePipelined });
  const metricsServer =
    config.listen.metricsPort === undefined
      ? undefined
      : createServer({ keepAliveTimeout: 5_000, requestTimeout: 10_000, headersTimeout: HEADERS_TIMEOUT_MS }, serveMetricsRequest);
  // A scraper or two, not the public: a small bound keeps a flood on this port from holding memory,
  // and a smaller one per address keeps one host from holding all of them while the scraper is refused.
  if (metricsServer) {
    // Its Expect refusal too (src/server.ts, createMetricsHandler).
    metricsServer.on('checkExpectation', serveMetricsRequest);
    // /metrics reads no body: no `100 Continue`, the answer itself.
    metricsServer.on('checkContinue', serveMetricsRequest);
    countHeaderLines(metricsServer);
    boundConnections(metricsServer, METRICS_MAX_CONNECTIONS, Math.min(perAddress, METRICS_MAX_CONNECTIONS_PER_ADDRESS));
    answerClientErrors(metricsServer);
  }
  let metricsUrl: string | undefined;

  const drainTimeoutMs = config.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  let closing: Promise<void> | null = null;
  const drain = async (): Promise<void> => {
    draining = true;
    const started = Date.now();
    const operationsAtStart = inFlightOperations.size;
    const allClosed = new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      // No new connections from here on; the callback runs once every open one has closed.
      server.close(() => resolve());
    });
    server.closeIdleConnections();
    for (const res of exchanges) if (!res.headersSent) res.setHeader('connection', 'close');
    let stopped = 0;
    let cut: ReturnType<typeof setTimeout> | undefined;
    const deadline = setTimeout(() => {
      stopped = inFlightOperations.size;
      if (stopped > 0) {
        logger.warn({ operations: stopped, drainTimeoutMs }, 'shutdown: drain time is up, stopping the operations still running');
        const reason = shutdownError(drainTimeoutMs);
        for (const operation of [...inFlightOperations]) operation.abort(reason);
      }
      cut = setTimeout(() => server.closeAllConnections(), STOPPED_ANSWER_GRACE_MS);
    }, drainTimeoutMs);
    await allClosed;
    clearTimeout(deadline);
    if (cut) clearTimeout(cut);
    logger.info({ operationsAtStart, stopped, durationMs: Date.now() - started }, 'shutdown: drained');
    await graphSessions.close();
    if (!deps.authGuard) authGuard.close();
    await apollo.stop();
    // Scraped until the end of the drain: the last figures of a stopping replica are its most telling.
    if (metricsServer?.listening) {
      const metricsClosed = new Promise<void>((resolve) => metricsServer.close(() => resolve()));
      metricsServer.closeAllConnections();
      await metricsClosed;
    }
  };
  return {
    server,
    listen: async () => {
      if (metricsServer) metricsUrl = await listenOn(metricsServer, config.listen.metricsPort!, config.listen.host);
      try {
        return await listenOn(server, config.listen.port, config.listen.host);
      } catch (error) {
        metricsServer?.close();
        throw error;
      }
    },
    metricsUrl: () => metricsUrl,
    close: () => (closing ??= drain()),
  };
}

/** Open connections the METRICS_PORT listener keeps at most (Prometheus keeps one per scrape target). */
const METRICS_MAX_CONNECTIONS = 32;

/**
 * Node keeps MAX_HEADER_LINES + 1 header lines of a request, so that the routes can tell a request
 * that had more and refuse it whole (`tooManyHeaderLines`, 431). Node's default kept 2,000 and
 * dropped the rest without a word (2,000 lines `a:` fit in 8 KB of the 16 KB allowed): a second
 * `Host`, `Content-Type` or credential after them reached no check of the gateway while a proxy in
 * front saw it (docs/security.md#one-host-one-content-type). Fewer lines kept also bounds what a
 * connection trickling its headers holds: 4,000 lines held ~90 KB of heap each, not the ~10 KB
 * of ordinary headers.
 */
function countHeaderLines(server: Server): void {
  server.maxHeadersCount = MAX_HEADER_LINES + 1;
}
/**
 * ... and from one address (MAX_CONNECTIONS_PER_ADDRESS when lower): a scraper needs one, an HA pair
 * of them two addresses; 8 leaves room for several while one host holds at most a quarter.
 */
const METRICS_MAX_CONNECTIONS_PER_ADDRESS = 8;

function listenOn(server: Server, port: number, host: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve(`http://${shownHost}:${address.port}`);
    });
  });
}

/**
 * The answer of an operation stopped by a shutdown. Retryable, and honest about writes: the Graph
 * call was cut, not refused, so Graph may have applied it.
 */
function shutdownError(drainTimeoutMs: number): GatewayError {
  return new GatewayError(
    ErrorCode.UPSTREAM_UNAVAILABLE,
    `The gateway is shutting down and stopped this operation after its ${drainTimeoutMs} ms drain time. ` +
      'A write that was in progress may or may not have been applied by Microsoft Graph: check the user before retrying.',
    { reason: 'GATEWAY_SHUTDOWN', retryAfterSeconds: 1 },
  );
}
