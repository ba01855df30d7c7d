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

/** Builds the Graph client and its loaders for one caller (wired to src/graph by the gateway). */
export type GraphSessionFactory = (input: { tokenSource: GraphTokenSource; correlationId: string; logger: Logger; signal?: AbortSignal }) => {
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

/** Throws GatewayError(UNAUTHENTICATED) when the caller's credentials are bad. */
export function createRequestContextFactory(deps: RequestContextDeps) {
  return async (request: IncomingRequestInfo, correlationId = correlationIdOf(request.headers), signal?: AbortSignal): Promise<GatewayContext> => {
    const logger = deps.logger.child({ correlationId });
    const caller = await deps.callerAuthenticator.authenticate(request);
    const tokenSource = deps.identity.tokenSourceFor(caller);
    const { graph, loaders } = deps.graphSession({ tokenSource, correlationId, logger, ...(signal ? { signal } : {}) });
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
