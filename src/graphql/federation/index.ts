export { buildSubgraphGatewaySchema } from './schema.js';
export { checkEntityRepresentations, resolveUserReference } from './entities.js';
export { federationDefinitionsSdl, federationSyntaxOf, withoutFederationSyntax, type FederationSyntax } from './sdl.js';
export { SERVICE_FIELD, subgraphServiceRule } from './service-rule.js';
export { createEntityRepresentationsLimitPlugin, DEFAULT_MAX_ENTITY_REPRESENTATIONS } from './representations-limit.js';
