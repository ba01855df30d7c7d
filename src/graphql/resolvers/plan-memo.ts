import { BREAK, visit, type ASTNode, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { planningSelectionSet } from '../select.js';

/** Stands for the variables of plans that cannot depend on them: the same for every request. */
const NO_VARIABLES: unknown = Object.freeze({});

/** Per node of a cached document: whether the node (with the fragments it spreads) names a variable. */
const namesVariables = new WeakMap<ASTNode, boolean>();

/** Whether `node`, or a fragment it spreads (transitively), uses a variable anywhere: an argument, a @skip/@include. */
function usesVariables(node: ASTNode, fragments: GraphQLResolveInfo['fragments']): boolean {
  const known = namesVariables.get(node);
  if (known !== undefined) return known;
  let found = false;
  const seen = new Set<string>();
  const search = (root: ASTNode) =>
    visit(root, {
      Variable() {
        found = true;
        return BREAK;
      },
      FragmentSpread(spread) {
        if (found || seen.has(spread.name.value)) return;
        seen.add(spread.name.value);
        const fragment = fragments[spread.name.value];
        if (fragment) search(fragment.selectionSet);
        if (found) return BREAK;
      },
    });
  search(node);
  namesVariables.set(node, found);
  return found;
}

/**
 * What a plan depends on besides the document: the request's variables, if the planned node uses
 * any. A lookup by `$id` plans its selection set the same for every id, so that plan serves every
 * request instead of being rebuilt per request (the variables object is new each time).
 */
function variablesKey(info: GraphQLResolveInfo, node: ASTNode): unknown {
  if ((info.operation.variableDefinitions?.length ?? 0) === 0) return NO_VARIABLES;
  return usesVariables(node, info.fragments) ? info.variableValues : NO_VARIABLES;
}

/**
 * Selection plans depend only on the field's nodes and the operation's variables, yet a field of a
 * list (or of a fragment spread under many aliases) resolves once per parent: 100 users' `manager`
 * would plan the same selection 100 times. Plans are kept per field node (the parsed document is
 * shared across requests by Apollo's cache) and per variables object (one per request) when the
 * field uses variables; a field that uses none (in its arguments, directives or selections) plans
 * the same every time, so its plan serves every request.
 */
export function memoizedPlan<P>(cache: WeakMap<FieldNode, { variables: unknown; plan: P }>, info: GraphQLResolveInfo, plan: () => P): P {
  // Merged field nodes (the same response key spelled twice) are rare: plan those directly.
  if (info.fieldNodes.length !== 1) return plan();
  const node = info.fieldNodes[0]!;
  const variables = variablesKey(info, node);
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
  const variables = variablesKey(info, set);
  const hit = cache.get(set);
  if (hit && hit.variables === variables) return hit.plan;
  const fresh = plan();
  cache.set(set, { variables, plan: fresh });
  return fresh;
}
