import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { userCallerToken } from '../identity/support.js';

/**
 * A frontend's users calling through the gateway with GRAPH_AUTH_FLOW=on-behalf-of: each caller's
 * Entra token is exchanged, Graph acts as that user (`me` is the caller), and two users never see
 * each other's identity.
 */
describe('on-behalf-of through the gateway', () => {
  let gw: TestGateway;
  const people: Array<{ id: string; upn: string; password: string }> = [];

  beforeAll(async () => {
    gw = await startTestGateway({ env: { CALLER_AUTH: 'entra', API_AUDIENCE: 'api://msgraph-user-gateway', GRAPH_AUTH_FLOW: 'on-behalf-of' } });
    for (const user of gw.emulator.tenant.users.values()) {
      if (user.accountEnabled && user.userType === 'Member' && user._directoryRoles.length === 0 && !user.userPrincipalName.includes("'")) {
        people.push({ id: user.id, upn: user.userPrincipalName, password: user._password });
        if (people.length === 2) break;
      }
    }
  }, 60_000);

  afterAll(async () => {
    await gw.close();
  });

  it('answers `me` as the calling user, for two different users', async () => {
    for (const person of people) {
      const token = await userCallerToken(gw.emulator, person.upn, person.password);
      const { data, errors } = await gw.graphql('{ me { id userPrincipalName } }', undefined, { authorization: `Bearer ${token}` });
      expect(errors).toBeUndefined();
      expect(data).toEqual({ me: { id: person.id, userPrincipalName: person.upn } });
    }
  });

  it('refuses an app-only caller token: there is no user to act for', async () => {
    const known = gw.emulator.tenant.wellKnown;
    const res = await gw.emulator.fetch(`/${gw.emulator.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: known.callerAppId,
        client_secret: known.callerAppSecret,
        scope: 'api://msgraph-user-gateway/.default',
      }).toString(),
    });
    const appToken = ((await res.json()) as { access_token: string }).access_token;
    const { errors } = await gw.graphql('{ me { id } }', undefined, { authorization: `Bearer ${appToken}` });
    expect(errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(errors?.[0]?.message).toMatch(/on-behalf-of.*issued to a user/);
  });
});
