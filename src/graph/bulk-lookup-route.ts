import { LRUCache } from 'lru-cache';
import type { GraphFailure } from './types.js';

/**
 * How users are looked up by object id in bulk, per Graph identity (token partition).
 * `POST /directoryObjects/getByIds` answers up to 1,000 ids in one call but needs
 * `Directory.Read.All`; an app holding only `User.Read.All` gets 403 `Authorization_RequestDenied`
 * from it while `GET /users/{id}` works (docs/graph-facts.md#manager-and-bulk-lookup). So the first
 * refusal moves that identity's lookups to `$batch` of `GET /users/{id}?$select=…` (20 per POST,
 * same answers, a missing user is a 404 item), and the memory keeps later lookups from asking
 * getByIds again. The memory lapses after `ttlMs`, so a permission granted later is picked up
 * without a restart.
 */
export interface BulkLookupRoute {
  /** True when getByIds was refused for this partition recently: send `$batch` of GETs instead. */
  usesBatch(partition: string): boolean;
  /** Records that getByIds was refused for this partition. */
  refuseGetByIds(partition: string): void;
}

export interface BulkLookupRouteOptions {
  /** How long a refusal is remembered (default 1 hour). */
  ttlMs?: number;
  /** Most partitions remembered; the least recently used goes first (default 1,000). */
  maxPartitions?: number;
  now?: () => number;
}

/** A failure of getByIds that means "this identity may not call it", not "this lookup failed". */
export function isGetByIdsRefusal(failure: GraphFailure): boolean {
  return failure.scope === 'item' && failure.status === 403 && failure.error.extensions.graphErrorCode === 'Authorization_RequestDenied';
}

export function createBulkLookupRoute(options: BulkLookupRouteOptions = {}): BulkLookupRoute {
  const ttlMs = options.ttlMs ?? 60 * 60 * 1000;
  const maxPartitions = options.maxPartitions ?? 1000;
  const now = options.now ?? Date.now;
  const refusedAt = new LRUCache<string, number>({ max: maxPartitions });
  return {
    usesBatch(partition) {
      const at = refusedAt.get(partition);
      if (at === undefined) return false;
      if (now() - at < ttlMs) return true;
      refusedAt.delete(partition);
      return false;
    },
    refuseGetByIds(partition) {
      refusedAt.set(partition, now());
    },
  };
}

/**
 * The process's memory, shared by every operation's loaders and the cross-request coalescer, so
 * an identity learns the route once. Keyed by token partition: identities never share an entry.
 */
export const processBulkLookupRoute: BulkLookupRoute = createBulkLookupRoute();
