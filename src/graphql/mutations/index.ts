export { createMutationResolvers, type MutationResolverOptions, type MutationResolvers, type UserRef } from './resolvers.js';
export { runAudited, withoutSecret } from './audited.js';
