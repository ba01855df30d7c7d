import type { GraphQLResolveInfo } from 'graphql';
import type { GraphUser } from '../../graph/api.js';
import { isGuid } from '../../guid.js';
import type { GatewayContext } from '../context.js';
import { markManagerExpanded } from '../manager-expansion.js';
import { planUserSelection } from '../select.js';
import type { UserRef } from './payload-model.js';

/** A payload's `user`: only what the caller selected, fetched after the write (so it shows the new state). */
export async function payloadUser(parent: UserRef, _args: unknown, ctx: GatewayContext, info: GraphQLResolveInfo): Promise<GraphUser> {
  const plan = planUserSelection(info, info.fieldNodes);
  const known = parent.known;
  if (known && !plan.expandManager && plan.select.every((p) => p in known)) return known;
  // `user { id }` after a write addressed by object id costs nothing more.
  if (!plan.expandManager && plan.select.length === 1 && isGuid(parent.userKey)) return { id: parent.userKey };
  const user = await ctx.loaders.user.load({
    key: parent.userKey,
    select: plan.select,
    ...(plan.expandManager ? { expandManager: plan.expandManager } : {}),
  });
  if (user && plan.expandManager) markManagerExpanded(user, plan.expandManager);
  // Replication can lag right after a write; the id is still worth returning.
  return user ?? known ?? { id: parent.userKey };
}
