import { ErrorCode, GatewayError, isGatewayError } from '../errors.js';
import type {
  AuthMethodKind,
  GraphDirectoryObject,
  GraphGroup,
  GraphPage,
  GraphUser,
  GraphUsersClient,
  PageRequest,
  RelationshipPageQuery,
  UserChangesPage,
  UserListQuery,
  UserProperty,
} from './api.js';
import { isUserObject } from './api.js';
import { typedAuthMethods } from './auth-method-types.js';
import { shownItems, type RelationshipCollection } from './relationship-items.js';
import { executeBatch, type BatchOptions } from './batch.js';
import { answeredUser } from './user-answer.js';
import { continuationShapes, readPage, validateContinuationLink, type ContinuationShape } from './paging.js';
import { graphPaths, type GraphPath } from './paths.js';
import {
  EVENTUAL_CONSISTENCY,
  MAX_GRAPH_URL_LENGTH,
  absoluteUrlLength,
  urlTooLong,
  continuationHeaders,
  directReportsRequest,
  directoryRolesRequest,
  managerRequest,
  memberOfRequest,
  ownedDevicesRequest,
  selectParam,
  userRequest,
  usersListRequest,
} from './requests.js';
import {
  groupEligibilityRequest,
  groupOwnersRequest,
  groupPrincipals,
  grantsOf,
  MAX_GROUP_PRINCIPALS,
  ownedGroups,
  ownerIds,
  RoleGrantLookupFailure,
  roleAssignableGroupOwnersRequest,
  memberObjectsRequest,
  roleAssignableMemberships,
  roleAssignmentsRequest,
  roleEligibilityRequest,
  type RoleGrantLookup,
  type RoleGrants,
} from './role-grants.js';
import { defaultRetryPolicy, type RetryPolicy } from './retry.js';
import { GraphTransport, type GraphTransportDeps } from './transport.js';
import type { GraphRequest, GraphResult } from './types.js';

/** What the transport needs, plus the knobs the client turns into its `RetryPolicy` and `$batch` options. */
export interface GraphClientDeps extends Pick<
  GraphTransportDeps,
  'upstream' | 'tokenSource' | 'graphEndpoint' | 'logger' | 'metrics' | 'correlationId' | 'signal' | 'governor' | 'operationTimeoutMs' | 'caller'
> {
  /** Retries after the first attempt for 429/503/504/connection failures (default 3). */
  maxRetries?: number;
  /** Per upstream HTTP call (default 15 s). */
  requestTimeoutMs?: number;
  /** Fine-tuning of the retry policy (tests inject clock, sleep and jitter). */
  retry?: Partial<RetryPolicy>;
  batch?: BatchOptions;
}

/** The per-request Graph client: domain methods plus the primitives the mutation layer builds on. */
export interface GraphClient extends GraphUsersClient {
  /** Token partition of the Graph identity: loaders and caches are never shared across partitions. */
  readonly partition: string;
  /** One call with retries; failures come back as values, never thrown. */
  request<T = unknown>(req: GraphRequest): Promise<GraphResult<T>>;
  /** Many calls through JSON `$batch`; results in the order of `reqs`. */
  batch(reqs: GraphRequest[]): Promise<GraphResult[]>;
  /**
   * The items of a first page already read and of the pages its nextLinks lead to (validated against
   * `shape`, at most 50 pages; `advanced` sends ConsistencyLevel again). Throws a GatewayError when a
   * later page fails.
   */
  followPages<T>(first: GraphPage<T>, shape: ContinuationShape, options?: { advanced?: boolean }): Promise<T[]>;
  /**
   * Checks a page's nextLink that Graph just sent, before it goes into a caller's cursor or is
   * followed, and answers the path it continues: one the gateway would not follow (another host,
   * another collection) throws UPSTREAM_ERROR (Graph's answer gone wrong), so no cursor is handed
   * out that the gateway would refuse as the caller's BAD_USER_INPUT when it comes back.
   */
  checkNextLink(nextLink: string, shape: ContinuationShape): GraphPath;
}

/** One list of the administrator-target check's role lookup (src/graph/role-grants.ts). */
interface RoleLookup {
  lookup: RoleGrantLookup;
  request: GraphRequest;
  shape: ContinuationShape;
  /** An advanced query: its next pages need ConsistencyLevel again. */
  advanced?: boolean;
  /** Stop at the first page holding an item (the question is "any"). */
  untilAny?: boolean;
  /** Graph's 404 (no such user) is an empty list. */
  emptyOn404?: boolean;
  /**
   * A PIM list: Graph's `AadPremiumLicenseRequired` (a tenant without Entra ID P2 or Governance) is an
   * empty list, since Microsoft removes eligible assignments when the licence ends and nobody can
   * activate one without it (docs/graph-facts.md#writes-and-permissions, "Licence").
   */
  pim?: boolean;
}

/** Graph's answer to a PIM list in a tenant without the licence PIM needs. */
const PIM_UNLICENSED_CODE = 'AadPremiumLicenseRequired';

function pimUnlicensed(result: GraphResult): boolean {
  return !result.ok && (result.status === 400 || result.status === 403) && result.error.extensions.graphErrorCode === PIM_UNLICENSED_CODE;
}

/** The lists of lookups that all answered; else the first failure in order, whatever failed first in time. */
function answered(read: ReadonlyArray<Record<string, unknown>[] | RoleGrantLookupFailure>): Record<string, unknown>[][] {
  const failed = read.find((r): r is RoleGrantLookupFailure => r instanceof RoleGrantLookupFailure);
  if (failed) throw failed;
  return read as Record<string, unknown>[][];
}

/** Most pages followed by methods that return "every page" (auth methods, delta rounds). */
const MAX_FOLLOWED_PAGES = 50;

export function createGraphClient(deps: GraphClientDeps): GraphClient {
  const transport = new GraphTransport({
    upstream: deps.upstream,
    tokenSource: deps.tokenSource,
    graphEndpoint: deps.graphEndpoint,
    logger: deps.logger,
    metrics: deps.metrics,
    correlationId: deps.correlationId,
    ...(deps.signal ? { signal: deps.signal } : {}),
    requestTimeoutMs: deps.requestTimeoutMs ?? 15_000,
    retry: defaultRetryPolicy({ ...(deps.maxRetries !== undefined ? { maxRetries: deps.maxRetries } : {}), ...deps.retry }),
    ...(deps.governor ? { governor: deps.governor } : {}),
    ...(deps.operationTimeoutMs !== undefined ? { operationTimeoutMs: deps.operationTimeoutMs } : {}),
    ...(deps.caller !== undefined ? { caller: deps.caller } : {}),
  });

  /** Success body, `null` for 404 when `nullOn404`, the GatewayError thrown otherwise. */
  async function call<T>(req: GraphRequest, nullOn404: true): Promise<{ body: T; requestId: string | undefined } | null>;
  async function call<T>(req: GraphRequest, nullOn404: false): Promise<{ body: T; requestId: string | undefined }>;
  async function call<T>(req: GraphRequest, nullOn404: boolean): Promise<{ body: T; requestId: string | undefined } | null> {
    const result = await transport.request<T>(req);
    if (result.ok) return { body: result.body, requestId: result.requestId };
    if (nullOn404 && result.status === 404) return null;
    throw result.error;
  }

  async function page<T>(
    req: GraphRequest,
    withCount: boolean,
    check?: (page: GraphPage<T>, requestId: string | undefined) => GraphPage<T>,
  ): Promise<GraphPage<T>> {
    const { body, requestId } = await call<unknown>(req, false);
    const read = readPage<T>(body, requestId, withCount);
    return check ? check(read, requestId) : read;
  }

  /**
   * The validated path of a nextLink or deltaLink. `fromGraph`: Graph sent the link in this
   * operation (followed pages, a delta round), so a link the gateway will not follow (another host,
   * another collection) is Graph's answer gone wrong: UPSTREAM_ERROR, where a caller's cursor that
   * held it is the caller's BAD_USER_INPUT. Either way nothing is sent to it.
   */
  function continuation(nextLink: string, shape: ContinuationShape, fromGraph = false): GraphPath {
    if (!fromGraph) return validateContinuationLink(nextLink, transport.endpoint, shape);
    try {
      return validateContinuationLink(nextLink, transport.endpoint, shape);
    } catch (error) {
      if (!isGatewayError(error)) throw error;
      throw new GatewayError(
        ErrorCode.UPSTREAM_ERROR,
        'Microsoft Graph sent a next page link the gateway will not follow (not on the configured endpoint, or of another collection).',
      );
    }
  }

  /** A page whose nextLink becomes a caller's cursor, its link checked as received (`checkNextLink`). */
  function cursorPage<T>(read: GraphPage<T>, shape: ContinuationShape): GraphPage<T> {
    if (read.nextLink !== null) continuation(read.nextLink, shape, true);
    return read;
  }

  /** The request of a next page; an advanced query's needs `ConsistencyLevel` again (it is not carried over). */
  function nextPageRequest(nextLink: string, shape: ContinuationShape, advanced: boolean | undefined, fromGraph = false): GraphRequest {
    return { method: 'GET', path: continuation(nextLink, shape, fromGraph), ...(advanced ? { headers: { ...EVENTUAL_CONSISTENCY } } : {}) };
  }

  /** Relationship collections share one paging scheme. */
  function relationshipPage<T>(
    userIdOrUpn: string,
    sub: RelationshipCollection,
    shape: ContinuationShape,
    request: PageRequest<RelationshipPageQuery & { filter?: string }>,
  ): Promise<GraphPage<T>> {
    // The page holds the objects the field shows, or fails when Graph listed some of them with
    // limited information (src/graph/relationship-items.ts): the same table as the first pages' loaders.
    const check = (result: GraphPage<T>, requestId: string | undefined): GraphPage<T> => ({
      ...cursorPage(result, shape),
      items: shownItems(sub, result.items as GraphDirectoryObject[], requestId) as T[],
    });
    if (request.kind === 'next') {
      return page<T>(nextPageRequest(request.nextLink, shape, request.advanced, request.fromGraph), false, check);
    }
    const q = request.query;
    const first =
      sub === 'directReports'
        ? directReportsRequest(userIdOrUpn, q.select, q.top)
        : sub === 'memberOf'
          ? memberOfRequest(userIdOrUpn, q.select, q.top, q.filter)
          : ownedDevicesRequest(userIdOrUpn, q.select, q.top, q.filter);
    return page<T>(first, false, check);
  }

  /**
   * The items of `first` (a request, or a page already read) and of the pages its nextLinks lead to,
   * at most MAX_FOLLOWED_PAGES. `advanced`: the query is an advanced one, whose nextLinks need
   * `ConsistencyLevel` sent again. `untilAny`: stop at the first page that holds an item (a question
   * of "any", where a page may be empty and a later one not: docs/graph-facts.md#paging).
   */
  async function followAll<T>(
    first: GraphRequest | GraphPage<T>,
    shape: ContinuationShape,
    options: { advanced?: boolean; untilAny?: boolean } = {},
  ): Promise<T[]> {
    const items: T[] = [];
    let current = 'items' in first ? first : await page<T>(first, false);
    for (let pages = 1; ; pages++) {
      items.push(...current.items);
      if (!current.nextLink || (options.untilAny && items.length > 0)) return items;
      if (pages >= MAX_FOLLOWED_PAGES) throw new GatewayError(ErrorCode.UPSTREAM_ERROR, `Microsoft Graph kept paging past ${MAX_FOLLOWED_PAGES} pages.`);
      current = await page<T>(nextPageRequest(current.nextLink, shape, options.advanced, true), false);
    }
  }

  /**
   * The items of each lookup: all sent in one `$batch`, each read on through its nextLinks (at most
   * MAX_FOLLOWED_PAGES), or the RoleGrantLookupFailure naming a lookup Graph did not answer.
   */
  async function readLookups(lookups: readonly RoleLookup[]): Promise<Array<Record<string, unknown>[] | RoleGrantLookupFailure>> {
    const results = await executeBatch(
      transport,
      lookups.map((l) => l.request),
      deps.batch,
    );
    const read = await Promise.allSettled(
      lookups.map(async (l, i) => {
        const result = results[i]!;
        try {
          if (!result.ok) {
            if (l.emptyOn404 && result.status === 404) return [];
            if (l.pim && pimUnlicensed(result)) return [];
            throw result.error;
          }
          const first = readPage<Record<string, unknown>>(result.body, result.requestId, false);
          return await followAll(first, l.shape, { ...(l.advanced ? { advanced: true } : {}), ...(l.untilAny ? { untilAny: true } : {}) });
        } catch (error) {
          return new RoleGrantLookupFailure(l.lookup, error);
        }
      }),
    );
    return read.map((r) => (r.status === 'fulfilled' ? r.value : new RoleGrantLookupFailure('roleGrants', r.reason)));
  }

  /**
   * The grants of the groups through which the user may hold a role (role-assignable memberships and
   * ownerships, PIM for Groups eligibilities), added to `grants`, from the first `$batch`'s answers:
   * a group whose expanded owners may be cut short has its whole owners list read first (one more
   * round trip, only for such groups), then one `$batch` of the groups' grants.
   */
  async function groupGrants(
    principalId: string,
    first: ReadonlyArray<Record<string, unknown>[] | RoleGrantLookupFailure>,
    grants: RoleGrants,
  ): Promise<RoleGrants> {
    const [, , memberObjects, ownerships, groupEligibilities] = answered(first);
    // The user's memberships as getMemberObjects lists them (not the lagging index of advanced
    // queries), kept when the tenant's role-assignable groups hold them.
    const memberships = roleAssignableMemberships(memberObjects!, ownerships!);
    // The groups whose grants count as the user's (role-assignable memberships and ownerships, PIM
    // for Groups eligibilities). A group whose expanded owners may be cut short has its whole owners
    // list read first (one more round trip, only for such groups).
    const { owned, unsure } = ownedGroups(ownerships!, principalId);
    // Past the cap with the groups known so far, or with those still to be ruled out: fail closed
    // before reading any owners list.
    groupPrincipals(memberships, groupEligibilities!, owned);
    if (unsure.length > MAX_GROUP_PRINCIPALS) throw new RoleGrantLookupFailure('groupsUnchecked', undefined);
    if (unsure.length > 0) {
      const lists = answered(
        await readLookups(
          unsure.map((groupId): RoleLookup => ({ lookup: 'groupOwnerships', request: groupOwnersRequest(groupId), shape: continuationShapes.groupOwners })),
        ),
      );
      unsure.forEach((groupId, n) => {
        if (ownerIds(lists[n]!).includes(principalId.toLowerCase())) owned.push(groupId);
      });
    }
    const groups = groupPrincipals(memberships, groupEligibilities!, owned);
    if (groups.length === 0) return grants;
    // The groups' own grants, as principals, in a second $batch (eq per id: the eligibility list
    // documents no `in` on principalId).
    const perGroup = await readLookups(
      groups.flatMap((groupId): RoleLookup[] => [
        { lookup: 'roleGrants', request: roleEligibilityRequest(groupId), shape: continuationShapes.roleEligibilities, untilAny: true, pim: true },
        { lookup: 'roleGrants', request: roleAssignmentsRequest(groupId), shape: continuationShapes.roleAssignments, untilAny: true },
      ]),
    );
    groups.forEach((groupId, n) => {
      const [eligible, assigned] = [perGroup[2 * n], perGroup[2 * n + 1]];
      if (Array.isArray(eligible)) grants.eligible.push(...grantsOf(eligible, groupId));
      if (Array.isArray(assigned)) grants.assigned.push(...grantsOf(assigned, groupId));
    });
    // A group's grant answers the question whatever another group's lookup did; else any failure stands.
    if (grants.eligible.length === 0 && grants.assigned.length === 0) answered(perGroup);
    return grants;
  }

  const usersCursorPage = (read: GraphPage<GraphUser>): GraphPage<GraphUser> => cursorPage(read, continuationShapes.users);

  return {
    partition: deps.tokenSource.partition,

    followPages: (first, shape, options) => followAll(first, shape, options),

    checkNextLink: (nextLink, shape) => continuation(nextLink, shape, true),

    request: <T = unknown>(req: GraphRequest) => transport.request<T>(req),
    batch: (reqs: GraphRequest[]) => executeBatch(transport, reqs, deps.batch),

    async getUser(idOrUpn: string, select: UserProperty[], options?: { expandManager?: UserProperty[] }): Promise<GraphUser | null> {
      const found = await call<GraphUser>(userRequest(idOrUpn, select, options?.expandManager), true);
      return found ? answeredUser(idOrUpn, found.body, found.requestId) : null;
    },

    async me(select: UserProperty[]): Promise<GraphUser | null> {
      const found = await call<GraphUser>({ method: 'GET', path: graphPaths.me(), query: { $select: selectParam(select) } }, true);
      return found?.body ?? null;
    },

    async listUsers(request: PageRequest<UserListQuery>): Promise<GraphPage<GraphUser>> {
      if (request.kind === 'next') {
        // Graph does not carry ConsistencyLevel (or Prefer) over to the next page (docs/graph-facts.md#paging): resend them.
        const headers = continuationHeaders(request.nextLink, request.advanced);
        return page<GraphUser>(
          { method: 'GET', path: continuation(request.nextLink, continuationShapes.users, request.fromGraph), ...(headers ? { headers } : {}) },
          false,
          usersCursorPage,
        );
      }
      const first = usersListRequest(request.query);
      // Never send what Graph refuses for its length (the GraphQL layer checks the same before execution).
      const length = absoluteUrlLength(deps.graphEndpoint, first);
      if (length > MAX_GRAPH_URL_LENGTH) throw urlTooLong(length);
      return page<GraphUser>(first, request.query.count, usersCursorPage);
    },

    async getManager(userIdOrUpn: string, select: UserProperty[]): Promise<GraphUser | null> {
      const found = await call<GraphUser>(managerRequest(userIdOrUpn, select), true);
      // A contact as manager is not a User (docs/graph-facts.md#manager-and-bulk-lookup).
      return found && isUserObject(found.body) ? found.body : null;
    },

    listDirectReports: (userIdOrUpn, request) => relationshipPage<GraphUser>(userIdOrUpn, 'directReports', continuationShapes.directReports, request),

    listMemberOf: (userIdOrUpn: string, request: PageRequest<RelationshipPageQuery>) =>
      relationshipPage<GraphGroup>(userIdOrUpn, 'memberOf', continuationShapes.memberOf, request),

    listOwnedDevices: (userIdOrUpn, request) => relationshipPage<GraphDirectoryObject>(userIdOrUpn, 'ownedDevices', continuationShapes.ownedDevices, request),

    async roleGrantsOf(principalId: string): Promise<RoleGrants> {
      // One $batch: the user's own grants, its memberships, the tenant's role-assignable
      // groups with their owners, its PIM for Groups eligibilities and the directoryRole cast (an
      // advanced query: ConsistencyLevel rides in the item's headers). The grant lists and the cast
      // are read on until an item (any item is a grant or a role; a page may be empty with a
      // nextLink: before, a nextLink was counted as a grant), the group lists to the end. A user not
      // found has no memberships nor roles (404): the write then meets the same 404. The cast applies
      // to each page of the user's memberships: an empty page with a nextLink says nothing about the
      // next one (docs/graph-facts.md#paging); past MAX_FOLLOWED_PAGES the lookup fails, and the
      // check fails closed (src/graphql/mutations/admin-targets.ts).
      const read = await readLookups([
        { lookup: 'roleGrants', request: roleEligibilityRequest(principalId), shape: continuationShapes.roleEligibilities, untilAny: true, pim: true },
        { lookup: 'roleGrants', request: roleAssignmentsRequest(principalId), shape: continuationShapes.roleAssignments, untilAny: true },
        // Every membership's id, from a function no index serves: a membership made a moment ago is
        // in it, where the cast on transitiveMemberOf (an advanced query) may not list it yet
        // (docs/graph-facts.md#writes-and-permissions, "Recent memberships").
        { lookup: 'groupMemberships', request: memberObjectsRequest(principalId), shape: continuationShapes.memberObjects, emptyOn404: true },
        { lookup: 'groupOwnerships', request: roleAssignableGroupOwnersRequest(), shape: continuationShapes.groups },
        { lookup: 'groupEligibilities', request: groupEligibilityRequest(principalId), shape: continuationShapes.groupEligibilities, pim: true },
        {
          lookup: 'directoryRoles',
          request: directoryRolesRequest(principalId),
          shape: continuationShapes.directoryRoles,
          advanced: true,
          untilAny: true,
          emptyOn404: true,
        },
      ]);
      const first = read.slice(0, 5);
      const cast = read[5]!;
      const own = (n: number) => (Array.isArray(first[n]) ? grantsOf(first[n], principalId) : []);
      const grants: RoleGrants = { eligible: own(0), assigned: own(1), activeRoles: Array.isArray(cast) ? cast.length : 0 };
      // A role or a grant of the user's own answers the question, whatever else failed: no second round trip.
      if (grants.activeRoles > 0 || grants.eligible.length > 0 || grants.assigned.length > 0) return grants;
      // The cast's failure is the one reported when nothing is found (it needs its own permission),
      // whatever else failed; a grant found through a group still wins.
      const castFailure = cast instanceof RoleGrantLookupFailure ? cast : undefined;
      try {
        const found = await groupGrants(principalId, first, grants);
        if (castFailure && found.eligible.length === 0 && found.assigned.length === 0) throw castFailure;
        return found;
      } catch (error) {
        throw castFailure && error instanceof RoleGrantLookupFailure ? castFailure : error;
      }
    },

    async listAuthMethods(userIdOrUpn: string, kind: AuthMethodKind): Promise<GraphDirectoryObject[]> {
      const items = await followAll<GraphDirectoryObject>(
        { method: 'GET', path: graphPaths.userAuthMethods(userIdOrUpn, kind) },
        continuationShapes.authMethods,
      );
      // Items of a per-type collection may come without @odata.type (src/graph/auth-method-types.ts).
      return typedAuthMethods(kind, items);
    },

    async userChanges(input: { deltaLink?: string; select: UserProperty[]; maxPages?: number }): Promise<UserChangesPage> {
      const maxPages = Math.max(1, Math.min(input.maxPages ?? MAX_FOLLOWED_PAGES, MAX_FOLLOWED_PAGES));
      let req: GraphRequest = input.deltaLink
        ? { method: 'GET', path: continuation(input.deltaLink, continuationShapes.usersDelta) }
        : { method: 'GET', path: graphPaths.usersDelta(), query: { $select: selectParam(input.select) } };
      const changed: GraphUser[] = [];
      const removed: UserChangesPage['removed'] = [];
      for (let pages = 0; pages < maxPages; pages++) {
        const result = await transport.request<unknown>(req);
        if (!result.ok) throw deltaError(result.status, result.error);
        const body = result.body as { value?: unknown; '@odata.nextLink'?: unknown; '@odata.deltaLink'?: unknown } | undefined;
        if (!body || !Array.isArray(body.value)) {
          throw new GatewayError(ErrorCode.UPSTREAM_ERROR, 'Microsoft Graph sent an unexpected response: a delta page without a value array.');
        }
        for (const item of body.value as Array<GraphUser & { '@removed'?: { reason?: unknown } }>) {
          const marker = item['@removed'];
          if (marker) removed.push({ id: item.id, reason: marker.reason === 'deleted' ? 'deleted' : 'changed' });
          else changed.push(item);
        }
        const next = typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : null;
        const delta = typeof body['@odata.deltaLink'] === 'string' ? body['@odata.deltaLink'] : null;
        if (!next) {
          // The round's deltaLink goes into the caller's change-feed token: checked now, so one Graph
          // should not have sent fails this round as Graph's error, not every later call as the caller's.
          if (delta) continuation(delta, continuationShapes.usersDelta, true);
          return { changed, removed, nextLink: null, deltaLink: delta };
        }
        req = { method: 'GET', path: continuation(next, continuationShapes.usersDelta, true) };
        if (pages === maxPages - 1) return { changed, removed, nextLink: next, deltaLink: null };
      }
      /* c8 ignore next */
      throw new GatewayError(ErrorCode.INTERNAL_SERVER_ERROR, 'unreachable');
    },
  };
}

/**
 * Graph's codes for a delta round it can no longer continue: the delta codes of the errors page
 * (`syncStateNotFound`, `resyncRequired`), and the directory's `Directory_ExpiredPageToken` for a
 * round's nextLink (`$skiptoken`) that expired mid-round (docs/graph-facts.md#delta-query): its pages
 * after that token are gone, so only a new full sync is complete.
 */
const RESYNC_CODES = new Set(['syncStateNotFound', 'resyncRequired', 'syncStateInvalid', 'badRequest_ExpiredSyncState', 'Directory_ExpiredPageToken']);

/** An expired or unknown delta token tells the caller to resync (docs/graph-facts.md#delta-query). */
function deltaError(status: number | undefined, error: GatewayError): GatewayError {
  const graphCode = typeof error.extensions.graphErrorCode === 'string' ? error.extensions.graphErrorCode : undefined;
  if (status === 410 || (graphCode !== undefined && RESYNC_CODES.has(graphCode))) {
    return new GatewayError(
      ErrorCode.BAD_USER_INPUT,
      'The change token has expired or is no longer valid: start a full resync by asking for changes without a token.',
      { ...error.extensions, resyncRequired: true },
    );
  }
  return error;
}
