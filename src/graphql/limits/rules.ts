import type { GraphQLError, OperationDefinitionNode, ValidationContext, ValidationRule } from 'graphql';
import type { Config } from '../../config-types.js';
import { armorValidationRule } from './armor.js';
import { isIntrospectionOnly } from './introspection.js';
import { operationTooComplex } from './limit-error.js';

/**
 * graphql-armor's depth, alias and directive limits as graphql-js validation rules, configured from
 * `config.limits` and hardened against the known bypasses:
 * - armor's `ignoreIntrospection` skips any field named `__schema` wherever it appears; here it is
 *   off, and an operation whose root fields are all introspection fields gets its own, fixed depth
 *   limit (GraphiQL's introspection query is 13 levels deep) instead of no limit;
 * - aliases named `__typename` are not exempt (armor's default allow-list exempts them by alias too);
 * - fragments are flattened (a spread is not a level), so depth means nesting of the response.
 * Errors carry `extensions.code = OPERATION_TOO_COMPLEX` with the limit and what was found.
 */

export type OperationLimits = Pick<Config['limits'], 'maxDepth' | 'maxAliases' | 'maxDirectives'>;

export interface LimitRuleOptions {
  /** Depth allowed to operations that only introspect (default max(maxDepth, 15)). */
  introspectionMaxDepth?: number;
}

export const DEFAULT_INTROSPECTION_MAX_DEPTH = 15;

type LimitName = 'maxDepth' | 'maxAliases' | 'maxDirectives';

const DESCRIPTIONS: Record<LimitName, string> = {
  maxDepth: 'The operation is nested too deeply',
  maxAliases: 'The operation uses too many aliases',
  maxDirectives: 'The operation uses too many directives',
};

function reporter(limit: LimitName, max: number) {
  return (context: ValidationContext | null, error: GraphQLError) => {
    const found = Number(/found (\d+)/.exec(error.message)?.[1]);
    context?.reportError(
      operationTooComplex(`${DESCRIPTIONS[limit]}: the limit is ${max}${Number.isFinite(found) ? `, found ${found}` : ''}.`, {
        limit,
        max,
        ...(Number.isFinite(found) ? { found } : {}),
      }),
    );
  };
}

interface OperationVisitor {
  onOperationDefinitionEnter(operation: OperationDefinitionNode): void;
}

export function createDepthRule(maxDepth: number, options: LimitRuleOptions = {}): ValidationRule {
  const introspectionMax = Math.max(maxDepth, options.introspectionMaxDepth ?? DEFAULT_INTROSPECTION_MAX_DEPTH);
  const armor = (n: number) => ({
    n,
    ignoreIntrospection: false,
    flattenFragments: true,
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [reporter('maxDepth', n)],
  });
  const regularRule = armorValidationRule({ maxDepth: armor(maxDepth) });
  const introspectionRule = armorValidationRule({ maxDepth: armor(introspectionMax) });
  return (context) => {
    const regular = regularRule(context) as unknown as OperationVisitor;
    const introspection = introspectionRule(context) as unknown as OperationVisitor;
    return {
      OperationDefinition: {
        enter(operation) {
          const visitor = isIntrospectionOnly(operation, (name) => context.getFragment(name)) ? introspection : regular;
          visitor.onOperationDefinitionEnter(operation);
        },
      },
    };
  };
}

export function createAliasRule(maxAliases: number): ValidationRule {
  return armorValidationRule({
    maxAliases: { n: maxAliases, allowList: [], exposeLimits: true, propagateOnRejection: false, onReject: [reporter('maxAliases', maxAliases)] },
  });
}

export function createDirectiveRule(maxDirectives: number): ValidationRule {
  return armorValidationRule({
    maxDirectives: { n: maxDirectives, exposeLimits: true, propagateOnRejection: false, onReject: [reporter('maxDirectives', maxDirectives)] },
  });
}

/** The three rules, in the order their errors are most useful. */
export function createLimitRules(limits: OperationLimits, options: LimitRuleOptions = {}): ValidationRule[] {
  return [createDepthRule(limits.maxDepth, options), createAliasRule(limits.maxAliases), createDirectiveRule(limits.maxDirectives)];
}
