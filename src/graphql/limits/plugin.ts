import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { validate, type ValidationRule } from 'graphql';
import { isGatewayError } from '../../errors.js';
import { operationTooComplex } from './limit-error.js';
import { createLimitRules, type LimitRuleOptions, type OperationLimits } from './rules.js';

/**
 * The depth, alias and directive limits as an Apollo plugin. Apollo rewrites the code of every
 * validation-rule error to GRAPHQL_VALIDATION_FAILED, so instead of joining `validationRules` the
 * rules run here, right after validation (the token limit of the parser already bounds what
 * validation costs), and the first violation is thrown as OPERATION_TOO_COMPLEX with HTTP 400.
 */
export function createOperationLimitsPlugin<TContext extends BaseContext = BaseContext>(
  limits: OperationLimits,
  options: LimitRuleOptions = {},
): ApolloServerPlugin<TContext> {
  const rules: ValidationRule[] = createLimitRules(limits, options);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          const errors = validate(requestContext.schema, requestContext.document, rules);
          const first = errors[0];
          if (!first) return;
          const original = first.originalError ?? first;
          if (isGatewayError(original)) throw original;
          throw operationTooComplex(first.message);
        },
      };
    },
  };
}
