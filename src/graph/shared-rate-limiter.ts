import type { Logger } from '../logger.js';
import { createConcurrencyGate } from './concurrency-gate.js';
import type { AcquireOptions, GovernorHealth, GovernorPermit, GovernorSnapshot, GraphGovernor, GraphGovernorOptions } from './governor.js';
import { createLocalRateLimiter, DEFAULT_HEADROOM, READ_WINDOW_MS, WRITE_WINDOW_MS, shuttingDownError, throttledError } from './rate-limiter.js';
import { redisErrorSummary } from '../store/redis-error.js';

/**
 * The rate governor of one app+tenant shared by every replica (docs/reliability.md#shared-rate-governor).
 * Graph's directory limits are per app and tenant, not per process: three replicas that each allow
 * themselves 80 % of the budget spend 240 % of it. Here every call reserves its resource units (and
 * writes) from one token bucket kept in Redis (src/graph/redis-rate-budget.ts) in one round trip;
 * the bucket answers when the tokens are this call's (now, or after the calls reserved before it,
 * in the order they asked, whichever replica they came from), or that the wait would pass
 * GRAPH_MAX_WAIT_MS (THROTTLED at once, nothing taken). A Retry-After seen by one replica is stored
 * beside the bucket and holds them all.
 *
 * Redis unreachable: each replica falls back to an equal share of the budget (GRAPH_REPLICAS, or the
 * replica count last seen in Redis heartbeats), says so once in the log and in /readyz, and returns
 * to the shared budget when a heartbeat gets through again.
 */

/** The shared bucket's size and refill, already scaled by the headroom. */
export interface SharedBudgetLimits {
  resourceUnitCapacity: number;
  resourceUnitsPerMs: number;
  writeCapacity: number;
  writesPerMs: number;
}

export interface ReserveRequest {
  resourceUnits: number;
  writes: number;
  /** Take nothing when the tokens would be this call's only after more than this. */
  maxWaitMs: number;
}

export interface ReserveResult {
  granted: boolean;
  /** When the reserved tokens are the caller's (granted), or would have been (refused). */
  waitMs: number;
  /** What is left of a Retry-After pause stored by any replica. */
  pausedForMs: number;
  /** The bucket after this call (negative: reserved ahead by calls still waiting). */
  resourceUnitsLeft: number;
  writesLeft: number;
}

/** One app+tenant's bucket in a shared store; every method is one round trip and throws when the store is unreachable. */
export interface SharedRateBudget {
  /** For logs: where the budget lives, without credentials. */
  readonly location: string;
  reserve(request: ReserveRequest): Promise<ReserveResult>;
  /** Holds every replica for `ms` (a Retry-After this one saw); resolves with the pause now in force. */
  pause(ms: number): Promise<number>;
  /** This replica is alive; answers how many are and what is left of the shared pause. */
  heartbeat(): Promise<{ replicas: number; pausedForMs: number }>;
  /** Best effort: this replica stops counting. */
  leave(): Promise<void>;
}

export interface SharedRateLimiterOptions extends GraphGovernorOptions {
  openBudget(limits: SharedBudgetLimits): SharedRateBudget;
  /** GRAPH_REPLICAS: the fallback share's divisor; absent, the count last seen in heartbeats. */
  replicas?: number;
  logger: Logger;
  /** How often this replica says it is alive and probes an unreachable Redis (default 1 s). */
  heartbeatMs?: number;
}

export interface SharedRateLimiter extends GraphGovernor {
  health(): Extract<GovernorHealth, { budget: 'shared' | 'fallback' }>;
}

export const DEFAULT_HEARTBEAT_MS = 1_000;

interface Sleeper {
  fail(reason: unknown): void;
}

export function createSharedRateLimiter(options: SharedRateLimiterOptions): SharedRateLimiter {
  const headroom = options.headroom ?? DEFAULT_HEADROOM;
  const ruLimit = options.resourceUnitsPer10s ?? 3_500;
  const writeLimit = options.writesPer150s ?? 3_000;
  const maxConcurrent = options.maxConcurrent ?? 16;
  const maxWaitMs = options.maxWaitMs ?? 10_000;
  const configuredReplicas = options.replicas;
  if (configuredReplicas !== undefined && !(Number.isInteger(configuredReplicas) && configuredReplicas >= 1)) {
    throw new Error(`createSharedRateLimiter: replicas must be a whole number >= 1, received ${String(configuredReplicas)}`);
  }
  const now = options.now ?? Date.now;
  const setTimer = options.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms).unref());
  const clearTimer = options.clearTimer ?? ((handle: unknown) => clearTimeout(handle as NodeJS.Timeout));
  const log = options.logger.child({ component: 'rate-governor' });

  const ruCapacity = Math.max(1, Math.floor(ruLimit * headroom));
  const writeCapacity = Math.max(1, Math.floor(writeLimit * headroom));
  const budget = options.openBudget({
    resourceUnitCapacity: ruCapacity,
    resourceUnitsPerMs: ruCapacity / READ_WINDOW_MS,
    writeCapacity,
    writesPerMs: writeCapacity / WRITE_WINDOW_MS,
  });
  const gate = createConcurrencyGate(maxConcurrent);

  let mode: 'shared' | 'fallback' = 'shared';
  let fallback: GraphGovernor | undefined;
  const fallbacks = new Set<GraphGovernor>();
  let discoveredReplicas: number | undefined;
  let pausedUntil = 0;
  let lastSeen = { resourceUnits: ruCapacity, writes: writeCapacity };
  let closed = false;
  const sleepers = new Set<Sleeper>();

  const fallbackReplicas = (): { replicas: number; source: 'GRAPH_REPLICAS' | 'heartbeats' | 'assumed' } => {
    if (configuredReplicas !== undefined) return { replicas: configuredReplicas, source: 'GRAPH_REPLICAS' };
    if (discoveredReplicas !== undefined) return { replicas: discoveredReplicas, source: 'heartbeats' };
    return { replicas: 1, source: 'assumed' };
  };

  const enterFallback = (error: unknown): void => {
    if (mode === 'fallback' || closed) return;
    mode = 'fallback';
    const { replicas, source } = fallbackReplicas();
    // Starts empty: until now this replica spent from the shared budget, and Graph's bucket knows it.
    fallback = createLocalRateLimiter({
      ...options,
      resourceUnitsPer10s: Math.max(1, ruLimit / replicas),
      writesPer150s: Math.max(1, writeLimit / replicas),
      // GRAPH_MAX_CONCURRENCY stays one gate per process (below), whichever budget the tokens come from.
      maxConcurrent: Number.MAX_SAFE_INTEGER,
      initialFill: 0,
    });
    fallbacks.add(fallback);
    forgetIdleFallbacks();
    const pauseLeft = pausedUntil - now();
    if (pauseLeft > 0) fallback.pause(pauseLeft / 1000);
    log.warn(
      {
        redis: budget.location,
        replicas,
        replicasSource: source,
        resourceUnitsPer10s: Math.floor((ruLimit / replicas) * headroom),
        err: redisErrorSummary(error),
      },
      source === 'assumed'
        ? 'rate governor: Redis is unreachable or refuses its commands, and no replica count is known (set GRAPH_REPLICAS); this replica uses the whole Graph budget until Redis is back'
        : `rate governor: Redis is unreachable or refuses its commands; this replica uses an equal share (1/${replicas}) of the Graph budget until Redis is back`,
    );
  };

  const forgetIdleFallbacks = (): void => {
    for (const old of fallbacks) if (old !== fallback && old.snapshot().queued === 0) fallbacks.delete(old);
  };

  const leaveFallback = (): void => {
    if (mode === 'shared' || closed) return;
    mode = 'shared';
    // `fallback` stays set: a call that chose it just before Redis came back still finds it. Fallback
    // limiters drain what they already queued; the idle ones are forgotten.
    forgetIdleFallbacks();
    log.info({ redis: budget.location }, 'rate governor: Redis is reachable again; back on the budget every replica shares');
  };

  /** A pause learned from Graph (here) or from another replica (through Redis). */
  const notePause = (pausedForMs: number): void => {
    if (!(pausedForMs > 0)) return;
    const until = now() + pausedForMs;
    if (until <= pausedUntil) return;
    pausedUntil = until;
    for (const limiter of fallbacks) limiter.pause(pausedForMs / 1000);
    if (pausedForMs > maxWaitMs) {
      // Nobody waiting would get through in time: tell them now rather than at the deadline.
      for (const sleeper of [...sleepers]) sleeper.fail(throttledError(pausedForMs));
    }
  };

  const sleep = (ms: number, signal: AbortSignal | undefined) =>
    new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        clearTimer(handle);
        sleepers.delete(sleeper);
        signal?.removeEventListener('abort', onAbort);
      };
      const sleeper: Sleeper = {
        fail(reason) {
          cleanup();
          reject(reason);
        },
      };
      const onAbort = () => sleeper.fail(signal!.reason);
      const handle = setTimer(() => {
        cleanup();
        resolve();
      }, Math.ceil(ms));
      sleepers.add(sleeper);
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  /** Waits until the reserved tokens are ours and no pause holds the tenant. */
  const waitTurn = async (readyAt: number, signal: AbortSignal | undefined): Promise<void> => {
    for (;;) {
      const wait = Math.max(readyAt, pausedUntil) - now();
      if (wait <= 0) return;
      await sleep(wait, signal);
    }
  };

  /**
   * Tokens from the shared bucket, one round trip per call; false when Redis failed (the call goes to
   * the fallback). No RU are taken ahead for later calls: any this replica did not spend in time
   * would be lost to every replica, and a Redis round trip is small beside a Graph call.
   */
  const takeShared = async (resourceUnits: number, writes: number, signal: AbortSignal | undefined): Promise<boolean> => {
    let reply: ReserveResult;
    try {
      reply = await budget.reserve({ resourceUnits, writes, maxWaitMs });
    } catch (error) {
      enterFallback(error);
      return false;
    }
    const at = now();
    lastSeen = { resourceUnits: reply.resourceUnitsLeft, writes: reply.writesLeft };
    notePause(reply.pausedForMs);
    if (!reply.granted) throw throttledError(reply.waitMs);
    await waitTurn(at + reply.waitMs, signal);
    return true;
  };

  let beating = false;
  const beat = async (): Promise<void> => {
    if (beating || closed) return;
    beating = true;
    try {
      const reply = await budget.heartbeat();
      discoveredReplicas = Math.max(1, reply.replicas);
      notePause(reply.pausedForMs);
      leaveFallback();
    } catch (error) {
      enterFallback(error);
    } finally {
      beating = false;
    }
  };
  const heartbeat = setInterval(() => void beat(), options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  heartbeat.unref();
  void beat();

  return {
    async acquire(cost, acquireOptions: AcquireOptions = {}): Promise<GovernorPermit> {
      if (closed) throw shuttingDownError();
      const signal = acquireOptions.signal;
      if (signal?.aborted) throw signal.reason;
      // A call bigger than the bucket could never fit: it waits for a full bucket instead.
      const resourceUnits = Math.min(ruCapacity, Math.max(1, Math.ceil(Number.isFinite(cost) ? cost : 1)));
      const writes = Math.min(writeCapacity, Math.max(0, acquireOptions.writes ?? (acquireOptions.write ? 1 : 0)));
      let releaseTokens: (() => void) | undefined;
      if (mode !== 'shared' || !(await takeShared(resourceUnits, writes, signal))) {
        const limiter = fallback;
        if (!limiter) throw shuttingDownError();
        releaseTokens = (
          await limiter.acquire(resourceUnits, {
            writes,
            ...(signal ? { signal } : {}),
            ...(acquireOptions.caller !== undefined ? { caller: acquireOptions.caller } : {}),
          })
        ).release;
      }
      let exit: () => void;
      try {
        exit = await gate.enter(signal, writes > 0);
      } catch (error) {
        releaseTokens?.();
        throw error;
      }
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          exit();
          releaseTokens?.();
        },
      };
    },
    pause(retryAfterSeconds) {
      if (!Number.isFinite(retryAfterSeconds) || retryAfterSeconds <= 0 || closed) return;
      const ms = retryAfterSeconds * 1000;
      notePause(ms);
      if (mode === 'shared') {
        budget.pause(ms).then(
          (pausedForMs) => notePause(pausedForMs),
          (error: unknown) => enterFallback(error),
        );
      }
    },
    snapshot(): GovernorSnapshot {
      const local = mode === 'fallback' && fallback ? fallback.snapshot() : undefined;
      let fallbackQueued = 0;
      for (const limiter of fallbacks) fallbackQueued += limiter.snapshot().queued;
      return {
        inFlight: gate.inFlight,
        queued: sleepers.size + gate.queued + fallbackQueued,
        resourceUnits: local ? local.resourceUnits : Math.floor(lastSeen.resourceUnits),
        writes: local ? local.writes : Math.floor(lastSeen.writes),
        pausedForMs: Math.max(0, pausedUntil - now()),
      };
    },
    health() {
      if (mode === 'shared') return { budget: 'shared', location: budget.location };
      const { replicas, source } = fallbackReplicas();
      return { budget: 'fallback', location: budget.location, replicas, replicasSource: source };
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      for (const sleeper of [...sleepers]) sleeper.fail(shuttingDownError());
      gate.close(shuttingDownError());
      for (const limiter of fallbacks) limiter.close();
      fallbacks.clear();
      budget.leave().catch(() => undefined);
    },
  };
}
