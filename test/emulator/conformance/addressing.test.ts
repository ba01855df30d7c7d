/**
 * docs/graph-facts.md#addressing-users-and-encoding: how users are addressed, and how ids and
 * query values are encoded. Paths are built with the gateway's own `graphPaths` so the suite
 * proves the emulator accepts what the gateway sends and refuses what Graph refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphPaths } from '../../../src/graph/paths.js';
import { odataString } from '../../../src/graph/odata.js';
import { type Conformance, filterQuery, gatewayUrl, graphErrorCode, mintToken, startConformance } from './support.js';

let c: Conformance;
beforeAll(async () => {
  c = await startConformance();
});
afterAll(async () => c.close());

const guest = () => c.users.find((u) => u.userPrincipalName.includes('#EXT#'))!;
const apostrophe = () => c.users.find((u) => u.userPrincipalName.includes("'"))!;
const serviceAccount = () => c.users.find((u) => u.userPrincipalName.startsWith('$'))!;

describe('addressing users (learn.microsoft.com/graph/api/user-get)', () => {
  it('GET /users/{id} and /users/{userPrincipalName} return the same user', async () => {
    const user = c.users[5]!;
    const byId = await c.graph('GET', gatewayUrl(graphPaths.user(user.id), { $select: 'id,userPrincipalName' }));
    const byUpn = await c.graph('GET', gatewayUrl(graphPaths.user(user.userPrincipalName), { $select: 'id,userPrincipalName' }));
    expect(byId.status).toBe(200);
    expect(byUpn.status).toBe(200);
    expect(byUpn.body.id).toBe(byId.body.id);
  });

  it("a UPN starting with $ fails as /users/$x (400) and works as /users('$x') (user-get, tip)", async () => {
    const upn = serviceAccount().userPrincipalName;
    const bare = await c.graph('GET', `/v1.0/users/${upn}`);
    expect(bare.status).toBe(400);
    graphErrorCode(bare);
    const path = graphPaths.user(upn);
    expect(path.path).toBe(`/users('${upn}')`);
    const parenthesised = await c.graph('GET', gatewayUrl(path, { $select: 'id,userPrincipalName' }));
    expect(parenthesised.status).toBe(200);
    expect(parenthesised.body.userPrincipalName).toBe(upn);
  });

  it('a B2B UPN needs # sent as %23; unencoded, the rest is a fragment and the user is not found (user-get tip; Learn troubleshoot "query can not get B2B user")', async () => {
    const upn = guest().userPrincipalName;
    const path = graphPaths.user(upn);
    expect(path.path).toContain('%23EXT%23');
    const encoded = await c.graph('GET', gatewayUrl(path, { $select: 'id,userType' }));
    expect(encoded.status).toBe(200);
    expect(encoded.body).toMatchObject({ id: guest().id, userType: 'Guest' });
    const raw = await c.graph('GET', `/v1.0/users/${upn}`);
    expect(raw.status).toBe(404);
    expect(graphErrorCode(raw)).toBe('Request_ResourceNotFound');
  });

  it('UPNs may hold apostrophes: addressable in the path, and doubled inside a $filter literal (concept-password-policies; query-parameters)', async () => {
    const user = apostrophe();
    const byPath = await c.graph('GET', gatewayUrl(graphPaths.user(user.userPrincipalName), { $select: 'id' }));
    expect(byPath.body.id).toBe(user.id);
    const filtered = await c.graph('GET', `/v1.0/users${filterQuery(`userPrincipalName eq ${odataString(user.userPrincipalName)}`, '&$select=id')}`);
    expect(filtered.status).toBe(200);
    expect(filtered.body.value.map((u: { id: string }) => u.id)).toEqual([user.id]);
    // A single, undoubled quote ends the literal early: Graph cannot parse the rest.
    const broken = await c.graph('GET', `/v1.0/users${filterQuery(`userPrincipalName eq '${user.userPrincipalName}'`)}`);
    expect(broken.status).toBe(400);
    graphErrorCode(broken);
  });

  it('sub-resources hang off every addressing form, including the parenthesised one', async () => {
    const upn = serviceAccount().userPrincipalName;
    const res = await c.graph('GET', gatewayUrl(graphPaths.userSub(upn, 'memberOf'), { $select: 'id' }));
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body.value)).toBe(true);
  });

  it('an unknown user is 404 Request_ResourceNotFound naming the key (user-get; errors)', async () => {
    const res = await c.graph('GET', gatewayUrl(graphPaths.user('nobody@contoso.example')));
    expect(res.status).toBe(404);
    expect(graphErrorCode(res)).toBe('Request_ResourceNotFound');
    expect(res.body.error.message).toBe("Resource 'nobody@contoso.example' does not exist or one of its queried reference-property objects are not present.");
  });

  it('/me needs a delegated token: an app-only token is refused (user-get, note)', async () => {
    const appOnly = await c.graph('GET', gatewayUrl(graphPaths.me(), { $select: 'id' }));
    expect(appOnly.status).toBe(400);
    graphErrorCode(appOnly);
    const admin = c.emulator.tenant.wellKnown.adminUserId;
    // That `User.Read` alone is enough for /me is a #delegated-permissions fact, tested with that section.
    const delegated = await mintToken(c.emulator, { scp: 'User.Read.All', oid: admin });
    const me = await c.graph('GET', gatewayUrl(graphPaths.me(), { $select: 'id' }), { token: delegated });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(admin);
  });

  it('malformed percent-encoding in a path segment is a 400, not a crash', async () => {
    const res = await c.graph('GET', '/v1.0/users/%E0%A4%A');
    expect(res.status).toBe(400);
    graphErrorCode(res);
  });
});
