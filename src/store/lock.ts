import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A lock with expiry shared by every process that shares a token store, so only one of them
 * redeems a refresh token at a time. Acquisition is `SET name owner NX PX ttl` semantics; release
 * only deletes the lock if the caller still owns it (an expired-then-retaken lock is not freed by
 * its previous owner).
 */
export interface DistributedLock {
  tryAcquire(name: string, owner: string, ttlMs: number): Promise<boolean>;
  release(name: string, owner: string): Promise<void>;
}

export class LockTimeoutError extends Error {
  constructor(name: string, waitedMs: number) {
    super(`timed out after ${waitedMs} ms waiting for the token refresh lock "${name}" held by another gateway process`);
    this.name = 'LockTimeoutError';
  }
}

export interface WithLockOptions {
  /** Lock expiry: longer than one token request, short enough that a crashed holder frees it soon. */
  ttlMs?: number;
  /** How long to wait for another holder before giving up. */
  waitMs?: number;
  signal?: AbortSignal;
}

/** Runs `fn` while holding the lock; polls with a short capped backoff while another process holds it. */
export async function withLock<T>(lock: DistributedLock, name: string, fn: () => Promise<T>, options: WithLockOptions = {}): Promise<T> {
  const ttlMs = options.ttlMs ?? 30_000;
  const waitMs = options.waitMs ?? 45_000;
  const owner = randomUUID();
  const started = Date.now();
  let delay = 10;
  while (!(await lock.tryAcquire(name, owner, ttlMs))) {
    options.signal?.throwIfAborted();
    if (Date.now() - started > waitMs) throw new LockTimeoutError(name, Date.now() - started);
    await sleep(delay + Math.floor(Math.random() * delay), undefined, { signal: options.signal });
    delay = Math.min(delay * 2, 250);
  }
  try {
    return await fn();
  } finally {
    await lock.release(name, owner).catch(() => undefined);
  }
}

/** In-process lock for the memory store (one process is the whole world). */
export function createMemoryLock(now: () => number = Date.now): DistributedLock {
  const held = new Map<string, { owner: string; expiresAt: number }>();
  return {
    async tryAcquire(name, owner, ttlMs) {
      const current = held.get(name);
      if (current && current.expiresAt > now()) return false;
      held.set(name, { owner, expiresAt: now() + ttlMs });
      return true;
    },
    async release(name, owner) {
      if (held.get(name)?.owner === owner) held.delete(name);
    },
  };
}
