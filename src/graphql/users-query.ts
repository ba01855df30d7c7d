import { createHash } from 'node:crypto';
import type { FieldNode } from 'graphql';
import type { UserListQuery } from '../graph/api.js';
import { MAX_GRAPH_URL_LENGTH, MAX_PAGE_SIZE, absoluteUrlLength, urlTooLong, usersListRequest } from '../graph/requests.js';
import type { QueryUsersArgs } from '../generated/graphql.js';
import { validateFirst } from './connection.js';
import { QUERY_LIMITS } from './query-limits.js';
import { planUserConnection, type SelectionInfo } from './select.js';
import { compileUserFilter, type CompiledFilter } from './user-filter.js';
import { compileUserOrder, type CompiledOrder } from './user-order.js';
import { compileUserSearch } from './user-search.js';

/**
 * `Query.users` arguments and selection → the Graph list query, shared by the resolver and by the
 * checks that run before execution (so both see the same query).
 */

/**
 * Items a page with `$expand` is assumed to hold at most, whatever its `$top`: a 2023 text of
 * Graph's query-parameter known issue and field reports (docs/graph-facts.md#expand-and-page-size).
 * A longer `first` is collected over several pages. The first request still asks `$top=first`, not
 * 100: where Graph caps the page it costs the same ceil(first / 100) sequential requests, and where
 * it honours `$top` it is one request.
 */
export const EXPANDED_PAGE_SIZE = 100;

/**
 * Whether Graph only answers the list as an advanced query (docs/graph-facts.md#listing-users):
 * `$search`, an advanced-only filter or ordering, a filter with an ordering, `$count`, or a filter
 * past the default query's 15 expressions. Advanced queries cannot `$expand`.
 */
export function isAdvancedUsersQuery(input: { filter: CompiledFilter | null; search: string | null; order: CompiledOrder | null; count: boolean }): boolean {
  const { filter, search, order, count } = input;
  return (
    search !== null ||
    !!filter?.advanced ||
    (filter !== null && filter.expressions > QUERY_LIMITS.defaultQueryExpressions) ||
    !!order?.advancedAlone ||
    (order !== null && filter !== null) ||
    count
  );
}

export interface UsersQueryPlan {
  first: number;
  filter: CompiledFilter | null;
  search: string | null;
  order: CompiledOrder | null;
  advanced: boolean;
  /** `totalCount` is selected. */
  totalCount: boolean;
  /** Items are needed (nodes, edges or pageInfo selected); a `totalCount`-only query asks for one. */
  itemsNeeded: boolean;
  select: string[];
  /** `$expand=manager($select=…)` of the first page; null when not selected or the query is advanced. */
  expandManager: string[] | null;
  /** What the selection wants of the manager, expanded or not. */
  managerSelect: string[] | null;
  /** Cursor kind: a cursor of another filter, search or ordering is foreign. */
  kind: string;
  /** The first page's query with page size `top`. */
  queryFor(top: number): UserListQuery;
}

/** Compiles the arguments (refusing what breaks a limit) and plans the list for the selection. */
export function planUsersQuery(args: QueryUsersArgs, selection: SelectionInfo, fieldNodes: readonly FieldNode[]): UsersQueryPlan {
  const first = validateFirst(args.first);
  const filter = compileUserFilter(args.filter);
  const search = compileUserSearch(args.search);
  const order = compileUserOrder(args.orderBy);
  const connection = planUserConnection(selection, fieldNodes);
  const totalCount = connection.totalCount;
  const advanced = isAdvancedUsersQuery({ filter, search, order, count: totalCount });
  const expandManager = advanced ? null : connection.node.expandManager;
  // A totalCount-only query needs the count, not the users.
  const itemsNeeded = connection.itemsNeeded;
  const select = connection.nodesSelected ? connection.node.select : ['id'];
  const kind = `users:${createHash('sha256')
    .update(JSON.stringify([filter?.text ?? null, search, order?.text ?? null]))
    .digest('base64url')
    .slice(0, 22)}`;
  return {
    first,
    filter,
    search,
    order,
    advanced,
    totalCount,
    itemsNeeded,
    select,
    expandManager,
    managerSelect: connection.node.expandManager,
    kind,
    queryFor: (top) => ({
      ...(filter ? { filter: filter.text } : {}),
      ...(search ? { search } : {}),
      ...(order ? { orderBy: order.text } : {}),
      top: itemsNeeded ? top : 1,
      select,
      ...(expandManager ? { expandManager } : {}),
      count: totalCount,
      advanced,
    }),
  };
}

/**
 * Refuses a list whose URL on `graphEndpoint` would pass Graph's limit, whatever the selection:
 * measured with the fewest properties (`id`, no expansion), so only the filter, search and
 * ordering can make it fail here. The Graph client checks the exact URL again before sending.
 */
export function assertUsersQueryFitsUrl(args: QueryUsersArgs, graphEndpoint: string): void {
  const filter = compileUserFilter(args.filter);
  const search = compileUserSearch(args.search);
  const order = compileUserOrder(args.orderBy);
  const advanced = isAdvancedUsersQuery({ filter, search, order, count: false });
  const query: UserListQuery = {
    ...(filter ? { filter: filter.text } : {}),
    ...(search ? { search } : {}),
    ...(order ? { orderBy: order.text } : {}),
    top: MAX_PAGE_SIZE,
    select: ['id'],
    count: false,
    advanced,
  };
  const length = absoluteUrlLength(graphEndpoint, usersListRequest(query));
  if (length > MAX_GRAPH_URL_LENGTH) throw urlTooLong(length);
}
