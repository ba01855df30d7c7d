export { graphIdentityRule, graphIdentityFactsOf, requiredGraphIdentity, type GraphIdentityFacts } from './rule.js';
