import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getOperationAST,
  isCompositeType,
  isUnionType,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLInterfaceType,
  type GraphQLObjectType,
  type GraphQLUnionType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import {
  DEFAULT_MUTATION_RULE,
  DEFAULT_PLANNING_TUNABLES,
  PLANNING_RULES,
  type FieldOccurrence,
  type ParentSource,
  type PlanningRule,
  type PlanningTunables,
} from './planning-rules.js';
import { coerceVariablesForPlanning } from '../coerce-variables.js';

/**
 * Estimates, before execution, how many upstream Graph requests an operation can cause. The
 * selection is walked level by level; at each level the occurrences of one field (all aliases,
 * all parents) are costed together, because the gateway's DataLoaders batch them together.
 */

export interface UpstreamEstimate {
  /** Upper bound of upstream Graph requests (a `$batch` POST counts as one). */
  total: number;
  /** Requests by field path (field names, not aliases), e.g. `users.nodes.directReports`. */
  byPath: Record<string, number>;
  /**
   * Upper bound of the field values the answer can hold: every response key (aliases apart) times
   * the objects it is selected on, as the planning rules count objects (a page of `first` users, a
   * reference per `_entities` representation). Aliases and repeated references cost Graph nothing
   * more (the loaders share one read), but each is written again into the answer, which the
   * gateway builds in memory (docs/security.md#the-size-of-an-answer).
   */
  values: number;
  /**
   * Set when a planning rule read arguments that do not compile (FieldPlan.argumentsInvalid): the
   * estimate holds for these variables only, not for others of the same shape, so it is not cached.
   */
  uncacheable?: true;
}

export interface EstimateInput {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  /** Raw variables of the request; coerced here like execution will. */
  variables?: Record<string, unknown> | null;
  tunables?: Partial<PlanningTunables>;
  rules?: Readonly<Record<string, PlanningRule>>;
}

/** Where selections apply: object and interface types, and unions (a subgraph's `_Entity`, selected through `... on User`). */
type CompositeType = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType;

interface Entry {
  selectionSets: SelectionSetNode[];
  type: CompositeType;
  parents: number;
  source: ParentSource;
  distinctManagers?: number;
}

interface CollectedField {
  node: FieldNode;
  parentType: GraphQLObjectType | GraphQLInterfaceType;
  def: GraphQLField<unknown, unknown>;
}

/** Null when the operation cannot be estimated (unknown operation, invalid variables): execution will report that. */
export function estimateUpstreamRequests(input: EstimateInput): UpstreamEstimate | null {
  const { schema, document } = input;
  const operation = getOperationAST(document, input.operationName ?? undefined);
  if (!operation) return null;
  const coerced = coerceVariablesForPlanning(schema, operation, input.variables);
  if (coerced.errors) return null;
  const variables = coerced.coerced;
  const tunables: PlanningTunables = { ...DEFAULT_PLANNING_TUNABLES, ...input.tunables };
  const rules = input.rules ?? PLANNING_RULES;
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }

  const included = (node: { directives?: readonly DirectiveNode[] | undefined }): boolean => {
    if (!node.directives?.length) return true;
    if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
    if (getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if === false) return false;
    return true;
  };

  const typeOf = (name: string | undefined, fallback: CompositeType): CompositeType => {
    if (!name) return fallback;
    const type = schema.getType(name);
    return isCompositeType(type) ? type : fallback;
  };

  /** Fields by response key, fragments flattened (every type condition counted: an upper bound). */
  const collect = (selectionSets: SelectionSetNode[], type: CompositeType): Map<string, CollectedField[]> => {
    const byKey = new Map<string, CollectedField[]>();
    const visited = new Set<string>();
    const walk = (selectionSet: SelectionSetNode, parentType: CompositeType) => {
      for (const selection of selectionSet.selections) {
        if (!included(selection)) continue;
        if (selection.kind === Kind.FIELD) {
          // __typename (the only field a union has) and introspection fields cost nothing upstream
          if (isUnionType(parentType)) continue;
          const def = parentType.getFields()[selection.name.value];
          if (!def) continue;
          const key = selection.alias?.value ?? selection.name.value;
          const list = byKey.get(key) ?? [];
          list.push({ node: selection, parentType, def });
          byKey.set(key, list);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          walk(selection.selectionSet, typeOf(selection.typeCondition?.name.value, parentType));
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          if (!fragment || visited.has(name)) continue;
          visited.add(name);
          walk(fragment.selectionSet, typeOf(fragment.typeCondition.name.value, parentType));
        }
      }
    };
    for (const selectionSet of selectionSets) walk(selectionSet, type);
    return byKey;
  };

  const childNames = (selectionSets: SelectionSetNode[], type: CompositeType): Set<string> => {
    const names = new Set<string>();
    for (const fields of collect(selectionSets, type).values()) for (const field of fields) names.add(field.node.name.value);
    return names;
  };

  /** Fields selected under a connection's `nodes` and `edges { node }` (empty for other types). */
  const nodeNames = (selectionSets: SelectionSetNode[], type: CompositeType): Set<string> => {
    const names = new Set<string>();
    const fields = isUnionType(type) ? {} : type.getFields();
    if (!fields.nodes && !fields.edges) return names;
    for (const [, occurrences] of collect(selectionSets, type)) {
      for (const { node, def } of occurrences) {
        const name = node.name.value;
        if ((name !== 'nodes' && name !== 'edges') || !node.selectionSet) continue;
        const inner = getNamedType(def.type);
        if (!isCompositeType(inner)) continue;
        if (name === 'nodes') {
          for (const child of childNames([node.selectionSet], inner)) names.add(child);
          continue;
        }
        for (const [, edgeFields] of collect([node.selectionSet], inner)) {
          for (const edgeField of edgeFields) {
            const nodeType = getNamedType(edgeField.def.type);
            if (edgeField.node.name.value !== 'node' || !edgeField.node.selectionSet || !isCompositeType(nodeType)) continue;
            for (const child of childNames([edgeField.node.selectionSet], nodeType)) names.add(child);
          }
        }
      }
    }
    return names;
  };

  const byPath: Record<string, number> = {};
  let total = 0;
  let values = 0;
  let uncacheable = false;

  const level = (path: string, entries: Entry[]) => {
    // Occurrences grouped by `Type.field`: all aliases and all parents of one field batch together.
    const groups = new Map<string, Array<{ occurrence: FieldOccurrence; entry: Entry; fields: CollectedField[] }>>();
    for (const entry of entries) {
      for (const fields of collect(entry.selectionSets, entry.type).values()) {
        values += entry.parents;
        const first = fields[0]!;
        const ruleKey = `${first.parentType.name}.${first.node.name.value}`;
        const childType = getNamedType(first.def.type);
        const childSets = fields.flatMap((f) => (f.node.selectionSet ? [f.node.selectionSet] : []));
        let args: Record<string, unknown>;
        try {
          args = getArgumentValues(first.def, first.node, variables);
        } catch {
          continue; // an invalid argument fails at execution before any upstream call
        }
        const occurrence: FieldOccurrence = {
          args,
          parents: entry.parents,
          source: entry.source,
          ...(entry.distinctManagers !== undefined ? { distinctManagers: entry.distinctManagers } : {}),
          childFieldNames: isCompositeType(childType) ? childNames(childSets, childType) : new Set(),
          nodeFieldNames: isCompositeType(childType) ? nodeNames(childSets, childType) : new Set(),
        };
        const list = groups.get(ruleKey) ?? [];
        list.push({ occurrence, entry, fields });
        groups.set(ruleKey, list);
      }
    }
    for (const [ruleKey, items] of groups) {
      const [typeName, fieldName] = ruleKey.split('.') as [string, string];
      const rule = rules[ruleKey] ?? (typeName === schema.getMutationType()?.name ? DEFAULT_MUTATION_RULE : undefined);
      const plan = rule
        ? rule(
            items.map((i) => i.occurrence),
            tunables,
          )
        : {
            requests: 0,
            children: (o: FieldOccurrence) => ({
              parents: o.parents,
              source: o.source,
              ...(o.distinctManagers !== undefined ? { distinctManagers: o.distinctManagers } : {}),
            }),
          };
      const fieldPath = path ? `${path}.${fieldName}` : fieldName;
      if (plan.argumentsInvalid) uncacheable = true;
      if (plan.requests > 0) {
        byPath[fieldPath] = (byPath[fieldPath] ?? 0) + plan.requests;
        total += plan.requests;
      }
      const childEntries: Entry[] = [];
      for (const { occurrence, fields } of items) {
        const childType = getNamedType(fields[0]!.def.type);
        if (!isCompositeType(childType)) continue;
        const selectionSets = fields.flatMap((f) => (f.node.selectionSet ? [f.node.selectionSet] : []));
        if (selectionSets.length === 0) continue;
        const child = plan.children(occurrence);
        if (child.parents <= 0) continue;
        childEntries.push({ selectionSets, type: childType, ...child });
      }
      if (childEntries.length > 0) level(fieldPath, childEntries);
    }
  };

  level('', [{ selectionSets: [operation.selectionSet], type: rootType, parents: 1, source: 'other' }]);
  return {
    total: Math.min(total, Number.MAX_SAFE_INTEGER),
    byPath,
    values: Math.min(values, Number.MAX_SAFE_INTEGER),
    ...(uncacheable ? { uncacheable: true as const } : {}),
  };
}
