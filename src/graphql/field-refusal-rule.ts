import type { ASTVisitor, GraphQLError, GraphQLField, GraphQLSchema, ValidationContext, ValidationRule } from 'graphql';

/**
 * A graphql-js validation rule that refuses, before any resolver runs, each field an operation
 * selects that `refuse` objects to: `refuse` answers the error for a field (named by its schema
 * coordinate, `Parent.field`), or undefined when the field may run. One error per field, however
 * many aliases or fragments select it.
 */
export function fieldRefusalRule(
  refuse: (field: GraphQLField<unknown, unknown>, schema: GraphQLSchema, coordinate: string) => GraphQLError | undefined,
): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const reported = new Set<string>();
    return {
      Field() {
        const field = context.getFieldDef();
        const parent = context.getParentType();
        if (!field || !parent) return;
        const coordinate = `${parent.name}.${field.name}`;
        if (reported.has(coordinate)) return;
        const error = refuse(field, context.getSchema(), coordinate);
        if (!error) return;
        reported.add(coordinate);
        context.reportError(error);
      },
    };
  };
}
