import {
  Kind,
  TypeInfo,
  getNamedType,
  isInputObjectType,
  isInputType,
  isListType,
  isNonNullType,
  typeFromAST,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type ValueNode,
} from 'graphql';
import { isSensitive, sensitiveFieldsOf } from './directive.js';

/**
 * The secret values one request carries: what it sent for every `@sensitive` input field or
 * argument, whether as a variable (walked along the variable's declared type, including variables
 * used at a sensitive position and values under a sensitive field's name where the declared type
 * has no such field) or as a literal in the document. Redaction removes exactly these texts, so an
 * error keeps its meaning while the secret disappears from it.
 */
export function secretsOfRequest(schema: GraphQLSchema, document: DocumentNode | undefined, variables: Record<string, unknown> | null | undefined): string[] {
  const { inputNames } = sensitiveFieldsOf(schema);
  const secrets = new Set<string>();
  const vars = variables ?? {};
  const addRaw = (value: unknown, depth = 0): void => {
    if (depth > 8) return;
    if (typeof value === 'string') secrets.add(value);
    else if (typeof value === 'number' || typeof value === 'bigint') secrets.add(String(value));
    else if (Array.isArray(value)) for (const item of value) addRaw(item, depth + 1);
    else if (value && typeof value === 'object') for (const item of Object.values(value)) addRaw(item, depth + 1);
  };
  // Without types (no document, or keys the declared type does not know): any value under a
  // sensitive field's name is a secret.
  const walkUntyped = (value: unknown, depth = 0): void => {
    if (depth > 8 || !value || typeof value !== 'object') return;
    if (Array.isArray(value)) for (const item of value) walkUntyped(item, depth + 1);
    else {
      for (const [key, item] of Object.entries(value)) {
        if (inputNames.has(key)) addRaw(item);
        else walkUntyped(item, depth + 1);
      }
    }
  };
  const walkTyped = (value: unknown, type: GraphQLInputType, depth = 0): void => {
    if (depth > 16 || value === null || value === undefined) return;
    if (isNonNullType(type)) return walkTyped(value, type.ofType, depth);
    if (isListType(type)) {
      if (Array.isArray(value)) for (const item of value) walkTyped(item, type.ofType, depth + 1);
      else walkTyped(value, type.ofType, depth + 1);
      return;
    }
    if (!isInputObjectType(type)) return;
    if (typeof value !== 'object' || Array.isArray(value)) return walkUntyped(value, depth);
    const fields = type.getFields();
    for (const [key, item] of Object.entries(value)) {
      const field = fields[key];
      if (field && isSensitive(field)) addRaw(item);
      else if (field) walkTyped(item, field.type, depth + 1);
      else if (inputNames.has(key)) addRaw(item);
      else walkUntyped(item, depth + 1);
    }
  };
  const addLiteral = (node: ValueNode): void => {
    switch (node.kind) {
      case Kind.VARIABLE:
        addRaw(vars[node.name.value]);
        return;
      case Kind.STRING:
      case Kind.INT:
      case Kind.FLOAT:
      case Kind.ENUM:
        secrets.add(node.value);
        return;
      case Kind.LIST:
        for (const item of node.values) addLiteral(item);
        return;
      case Kind.OBJECT:
        for (const field of node.fields) addLiteral(field.value);
        return;
      case Kind.BOOLEAN:
      case Kind.NULL:
        return;
      default: {
        const unreachable: never = node;
        return unreachable;
      }
    }
  };

  if (!document) {
    walkUntyped(vars);
    return ordered(secrets);
  }
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const variable of definition.variableDefinitions ?? []) {
      const name = variable.variable.name.value;
      if (!(name in vars)) continue;
      const type = typeFromAST(schema, variable.type);
      if (type && isInputType(type)) walkTyped(vars[name], type);
      else walkUntyped(vars[name]);
    }
  }
  // Literals (and variables) at sensitive positions of the document, valid or not.
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Argument(node) {
        if (isSensitive(typeInfo.getArgument())) addLiteral(node.value);
      },
      ObjectField(node) {
        const parent = getNamedType(typeInfo.getParentInputType() ?? undefined);
        const field = parent && isInputObjectType(parent) ? parent.getFields()[node.name.value] : undefined;
        if (field ? isSensitive(field) : inputNames.has(node.name.value)) addLiteral(node.value);
      },
    }),
  );
  // Variables nobody declared can still be echoed (an "unknown variable" never is, but be sure).
  walkUntyped(vars);
  return ordered(secrets);
}

/** Longest first, so a secret containing another one is removed whole. */
function ordered(secrets: Set<string>): string[] {
  return [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}
