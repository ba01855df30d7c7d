/**
 * docs/graph-facts.md#user-properties: the default property set, `$select`, and the properties
 * only a single-user GET returns (learn.microsoft.com/graph/api/user-get, /user-list).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphPaths } from '../../../src/graph/paths.js';
import { type Conformance, gatewayUrl, graphErrorCode, startConformance } from './support.js';
import { DOCUMENTED_DEFAULT_USER_PROPERTIES, DOCUMENTED_SINGLE_GET_ONLY_USER_PROPERTIES } from '../documented-user-properties.js';

let c: Conformance;
beforeAll(async () => {
  c = await startConformance(['User Administrator'], { userCount: 200 });
});
afterAll(async () => c.close());

const ownKeys = (o: Record<string, unknown>) => Object.keys(o).filter((k) => !k.startsWith('@odata.'));

describe('default properties (user-get; user-list)', () => {
  it('without $select, a user and every user of a list carry exactly the 11 default properties', async () => {
    const one = await c.graph('GET', gatewayUrl(graphPaths.user(c.users[0]!.id)));
    expect(ownKeys(one.body).sort()).toEqual(DOCUMENTED_DEFAULT_USER_PROPERTIES);
    const list = await c.graph('GET', '/v1.0/users?$top=5');
    for (const u of list.body.value) expect(ownKeys(u).sort()).toEqual(DOCUMENTED_DEFAULT_USER_PROPERTIES);
  });

  it('properties outside the default set come back only when named in $select, and then only those', async () => {
    const res = await c.graph('GET', gatewayUrl(graphPaths.user(c.users[0]!.id), { $select: 'id,department,accountEnabled,employeeId' }));
    expect(ownKeys(res.body).sort()).toEqual(['accountEnabled', 'department', 'employeeId', 'id']);
    const withoutSelect = await c.graph('GET', gatewayUrl(graphPaths.user(c.users[0]!.id)));
    expect(withoutSelect.body).not.toHaveProperty('department');
    expect(withoutSelect.body).not.toHaveProperty('onPremisesExtensionAttributes');
  });

  it('$select of a property the user type does not have is 400 Request_BadRequest naming it', async () => {
    const res = await c.graph('GET', '/v1.0/users?$select=id,shoeSize');
    expect(res.status).toBe(400);
    expect(graphErrorCode(res)).toBe('Request_BadRequest');
    expect(res.body.error.message).toBe("Could not find a property named 'shoeSize' on type 'microsoft.graph.user'.");
  });
});

describe('single-GET-only properties (user-list: "returns a 501 Not Implemented")', () => {
  it.each(DOCUMENTED_SINGLE_GET_ONLY_USER_PROPERTIES)('%s: 501 on /users, 200 on /users/{id}', async (property) => {
    const list = await c.graph('GET', `/v1.0/users?$select=id,${property}`);
    expect(list.status).toBe(501);
    expect(graphErrorCode(list)).toBe('NotImplemented');
    const one = await c.graph('GET', gatewayUrl(graphPaths.user(c.users[1]!.id), { $select: `id,${property}` }));
    expect(one.status).toBe(200);
    expect(one.body).toHaveProperty(property);
  });
});
