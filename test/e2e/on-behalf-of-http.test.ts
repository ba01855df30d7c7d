import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { appCallerToken, decodeJwtPayload, userCallerToken } from '../identity/support.js';
import { setApiTokenVersion } from '../emulator/entra/support.js';

/**
 * A frontend's users calling through the gateway with GRAPH_AUTH_FLOW=on-behalf-of: each caller's
 * Entra token (v1.0 or v2.0, whichever the API registration asks for) is exchanged, Graph acts as
 * that user (`me` is the caller) with that user's own rights, and two users never see each
 * other's identity.
 */
describe('on-behalf-of through the gateway', () => {
  let emulator: TestEmulator;
  let gw: TestGateway;
  const people: Array<{ id: string; upn: string; password: string }> = [];

  beforeAll(async () => {
    emulator = await startTestEmulator();
    const apiAudience = `api://msgraph-user-gateway,${emulator.tenant.wellKnown.demoAppId}`;
    gw = await startTestGateway({ emulator, env: { CALLER_AUTH: 'entra', API_AUDIENCE: apiAudience, GRAPH_AUTH_FLOW: 'on-behalf-of' } });
    for (const user of gw.emulator.tenant.users.values()) {
      if (user.accountEnabled && user.userType === 'Member' && user._directoryRoles.length === 0 && !user.userPrincipalName.includes("'")) {
        people.push({ id: user.id, upn: user.userPrincipalName, password: user._password });
        if (people.length === 3) break;
      }
    }
  }, 60_000);

  afterAll(async () => {
    await gw.close();
    await emulator.close();
  });

  it('answers `me` as the calling user, for two different users (v1.0 caller tokens)', async () => {
    for (const person of people.slice(0, 2)) {
      const token = await userCallerToken(gw.emulator, person.upn, person.password);
      expect(decodeJwtPayload(token).ver).toBe('1.0');
      const { data, errors } = await gw.graphql('{ me { id userPrincipalName } }', undefined, { authorization: `Bearer ${token}` });
      expect(errors).toBeUndefined();
      expect(data).toEqual({ me: { id: person.id, userPrincipalName: person.upn } });
    }
  });

  it('answers `me` as the calling user with v2.0 caller tokens', async () => {
    const known = gw.emulator.tenant.wellKnown;
    await setApiTokenVersion(gw.emulator, known.demoAppId, 2);
    let token: string;
    try {
      token = await userCallerToken(gw.emulator, people[0]!.upn, people[0]!.password);
    } finally {
      await setApiTokenVersion(gw.emulator, known.demoAppId, null);
    }
    expect(decodeJwtPayload(token)).toMatchObject({ ver: '2.0', aud: known.demoAppId });
    const { data, errors } = await gw.graphql('{ me { id } }', undefined, { authorization: `Bearer ${token}` });
    expect(errors).toBeUndefined();
    expect(data).toEqual({ me: { id: people[0]!.id } });
  });

  it("acts with the user's own rights: an ordinary user cannot terminate a colleague's sessions", async () => {
    const [caller, , target] = people;
    const targetRecord = gw.emulator.tenant.users.get(target!.id)!;
    const before = { enabled: targetRecord.accountEnabled, sessions: targetRecord.signInSessionsValidFromDateTime };
    const token = await userCallerToken(gw.emulator, caller!.upn, caller!.password);
    const { data, errors } = await gw.graphql(
      `mutation { terminateSession(input: { user: "${target!.id}" }) { succeeded steps { step succeeded error { code } } } }`,
      undefined,
      { authorization: `Bearer ${token}` },
    );
    const codes = [
      ...(errors ?? []).map((e) => e.extensions?.code),
      ...((data?.terminateSession?.steps ?? []) as Array<{ error?: { code?: string } }>).map((s) => s.error?.code),
    ];
    expect(data?.terminateSession?.succeeded ?? false).toBe(false);
    expect(codes).toContain('FORBIDDEN');
    expect(targetRecord.accountEnabled).toBe(before.enabled);
    expect(targetRecord.signInSessionsValidFromDateTime).toBe(before.sessions);
  });

  it('refuses an app-only caller token: there is no user to act for', async () => {
    const known = gw.emulator.tenant.wellKnown;
    const appToken = await appCallerToken(gw.emulator, known.callerAppId, known.callerAppSecret, 'api://msgraph-user-gateway/.default');
    const { errors } = await gw.graphql('{ me { id } }', undefined, { authorization: `Bearer ${appToken}` });
    expect(errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(errors?.[0]?.message).toMatch(/on-behalf-of.*issued to a user/);
  });
});

/**
 * Conditional Access on Microsoft Graph (v2-oauth2-on-behalf-of-flow, "Error response example"):
 * the exchange is refused with `interaction_required` and a claims challenge, which "the
 * middle-tier service should surface ... to the client application" so that it signs the user in
 * again with it (docs/graph-facts.md#caller-tokens).
 */
describe('on-behalf-of under a Conditional Access policy on Graph', () => {
  let emulator: TestEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    const apiAudience = `api://msgraph-user-gateway,${emulator.tenant.wellKnown.demoAppId}`;
    gw = await startTestGateway({ emulator, env: { CALLER_AUTH: 'entra', API_AUDIENCE: apiAudience, GRAPH_AUTH_FLOW: 'on-behalf-of' } });
  }, 60_000);

  afterAll(async () => {
    await gw.close();
    await emulator.close();
  });

  it('hands the claims challenge to the caller as extensions.claimsChallenge (UNAUTHENTICATED), and works once the policy is met', async () => {
    // A user without a second factor: interaction_required AADSTS50079, as the OBO page's example.
    const user = [...gw.emulator.tenant.users.values()].find(
      (u) =>
        u.accountEnabled &&
        u.userType === 'Member' &&
        u._directoryRoles.length === 0 &&
        !u.authMethods.some((m) => m.type !== 'password' && m.type !== 'email'),
    )!;
    user._graphRequiresMfa = true;
    const token = await userCallerToken(gw.emulator, user.userPrincipalName, user._password);
    const refused = await gw.graphql('{ me { id } }', undefined, { authorization: `Bearer ${token}` });
    const error = refused.errors?.[0];
    expect(error?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(error?.message).toMatch(/AADSTS50079 interaction_required/);
    expect(error?.message).toMatch(/claimsChallenge/);
    expect(JSON.parse(String(error?.extensions?.claimsChallenge))).toEqual({
      access_token: { polids: { essential: true, values: ['9ab03e19-ed42-4168-b6b7-7001fb3e933a'] } },
    });
    expect(JSON.stringify(refused)).not.toContain(token);

    // The refusal is not kept: once the policy is satisfied the same caller is served.
    user._graphRequiresMfa = false;
    const served = await gw.graphql('{ me { id } }', undefined, { authorization: `Bearer ${token}` });
    expect(served.errors).toBeUndefined();
    expect(served.data).toEqual({ me: { id: user.id } });
  });

  it("passes on the challenge of Entra's other shape too: invalid_grant AADSTS50076 with suberror basic_action (a user with a second factor)", async () => {
    const user = [...gw.emulator.tenant.users.values()].find(
      (u) => u.accountEnabled && u.userType === 'Member' && u._directoryRoles.length === 0 && u.authMethods.some((m) => m.type === 'phone'),
    )!;
    user._graphRequiresMfa = true;
    try {
      const token = await userCallerToken(gw.emulator, user.userPrincipalName, user._password);
      const refused = await gw.graphql('{ me { id } }', undefined, { authorization: `Bearer ${token}` });
      const error = refused.errors?.[0];
      expect(error?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(error?.message).toMatch(/AADSTS50076 invalid_grant/);
      expect(JSON.parse(String(error?.extensions?.claimsChallenge))).toEqual({
        access_token: { capolids: { essential: true, values: ['9ab03e19-ed42-4168-b6b7-7001fb3e933a'] } },
      });
      expect(JSON.stringify(refused)).not.toContain(token);
    } finally {
      user._graphRequiresMfa = false;
    }
  });
});
