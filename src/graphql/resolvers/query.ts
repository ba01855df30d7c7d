import { badInput } from '../../errors.js';
import type { QueryResolvers } from '../../generated/graphql.js';
import { fetchConnectionPage } from '../connection.js';
import { markManagerExpanded } from '../manager-expansion.js';
import { collectSubfields, planUserSelection } from '../select.js';
import { fetchUserChanges } from '../user-changes.js';
import { normalizeUserKey } from '../user-id.js';
import { EXPANDED_PAGE_SIZE, planUsersQuery } from '../users-query.js';
import { loadPlannedUser } from './user-lookup.js';

export const queryResolvers: QueryResolvers = {
  // Not `async`: loadPlannedUser's promise is the answer; a wrapper would add a promise and its ticks per lookup.
  user: (_parent, args, ctx, info) => loadPlannedUser(normalizeUserKey(args.id), ctx, info),

  users: async (_parent, args, ctx, info) => {
    const plan = planUsersQuery(args, info, info.fieldNodes);
    const { first, filter, search, order, advanced, select, expandManager } = plan;
    ctx.logger.debug(
      {
        graphPlan: { list: 'users', select, expandManager, filter: filter?.text, search, orderBy: order?.text, advanced, count: plan.totalCount },
      },
      'graph query plan',
    );
    const connection = await fetchConnectionPage({
      kind: plan.kind,
      first,
      after: args.after,
      cursors: ctx.cursors,
      advanced,
      select,
      expandManager,
      // Pages with $expand may hold fewer users than `$top` (docs/graph-facts.md#expand-and-page-size): collect
      // `first` over Graph's nextLinks, one more page when resuming in the middle of one.
      ...(expandManager && plan.itemsNeeded ? { fill: { maxFollowed: Math.ceil(first / EXPANDED_PAGE_SIZE) } } : {}),
      fetch: (request) => ctx.graph.listUsers(request.kind === 'first' ? { kind: 'first', query: plan.queryFor(request.top) } : request),
      countFallback: async () => {
        const counted = await ctx.graph.listUsers({ kind: 'first', query: { ...plan.queryFor(1), top: 1, select: ['id'], count: true, advanced: true } });
        return counted.count;
      },
    });
    if (connection.expandedManager && plan.managerSelect) {
      const expanded = connection.expandedManager;
      if (plan.managerSelect.every((p) => expanded.includes(p))) {
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
    // One tracked selection for the whole feed: the full sync's `users` and the rounds' `changed` together.
    const subfields = collectSubfields(info, info.fieldNodes, 'UserChanges');
    const plan = planUserSelection(info, [...(subfields.get('users') ?? []), ...(subfields.get('changed') ?? [])]);
    // Graph tracks only what `$select` names, and a manager only when `manager` is selected
    // (docs/graph-facts.md#delta-query): without it a new manager never makes a user "changed".
    // The field itself is still answered from the manager loader.
    const select = plan.expandManager !== null ? [...plan.select, 'manager'] : plan.select;
    return fetchUserChanges(ctx, args.deltaToken, select);
  },
};
