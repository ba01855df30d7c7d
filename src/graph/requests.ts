import { badInput } from '../errors.js';
import type { AuthMethodKind, UserProperty } from './api.js';
import { graphPaths } from './paths.js';
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

export function userRequest(idOrUpn: string, select: readonly UserProperty[], expandManager?: readonly UserProperty[]): GraphRequest {
  return {
    method: 'GET',
    path: graphPaths.user(idOrUpn),
    query: { $select: selectParam(select), $expand: expandManagerParam(expandManager) },
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
 */
export function memberOfRequest(idOrUpn: string, select: readonly UserProperty[], top: number): GraphRequest {
  return { method: 'GET', path: graphPaths.userSub(idOrUpn, 'memberOf'), query: { $select: selectParam(select), $top: topParam(top) } };
}

export function ownedDevicesRequest(idOrUpn: string, select: readonly UserProperty[], top: number, filter?: string): GraphRequest {
  return {
    method: 'GET',
    path: graphPaths.userSub(idOrUpn, 'ownedDevices'),
    query: { $select: selectParam(select), $top: topParam(top), $filter: filter },
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
