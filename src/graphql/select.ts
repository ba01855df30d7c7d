import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  getDirectiveValues,
  isAbstractType,
  isObjectType,
  Kind,
  type FieldNode,
  type GraphQLResolveInfo,
  type SelectionSetNode,
} from 'graphql';

/**
 * GraphQL selection → Graph `$select`. Only what the operation selected is asked of Graph (never
 * `*`), always with `id` (resolvers and loaders key on it). Fragments, inline fragments, aliases
 * and @skip/@include are honoured; fields under different aliases are merged.
 */

/** GraphQL User field → Graph user property. Relationship fields (manager, ...) have none. */
export const USER_FIELD_TO_GRAPH: Readonly<Record<string, string>> = Object.freeze({
  id: 'id',
  displayName: 'displayName',
  givenName: 'givenName',
  surname: 'surname',
  userPrincipalName: 'userPrincipalName',
  mail: 'mail',
  jobTitle: 'jobTitle',
  department: 'department',
  officeLocation: 'officeLocation',
  mobilePhone: 'mobilePhone',
  businessPhones: 'businessPhones',
  accountEnabled: 'accountEnabled',
  userType: 'userType',
  createdDateTime: 'createdDateTime',
  employeeId: 'employeeId',
  companyName: 'companyName',
});

export const GROUP_FIELD_TO_GRAPH: Readonly<Record<string, string>> = Object.freeze({
  id: 'id',
  displayName: 'displayName',
  description: 'description',
  mail: 'mail',
  mailEnabled: 'mailEnabled',
  securityEnabled: 'securityEnabled',
  groupTypes: 'groupTypes',
});

export const DEVICE_FIELD_TO_GRAPH: Readonly<Record<string, string>> = Object.freeze({
  id: 'id',
  deviceId: 'deviceId',
  displayName: 'displayName',
  operatingSystem: 'operatingSystem',
  operatingSystemVersion: 'operatingSystemVersion',
  accountEnabled: 'accountEnabled',
  trustType: 'trustType',
  approximateLastSignInDateTime: 'approximateLastSignInDateTime',
});

export type SelectionInfo = Pick<GraphQLResolveInfo, 'schema' | 'fragments' | 'variableValues'>;

/** Sub-fields selected under `fieldNodes` on an object of type `typeName`, grouped by field name (aliases merged). */
export function collectSubfields(info: SelectionInfo, fieldNodes: readonly FieldNode[], typeName: string): Map<string, FieldNode[]> {
  const out = new Map<string, FieldNode[]>();
  const visitedFragments = new Set<string>();
  const visit = (selectionSet: SelectionSetNode | undefined) => {
    if (!selectionSet) return;
    for (const selection of selectionSet.selections) {
      if (!isIncluded(info, selection)) continue;
      switch (selection.kind) {
        case Kind.FIELD: {
          const list = out.get(selection.name.value) ?? [];
          list.push(selection);
          out.set(selection.name.value, list);
          break;
        }
        case Kind.INLINE_FRAGMENT:
          if (appliesTo(info, selection.typeCondition?.name.value, typeName)) visit(selection.selectionSet);
          break;
        case Kind.FRAGMENT_SPREAD: {
          const name = selection.name.value;
          if (visitedFragments.has(name)) break;
          visitedFragments.add(name);
          const fragment = info.fragments[name];
          if (fragment && appliesTo(info, fragment.typeCondition.name.value, typeName)) visit(fragment.selectionSet);
          break;
        }
      }
    }
  };
  for (const node of fieldNodes) visit(node.selectionSet);
  return out;
}

function isIncluded(info: SelectionInfo, node: Parameters<typeof getDirectiveValues>[1]): boolean {
  const skip = getDirectiveValues(GraphQLSkipDirective, node, info.variableValues);
  if (skip?.if === true) return false;
  const include = getDirectiveValues(GraphQLIncludeDirective, node, info.variableValues);
  return include?.if !== false;
}

function appliesTo(info: SelectionInfo, condition: string | undefined, typeName: string): boolean {
  if (!condition || condition === typeName) return true;
  const conditionType = info.schema.getType(condition);
  const objectType = info.schema.getType(typeName);
  return !!conditionType && isAbstractType(conditionType) && isObjectType(objectType) && info.schema.isSubType(conditionType, objectType);
}

/** Graph properties for the fields selected under `fieldNodes` (`id` always, sorted, unique). */
export function selectProperties(info: SelectionInfo, fieldNodes: readonly FieldNode[], typeName: string, map: Readonly<Record<string, string>>): string[] {
  const properties = new Set<string>(['id']);
  for (const field of collectSubfields(info, fieldNodes, typeName).keys()) {
    const property = map[field];
    if (property) properties.add(property);
  }
  return sortProperties(properties);
}

/** `id` first, then alphabetical: a stable order makes equal selections equal loader keys. */
export function sortProperties(properties: Iterable<string>): string[] {
  const rest = [...new Set(properties)].filter((p) => p !== 'id').sort();
  return ['id', ...rest];
}

export interface UserSelectionPlan {
  /** `$select` for the users themselves. */
  select: string[];
  /** `$select` for their manager when `manager` is selected (fetch it in the same request), else null. */
  expandManager: string[] | null;
}

/** Plan for user objects whose selection sets are `userFieldNodes` (e.g. `user(id:)`, a list's `nodes`). */
export function planUserSelection(info: SelectionInfo, userFieldNodes: readonly FieldNode[]): UserSelectionPlan {
  const fields = collectSubfields(info, userFieldNodes, 'User');
  const properties = new Set<string>(['id']);
  for (const field of fields.keys()) {
    const property = USER_FIELD_TO_GRAPH[field];
    if (property) properties.add(property);
  }
  const managerNodes = fields.get('manager');
  return {
    select: sortProperties(properties),
    expandManager: managerNodes ? selectProperties(info, managerNodes, 'User', USER_FIELD_TO_GRAPH) : null,
  };
}

export interface ConnectionSelectionPlan<P> {
  /** Plan for the selected nodes (through `nodes` and `edges { node }`). */
  node: P;
  totalCount: boolean;
  /** Whether any node is selected at all (a `totalCount`-only query needs no items). */
  nodesSelected: boolean;
  /**
   * Whether the page's items matter: nodes, edges (their cursors too) or pageInfo is selected.
   * Only a `totalCount`-only selection can do without them; `pageInfo` alone still needs the
   * whole page, or its end cursor and hasNextPage would describe a page of one.
   */
  itemsNeeded: boolean;
}

/** Merges what a connection field (`users`, `directReports`, ...) selects under `nodes` and `edges.node`. */
export function connectionNodeFields(
  info: SelectionInfo,
  connectionFieldNodes: readonly FieldNode[],
  connectionType: string,
  edgeType: string,
): { nodes: FieldNode[]; totalCount: boolean; itemsNeeded: boolean } {
  const fields = collectSubfields(info, connectionFieldNodes, connectionType);
  const nodes = [...(fields.get('nodes') ?? [])];
  const edges = fields.get('edges');
  if (edges) nodes.push(...(collectSubfields(info, edges, edgeType).get('node') ?? []));
  return { nodes, totalCount: fields.has('totalCount'), itemsNeeded: fields.has('nodes') || fields.has('edges') || fields.has('pageInfo') };
}

export function planUserConnection(info: SelectionInfo, connectionFieldNodes: readonly FieldNode[]): ConnectionSelectionPlan<UserSelectionPlan> {
  const { nodes, totalCount, itemsNeeded } = connectionNodeFields(info, connectionFieldNodes, 'UserConnection', 'UserEdge');
  return { node: planUserSelection(info, nodes), totalCount, nodesSelected: nodes.length > 0, itemsNeeded };
}

/**
 * The selection set that plans exactly like `fieldNode`'s own, seen through fragments: a set that
 * is nothing but one directive-free spread of a fragment on `typeName` plans as that fragment's
 * set. Fifty aliased `user(id:) { ...Card }` then share one plan (memoized on the fragment's set)
 * instead of planning the same fields fifty times. Undefined when the field has no selection set.
 */
export function planningSelectionSet(info: SelectionInfo, fieldNode: FieldNode, typeName: string): SelectionSetNode | undefined {
  let set = fieldNode.selectionSet;
  for (let depth = 0; set && depth < 8; depth += 1) {
    const only = set.selections.length === 1 ? set.selections[0]! : undefined;
    if (only?.kind !== Kind.FRAGMENT_SPREAD || (only.directives?.length ?? 0) > 0) break;
    const fragment = info.fragments[only.name.value];
    if (!fragment || fragment.typeCondition.name.value !== typeName) break;
    set = fragment.selectionSet;
  }
  return set;
}
