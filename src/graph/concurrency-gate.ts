import { enqueueByPriority } from './priority-queue.js';

/**
 * At most `max` holders at once, the others waiting in arrival order, priority waiters (calls that
 * write to the directory) ahead of the others (src/graph/rate-limiter.ts says why). The shared rate limiter
 * (src/graph/shared-rate-limiter.ts) keeps GRAPH_MAX_CONCURRENCY per process with it, whichever budget
 * (shared or fallback) the tokens came from.
 */
export interface ConcurrencyGate {
  /** Resolves with the release function once a slot is free; rejects with the signal's reason if it fires first. */
  enter(signal?: AbortSignal, priority?: boolean): Promise<() => void>;
  readonly inFlight: number;
  readonly queued: number;
  /** Rejects every waiter with `reason` (shutdown). */
  close(reason: unknown): void;
}

interface GateWaiter {
  priority: boolean;
  resolve: (release: () => void) => void;
  reject: (reason: unknown) => void;
  detach: () => void;
}

export function createConcurrencyGate(max: number): ConcurrencyGate {
  if (!Number.isInteger(max) || max < 1) throw new Error(`createConcurrencyGate: max must be a whole number >= 1, received ${String(max)}`);
  let inFlight = 0;
  const waiting: GateWaiter[] = [];

  const releaser = () => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      inFlight -= 1;
      const next = waiting.shift();
      if (next) {
        next.detach();
        inFlight += 1;
        next.resolve(releaser());
      }
    };
  };

  return {
    enter(signal, priority = false) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (inFlight < max && waiting.length === 0) {
        inFlight += 1;
        return Promise.resolve(releaser());
      }
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          const index = waiting.indexOf(waiter);
          if (index >= 0) waiting.splice(index, 1);
          reject(signal!.reason);
        };
        const waiter: GateWaiter = { priority, resolve, reject, detach: () => signal?.removeEventListener('abort', onAbort) };
        signal?.addEventListener('abort', onAbort, { once: true });
        enqueueByPriority(waiting, waiter);
      });
    },
    get inFlight() {
      return inFlight;
    },
    get queued() {
      return waiting.length;
    },
    close(reason) {
      for (const waiter of waiting.splice(0)) {
        waiter.detach();
        waiter.reject(reason);
      }
    },
  };
}
