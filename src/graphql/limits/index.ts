import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { ParseOptions } from 'graphql';
import type { Config } from '../../config-types.js';
import { createUpstreamBudgetPlugin, type UpstreamBudgetOptions } from '../budget/plugin.js';
import { createOperationLimitsPlugin } from './plugin.js';
import { suggestionMaskPlugin } from './suggestions.js';

export { createOperationLimitsPlugin } from './plugin.js';
export { createLimitRules, createDepthRule, createAliasRule, createDirectiveRule, DEFAULT_INTROSPECTION_MAX_DEPTH, type OperationLimits } from './rules.js';
export { isIntrospectionOnly } from './introspection.js';
export { suggestionMaskPlugin, withoutSuggestions } from './suggestions.js';
export { operationTooComplex } from './limit-error.js';

export interface OperationGuards<TContext extends BaseContext> {
  /** Pass to `new ApolloServer({ parseOptions })`: the parser stops at `maxTokens`. */
  parseOptions: ParseOptions;
  /** Add to `new ApolloServer({ plugins })`. */
  plugins: Array<ApolloServerPlugin<TContext>>;
}

/**
 * Everything Apollo needs from `config.limits` in one call: the parser's token limit, the depth /
 * alias / directive limits, the Graph-aware upstream budget, and (with introspection off) the mask
 * over "Did you mean ..." suggestions that would otherwise leak the schema.
 */
export function createOperationGuards<TContext extends BaseContext = BaseContext>(
  config: Pick<Config, 'limits' | 'introspection'>,
  options: Omit<UpstreamBudgetOptions, 'maxUpstreamRequests'> = {},
): OperationGuards<TContext> {
  const plugins: Array<ApolloServerPlugin<TContext>> = [
    createOperationLimitsPlugin<TContext>(config.limits),
    createUpstreamBudgetPlugin<TContext>({ ...options, maxUpstreamRequests: config.limits.maxUpstreamRequests }),
  ];
  if (!config.introspection) plugins.unshift(suggestionMaskPlugin<TContext>());
  return { parseOptions: { maxTokens: config.limits.maxTokens }, plugins };
}
