import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ValidationRule } from 'graphql';

/**
 * Picks single protections out of `@escape.tech/graphql-armor` (the declared dependency) so each
 * can be configured, wrapped and tested on its own. Everything not asked for is switched off.
 */
type GraphQLArmorConfig = NonNullable<ConstructorParameters<typeof ApolloArmor>[0]>;

const ALL_OFF: GraphQLArmorConfig = {
  blockFieldSuggestion: { enabled: false },
  costLimit: { enabled: false },
  maxAliases: { enabled: false },
  maxDepth: { enabled: false },
  maxDirectives: { enabled: false },
  maxTokens: { enabled: false },
};

export function armorValidationRule(config: GraphQLArmorConfig): ValidationRule {
  const { validationRules } = new ApolloArmor({ ...ALL_OFF, ...config }).protect();
  const rule = validationRules[0];
  if (validationRules.length !== 1 || !rule) throw new Error(`expected one graphql-armor validation rule, got ${validationRules.length}`);
  return rule as ValidationRule;
}
