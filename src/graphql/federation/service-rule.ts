import type { ASTVisitor, ValidationContext, ValidationRule } from 'graphql';
import { ErrorCode, GatewayError } from '../../errors.js';

/**
 * `Query._service { sdl }` hands out the whole schema, descriptions and directives included: it is
 * introspection under another name, so it follows the same switch. With INTROSPECTION=false (the
 * production default) an operation selecting it is refused at validation, before any resolver,
 * whoever the caller is; with introspection on it still needs `Users.Read` like every root field
 * (src/graphql/federation/schema.ts). A supergraph in production is composed from the SDL file
 * (schema/*.graphql, docs/querying.md#federation), so the router never needs `_service` there.
 *
 * Depends only on process-wide configuration, so Apollo may cache a validated document safely.
 */
export const SERVICE_FIELD = '_service';

export function subgraphServiceRule(introspection: boolean): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    let reported = false;
    return {
      Field(node) {
        if (introspection || reported || node.name.value !== SERVICE_FIELD) return;
        const parent = context.getParentType();
        if (!parent || parent !== context.getSchema().getQueryType()) return;
        reported = true;
        context.reportError(
          new GatewayError(
            ErrorCode.FORBIDDEN,
            'Query._service publishes the schema, and this gateway publishes it only when INTROSPECTION=true, so the operation was not executed. Compose the supergraph from the SDL file instead (schema/*.graphql; see the Federation section of docs/querying.md).',
            { field: `Query.${SERVICE_FIELD}` },
          ),
        );
      },
    };
  };
}
