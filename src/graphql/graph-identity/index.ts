export {
  graphIdentityRule,
  graphIdentityFactsOf,
  requiredGraphIdentity,
  unsupportedGraphIdentityError,
  GRAPH_IDENTITY_DIRECTIVE,
  type GraphIdentityFacts,
  type GraphIdentityKind,
} from './rule.js';
