/**
 * The contract of the per-app+tenant rate governor of upstream Graph calls
 * (docs/graph-facts.md#throttling, docs/reliability.md#rate-governor): what the transport sees. The
 * parts that implement it, one file each:
 *
 * - src/graph/graph-cost.ts: Graph's cost model (what a call costs in resource units and writes);
 * - src/graph/rate-limiter.ts: the process-local limiter (token buckets, queueing, pauses), today's
 *   behaviour and the only one of a memory-only deployment;
 * - src/graph/shared-rate-limiter.ts + src/graph/redis-rate-budget.ts: one budget for every replica of
 *   the same app and tenant, through an atomic token bucket in Redis, with a fallback to an equal
 *   share when Redis is unreachable.
 *
 * src/graph/governor-registry.ts picks one per tenant from the configuration.
 */

export interface GraphGovernorOptions {
  /** Directory RU per 10 s for this app+tenant: 3,500 (< 50 users), 5,000 (50–500), 8,000 (> 500). Default 3,500. */
  resourceUnitsPer10s?: number;
  /** Directory writes per 150 s for this app+tenant (default 3,000). */
  writesPer150s?: number;
  /**
   * Share of the documented limits the gateway uses (default 0.8): Graph can answer 429 below its
   * limits when the service is under load, and a 429's Retry-After stalls every caller.
   */
  headroom?: number;
  /** Upstream calls in flight at once (default 16), per process. */
  maxConcurrent?: number;
  /** Longest a call may queue for capacity before the caller gets THROTTLED (default 10 s). */
  maxWaitMs?: number;
  /** Injected clock and timers, for deterministic tests. */
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export interface AcquireOptions {
  /** The call writes to the directory (POST/PATCH/PUT/DELETE other than getByIds and `$batch` envelopes). */
  write?: boolean;
  /** Number of directory writes the call carries (a `$batch` can carry several); defaults to 1 when `write`. */
  writes?: number;
  signal?: AbortSignal;
  /**
   * Who the call is for (the caller's stable identity, never a credential): queued calls are shared
   * fairly between callers (src/graph/fair-share.ts). Absent: one shared key.
   */
  caller?: string;
}

/** Held while the call is in flight; `release` frees the concurrency slot (idempotent). */
export interface GovernorPermit {
  release(): void;
}

export interface GovernorSnapshot {
  inFlight: number;
  queued: number;
  /** RU left in the bucket (the shared one as last seen, when shared). */
  resourceUnits: number;
  writes: number;
  pausedForMs: number;
}

export interface GraphGovernor {
  /**
   * Waits until a call costing `cost` RU (and its writes) fits the buckets and a concurrency slot is
   * free. Rejects with GatewayError THROTTLED (with `retryAfterSeconds`) when the wait would exceed
   * `maxWaitMs`, and with the signal's reason when the caller goes away while queued.
   */
  acquire(cost: number, options?: AcquireOptions): Promise<GovernorPermit>;
  /** Graph said 429/503 with Retry-After: hold every call of this tenant until it has passed. */
  pause(retryAfterSeconds: number): void;
  snapshot(): GovernorSnapshot;
  /** Rejects queued calls (shutdown). */
  close(): void;
}

/**
 * How the governors keep their budget, for /readyz and the logs: `process` (each process its own
 * buckets: memory-only deployments), `shared` (one budget in Redis for every replica), `fallback`
 * (Redis unreachable: an equal share each until it is back).
 */
export type GovernorHealth =
  | { budget: 'process'; replicas: number }
  | { budget: 'shared'; location: string }
  | { budget: 'fallback'; location: string; replicas: number; replicasSource: 'GRAPH_REPLICAS' | 'heartbeats' | 'assumed' };
