import type { GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import type { GraphUser, UserLookupKey } from '../../graph/api.js';
import type { GatewayContext } from '../context.js';
import { markManagerExpanded } from '../manager-expansion.js';
import { planUserSelection, type UserSelectionPlan } from '../select.js';
import { createPlanCache, memoizedSelectionPlan } from './plan-memo.js';
import { plannedFirstPageReports, prefetchReports, type PlannedReportPage } from './report-prefetch.js';

/**
 * One user by object id or userPrincipalName, for a field whose selection is a User's: the
 * operation's `user` loader with the selection as `$select` (and `$expand=manager` when the
 * manager is selected), the first page of selected reports riding the same `$batch` round.
 * `Query.user` and the federation entity resolver (`User.__resolveReference`) both go through
 * here, so `_entities` for many users batches exactly as many `user(id:)` fields do.
 */

interface UserFieldPlan {
  plan: UserSelectionPlan;
  reports: PlannedReportPage[];
}

/** Per selection set and request: aliased `user(id:) { ...Card }` fields (or the references of one `_entities`) share one plan. */
const userFieldPlans = createPlanCache<SelectionSetNode, UserFieldPlan>();

/** `key` is normalized already (src/graphql/user-id.ts). */
export async function loadPlannedUser(key: string, ctx: Pick<GatewayContext, 'loaders'>, info: GraphQLResolveInfo): Promise<GraphUser | null> {
  const { plan, reports } = memoizedSelectionPlan(userFieldPlans, info, 'User', () => ({
    plan: planUserSelection(info, info.fieldNodes),
    reports: plannedFirstPageReports(info),
  }));
  const lookup: UserLookupKey = plan.expandManager ? { key, select: plan.select, expandManager: plan.expandManager } : { key, select: plan.select };
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
}
