import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { newAuditTrail, type AuditTrail } from '../audit/plugin.js';
import type { Config } from '../config-types.js';
import { correlationIdOf } from '../http/correlation-id.js';
import type { GraphLoaders, GraphUsersClient } from '../graph/api.js';
import { graphIdentityId } from '../identity/identity-id.js';
import type { Caller, CallerAuthenticator, CallerRevocations, GraphIdentity, GraphTokenSource } from '../identity/types.js';
import { cursorBindingOf, type CallerCursors, type CursorCodec } from './cursor.js';

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
  /**
   * Every caller is served as one signed-in account (the authorization code flow): mutations may not
   * act on that account (src/graphql/mutations/gateway-account.ts).
   */
  sharedGraphAccount: boolean;
  /** Cursors and change-feed tokens bound to this caller: another caller's are refused. */
  cursors: CallerCursors;
  /**
   * Whose share of the gateway's shared memory budgets this request draws on (request bodies,
   * answers in flight: src/caller-shares.ts): the caller's stable identity, the one its cursors are
   * bound to, never a credential. Undefined for CALLER_AUTH=none's loopback user, who is every
   * caller (nobody else to keep a share for), and in contexts built by hand.
   */
  callerShare?: string;
  deploymentMode: Config['deploymentMode'];
  /** Child logger carrying the correlation id (created on first use). */
  logger: Logger;
  /**
   * The answer is on its way: the operation's deadline timer is no longer needed (the operation
   * log plugin calls it from willSendResponse). Absent in contexts built by hand.
   */
  endOperation?: () => void;
  /**
   * Calls `release` once the answer is written or the connection closed (set by the HTTP handler,
   * src/server.ts): what the answer holds is reserved until then (src/graphql/budget/answers-in-flight.ts).
   * Absent in contexts built by hand.
   */
  untilAnswered?: (release: () => void) => void;
  /** Whether an audit event was written for this request (src/audit/plugin.ts); absent in contexts built by hand. */
  auditTrail?: AuditTrail;
  /**
   * With CALLER_AUTH=entra: where a containment mutation records its user, whose caller tokens issued
   * before are then refused (docs/security.md#contained-users-caller-tokens). Absent otherwise.
   */
  callerRevocations?: CallerRevocations;
}

/**
 * Builds the Graph client and its loaders for one caller (wired to src/graph by the gateway).
 * `graphTenant` partitions the rate governor; `signal` fires at the operation deadline or when the
 * caller disconnects, and cancels every upstream call and retry wait.
 */
export type GraphSessionFactory = (input: {
  tokenSource: GraphTokenSource;
  correlationId: string;
  logger: Logger;
  signal?: AbortSignal;
  graphTenant: string;
  /** The caller's stable identity, for the governor's fair share between callers. */
  caller?: string;
}) => {
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
  callerRevocations?: CallerRevocations;
}

export interface IncomingRequestInfo {
  headers: Record<string, string | string[] | undefined>;
  /** Node's `req.rawHeaders`: a repeated credential header is refused (src/identity/credential-headers.ts). */
  rawHeaders?: readonly string[];
  remoteAddress: string | undefined;
}

const NAMELESS_TENANTS = new Set(['common', 'organizations', 'consumers']);

/**
 * The tenant whose directory the Graph identity reads: Graph's limits are per app and tenant, so
 * this is the governor's partition. Hosted mode has one tenant, named by its broker registration;
 * otherwise a configured tenant id wins; a multi-tenant authority (`common`, `organizations`) acts
 * in the Entra caller's tenant. Otherwise the token partition stands in for it.
 */
export function graphTenantOf(config: Config, caller: Caller, tokenSource: GraphTokenSource): string {
  // Hosted first: its one tenant's id is the broker's Token, a secret, and the partition names the
  // Redis key of the shared budget and the governor's log lines; the broker registration stands
  // for the tenant instead (docs/security.md#the-broker-token-is-a-secret).
  if (config.hosted) return graphIdentityId(config);
  const configured = config.selfDeployed?.tenantId;
  if (configured && !NAMELESS_TENANTS.has(configured.toLowerCase())) return configured;
  if (caller.kind === 'entra') return caller.tenantId;
  return tokenSource.partition;
}

/**
 * The operation's deadline, on the operation's own controller: the HTTP handler's, which also
 * aborts when the caller leaves or the gateway shuts down (src/server.ts). When `timeoutMs` passes
 * it aborts with a TimeoutError. One controller per operation, not a second one following the
 * handler's (two signals, a listener and a closure per operation: a measurable share of a single
 * lookup's CPU). A plain timer instead of AbortSignal.timeout; `end()` clears it when the answer
 * is sent or the connection closes, so a finished operation is not kept reachable (with its
 * clients and loaders) until its deadline would have passed: at a thousand operations a second and
 * a 30 s deadline that is tens of thousands of dead operations promoted to the old space.
 */
export function operationDeadline(timeoutMs: number, operation = new AbortController()): { signal: AbortSignal; end(): void } {
  // Every Graph call of the operation listens to this signal until the call ends (its listener is
  // removed then): an operation with more than 10 calls in flight (GRAPH_MAX_CONCURRENCY is 16) is
  // normal, not the leak Node's default limit of 10 warns about.
  setMaxListeners(256, operation.signal);
  let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(
    () => operation.abort(new DOMException(`The operation exceeded ${timeoutMs} ms.`, 'TimeoutError')),
    timeoutMs,
  );
  timer.unref();
  return {
    signal: operation.signal,
    end() {
      if (timer === undefined) return;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** Throws GatewayError(UNAUTHENTICATED) when the caller's credentials are bad. */
export function createRequestContextFactory(deps: RequestContextDeps) {
  const lazyLogger = lazyLoggerPrototype(deps.logger);
  return async (request: IncomingRequestInfo, correlationId = correlationIdOf(request.headers), operation?: AbortController): Promise<GatewayContext> => {
    const caller = await deps.callerAuthenticator.authenticate(request);
    const tokenSource = deps.identity.tokenSourceFor(caller);
    // Every upstream call of the operation shares one deadline, and stops when the caller leaves.
    const deadline = operationDeadline(deps.config.limits.operationTimeoutMs, operation);
    const graphTenant = graphTenantOf(deps.config, caller, tokenSource);
    // The Graph layer writes the correlation id into each of its lines itself, so it takes the
    // process logger; the operation's child logger is built only when something logs through it
    // (a pino child per operation is a measurable share of a single lookup's CPU).
    // The caller's stable identity, computed once per request: its cursors are bound to it, it shares
    // the governor's queue fairly between callers (docs/reliability.md#fair-share-between-callers),
    // and it names the caller's share of the memory budgets (callerShare).
    const binding = cursorBindingOf(caller);
    const { graph, loaders } = deps.graphSession({
      tokenSource,
      correlationId,
      logger: deps.logger,
      signal: deadline.signal,
      graphTenant,
      caller: binding,
    });
    const context: Omit<GatewayContext, 'logger'> = {
      correlationId,
      caller,
      graph,
      loaders,
      delegatedGraphIdentity: deps.identity.delegated,
      sharedGraphAccount: deps.identity.kind === 'authorization-code',
      cursors: deps.cursors.forBinding(binding),
      ...(caller.kind === 'anonymous' ? {} : { callerShare: binding }),
      deploymentMode: deps.config.deploymentMode,
      endOperation: deadline.end,
      auditTrail: newAuditTrail(),
      ...(deps.callerRevocations ? { callerRevocations: deps.callerRevocations } : {}),
    };
    return Object.assign(Object.create(lazyLogger) as GatewayContext, context);
  };
}

const CHILD_LOGGER = Symbol('childLogger');

/**
 * The context's `logger`, built on first use. A getter on the prototype, not on the object:
 * Apollo clones the context per operation with Object.assign, which would call an own getter
 * (and build the child) every time; the clone keeps the prototype, so the getter stays lazy.
 */
function lazyLoggerPrototype(root: Logger): object {
  return {
    get logger(): Logger {
      const self = this as unknown as { correlationId: string; [CHILD_LOGGER]?: Logger };
      return (self[CHILD_LOGGER] ??= root.child({ correlationId: self.correlationId }));
    },
  };
}
