import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RefusedOutcome } from './caller-shares.js';

/**
 * Prometheus metrics, one registry per gateway instance (tests run several in one process).
 * Label values are closed sets (routes as templates, status codes, outcomes): never ids, UPNs
 * or anything a caller controls, so cardinality stays bounded and nothing sensitive leaks.
 */
export interface GatewayMetrics {
  registry: Registry;
  upstreamRequests: Counter<'route' | 'status'>;
  upstreamRetries: Counter<'reason'>;
  batchSize: Histogram<never>;
  tokenAcquisitions: Counter<'flow' | 'outcome'>;
  operationDuration: Histogram<'operation_type' | 'outcome'>;
  auditEvents: Counter<'operation' | 'outcome'>;
  authenticationFailures: Counter<'reason'>;
  processFaults: Counter<'kind'>;
  connectionsRefused: Counter<'reason'>;
  memoryBudgetRefusals: Counter<'budget' | 'bound'>;
}

/** The memory budgets shared by callers (src/caller-shares.ts) whose refusals are counted. */
export type MemoryBudget = 'request_bodies' | 'answers_in_flight';

/** Counts a refusal of `budget` in `gateway_memory_budget_refusals_total`, by the bound that refused it. */
export function countMemoryBudgetRefusal(metrics: Pick<GatewayMetrics, 'memoryBudgetRefusals'>, budget: MemoryBudget): (outcome: RefusedOutcome) => void {
  return (outcome) => metrics.memoryBudgetRefusals.inc({ budget, bound: outcome === 'share-spent' ? 'caller_share' : 'all_callers' });
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    // /metrics answers whoever reaches the port (docs/operations.md): the exact Node version would
    // tell a stranger which published vulnerabilities to try; operators know it from the image.
    registry.removeSingleMetric('nodejs_version_info');
  }
  return {
    registry,
    upstreamRequests: new Counter({
      name: 'gateway_upstream_requests_total',
      help: 'Requests sent to Microsoft Graph, by route template and HTTP status ($batch items counted separately under their own route).',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    upstreamRetries: new Counter({
      name: 'gateway_upstream_retries_total',
      help: 'Upstream retries, by reason (429, 503, 504, network).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'gateway_upstream_batch_items',
      help: 'Items per JSON $batch request.',
      buckets: [1, 2, 5, 10, 15, 20],
      registers: [registry],
    }),
    tokenAcquisitions: new Counter({
      name: 'gateway_token_acquisitions_total',
      help: 'Graph token acquisitions that went to the identity provider or broker, by flow and outcome.',
      labelNames: ['flow', 'outcome'] as const,
      registers: [registry],
    }),
    operationDuration: new Histogram({
      name: 'gateway_operation_duration_seconds',
      help: 'GraphQL operation latency, by operation type and outcome.',
      labelNames: ['operation_type', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    auditEvents: new Counter({
      name: 'gateway_audit_events_total',
      help: 'Audit events for mutations, by operation and outcome.',
      labelNames: ['operation', 'outcome'] as const,
      registers: [registry],
    }),
    authenticationFailures: new Counter({
      name: 'gateway_authentication_failures_total',
      help: 'Refused caller authentications (GraphQL and sign-in routes), by reason: missing_credential, invalid_api_key, invalid_bearer_token, bearer_token_of_contained_user, ambiguous_credentials, not_loopback, invalid_sign_in_link, sign_in_not_bound, invalid_sign_in_state, not_operator, host_not_allowed, origin_not_allowed, forwarded_request, throttled.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    connectionsRefused: new Counter({
      name: 'gateway_connections_refused_total',
      help: 'Client connections closed by the gateway, by reason: per_address (on arrival, past MAX_CONNECTIONS_PER_ADDRESS from one address), pipelined_requests (more requests sent ahead of their answers than the gateway keeps waiting).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    memoryBudgetRefusals: new Counter({
      name: 'gateway_memory_budget_refusals_total',
      help: "Requests refused (429) because the memory held by all callers at once is spent, by budget (request_bodies: MAX_BODY_BYTES bodies being read; answers_in_flight: MAX_RESULT_VALUES_IN_FLIGHT) and bound (caller_share: the caller's own share; all_callers: the whole budget).",
      labelNames: ['budget', 'bound'] as const,
      registers: [registry],
    }),
    processFaults: new Counter({
      name: 'gateway_process_faults_total',
      help: 'Faults no code caught (docs/operations.md#process-faults), by kind: unhandled_rejection (logged, the gateway keeps serving), uncaught_exception (logged, the process exits 1).',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
  };
}
