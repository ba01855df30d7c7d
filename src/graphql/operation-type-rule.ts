import { GraphQLError, type ASTVisitor, type ValidationContext, type ValidationRule } from 'graphql';

/**
 * Refuses an operation of a type the schema does not have (this API has no subscriptions) during
 * validation. graphql-js 16 leaves that to execution, whose "Schema is not configured to execute
 * subscription operation" is an error without a code: it reached callers as INTERNAL_SERVER_ERROR
 * and the log as an unexpected failure, for what is the caller's mistake.
 */
export const operationTypeRule: ValidationRule = (context: ValidationContext): ASTVisitor => ({
  OperationDefinition(node) {
    if (context.getSchema().getRootType(node.operation)) return;
    context.reportError(
      new GraphQLError(`This API has no ${node.operation} operations; send a query or a mutation.`, {
        nodes: node,
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    );
  },
});
