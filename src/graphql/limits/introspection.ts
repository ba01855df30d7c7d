import { Kind, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

const INTROSPECTION_FIELDS = new Set(['__schema', '__type', '__typename']);

/**
 * True when every root field the operation selects is an introspection field. Decided by the
 * fields' real names only: an operation, fragment or alias called `__schema` (the known bypass of
 * limit rules that skip introspection by name) changes nothing.
 */
export function isIntrospectionOnly(operation: OperationDefinitionNode, fragments: (name: string) => FragmentDefinitionNode | null | undefined): boolean {
  const seen = new Set<string>();
  let fields = 0;
  const walk = (selectionSet: SelectionSetNode): boolean => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        fields += 1;
        if (!INTROSPECTION_FIELDS.has(selection.name.value)) return false;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (!walk(selection.selectionSet)) return false;
      } else {
        const name = selection.name.value;
        if (seen.has(name)) continue;
        seen.add(name);
        const fragment = fragments(name);
        // An unknown fragment is a validation error elsewhere; never a reason to relax limits.
        if (!fragment || !walk(fragment.selectionSet)) return false;
      }
    }
    return true;
  };
  return operation.operation === 'query' && walk(operation.selectionSet) && fields > 0;
}
