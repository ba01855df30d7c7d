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
 * How many secret values, and how many characters of them, a request may carry and still have
 * them removed one by one. An operation of this API carries a handful of passwords (Graph takes at
 * most 256 characters each), but any caller can send any number of values under a `password` key,
 * even in a variable no operation declares: 100,000 of them made a regular expression that took
 * ~1.7 s of the event loop to build and run per request, and one value of 900 KB made one that
 * V8 refuses to build ("Regular expression too large"), which failed the request with a 500 and
 * wrote the rejected pattern (every secret, verbatim) to the log. Past these bounds the request's
 * error texts are withheld whole instead (src/graphql/sensitive/redaction.ts).
 */
export const MAX_REDACTED_SECRETS = 128;
export const MAX_REDACTED_SECRET_CHARS = 8192;

/**
 * The secret values of one request, or `tooMany` when they pass the bounds above (then no text
 * of the request's errors can be trusted to be clean after redaction, and all of it is withheld).
 */
export type RequestSecrets = { tooMany: false; values: string[] } | { tooMany: true };

/**
 * The secret values one request carries: what it sent for every `@sensitive` input field or
 * argument, whether as a variable (walked along the variable's declared type, including variables
 * used at a sensitive position and values under a sensitive field's name where the declared type
 * has no such field) or as a literal in the document. Redaction removes exactly these texts, so an
 * error keeps its meaning while the secret disappears from it.
 */
export function secretsOfRequest(
  schema: GraphQLSchema,
  document: DocumentNode | undefined,
  variables: Record<string, unknown> | null | undefined,
): RequestSecrets {
  const { inputNames } = sensitiveFieldsOf(schema);
  const secrets = new Set<string>();
  let chars = 0;
  let tooMany = false;
  // Collection stops at the first value past the bounds: the walk of a huge list costs nothing more.
  const keep = (value: string): void => {
    if (tooMany || value.length === 0 || secrets.has(value)) return;
    chars += value.length;
    if (secrets.size >= MAX_REDACTED_SECRETS || chars > MAX_REDACTED_SECRET_CHARS) tooMany = true;
    else secrets.add(value);
  };
  const vars = variables ?? {};
  const addRaw = (value: unknown, depth = 0): void => {
    if (depth > 8 || tooMany) return;
    if (typeof value === 'string') keep(value);
    else if (typeof value === 'number' || typeof value === 'bigint') keep(String(value));
    else if (Array.isArray(value)) for (const item of value) addRaw(item, depth + 1);
    else if (value && typeof value === 'object') for (const item of Object.values(value)) addRaw(item, depth + 1);
  };
  // Without types (no document, or keys the declared type does not know): any value under a
  // sensitive field's name is a secret.
  const walkUntyped = (value: unknown, depth = 0): void => {
    if (depth > 8 || tooMany || !value || typeof value !== 'object') return;
    if (Array.isArray(value)) for (const item of value) walkUntyped(item, depth + 1);
    else {
      for (const [key, item] of Object.entries(value)) {
        if (inputNames.has(key)) addRaw(item);
        else walkUntyped(item, depth + 1);
      }
    }
  };
  const walkTyped = (value: unknown, type: GraphQLInputType, depth = 0): void => {
    if (depth > 16 || tooMany || value === null || value === undefined) return;
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
        keep(node.value);
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
    return result();
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
  return result();

  function result(): RequestSecrets {
    // Longest first, so a secret containing another one is removed whole.
    return tooMany ? { tooMany: true } : { tooMany: false, values: [...secrets].sort((a, b) => b.length - a.length) };
  }
}
