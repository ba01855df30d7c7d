/**
 * The gateway's SDL (schema/, as `rover supergraph compose` reads it from a file, and as `_service`
 * serves it) composes into a Federation 2 supergraph with a second subgraph that references
 * `User @key(fields: "id")`, with no error and no hint beyond the expected ones.
 */
import { composeServices } from '@apollo/composition';
import { printSubgraphSchema } from '@apollo/subgraph';
import { isObjectType, parse, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildGatewaySchema, loadSchemaSource } from '../../../src/graphql/schema.js';
import { INCIDENTS_TYPE_DEFS } from '../../support/incidents-subgraph.js';

function compose(users: DocumentNode) {
  return composeServices([
    { name: 'users', typeDefs: users, url: 'http://127.0.0.1:4000/graphql' },
    { name: 'incidents', typeDefs: INCIDENTS_TYPE_DEFS, url: 'http://127.0.0.1:4001/' },
  ]);
}

/**
 * The only hints: `DeploymentMode` and `GraphIdentityKind` are the argument types of the gateway's
 * own `@deployment` and `@graphIdentity`, which the gateway enforces itself and composition does
 * not carry into the supergraph, so there the enums look unused.
 */
const EXPECTED_HINTS = ['UNUSED_ENUM_TYPE DeploymentMode', 'UNUSED_ENUM_TYPE GraphIdentityKind'];

describe('supergraph composition', () => {
  it.each([
    ['schema/*.graphql as written', () => parse(loadSchemaSource())],
    ['the SDL a FEDERATION=true gateway serves through _service', () => parse(printSubgraphSchema(buildGatewaySchema({ federation: true })))],
  ])('composes %s with an incidents subgraph referencing User', (_what, users) => {
    const result = compose(users());
    expect(result.errors?.map((e) => e.message)).toBeUndefined();
    const hints = (result.hints ?? []).map((h) => `${h.definition.code} ${/"(\w+)"/.exec(h.message)?.[1] ?? ''}`);
    expect(hints.sort()).toEqual(EXPECTED_HINTS);
    const supergraph = result.supergraphSdl!;
    // The users subgraph resolves User by id; the incidents subgraph only references it.
    expect(supergraph).toMatch(/type User\s+@join__type\(graph: INCIDENTS, key: "id", resolvable: false\)\s+@join__type\(graph: USERS, key: "id"\)/);
    const api = result.schema!.toAPISchema().toGraphQLJSSchema();
    const incident = api.getType('Incident');
    const user = api.getType('User');
    expect(isObjectType(incident) && String(incident.getFields().assignee!.type)).toBe('User');
    expect(isObjectType(user) && Object.keys(user.getFields())).toEqual(expect.arrayContaining(['displayName', 'manager', 'authenticationMethods']));
    // The federation entry points never reach the supergraph's API.
    expect(Object.keys(api.getQueryType()!.getFields()).sort()).toEqual(['incidents', 'me', 'people', 'user', 'userChanges', 'users']);
    // The User description is the owner's: the referencing subgraph leaves it out.
    expect(user?.description).toMatch(/^An Entra ID user/);
  });
});
