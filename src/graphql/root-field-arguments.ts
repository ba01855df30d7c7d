import {
  BREAK,
  Kind,
  getArgumentValues,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { coerceVariablesForPlanning } from './coerce-variables.js';
import { collectSubfields } from './select.js';

/** What a plugin's `didResolveOperation` hook knows of the request, as this reader needs it. */
export interface ResolvedOperation {
  schema: GraphQLSchema;
  document: DocumentNode;
  operation?: OperationDefinitionNode | undefined;
  request: { variables?: Record<string, unknown> | undefined };
}

/**
 * The arguments of every occurrence of the Query field `fieldName` at the root of a query operation
 * (aliases, fragments and `@skip`/`@include` as execution reads them), coerced as execution will
 * coerce them: what a limit checked before execution must see. An occurrence whose arguments do not
 * coerce is left out (execution reports it), and so is every occurrence when the operation's
 * variables do not coerce. One reader per plugin: whether a parsed document names the field at all
 * is judged once per document, since most operations do not.
 */
export function rootQueryFieldArguments(fieldName: string): (resolved: ResolvedOperation) => Array<Record<string, unknown>> {
  const mentions = new WeakMap<DocumentNode, boolean>();
  const names = (document: DocumentNode): boolean => {
    let found = mentions.get(document);
    if (found === undefined) {
      found = false;
      visit(document, {
        Field(node) {
          if (node.name.value !== fieldName) return undefined;
          found = true;
          return BREAK;
        },
      });
      mentions.set(document, found);
    }
    return found;
  };
  return ({ schema, document, operation, request }) => {
    const queryType = schema.getQueryType();
    const field = queryType?.getFields()[fieldName];
    if (!operation || operation.operation !== 'query' || !queryType || !field || !names(document)) return [];
    const coerced = coerceVariablesForPlanning(schema, operation, request.variables);
    // Variables that do not coerce fail at execution, before any resolver.
    if (coerced.errors) return [];
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
    }
    const root = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '' }, selectionSet: operation.selectionSet } as FieldNode;
    const selection = { schema, fragments, variableValues: coerced.coerced };
    const found: Array<Record<string, unknown>> = [];
    for (const node of collectSubfields(selection, [root], queryType.name).get(fieldName) ?? []) {
      try {
        found.push(getArgumentValues(field, node, coerced.coerced));
      } catch {
        // reported by execution
      }
    }
    return found;
  };
}
