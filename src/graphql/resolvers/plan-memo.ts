import type { FieldNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import { planningSelectionSet } from '../select.js';

/**
 * Selection plans depend only on the field's nodes and the operation's variables, yet a field of a
 * list (or of a fragment spread under many aliases) resolves once per parent: 100 users' `manager`
 * would plan the same selection 100 times. Plans are kept per field node (the parsed document is
 * shared across requests by Apollo's cache) and per variables object (one per request).
 */
export function memoizedPlan<P>(cache: WeakMap<FieldNode, { variables: unknown; plan: P }>, info: GraphQLResolveInfo, plan: () => P): P {
  // Merged field nodes (the same response key spelled twice) are rare: plan those directly.
  if (info.fieldNodes.length !== 1) return plan();
  const node = info.fieldNodes[0]!;
  const hit = cache.get(node);
  if (hit && hit.variables === info.variableValues) return hit.plan;
  const fresh = plan();
  cache.set(node, { variables: info.variableValues, plan: fresh });
  return fresh;
}

/**
 * As `memoizedPlan`, keyed by the selection set the field plans from (`planningSelectionSet`):
 * different fields (aliases) that spread the same fragment share one plan. For plans that depend
 * on the field's selection set and the variables only, not on its arguments.
 */
export function memoizedSelectionPlan<P>(
  cache: WeakMap<SelectionSetNode, { variables: unknown; plan: P }>,
  info: GraphQLResolveInfo,
  typeName: string,
  plan: () => P,
): P {
  if (info.fieldNodes.length !== 1) return plan();
  const set = planningSelectionSet(info, info.fieldNodes[0]!, typeName);
  if (!set) return plan();
  const hit = cache.get(set);
  if (hit && hit.variables === info.variableValues) return hit.plan;
  const fresh = plan();
  cache.set(set, { variables: info.variableValues, plan: fresh });
  return fresh;
}
