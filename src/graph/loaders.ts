import DataLoader from 'dataloader';
import { ErrorCode, GatewayError, isGatewayError } from '../errors.js';
import {
  isUserObject,
  type GraphGroup,
  type AuthMethodsKey,
  type GraphDirectoryObject,
  type GraphLoaders,
  type GraphPage,
  type GraphUser,
  type RelationshipPageKey,
  type UserLookupKey,
} from './api.js';
import { typedAuthMethods } from './auth-method-types.js';
import { answerGetByIds } from './get-by-ids-result.js';
import type { GraphClient } from './client.js';
import type { CoalescedUserLoad } from './user-coalescing.js';
import { isGetByIdsRefusal, processBulkLookupRoute, type BulkLookupRoute } from './bulk-lookup-route.js';
import { GRAPH_BATCH_LIMIT } from './batch-envelope.js';
import { isGuid } from '../guid.js';
import { answeredUser } from './user-answer.js';
import { continuationShapes, readPage, type ContinuationShape } from './paging.js';
import {
  GET_BY_IDS_LIMIT,
  authMethodsRequest,
  directReportsRequest,
  getByIdsRequest,
  managerRequest,
  memberOfRequest,
  ownedDevicesRequest,
  userRequest,
} from './requests.js';
import type { GraphRequest, GraphResult } from './types.js';
import { isTransientFailure } from './upstream-failure.js';
import { shownItems, type RelationshipCollection } from './relationship-items.js';

/**
 * Per-request DataLoaders over one GraphClient. Each batch function turns the keys one GraphQL
 * operation asked for into the fewest Graph round trips: GUIDs with the same `$select` through
 * one `POST /directoryObjects/getByIds` (up to 1000 ids; through `$batch` instead for a Graph
 * identity that getByIds refuses, src/graph/bulk-lookup-route.ts), everything else through `$batch`
 * (20 per POST, POSTs in parallel), one `$batch` run shared by all loaders per event-loop turn:
 * `manager`, `directReports`, `memberOf`, `ownedDevices` and `authenticationMethods` of the same
 * parents travel together. Per-key failures are values (only that key rejects); keys
 * whose whole request failed, or that failed transiently, are dropped from the cache so a later
 * load in the same operation can try again.
 */

type Outcome<V> = V | GatewayError;

/** The set's members sorted and joined: equal sets, equal keys. Runs once per load. */
function sortedSet(values: readonly string[] | undefined): string {
  if (!values) return '-';
  if (isStrictlyIncreasing(values, 0)) return values.join(',');
  // Selection plans put `id` first and sort the rest: move it to its place without copying and sorting.
  if (values[0] === 'id' && isStrictlyIncreasing(values, 1) && !values.includes('id', 1)) {
    let out = '';
    let placed = false;
    for (let i = 1; i < values.length; i += 1) {
      if (!placed && values[i]! > 'id') {
        out += out ? ',id' : 'id';
        placed = true;
      }
      out += out ? `,${values[i]!}` : values[i]!;
    }
    return placed ? out : out ? `${out},id` : 'id';
  }
  return [...new Set(values)].sort().join(',');
}

/** Sorted without repeats from `from` on. */
function isStrictlyIncreasing(values: readonly string[], from: number): boolean {
  for (let i = from + 1; i < values.length; i += 1) if (!(values[i - 1]! < values[i]!)) return false;
  return true;
}

export function userLookupCacheKey(key: UserLookupKey): string {
  return `${key.key.toLowerCase()}|${sortedSet(key.select)}|${sortedSet(key.expandManager)}`;
}

/** Builds a request per key; a key Graph cannot address fails alone, before anything is sent. */
function buildRequests<K>(keys: readonly K[], build: (key: K) => GraphRequest): Array<GraphRequest | GatewayError> {
  return keys.map((key) => {
    try {
      return build(key);
    } catch (error) {
      if (isGatewayError(error)) return error;
      throw error;
    }
  });
}

/** Hands requests to a `$batch` run shared by every loader of the operation. */
interface BatchQueue {
  (requests: GraphRequest[]): Promise<GraphResult[]>;
  /** Requests waiting for this turn's `$batch` run. */
  pending(): number;
}

/**
 * Collects the requests every loader dispatches in the same turn of the event loop and sends
 * them as one `$batch` run, so `manager` and `directReports` of the same users share round trips.
 */
function createBatchQueue(client: GraphClient): BatchQueue {
  // One entry per loader dispatch (not per request): a profile-card run has 100 requests from 2 loaders.
  let queue: Array<{ requests: GraphRequest[]; resolve: (r: GraphResult[]) => void; reject: (e: unknown) => void }> = [];
  let pending = 0;
  const flush = () => {
    const groups = queue;
    queue = [];
    pending = 0;
    const requests = groups.length === 1 ? groups[0]!.requests : groups.flatMap((g) => g.requests);
    client.batch(requests).then(
      (results) => {
        let at = 0;
        for (const group of groups) {
          group.resolve(groups.length === 1 ? results : results.slice(at, at + group.requests.length));
          at += group.requests.length;
        }
      },
      (error: unknown) => groups.forEach((group) => group.reject(error)),
    );
  };
  const submit = (requests: GraphRequest[]) => {
    if (requests.length === 0) return Promise.resolve([]);
    // DataLoaders dispatch on process.nextTick; setImmediate runs after all of them have.
    if (queue.length === 0) setImmediate(flush);
    pending += requests.length;
    return new Promise<GraphResult[]>((resolve, reject) => queue.push({ requests, resolve, reject }));
  };
  return Object.assign(submit, { pending: () => pending });
}

/**
 * Sends the buildable requests as one `$batch` run and maps each answer; `onTransient` hears the
 * indices whose failure should be evicted from the loader cache.
 */
async function batchOutcomes<K, V>(
  submit: BatchQueue,
  keys: readonly K[],
  build: (key: K) => GraphRequest,
  onSuccess: (body: unknown, result: Extract<GraphResult, { ok: true }>, key: K) => V,
  onNotFound: (key: K, error: GatewayError) => Outcome<V>,
  onTransient: (key: K) => void,
): Promise<Array<Outcome<V>>> {
  const built = buildRequests(keys, build);
  const sendable: number[] = [];
  built.forEach((r, i) => {
    if (!isGatewayError(r)) sendable.push(i);
  });
  const results = await submit(sendable.map((i) => built[i] as GraphRequest));
  const out: Array<Outcome<V>> = built.map((r) => (isGatewayError(r) ? r : (undefined as never)));
  results.forEach((result, position) => {
    const index = sendable[position]!;
    const key = keys[index]!;
    if (result.ok) {
      try {
        out[index] = onSuccess(result.body, result, key);
      } catch (error) {
        if (!isGatewayError(error)) throw error;
        out[index] = error;
      }
    } else if (result.status === 404) {
      out[index] = onNotFound(key, result.error);
    } else {
      out[index] = result.error;
      if (isTransientFailure(result)) onTransient(key);
    }
  });
  return out;
}

export interface GraphLoaderOptions {
  /**
   * Cross-request coalescing of GUID lookups (src/graph/user-coalescing.ts), for this operation's
   * Graph identity. Used when nothing else of the operation is waiting for the same `$batch` run
   * (then the lookup would ride it for free).
   */
  coalesceUser?: CoalescedUserLoad;
  /** Which identities getByIds refuses (default: the process's memory, keyed by token partition). */
  bulkLookupRoute?: BulkLookupRoute;
}

export function createGraphLoaders(client: GraphClient, options: GraphLoaderOptions = {}): GraphLoaders {
  const submit = createBatchQueue(client);
  const coalesceUser = options.coalesceUser;
  const route = options.bulkLookupRoute ?? processBulkLookupRoute;
  const user: DataLoader<UserLookupKey, GraphUser | null, string> = new DataLoader<UserLookupKey, GraphUser | null, string>(
    async (keys) => {
      const out: Array<Outcome<GraphUser | null>> = new Array(keys.length);
      // GUID lookups without an expand, grouped by their select set: one getByIds per group.
      const groups = new Map<string, number[]>();
      const viaBatch: number[] = [];
      const viaCoalescer: number[] = [];
      // Another loader's requests already wait for this turn's $batch: ride it rather than wait.
      const coalesce = coalesceUser !== undefined && submit.pending() === 0;
      // getByIds refused this identity before: its GUID lookups ride the $batch run like UPNs.
      const getByIdsAllowed = !route.usesBatch(client.partition);
      keys.forEach((key, index) => {
        if (coalesce && isGuid(key.key) && !key.expandManager) viaCoalescer.push(index);
        else if (getByIdsAllowed && isGuid(key.key) && !key.expandManager) {
          const signature = sortedSet(key.select);
          groups.set(signature, [...(groups.get(signature) ?? []), index]);
        } else viaBatch.push(index);
      });
      const viaGetByIds: number[][] = [];
      for (const members of groups.values()) {
        // One GUID alone is as cheap inside the $batch that runs anyway.
        if (members.length === 1) viaBatch.push(members[0]!);
        else for (let i = 0; i < members.length; i += GET_BY_IDS_LIMIT) viaGetByIds.push(members.slice(i, i + GET_BY_IDS_LIMIT));
      }

      const getByIdsWork = viaGetByIds.map(async (members) => {
        const first = keys[members[0]!]!;
        const ids = [...new Set(members.map((i) => keys[i]!.key.toLowerCase()))];
        const result = await client.request<{ value?: GraphUser[] }>(getByIdsRequest(ids, first.select));
        if (!result.ok && isGetByIdsRefusal(result)) {
          // Directory.Read.All missing: the same lookups as GETs in $batch, and remember it.
          route.refuseGetByIds(client.partition);
          const outcomes = await lookUpInBatch(members.map((i) => keys[i]!));
          members.forEach((i, position) => (out[i] = outcomes[position]!));
          return;
        }
        if (!result.ok) {
          for (const i of members) {
            out[i] = result.error;
            user.clear(keys[i]!);
          }
          return;
        }
        // A user Graph sent without every selected property is read again by GET (src/graph/get-by-ids-result.ts).
        const outcomes = await answerGetByIds(
          result.body,
          first.select,
          members,
          (i) => keys[i]!.key.toLowerCase(),
          (again) => lookUpInBatch(again.map((i) => keys[i]!)),
        );
        members.forEach((i, position) => (out[i] = outcomes[position]!));
      });

      const batchWork = lookUpInBatch(viaBatch.map((i) => keys[i]!)).then((outcomes) =>
        outcomes.forEach((outcome, position) => (out[viaBatch[position]!] = outcome)),
      );

      const coalescedWork = viaCoalescer.map(async (i) => {
        const key = keys[i]!;
        try {
          out[i] = await coalesceUser!({ id: key.key.toLowerCase(), select: key.select });
        } catch (error) {
          out[i] = isGatewayError(error)
            ? error
            : new GatewayError(ErrorCode.UPSTREAM_ERROR, 'Microsoft Graph could not be asked for this user.', {}, { cause: error });
          user.clear(key);
        }
      });

      await Promise.all([...getByIdsWork, batchWork, ...coalescedWork]);
      // A UPN lookup also answers the same lookup by object id later in the operation.
      keys.forEach((key, i) => {
        const value = out[i];
        if (value && !isGatewayError(value) && value.id.toLowerCase() !== key.key.toLowerCase()) {
          user.prime({ ...key, key: value.id }, value);
        }
      });
      return out;
    },
    { cacheKeyFn: userLookupCacheKey },
  );
  /** Lookups as `GET /users/{key}` items of the shared `$batch` run; a 404 item is "no such user". */
  const lookUpInBatch = (batchKeys: UserLookupKey[]) =>
    batchOutcomes<UserLookupKey, GraphUser | null>(
      submit,
      batchKeys,
      (key) => userRequest(key.key, key.select, key.expandManager),
      // The user the key names, or UPSTREAM_ERROR for this lookup only (src/graph/user-answer.ts).
      (body, result, key) => answeredUser(key.key, body, result.requestId),
      () => null,
      (key) => user.clear(key),
    );

  const managerOf: DataLoader<UserLookupKey, GraphUser | null, string> = new DataLoader<UserLookupKey, GraphUser | null, string>(
    (keys) =>
      batchOutcomes<UserLookupKey, GraphUser | null>(
        submit,
        keys,
        (key) => managerRequest(key.key, key.select),
        // An organizational contact as manager is no user's manager for the User type.
        (body) => (isUserObject(body as GraphUser) ? (body as GraphUser) : null),
        () => null,
        (key) => managerOf.clear(key),
      ),
    { cacheKeyFn: userLookupCacheKey },
  );

  // Each field shows its type of object only (src/graph/relationship-items.ts).
  const directReportsOf = createFirstPageLoader<GraphUser>(client, submit, 'directReports', (key) => directReportsRequest(key.key, key.select, key.top));
  const membershipsOf = createFirstPageLoader<GraphGroup>(client, submit, 'memberOf', (key) => memberOfRequest(key.key, key.select, key.top));
  const ownedDevicesOf = createFirstPageLoader<GraphDirectoryObject>(client, submit, 'ownedDevices', (key) =>
    ownedDevicesRequest(key.key, key.select, key.top),
  );

  const authMethodsOf: DataLoader<AuthMethodsKey, GraphDirectoryObject[], string> = new DataLoader<AuthMethodsKey, GraphDirectoryObject[], string>(
    async (keys) => {
      const firstPages = await batchOutcomes<AuthMethodsKey, GraphPage<GraphDirectoryObject>>(
        submit,
        keys,
        (key) => authMethodsRequest(key.key, key.kind),
        (body, result) => readPage<GraphDirectoryObject>(body, result.requestId, false),
        (_key, error) => error,
        (key) => authMethodsOf.clear(key),
      );
      return Promise.all(
        firstPages.map(async (first, index): Promise<Outcome<GraphDirectoryObject[]>> => {
          if (isGatewayError(first)) return first;
          // Items of a per-type collection may come without @odata.type (src/graph/auth-method-types.ts).
          const kind = keys[index]!.kind;
          if (!first.nextLink) return typedAuthMethods(kind, first.items);
          // Rare (a handful of methods per user): the rest of one user's list, page by page.
          const rest = await followAuthMethodPages(client, first.nextLink);
          if (rest.ok) return typedAuthMethods(kind, [...first.items, ...rest.items]);
          if (rest.transient) authMethodsOf.clear(keys[index]!);
          return rest.error;
        }),
      );
    },
    { cacheKeyFn: (key) => `${key.key.toLowerCase()}|${key.kind}` },
  );

  const idLookupsPerRequest = () => (route.usesBatch(client.partition) ? GRAPH_BATCH_LIMIT : GET_BY_IDS_LIMIT);
  return { user, managerOf, directReportsOf, membershipsOf, ownedDevicesOf, authMethodsOf, idLookupsPerRequest };
}

function relationshipCacheKey(key: RelationshipPageKey): string {
  return `${userLookupCacheKey(key)}|${key.top}`;
}

/**
 * First page of a user's relationship collection through the shared `$batch` run. A missing user
 * is an error for a list, not an empty page; later pages go through the client with the nextLink.
 */
function createFirstPageLoader<T extends GraphDirectoryObject>(
  client: GraphClient,
  submit: BatchQueue,
  relationship: RelationshipCollection,
  build: (key: RelationshipPageKey) => GraphRequest,
): DataLoader<RelationshipPageKey, GraphPage<T>, string> {
  const loader: DataLoader<RelationshipPageKey, GraphPage<T>, string> = new DataLoader<RelationshipPageKey, GraphPage<T>, string>(
    (keys) =>
      batchOutcomes<RelationshipPageKey, GraphPage<T>>(
        submit,
        keys,
        build,
        (body, result) => {
          const page = readPage<T>(body, result.requestId, false);
          // Its nextLink goes into the caller's cursor: one the gateway would not follow fails this
          // parent's field now (UPSTREAM_ERROR), not the caller's next page as BAD_USER_INPUT.
          if (page.nextLink !== null) client.checkNextLink(page.nextLink, RELATIONSHIP_SHAPES[relationship]);
          // Objects listed with limited information fail that parent's field (src/graph/limited-information.ts).
          return { ...page, items: shownItems(relationship, page.items, result.requestId) };
        },
        (_key, error) => error,
        (key) => loader.clear(key),
      ),
    { cacheKeyFn: relationshipCacheKey },
  );
  return loader;
}

/** The collection a relationship's nextLink continues (as the client's later pages of it). */
const RELATIONSHIP_SHAPES: Record<RelationshipCollection, ContinuationShape> = {
  directReports: continuationShapes.directReports,
  memberOf: continuationShapes.memberOf,
  ownedDevices: continuationShapes.ownedDevices,
};

/** Most pages of one user's authentication methods followed after the first (as the client's `listAuthMethods`). */
const MAX_FOLLOWED_AUTH_METHOD_PAGES = 49;

type FollowedPages = { ok: true; items: GraphDirectoryObject[] } | { ok: false; error: GatewayError; transient: boolean };

/**
 * Follows Graph's nextLinks of one user's authentication methods. The link came from Graph in
 * this operation, yet it is still checked for shape like a caller's cursor, and the request is
 * rebuilt from its path and query: the client sends it to its own configured endpoint.
 */
async function followAuthMethodPages(client: GraphClient, firstLink: string): Promise<FollowedPages> {
  const items: GraphDirectoryObject[] = [];
  let link: string | null = firstLink;
  for (let pages = 0; link !== null; pages++) {
    if (pages === MAX_FOLLOWED_AUTH_METHOD_PAGES) {
      return {
        ok: false,
        error: new GatewayError(ErrorCode.UPSTREAM_ERROR, 'Microsoft Graph kept paging past 50 pages of authentication methods.'),
        transient: false,
      };
    }
    let request: GraphRequest;
    try {
      // On the configured endpoint and of this collection, as every other link Graph sends.
      request = { method: 'GET', path: client.checkNextLink(link, continuationShapes.authMethods) };
    } catch (error) {
      if (!isGatewayError(error)) throw error;
      return { ok: false, error, transient: false };
    }
    const result: GraphResult = await client.request(request);
    if (!result.ok) return { ok: false, error: result.error, transient: isTransientFailure(result) };
    try {
      const page = readPage<GraphDirectoryObject>(result.body, result.requestId, false);
      items.push(...page.items);
      link = page.nextLink;
    } catch (error) {
      if (!isGatewayError(error)) throw error;
      return { ok: false, error, transient: false };
    }
  }
  return { ok: true, items };
}
