export { createMutationResolvers } from './resolvers.js';
