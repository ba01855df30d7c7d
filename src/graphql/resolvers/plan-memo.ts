import { BREAK, visit, type ASTNode, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { planningSelectionSet } from '../select.js';

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
 * Plans of one kind of node (field nodes, selection sets). A plan that uses no variable serves every
 * request and is kept per node of the cached document. A plan that uses one serves its request only,
 * so it is kept per request (its variables object, which graphql-js makes anew for each execution)
 * and goes when the request's variables do.
 *
 * Why not per node with the variables beside it: the document lives in Apollo's store for as long
 * as the store keeps it, and so did the last request's variables, which the store does not count.
 * A key holding only `Users.Read` sent small documents, each different (a comment), selecting
 * `manager @include(if: $m)` beside a skipped field given a 900 KB variable: every document kept its
 * 900 KB, and ~105 requests (five seconds) aborted the production build with the image's 128 MB heap
 * (docs/security.md#memory-kept-with-a-cached-document).
 */
export interface PlanCache<K extends object, P> {
  readonly constant: WeakMap<K, { plan: P }>;
  readonly perRequest: WeakMap<object, WeakMap<K, { plan: P }>>;
}

export function createPlanCache<K extends object, P>(): PlanCache<K, P> {
  return { constant: new WeakMap(), perRequest: new WeakMap() };
}

/** Whether the plan of `node` depends on the request's variables. */
function dependsOnVariables(info: GraphQLResolveInfo, node: ASTNode): boolean {
  if ((info.operation.variableDefinitions?.length ?? 0) === 0) return false;
  return usesVariables(node, info.fragments);
}

function cached<K extends object, P>(cache: PlanCache<K, P>, info: GraphQLResolveInfo, node: K & ASTNode, plan: () => P): P {
  let plans = cache.constant;
  if (dependsOnVariables(info, node)) {
    const variables = info.variableValues as object;
    let ofRequest = cache.perRequest.get(variables);
    if (!ofRequest) cache.perRequest.set(variables, (ofRequest = new WeakMap()));
    plans = ofRequest;
  }
  const hit = plans.get(node);
  if (hit) return hit.plan;
  const fresh = plan();
  plans.set(node, { plan: fresh });
  return fresh;
}

/**
 * Selection plans depend only on the field's nodes and the operation's variables, yet a field of a
 * list (or of a fragment spread under many aliases) resolves once per parent: 100 users' `manager`
 * would plan the same selection 100 times. Plans are kept per field node (the parsed document is
 * shared across requests by Apollo's cache), and per request when the field uses variables (in its
 * arguments, directives or selections); a field that uses none plans the same every time, so its
 * plan serves every request.
 */
export function memoizedPlan<P>(cache: PlanCache<FieldNode, P>, info: GraphQLResolveInfo, plan: () => P): P {
  // Merged field nodes (the same response key spelled twice) are rare: plan those directly.
  if (info.fieldNodes.length !== 1) return plan();
  return cached(cache, info, info.fieldNodes[0]!, plan);
}

/**
 * As `memoizedPlan`, keyed by the selection set the field plans from (`planningSelectionSet`):
 * different fields (aliases) that spread the same fragment share one plan. For plans that depend
 * on the field's selection set and the variables only, not on its arguments.
 */
export function memoizedSelectionPlan<P>(cache: PlanCache<SelectionSetNode, P>, info: GraphQLResolveInfo, typeName: string, plan: () => P): P {
  if (info.fieldNodes.length !== 1) return plan();
  const set = planningSelectionSet(info, info.fieldNodes[0]!, typeName);
  if (!set) return plan();
  return cached(cache, info, set, plan);
}
