import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { validate, type DocumentNode, type GraphQLError, type ValidationRule } from 'graphql';
import { isGatewayError } from '../../errors.js';
import { operationTooComplex } from './limit-error.js';
import { createLimitRules, type LimitRuleOptions, type OperationLimits } from './rules.js';

/**
 * The depth, alias and directive limits as an Apollo plugin. Apollo rewrites the code of every
 * validation-rule error to GRAPHQL_VALIDATION_FAILED, so instead of joining `validationRules` the
 * rules run here, right after validation (what validation costs is bounded by the parser's token
 * limit and, before it, by repeated-fields.ts), and the first violation is thrown as
 * OPERATION_TOO_COMPLEX with HTTP 400.
 */
export function createOperationLimitsPlugin<TContext extends BaseContext = BaseContext>(
  limits: OperationLimits,
  options: LimitRuleOptions = {},
): ApolloServerPlugin<TContext> {
  const rules: ValidationRule[] = createLimitRules(limits, options);
  // The rules read only the document, and Apollo hands the same parsed document to every request
  // with the same query text (its document cache): judge each document once.
  const verdicts = new WeakMap<DocumentNode, GraphQLError | null>();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          const document = requestContext.document;
          let first = verdicts.get(document);
          if (first === undefined) {
            first = validate(requestContext.schema, document, rules)[0] ?? null;
            verdicts.set(document, first);
          }
          if (!first) return;
          const original = first.originalError ?? first;
          if (isGatewayError(original)) throw original;
          throw operationTooComplex(first.message);
        },
      };
    },
  };
}
