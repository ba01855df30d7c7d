import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GUEST_HOME_TENANT_ID } from '../../src/emulator/seed.js';
import { decodeJwtPayload, userCallerToken } from '../identity/support.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * A B2B guest of the tenant signs in to the frontend, which was consented the gateway's `Users.Read`
 * scope for every user, and calls the gateway with that delegated token. Entra lets a guest read
 * its own profile and look up users it knows, but not enumerate the directory
 * (docs/graph-facts.md#caller-tokens). While the gateway calls Graph as its own identity (client
 * credentials here), a scope may grant `Users.Read` only because every *member* may read the
 * directory: a guest's scope grants nothing, or the gateway hands the guest the whole directory
 * (docs/security.md#guests-and-delegated-scopes). The production configuration, over real sockets.
 */
const APP_ID_URI = 'api://msgraph-user-gateway';

describe("a guest's delegated token, while the gateway acts as itself", () => {
  let emulator: TestEmulator;
  let gw: TestGateway;
  let guestToken: string;
  let memberToken: string;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    const known = emulator.tenant.wellKnown;
    gw = await startTestGateway({
      emulator,
      env: { NODE_ENV: 'production', INTROSPECTION: 'false', CALLER_AUTH: 'entra', API_AUDIENCE: `${APP_ID_URI},${known.demoAppId}` },
    });
    const guest = [...emulator.tenant.users.values()].find((u) => u.userType === 'Guest' && u.accountEnabled)!;
    guestToken = await userCallerToken(emulator, guest.userPrincipalName, guest._password);
    const admin = emulator.tenant.users.get(known.adminUserId)!;
    memberToken = await userCallerToken(emulator, admin.userPrincipalName, known.adminPassword || admin._password);
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
    await emulator?.close();
  });

  it('is a token of the tenant that names the guest home tenant as its identity provider, with the scope of every user', () => {
    const claims = decodeJwtPayload(guestToken);
    expect(claims.tid).toBe(emulator.tenantId);
    expect(claims.idp).toBe(`https://sts.windows.net/${GUEST_HOME_TENANT_ID}/`);
    expect(String(claims.scp).split(' ')).toContain('Users.Read');
    // A member's token names no other identity provider.
    expect(decodeJwtPayload(memberToken).idp).toBeUndefined();
  });

  it('cannot list the directory: FORBIDDEN, and Graph sees nothing', async () => {
    await emulator.resetStats();
    const res = await gw.graphql('{ users(first: 50) { nodes { id userPrincipalName jobTitle } } }', undefined, { authorization: `Bearer ${guestToken}` });
    expect(res.status).toBe(403);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(res.errors?.[0]?.message).toContain('Query.users needs Users.Read');
    expect(res.data ?? null).toBeNull();
    const byId = await gw.graphql(`{ user(id: "${emulator.tenant.wellKnown.adminUserId}") { displayName } }`, undefined, {
      authorization: `Bearer ${guestToken}`,
    });
    expect(byId.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it('a member with the same scope still reads', async () => {
    const res = await gw.graphql('{ users(first: 2) { nodes { id } } }', undefined, { authorization: `Bearer ${memberToken}` });
    expect(res.errors).toBeUndefined();
    expect((res.data as { users: { nodes: unknown[] } }).users.nodes).toHaveLength(2);
  });
});
