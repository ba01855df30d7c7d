import { createHash } from 'node:crypto';
import type { SelectionSetNode } from 'graphql';
import { badInput } from '../../errors.js';
import type { UserListQuery, UserLookupKey } from '../../graph/api.js';
import type { QueryResolvers } from '../../generated/graphql.js';
import { fetchConnectionPage, validateFirst } from '../connection.js';
import { markManagerExpanded } from '../manager-expansion.js';
import { collectSubfields, planUserConnection, planUserSelection, type UserSelectionPlan } from '../select.js';
import { fetchUserChanges } from '../user-changes.js';
import { compileUserFilter } from '../user-filter.js';
import { normalizeUserKey } from '../user-id.js';
import { compileUserOrder } from '../user-order.js';
import { compileUserSearch } from '../user-search.js';
import { memoizedSelectionPlan } from './plan-memo.js';
import { plannedFirstPageReports, prefetchReports, type PlannedReportPage } from './report-prefetch.js';

/** Loader key with the manager expansion the Graph client supports on single-user lookups. */
type UserLookup = UserLookupKey;

interface UserFieldPlan {
  plan: UserSelectionPlan;
  reports: PlannedReportPage[];
}

/** Per selection set and request: aliased `user(id:) { ...Card }` fields share one plan. */
const userFieldPlans = new WeakMap<SelectionSetNode, { variables: unknown; plan: UserFieldPlan }>();

export const queryResolvers: QueryResolvers = {
  user: async (_parent, args, ctx, info) => {
    const key = normalizeUserKey(args.id);
    const { plan, reports } = memoizedSelectionPlan(userFieldPlans, info, 'User', () => ({
      plan: planUserSelection(info, info.fieldNodes),
      reports: plannedFirstPageReports(info),
    }));
    const lookup: UserLookup = plan.expandManager ? { key, select: plan.select, expandManager: plan.expandManager } : { key, select: plan.select };
    // Report lists ride the same $batch round as the user (Graph addresses them by id or UPN).
    const fileReports = prefetchReports(
      ctx.loaders,
      reports.map((page) => ({ key, select: page.select, top: page.top })),
    );
    const user = await ctx.loaders.user.load(lookup);
    if (user && plan.expandManager) markManagerExpanded(user, plan.expandManager);
    const filing = fileReports(user);
    if (filing) await filing;
    return user;
  },

  users: async (_parent, args, ctx, info) => {
    const first = validateFirst(args.first);
    const filter = compileUserFilter(args.filter);
    const search = compileUserSearch(args.search);
    const order = compileUserOrder(args.orderBy);
    const plan = planUserConnection(info, info.fieldNodes);
    // docs/graph-facts.md#listing-users: $search, advanced-only filters and orderings, $filter with $orderby, and
    // $count all need ConsistencyLevel: eventual + $count=true; advanced queries cannot $expand.
    const advanced = search !== null || !!filter?.advanced || !!order?.advancedAlone || (order !== null && filter !== null) || plan.totalCount;
    const expandManager = advanced ? null : plan.node.expandManager;
    // A totalCount-only query needs the count, not the users.
    const select = plan.nodesSelected ? plan.node.select : ['id'];
    const queryFor = (top: number): UserListQuery => ({
      ...(filter ? { filter: filter.text } : {}),
      ...(search ? { search } : {}),
      ...(order ? { orderBy: order.text } : {}),
      top: plan.nodesSelected ? top : 1,
      select,
      ...(expandManager ? { expandManager } : {}),
      count: plan.totalCount,
      advanced,
    });
    ctx.logger.debug(
      { graphPlan: { list: 'users', select, expandManager, filter: filter?.text, search, orderBy: order?.text, advanced, count: plan.totalCount } },
      'graph query plan',
    );
    // Cursors are bound to the query they continue: a cursor of another filter is foreign.
    const kind = `users:${createHash('sha256')
      .update(JSON.stringify([filter?.text ?? null, search, order?.text ?? null]))
      .digest('base64url')
      .slice(0, 22)}`;
    const connection = await fetchConnectionPage({
      kind,
      first,
      after: args.after,
      cursors: ctx.cursors,
      advanced,
      select,
      expandManager,
      fetch: (request) => ctx.graph.listUsers(request.kind === 'first' ? { kind: 'first', query: queryFor(request.top) } : request),
      countFallback: async () => {
        const counted = await ctx.graph.listUsers({ kind: 'first', query: { ...queryFor(1), top: 1, select: ['id'], count: true, advanced: true } });
        return counted.count;
      },
    });
    if (connection.expandedManager && plan.node.expandManager) {
      const expanded = connection.expandedManager;
      if (plan.node.expandManager.every((p) => expanded.includes(p))) {
        for (const user of connection.nodes) markManagerExpanded(user, expanded);
      }
    }
    return connection;
  },

  me: async (_parent, _args, ctx, info) => {
    if (!ctx.delegatedGraphIdentity) {
      throw badInput(
        '`me` needs a delegated Graph identity (GRAPH_AUTH_FLOW=authorization-code or on-behalf-of); this gateway calls Graph as an application. Use `user(id:)` instead.',
      );
    }
    const plan = planUserSelection(info, info.fieldNodes);
    return ctx.graph.me(plan.select);
  },

  userChanges: async (_parent, args, ctx, info) => {
    const changedNodes = collectSubfields(info, info.fieldNodes, 'UserChanges').get('changed') ?? [];
    const plan = planUserSelection(info, changedNodes);
    return fetchUserChanges(ctx, args.deltaToken, plan.select);
  },
};
