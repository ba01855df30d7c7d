import { getVariableValues, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';

/**
 * The operation's variables coerced for planning, before execution: what the upstream budget and
 * the `users` input check read. graphql-js builds one GraphQLError (with a stack) per value that
 * does not coerce; without a bound, a 700 KB list of 250,000 wrong items made ~250,000 errors in
 * each of these hooks and exhausted a 128 MB heap, even for a caller refused for permissions
 * (Apollo runs every plugin's didResolveOperation side by side). Execution stops at 50 the same
 * way (graphql-js execute); here the answer is only "does not coerce", so the first error is enough.
 */
export function coerceVariablesForPlanning(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined | null,
): ReturnType<typeof getVariableValues> {
  return getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 1 });
}
