import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config-types.js';
import type { GraphLoaders, GraphUsersClient } from '../graph/api.js';
import type { Caller, CallerAuthenticator, GraphIdentity, GraphTokenSource } from '../identity/types.js';
import type { CursorCodec } from './cursor.js';

/**
 * Everything one GraphQL request may use. Built once per HTTP request by the factory below (the
 * only place per-request state is assembled); resolvers read Graph only through `graph` and
 * `loaders`, so they never see URLs, tokens or the HTTP layer.
 */
export interface GatewayContext {
  correlationId: string;
  caller: Caller;
  graph: GraphUsersClient;
  loaders: GraphLoaders;
  /** The Graph identity is a user (delegated): `Query.me` works. */
  delegatedGraphIdentity: boolean;
  cursors: CursorCodec;
  deploymentMode: Config['deploymentMode'];
  /** Child logger carrying the correlation id. */
  logger: Logger;
}

/**
 * Builds the Graph client and its loaders for one caller (wired to src/graph by the gateway).
 * `graphTenant` partitions the rate governor; `signal` fires at the operation deadline or when the
 * caller disconnects, and cancels every upstream call and retry wait.
 */
export type GraphSessionFactory = (input: { tokenSource: GraphTokenSource; correlationId: string; logger: Logger; signal?: AbortSignal; graphTenant: string }) => {
  graph: GraphUsersClient;
  loaders: GraphLoaders;
};

export interface RequestContextDeps {
  config: Config;
  logger: Logger;
  identity: GraphIdentity;
  callerAuthenticator: CallerAuthenticator;
  cursors: CursorCodec;
  graphSession: GraphSessionFactory;
}

export interface IncomingRequestInfo {
  headers: Record<string, string | string[] | undefined>;
  remoteAddress: string | undefined;
}

// A caller-supplied id is echoed into logs, so it is only taken when it is short and plain.
const SANE_CORRELATION_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export function correlationIdOf(headers: IncomingRequestInfo['headers']): string {
  const raw = headers['x-correlation-id'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value && SANE_CORRELATION_ID.test(value) ? value : randomUUID();
}

const NAMELESS_TENANTS = new Set(['common', 'organizations', 'consumers']);

/**
 * The tenant whose directory the Graph identity reads: Graph's limits are per app and tenant, so
 * this is the governor's partition. A configured tenant id wins; a multi-tenant authority
 * (`common`, `organizations`) acts in the Entra caller's tenant; hosted mode's broker "token" is the
 * tenant id (xsoar-parity §4.2). Otherwise the token partition stands in for it.
 */
export function graphTenantOf(config: Config, caller: Caller, tokenSource: GraphTokenSource): string {
  const configured = config.selfDeployed?.tenantId;
  if (configured && !NAMELESS_TENANTS.has(configured.toLowerCase())) return configured;
  if (caller.kind === 'entra') return caller.tenantId;
  if (config.hosted) return config.hosted.token.reveal();
  return tokenSource.partition;
}

/**
 * The operation's signal: aborts when `timeoutMs` passes (reason: a TimeoutError) or when `parent`
 * (the caller's connection) aborts. A plain timer instead of AbortSignal.any, so nothing outlives
 * the operation but one unref'd timer.
 */
export function operationSignal(timeoutMs: number, parent?: AbortSignal): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`The operation exceeded ${timeoutMs} ms.`, 'TimeoutError')), timeoutMs);
  timer.unref();
  if (parent) {
    const follow = () => {
      clearTimeout(timer);
      controller.abort(parent.reason);
    };
    if (parent.aborted) follow();
    else parent.addEventListener('abort', follow, { once: true });
  }
  return controller.signal;
}

/** Throws GatewayError(UNAUTHENTICATED) when the caller's credentials are bad. */
export function createRequestContextFactory(deps: RequestContextDeps) {
  return async (request: IncomingRequestInfo, correlationId = correlationIdOf(request.headers), signal?: AbortSignal): Promise<GatewayContext> => {
    const logger = deps.logger.child({ correlationId });
    const caller = await deps.callerAuthenticator.authenticate(request);
    const tokenSource = deps.identity.tokenSourceFor(caller);
    // Every upstream call of the operation shares one deadline, and stops when the caller leaves.
    const deadline = operationSignal(deps.config.limits.operationTimeoutMs, signal);
    const graphTenant = graphTenantOf(deps.config, caller, tokenSource);
    const { graph, loaders } = deps.graphSession({ tokenSource, correlationId, logger, signal: deadline, graphTenant });
    return {
      correlationId,
      caller,
      graph,
      loaders,
      delegatedGraphIdentity: deps.identity.delegated,
      cursors: deps.cursors,
      deploymentMode: deps.config.deploymentMode,
      logger,
    };
  };
}
