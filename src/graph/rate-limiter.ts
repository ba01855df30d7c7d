import { ErrorCode, GatewayError } from '../errors.js';
import type { AcquireOptions, GovernorPermit, GraphGovernor, GraphGovernorOptions } from './governor.js';
import { FairShare } from './fair-share.js';
import { fairInsertionIndex } from './priority-queue.js';

/**
 * The process-local rate limiter of Graph calls (docs/graph-facts.md#throttling): token buckets of
 * resource units per 10 s and writes per 150 s, a concurrency cap, a queue bounded by `maxWaitMs`
 * (writes ahead of reads, each shared fairly between callers: see `positionOf`), and pauses for Retry-After. It
 * knows nothing of what a call costs (src/graph/graph-cost.ts prices calls) nor of other replicas
 * (src/graph/shared-rate-limiter.ts shares one budget through Redis).
 *
 * Graph throttles directory traffic per app+tenant with a token bucket of resource units (RU) per
 * 10 s and a separate budget of writes per 2 min 30 s. Provoking a 429 costs more than waiting: the
 * Retry-After that follows stalls every caller. So the gateway keeps its own, slightly smaller
 * buckets and queues calls until they fit, and it refuses quickly (THROTTLED with a retry hint) when
 * the wait would be longer than a caller should hang.
 */

export const READ_WINDOW_MS = 10_000;
export const WRITE_WINDOW_MS = 150_000;
/** Share of Graph's documented limits the gateway uses unless told otherwise. */
export const DEFAULT_HEADROOM = 0.8;

export interface LocalRateLimiterOptions extends GraphGovernorOptions {
  /**
   * How full the buckets start, 0..1 (default 1). A replica that falls back from the shared budget
   * starts empty: it was just spending from the shared one, and Graph's bucket knows it.
   */
  initialFill?: number;
}

/** The answer to a call the limiter will not queue: it says when to come back. */
export function throttledError(waitMs: number): GatewayError {
  return new GatewayError(ErrorCode.THROTTLED, 'The gateway is holding back calls to Microsoft Graph to stay under its rate limits; retry later.', {
    retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
  });
}

export function shuttingDownError(): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'The gateway is shutting down.', { retryAfterSeconds: 1 });
}

interface Waiter {
  cost: number;
  writes: number;
  /** Carries a directory write (containment: disable, revoke, reset): served before queued reads. */
  priority: boolean;
  /** Start tag of fair queuing between callers (src/graph/fair-share.ts). */
  start: number;
  resolve: (permit: GovernorPermit) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export function createLocalRateLimiter(options: LocalRateLimiterOptions = {}): GraphGovernor {
  const headroom = options.headroom ?? DEFAULT_HEADROOM;
  const ruLimit = options.resourceUnitsPer10s ?? 3_500;
  const writeLimit = options.writesPer150s ?? 3_000;
  const maxConcurrent = options.maxConcurrent ?? 16;
  const maxWaitMs = options.maxWaitMs ?? 10_000;
  for (const [name, value] of Object.entries({ resourceUnitsPer10s: ruLimit, writesPer150s: writeLimit, maxConcurrent })) {
    if (!Number.isFinite(value) || value < 1) throw new Error(`createLocalRateLimiter: ${name} must be a number >= 1, received ${String(value)}`);
  }
  if (!(headroom > 0 && headroom <= 1)) throw new Error(`createLocalRateLimiter: headroom must be in (0, 1], received ${String(headroom)}`);
  if (!Number.isFinite(maxWaitMs) || maxWaitMs < 0) throw new Error(`createLocalRateLimiter: maxWaitMs must be >= 0, received ${String(maxWaitMs)}`);
  const now = options.now ?? Date.now;
  const setTimer = options.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms).unref());
  const clearTimer = options.clearTimer ?? ((handle: unknown) => clearTimeout(handle as NodeJS.Timeout));

  const ruCapacity = Math.max(1, Math.floor(ruLimit * headroom));
  const writeCapacity = Math.max(1, Math.floor(writeLimit * headroom));
  const ruPerMs = ruCapacity / READ_WINDOW_MS;
  const writesPerMs = writeCapacity / WRITE_WINDOW_MS;

  const initialFill = options.initialFill ?? 1;
  if (!(initialFill >= 0 && initialFill <= 1)) throw new Error(`createLocalRateLimiter: initialFill must be in [0, 1], received ${String(initialFill)}`);
  let ruTokens = ruCapacity * initialFill;
  let writeTokens = writeCapacity * initialFill;
  let refilledAt = now();
  let pausedUntil = 0;
  let inFlight = 0;
  let timer: unknown;
  let closed = false;
  const queue: Waiter[] = [];
  // One per class: writes share their lane fairly among themselves, reads theirs.
  const fairShares = { write: new FairShare(), read: new FairShare() };
  const fairShareOf = (priority: boolean) => (priority ? fairShares.write : fairShares.read);

  const refill = () => {
    const t = now();
    const elapsed = Math.max(0, t - refilledAt);
    refilledAt = t;
    ruTokens = Math.min(ruCapacity, ruTokens + elapsed * ruPerMs);
    writeTokens = Math.min(writeCapacity, writeTokens + elapsed * writesPerMs);
  };

  /** Time until `cost` RU and `writes` writes are available beyond what queued callers need. */
  const waitFor = (cost: number, writes: number, aheadRu: number, aheadWrites: number): number => {
    const ruDeficit = aheadRu + cost - ruTokens;
    const writeDeficit = aheadWrites + writes - writeTokens;
    const tokenWait = Math.max(ruDeficit > 0 ? ruDeficit / ruPerMs : 0, writeDeficit > 0 ? writeDeficit / writesPerMs : 0);
    return Math.max(tokenWait, pausedUntil - now());
  };

  const makePermit = (): GovernorPermit => {
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        inFlight -= 1;
        pump();
      },
    };
  };

  const detach = (waiter: Waiter) => {
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
  };

  function pump(): void {
    if (timer !== undefined) {
      clearTimer(timer);
      timer = undefined;
    }
    refill();
    while (queue.length > 0 && inFlight < maxConcurrent) {
      const head = queue[0]!;
      const wait = waitFor(head.cost, head.writes, 0, 0);
      if (wait > 0) {
        // A write held back by the write bucket does not hold back a read that fits beside it:
        // the read takes only RU beyond what the write needs.
        const read = head.priority ? queue.find((w) => !w.priority) : undefined;
        const readWait = read ? waitFor(head.cost + read.cost, 0, 0, 0) : Infinity;
        if (read && readWait <= 0) {
          queue.splice(queue.indexOf(read), 1);
          grant(read);
          continue;
        }
        timer = setTimer(pump, Math.ceil(Math.min(wait, readWait)));
        return;
      }
      queue.shift();
      grant(head);
    }
  }

  function grant(waiter: Waiter): void {
    fairShareOf(waiter.priority).served(waiter.start);
    ruTokens -= waiter.cost;
    writeTokens -= waiter.writes;
    inFlight += 1;
    detach(waiter);
    waiter.resolve(makePermit());
  }

  const throttled = throttledError;

  /**
   * Writes go ahead of every queued read. Mutations are the incident-response path
   * (docs/mutations.md): a caller holding only a read permission filled the queue with lookups and
   * held a terminateSession back by 14.5 s, or had it refused THROTTLED when the reads queued ahead
   * of it would have taken longer than `maxWaitMs`. Reads still get every token the writes do not
   * take; writes are bounded by their own bucket. Within each class callers share fairly: calls are
   * served by their fair-queuing start tag (src/graph/fair-share.ts), so one caller's backlog does
   * not stand in front of another caller's call.
   */
  const positionOf = (waiter: Pick<Waiter, 'priority' | 'start'>): number => fairInsertionIndex(queue, waiter);

  return {
    acquire(cost, acquireOptions: AcquireOptions = {}) {
      if (closed) return Promise.reject(shuttingDownError());
      const signal = acquireOptions.signal;
      if (signal?.aborted) return Promise.reject(signal.reason);
      // A call bigger than the bucket could never fit: it waits for a full bucket instead.
      const ru = Math.min(ruCapacity, Math.max(1, Math.ceil(Number.isFinite(cost) ? cost : 1)));
      const writes = Math.min(writeCapacity, Math.max(0, acquireOptions.writes ?? (acquireOptions.write ? 1 : 0)));
      refill();
      const priority = writes > 0;
      const caller = acquireOptions.caller ?? '';
      const start = fairShareOf(priority).startTag(caller);
      const position = positionOf({ priority, start });
      // What is served before this call: the queued calls of its class with an earlier tag, and for
      // a read every queued write; a read counts their RU but no write tokens (a read goes beside a
      // write that waits for its write bucket, `pump`).
      const ahead = queue.slice(0, position);
      const aheadRu = ahead.reduce((sum, w) => sum + w.cost, 0);
      const aheadWrites = priority ? ahead.reduce((sum, w) => sum + w.writes, 0) : 0;
      const wait = waitFor(ru, writes, aheadRu, aheadWrites);
      if (wait > maxWaitMs) return Promise.reject(throttled(wait));
      if (wait <= 0 && queue.length === 0 && inFlight < maxConcurrent) {
        ruTokens -= ru;
        writeTokens -= writes;
        inFlight += 1;
        return Promise.resolve(makePermit());
      }
      return new Promise<GovernorPermit>((resolve, reject) => {
        const waiter: Waiter = { cost: ru, writes, priority, start, resolve, reject, signal, onAbort: undefined };
        if (signal) {
          waiter.onAbort = () => {
            const index = queue.indexOf(waiter);
            if (index >= 0) queue.splice(index, 1);
            reject(signal.reason);
            pump();
          };
          signal.addEventListener('abort', waiter.onAbort, { once: true });
        }
        fairShareOf(priority).queued(caller, start, ru);
        queue.splice(position, 0, waiter);
        pump();
      });
    },
    pause(retryAfterSeconds) {
      if (!Number.isFinite(retryAfterSeconds) || retryAfterSeconds <= 0) return;
      pausedUntil = Math.max(pausedUntil, now() + retryAfterSeconds * 1000);
      const pauseMs = pausedUntil - now();
      if (pauseMs > maxWaitMs) {
        // Nobody queued would get through in time: tell them now rather than at the deadline.
        for (const waiter of queue.splice(0)) {
          detach(waiter);
          waiter.reject(throttled(pauseMs));
        }
      }
      pump();
    },
    snapshot() {
      refill();
      return {
        inFlight,
        queued: queue.length,
        resourceUnits: Math.floor(ruTokens),
        writes: Math.floor(writeTokens),
        pausedForMs: Math.max(0, pausedUntil - now()),
      };
    },
    close() {
      closed = true;
      if (timer !== undefined) clearTimer(timer);
      timer = undefined;
      for (const waiter of queue.splice(0)) {
        detach(waiter);
        waiter.reject(shuttingDownError());
      }
    },
  };
}
