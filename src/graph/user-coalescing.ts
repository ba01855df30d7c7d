import { LRUCache } from 'lru-cache';
import { ErrorCode, GatewayError } from '../errors.js';
import type { GraphUser, UserProperty } from './api.js';
import { DEFAULT_RETRY_HINT_SECONDS, transportError } from './errors.js';
import type { GraphClient } from './client.js';
import { Coalescer } from './coalescer.js';
import { isGetByIdsRefusal, processBulkLookupRoute, type BulkLookupRoute } from './bulk-lookup-route.js';
import { answerGetByIds } from './get-by-ids-result.js';
import { answeredUser } from './user-answer.js';
import { GET_BY_IDS_LIMIT, getByIdsRequest, userRequest } from './requests.js';

/**
 * Cross-request coalescing of user lookups by object id (docs/reliability.md#cross-request-coalescing): concurrent operations acting
 * under the same Graph identity share one `getByIds` (or, for a lone lookup, one plain GET; for an
 * identity getByIds refuses, one `$batch` of GETs: src/graph/bulk-lookup-route.ts). The
 * process holds one of these; each operation asks it through `forPartition`, naming its token
 * partition, so different Graph identities never share a dispatch. Lookups with different `$select`
 * sets are different identities of the coalescer too: one dispatch has one `$select`.
 */

export interface CoalescedUserLookup {
  /** Lower-case object id (GUID). */
  id: string;
  select: readonly UserProperty[];
}

/** One operation's view: look a user up, sharing the upstream call with other operations. */
export type CoalescedUserLoad = (lookup: CoalescedUserLookup) => Promise<GraphUser | null>;

export interface UserLookupCoalescing {
  /** `client` is used only to send dispatches of its partition when none is cached yet. */
  forPartition(partition: string, client: () => GraphClient): CoalescedUserLoad;
  /** Lookups waiting for their window to end. */
  pendingCount(): number;
}

export interface UserLookupCoalescingOptions {
  /** Longest a lookup waits for company (ms, ≤ 10). */
  windowMs: number;
  /** Most partitions whose dispatch client is kept (app-only identities: one or a few). */
  maxPartitions?: number;
  /** Which identities getByIds refuses (default: the process's memory, keyed by token partition). */
  bulkLookupRoute?: BulkLookupRoute;
  /** Other operations are in flight, so lookups are likely to arrive together (see Coalescer). */
  othersBusy?: () => boolean;
}

const SEPARATOR = '\n';

/** The user the lookup's id names, or the UPSTREAM_ERROR of that lookup alone (src/graph/user-answer.ts). */
function userOrError(id: string, result: { body: unknown; requestId?: string | undefined }): GraphUser | Error {
  try {
    return answeredUser(id, result.body, result.requestId);
  } catch (error) {
    return error as Error;
  }
}

export function createUserLookupCoalescing(options: UserLookupCoalescingOptions): UserLookupCoalescing {
  const maxPartitions = options.maxPartitions ?? 16;
  // The client that sends a partition's dispatches: built without a caller's deadline, since a
  // dispatch serves several callers; each caller's own deadline still bounds its operation.
  const clients = new LRUCache<string, GraphClient>({ max: maxPartitions });
  const route = options.bulkLookupRoute ?? processBulkLookupRoute;
  /** The lookups as `GET /users/{id}` items of `$batch` runs: same answers, a 404 item is "no such user". */
  const viaBatch = async (client: GraphClient, lookups: readonly CoalescedUserLookup[]): Promise<Array<GraphUser | null | Error>> => {
    const results = await client.batch(lookups.map((l) => userRequest(l.id, l.select)));
    return results.map((result, i) => (result.ok ? userOrError(lookups[i]!.id, result) : result.status === 404 ? null : result.error));
  };
  const coalescer = new Coalescer<CoalescedUserLookup, GraphUser | null>({
    windowMs: options.windowMs,
    maxBatchSize: GET_BY_IDS_LIMIT,
    keyOf: (lookup) => lookup.id,
    ...(options.othersBusy ? { othersBusy: options.othersBusy } : {}),
    dispatch: async (identity, lookups) => {
      const partition = identity.slice(0, identity.indexOf(SEPARATOR));
      const client = clients.get(partition);
      if (!client) throw new Error('no Graph client for this partition');
      const select = lookups[0]!.select;
      if (lookups.length === 1) {
        const result = await client.request<GraphUser>(userRequest(lookups[0]!.id, select));
        if (result.ok) return [userOrError(lookups[0]!.id, result)];
        if (result.status === 404) return [null];
        return [result.error];
      }
      if (route.usesBatch(partition)) return viaBatch(client, lookups);
      const result = await client.request<{ value?: GraphUser[] }>(
        getByIdsRequest(
          lookups.map((l) => l.id),
          select,
        ),
      );
      if (!result.ok && isGetByIdsRefusal(result)) {
        route.refuseGetByIds(partition);
        return viaBatch(client, lookups);
      }
      // The coalescer retries a failed call key by key, so the failure lands on the lookup that caused it.
      if (!result.ok) throw result.error;
      // A user Graph sent without every selected property is read again by GET (src/graph/get-by-ids-result.ts).
      return answerGetByIds(
        result.body,
        select,
        lookups,
        (l) => l.id,
        (again) => viaBatch(client, again),
      );
    },
  });
  return {
    forPartition(partition, client) {
      if (!clients.has(partition)) {
        clients.set(partition, client());
      }
      return (lookup) => coalescer.load(`${partition}${SEPARATOR}${lookup.select.join(',')}`, lookup);
    },
    pendingCount: () => coalescer.pendingCount(),
  };
}

/**
 * One operation's coalesced lookups, bounded by its own signal: a shared dispatch outlives any one
 * caller, so the caller's deadline (or disconnect) ends its wait with the error a direct call
 * would have given, while the other callers keep theirs.
 */
export function boundedBySignal(load: CoalescedUserLoad, signal: AbortSignal | undefined, operationTimeoutMs?: number): CoalescedUserLoad {
  if (!signal) return load;
  const cancelled = (): GatewayError => {
    const reason = signal.reason as { name?: unknown } | undefined;
    if (reason?.name !== 'TimeoutError') return transportError('aborted');
    return new GatewayError(
      ErrorCode.UPSTREAM_UNAVAILABLE,
      `The operation did not complete within ${operationTimeoutMs !== undefined ? `${operationTimeoutMs} ms` : 'its time limit'}: Microsoft Graph answered too slowly. Retry later or ask for less.`,
      { retryAfterSeconds: DEFAULT_RETRY_HINT_SECONDS, reason: 'OPERATION_TIMEOUT' },
    );
  };
  // One listener on the operation's signal for all its lookups in flight, not one each: an
  // operation can have a thousand (`_entities`), past the 256 the signal allows before Node warns
  // of a leak, and adding and removing a listener per lookup is work on every lookup.
  const pending = new Set<(error: GatewayError) => void>();
  const onAbort = () => {
    const error = cancelled();
    for (const reject of pending) reject(error);
    pending.clear();
  };
  const settled = (reject: (error: GatewayError) => void) => {
    if (pending.delete(reject) && pending.size === 0) signal.removeEventListener('abort', onAbort);
  };
  return (lookup) => {
    if (signal.aborted) return Promise.reject(cancelled());
    return new Promise<GraphUser | null>((resolve, reject) => {
      pending.add(reject);
      if (pending.size === 1) signal.addEventListener('abort', onAbort, { once: true });
      load(lookup).then(
        (value) => {
          settled(reject);
          resolve(value);
        },
        (error: unknown) => {
          settled(reject);
          reject(error);
        },
      );
    });
  };
}
