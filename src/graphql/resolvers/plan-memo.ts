import type { FieldNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import { planningSelectionSet } from '../select.js';

/** Stands for the variables of operations that declare none (their @skip/@include are literals). */
const NO_VARIABLES: unknown = Object.freeze({});

/** What a plan depends on besides the document: the request's variables, if the operation has any. */
function variablesKey(info: GraphQLResolveInfo): unknown {
  return (info.operation.variableDefinitions?.length ?? 0) === 0 ? NO_VARIABLES : info.variableValues;
}

/**
 * Selection plans depend only on the field's nodes and the operation's variables, yet a field of a
 * list (or of a fragment spread under many aliases) resolves once per parent: 100 users' `manager`
 * would plan the same selection 100 times. Plans are kept per field node (the parsed document is
 * shared across requests by Apollo's cache) and per variables object (one per request); an
 * operation without variables plans the same every time, so its plans serve every request.
 */
export function memoizedPlan<P>(cache: WeakMap<FieldNode, { variables: unknown; plan: P }>, info: GraphQLResolveInfo, plan: () => P): P {
  // Merged field nodes (the same response key spelled twice) are rare: plan those directly.
  if (info.fieldNodes.length !== 1) return plan();
  const node = info.fieldNodes[0]!;
  const variables = variablesKey(info);
  const hit = cache.get(node);
  if (hit && hit.variables === variables) return hit.plan;
  const fresh = plan();
  cache.set(node, { variables, plan: fresh });
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
  const variables = variablesKey(info);
  const hit = cache.get(set);
  if (hit && hit.variables === variables) return hit.plan;
  const fresh = plan();
  cache.set(set, { variables, plan: fresh });
  return fresh;
}
