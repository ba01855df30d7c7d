import { badInput } from '../errors.js';
import { isGuid } from '../guid.js';
import type { AuthMethodKind, UserListQuery, UserProperty } from './api.js';
import { ALWAYS_SET_PROPERTY } from './limited-information.js';
import { graphPaths, relativeUrl } from './paths.js';
import type { GraphRequest } from './types.js';

/**
 * The Graph requests behind each domain call, shared by the client's methods and the loaders so
 * a lookup is the same request whether it goes alone or inside a `$batch`.
 */

const PROPERTY = /^[A-Za-z][A-Za-z0-9_]*$/;

/** `$select` value: `id` first, then the requested properties once each, in order; never `*`. */
export function selectParam(select: readonly UserProperty[]): string {
  const out = ['id'];
  for (const property of select) {
    if (typeof property !== 'string' || !PROPERTY.test(property)) {
      throw badInput(`'${String(property).slice(0, 64)}' is not a property the gateway can select.`);
    }
    if (!out.includes(property)) out.push(property);
  }
  return out.join(',');
}

/** `$expand=manager($select=...)`: the manager in the same request. */
export function expandManagerParam(select: readonly UserProperty[] | undefined): string | undefined {
  return select ? `manager($select=${selectParam(select)})` : undefined;
}

export const MAX_PAGE_SIZE = 999;

export function topParam(top: number): string {
  if (!Number.isInteger(top) || top < 1 || top > MAX_PAGE_SIZE) {
    throw badInput(`The page size must be an integer from 1 to ${MAX_PAGE_SIZE}, received ${String(top)}.`);
  }
  return String(top);
}

/** Header Graph needs for advanced queries, `$search` and `$count` (docs/graph-facts.md#listing-users). */
export const EVENTUAL_CONSISTENCY = { ConsistencyLevel: 'eventual' } as const;

/**
 * `Prefer: legacySearch=false`: v1.0 `$search` fails with 400 on a properly encoded `&` (`%26`)
 * unless the request carries it (docs/graph-facts.md#listing-users). The legacy search decodes
 * the value twice (double-encoding is the workaround Graph names but does not recommend), so a `%`
 * in the text goes with the same header.
 */
export const MODERN_SEARCH = { Prefer: 'legacySearch=false' } as const;

export function needsModernSearch(search: string | null | undefined): boolean {
  return typeof search === 'string' && /[&%]/.test(search);
}

/** The first page of a users list. */
export function usersListRequest(q: UserListQuery): GraphRequest {
  // `$search` and `$count` work only as advanced queries; without the header Graph ignores `$count`.
  const advanced = q.advanced || q.count || q.search !== undefined;
  const headers: Record<string, string> = {
    ...(advanced ? EVENTUAL_CONSISTENCY : {}),
    ...(needsModernSearch(q.search) ? MODERN_SEARCH : {}),
  };
  return {
    method: 'GET',
    path: graphPaths.users(),
    query: {
      $select: selectParam(q.select),
      $top: topParam(q.top),
      $filter: q.filter,
      $search: q.search,
      $orderby: q.orderBy,
      $expand: expandManagerParam(q.expandManager),
      $count: advanced ? 'true' : undefined,
    },
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
  };
}

/**
 * Headers the next page of a list needs: Graph carries none over to the next page
 * (docs/graph-facts.md#paging), so `ConsistencyLevel` and the search preference are sent again.
 */
export function continuationHeaders(nextLink: string, advanced: boolean): Record<string, string> | undefined {
  let search: string | null;
  try {
    search = new URL(nextLink).searchParams.get('$search');
  } catch {
    search = null;
  }
  const headers: Record<string, string> = { ...(advanced ? EVENTUAL_CONSISTENCY : {}), ...(needsModernSearch(search) ? MODERN_SEARCH : {}) };
  return Object.keys(headers).length > 0 ? headers : undefined;
}

/**
 * Longest request URL (Graph's base included) the gateway sends for a list. Graph documents 2,048
 * characters for advanced queries, counting the whole URL (docs/graph-facts.md#listing-users), and
 * no other number, so every list URL built from caller input is held to it.
 */
export const MAX_GRAPH_URL_LENGTH = 2048;

export function urlTooLong(length: number) {
  return badInput(
    `This list would be a ${length}-character request URL; Microsoft Graph accepts at most ${MAX_GRAPH_URL_LENGTH}. ` +
      'Use fewer or shorter filter values or search terms; to look up many users by id, use aliased `user(id:)` fields (the gateway sends up to 1,000 ids in one getByIds request).',
    { limit: 'graphUrlLength', max: MAX_GRAPH_URL_LENGTH, found: length },
  );
}

/** Length of the absolute URL `request` becomes on `graphEndpoint` (what Graph's URL limits count). */
export function absoluteUrlLength(graphEndpoint: string, request: GraphRequest): number {
  return `${graphEndpoint.replace(/\/+$/, '')}/v1.0${relativeUrl(request.path, request.query)}`.length;
}

/**
 * `GET /users/{id | upn}`. A lookup by UPN selects `userPrincipalName` too: the answer is checked to
 * be the user the key names (src/graph/user-answer.ts), and by UPN only that property says so.
 */
export function userRequest(idOrUpn: string, select: readonly UserProperty[], expandManager?: readonly UserProperty[]): GraphRequest {
  const selected = isGuid(idOrUpn) || select.includes('userPrincipalName') ? select : [...select, 'userPrincipalName'];
  return {
    method: 'GET',
    path: graphPaths.user(idOrUpn),
    query: { $select: selectParam(selected), $expand: expandManagerParam(expandManager) },
  };
}

export function managerRequest(idOrUpn: string, select: readonly UserProperty[]): GraphRequest {
  return { method: 'GET', path: graphPaths.userSub(idOrUpn, 'manager'), query: { $select: selectParam(select) } };
}

export function directReportsRequest(idOrUpn: string, select: readonly UserProperty[], top: number): GraphRequest {
  return { method: 'GET', path: graphPaths.userSub(idOrUpn, 'directReports'), query: { $select: selectParam(select), $top: topParam(top) } };
}

/**
 * A user's group memberships. Graph's `memberOf` also holds directory roles and administrative
 * units; callers keep only groups (the cast segment would hide them without saving a request).
 * `displayName` is always selected: a group without one came with limited information
 * (src/graph/limited-information.ts).
 */
export function memberOfRequest(idOrUpn: string, select: readonly UserProperty[], top: number, filter?: string): GraphRequest {
  return {
    method: 'GET',
    path: graphPaths.userSub(idOrUpn, 'memberOf'),
    query: { $select: selectParam([...select, ALWAYS_SET_PROPERTY]), $top: topParam(top), $filter: filter },
  };
}

/**
 * A user's activated directory roles, direct or through groups: an OData cast, so an advanced query
 * (`ConsistencyLevel: eventual` and `$count=true`, docs/graph-facts.md#writes-and-permissions). Pages
 * of 999 memberships, the most Graph gives: a user in hundreds of groups then costs one request.
 */
export function directoryRolesRequest(idOrUpn: string): GraphRequest {
  return {
    method: 'GET',
    path: graphPaths.userDirectoryRoles(idOrUpn),
    query: { $select: 'id,displayName', $count: 'true', $top: String(MAX_PAGE_SIZE) },
    headers: { ...EVENTUAL_CONSISTENCY },
  };
}

/** A user's devices; `displayName` always selected, as for memberOf (src/graph/limited-information.ts). */
export function ownedDevicesRequest(idOrUpn: string, select: readonly UserProperty[], top: number, filter?: string): GraphRequest {
  return {
    method: 'GET',
    path: graphPaths.userSub(idOrUpn, 'ownedDevices'),
    query: { $select: selectParam([...select, ALWAYS_SET_PROPERTY]), $top: topParam(top), $filter: filter },
  };
}

/** First page of a user's authentication methods of one kind (Graph takes no `$select` there). */
export function authMethodsRequest(idOrUpn: string, kind: AuthMethodKind): GraphRequest {
  return { method: 'GET', path: graphPaths.userAuthMethods(idOrUpn, kind) };
}

/** Graph accepts at most 1000 ids per getByIds call (docs/graph-facts.md#manager-and-bulk-lookup). */
export const GET_BY_IDS_LIMIT = 1000;

export function getByIdsRequest(ids: readonly string[], select: readonly UserProperty[]): GraphRequest {
  if (ids.length === 0 || ids.length > GET_BY_IDS_LIMIT) throw new RangeError(`getByIds takes 1..${GET_BY_IDS_LIMIT} ids, received ${ids.length}`);
  // A read despite the POST: repeating it cannot change anything.
  return {
    method: 'POST',
    path: graphPaths.getByIds(),
    query: { $select: selectParam(select) },
    body: { ids, types: ['user'] },
    effect: 'read',
  };
}
