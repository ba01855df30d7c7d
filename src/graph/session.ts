import type { Config } from '../config-types.js';
import type { UpstreamHttp } from '../http/upstream.js';
import type { GraphTokenSource } from '../identity/types.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import type { GraphLoaders } from './api.js';
import { createGraphClient, type GraphClient } from './client.js';
import type { GovernorHealth } from './governor.js';
import { createGraphGovernorRegistry, governorOptionsOf, type GraphGovernorRegistry } from './governor-registry.js';
import { createGraphLoaders } from './loaders.js';
import { boundedBySignal, createUserLookupCoalescing } from './user-coalescing.js';

/**
 * The Graph side of one gateway: the process-wide parts (rate governors per tenant, cross-request
 * lookup coalescing) and, per GraphQL request, a Graph client and its DataLoaders bound to the
 * caller's token source (the context factory in src/graphql/context.ts asks for them).
 */
export interface GraphSessionsDeps {
  config: Config;
  logger: Logger;
  metrics: GatewayMetrics;
  upstream: UpstreamHttp;
  /** True when the Graph identity is a user: no cross-request coalescing then. */
  delegatedIdentity: boolean;
  /** Shared per-tenant governors (src/app.ts builds one registry per process); absent: built here and closed with the sessions. */
  governors?: GraphGovernorRegistry;
  /** True while other GraphQL operations are in flight: a lookup then waits the coalescing window, since company is likely. */
  othersBusy?: () => boolean;
}

export interface GraphSessionInput {
  tokenSource: GraphTokenSource;
  correlationId: string;
  logger: Logger;
  signal?: AbortSignal;
  /** Partitions the rate governor. */
  graphTenant: string;
  /** The caller's stable identity (never a credential): the governor shares queued calls fairly between callers. */
  caller?: string;
}

export interface GraphSessions {
  /** The Graph client and loaders of one request. */
  open(input: GraphSessionInput): { graph: GraphClient; loaders: GraphLoaders };
  /** The rate governors' budget state (shared, or a fallback share while Redis is unreachable), for /readyz. */
  governorHealth(): GovernorHealth;
  /** Releases what the sessions own (the governors they built themselves). */
  close(): Promise<void>;
}

export function createGraphSessions(deps: GraphSessionsDeps): GraphSessions {
  const { config, logger, metrics } = deps;
  const governors = deps.governors ?? createGraphGovernorRegistry(governorOptionsOf(config));
  const ownsGovernors = deps.governors === undefined;
  const clientOf = (input: GraphSessionInput) =>
    createGraphClient({
      upstream: deps.upstream,
      tokenSource: input.tokenSource,
      graphEndpoint: config.graphEndpoint,
      logger: input.logger,
      metrics,
      correlationId: input.correlationId,
      maxRetries: config.limits.maxRetries,
      requestTimeoutMs: config.limits.upstreamTimeoutMs,
      operationTimeoutMs: config.limits.operationTimeoutMs,
      governor: governors.forTenant(input.graphTenant),
      ...(input.signal ? { signal: input.signal } : {}),
      ...(input.caller !== undefined ? { caller: input.caller } : {}),
    });
  // Cross-request coalescing (docs/reliability.md#cross-request-coalescing) only for an app-only Graph identity; lookups are still
  // partitioned by token partition, so identities could never mix even if that changed.
  const coalesceWindowMs = config.coalesceWindowMs ?? 0;
  // A lookup waits the window only when company is likely: lookups of its identity out, or other
  // operations in flight besides its own (a lone operation's lookup goes at once).
  const userCoalescing =
    coalesceWindowMs > 0 && !deps.delegatedIdentity
      ? createUserLookupCoalescing({ windowMs: coalesceWindowMs, ...(deps.othersBusy ? { othersBusy: deps.othersBusy } : {}) })
      : undefined;
  return {
    open(input) {
      const graph = clientOf(input);
      const shared = userCoalescing?.forPartition(input.tokenSource.partition, () =>
        // Dispatches serve several operations: no single caller's deadline or correlation id.
        clientOf({ tokenSource: input.tokenSource, correlationId: 'coalesced-lookups', logger, graphTenant: input.graphTenant }),
      );
      const coalesceUser = shared ? boundedBySignal(shared, input.signal, config.limits.operationTimeoutMs) : undefined;
      return { graph, loaders: createGraphLoaders(graph, coalesceUser ? { coalesceUser } : {}) };
    },
    governorHealth: () => governors.health(),
    async close() {
      if (ownsGovernors) await governors.close();
    },
  };
}
