export { buildSubgraphGatewaySchema } from './schema.js';
export { checkEntityRepresentations, resolveUserReference } from './entities.js';
export { federationDefinitionsSdl, federationSyntaxOf, withoutFederationSyntax, type FederationSyntax } from './sdl.js';
export { SERVICE_FIELD, subgraphServiceRule } from './service-rule.js';
