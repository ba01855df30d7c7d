import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import { TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';
import { rewriteErrorText, UNREWRITTEN_EXTENSION } from '../error-text.js';
import { isSensitive } from './directive.js';
import { createRedactor, redactSyntaxError, withholdAll } from './redaction.js';
import { secretsOfRequest } from './secrets.js';

/**
 * Keeps `@sensitive` values out of everything but the answer they belong to:
 * - every error of the request (variable coercion, validation, refusals, resolver and upstream
 *   failures) loses the secrets the request sent, in its message, stack and extensions and in the
 *   errors it wraps, before any other plugin logs it and before it is formatted for the client;
 * - a document that does not parse loses the token values its syntax error quotes;
 * - an answer that selected a sensitive output (a Temporary Access Pass) is sent `no-store`.
 *
 * Must be the first plugin: Apollo runs `didEncounterErrors` hooks in plugin order, and the
 * operation log writes the errors it is given.
 */
export function sensitiveDataPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      let rewrite: ((text: string) => string) | undefined;
      const rewriterFor = (rc: GraphQLRequestContext<TContext>) => {
        if (rewrite) return rewrite;
        const secrets = secretsOfRequest(rc.schema, rc.document, rc.request.variables);
        const redact = secrets.tooMany ? withholdAll : createRedactor(secrets.values);
        rewrite = rc.document ? redact : (text) => redact(redactSyntaxError(text));
        return rewrite;
      };
      return {
        async didEncounterErrors(rc) {
          const redact = rewriterFor(rc);
          for (const error of rc.errors) rewriteErrorText(error, redact);
        },
        async willSendResponse(rc) {
          const body = rc.response.body;
          const result = body.kind === 'single' ? body.singleResult : body.initialResult;
          if (result.errors?.length) {
            // Errors formatted from the rewritten ones are clean already; this covers anything added after.
            const redact = rewriterFor(rc);
            for (const error of result.errors) {
              (error as { message: string }).message = redact(error.message);
              const extensions = error.extensions as Record<string, unknown> | undefined;
              for (const [key, value] of Object.entries(extensions ?? {})) {
                if (typeof value === 'string' && key !== UNREWRITTEN_EXTENSION) extensions![key] = redact(value);
              }
            }
          }
          if (rc.document && result.data != null && selectsSensitiveOutput(rc.schema, rc.document)) {
            rc.response.http.headers.set('cache-control', 'no-store');
          }
        },
      };
    },
  };
}

const sensitiveOutputs = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, boolean>>();

/** Whether any field the document selects is a `@sensitive` output (decided once per parsed document). */
function selectsSensitiveOutput(schema: GraphQLSchema, document: DocumentNode): boolean {
  let byDocument = sensitiveOutputs.get(schema);
  if (!byDocument) sensitiveOutputs.set(schema, (byDocument = new WeakMap()));
  let selects = byDocument.get(document);
  if (selects === undefined) {
    selects = false;
    const typeInfo = new TypeInfo(schema);
    visit(
      document,
      visitWithTypeInfo(typeInfo, {
        Field() {
          if (isSensitive(typeInfo.getFieldDef())) selects = true;
        },
      }),
    );
    byDocument.set(document, selects);
  }
  return selects;
}
