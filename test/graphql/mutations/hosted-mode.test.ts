import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { auditEvents } from './support.js';
import { apiKeyCallers } from '../../support/api-key-callers.js';

/**
 * A hosted gateway (tokens from the broker) refuses every self-deployed-only field for the whole
 * document at validation: nothing reaches Graph or the token endpoint, and each refused mutation
 * is audited.
 */

let emulator: TestEmulator;
let gw: TestGateway;
let reader: TestGateway;
const READER_KEY = 'hosted-reader-key-0123456789';

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 50 });
  gw = await startTestGateway({ emulator, env: { DEPLOYMENT_MODE: 'hosted' } });
  reader = await startTestGateway({
    emulator,
    env: { DEPLOYMENT_MODE: 'hosted', ...apiKeyCallers({ reader: { key: READER_KEY, permissions: ['Users.Read'] } }) },
  });
}, 60_000);

afterAll(async () => {
  await reader?.close();
  await gw?.close();
  await emulator?.close();
});

const USER = 'adele.vance@contoso.example';
const REFUSED: Record<string, string> = {
  terminateSession: `terminateSession(input: {user: "${USER}"}) { succeeded }`,
  changePassword: `changePassword(input: {user: "${USER}", password: "Sup3r-Secret!pw"}) { forceChangePasswordNextSignIn }`,
  forceResetPassword: `forceResetPassword(input: {user: "${USER}"}) { forceChangePasswordNextSignIn }`,
  changePasswordOnPremises: `changePasswordOnPremises(input: {user: "${USER}", password: "Sup3r-Secret!pw"}) { status }`,
  disableAccount: `disableAccount(input: {user: "${USER}"}) { accountEnabled }`,
  revokeSignInSessions: `revokeSignInSessions(input: {user: "${USER}"}) { revoked }`,
};

describe('hosted mode', () => {
  it.each(Object.keys(REFUSED))('refuses %s with UNSUPPORTED_DEPLOYMENT_MODE and zero upstream requests', async (field) => {
    await emulator.resetStats();
    const result = await gw.graphql(`mutation { ${REFUSED[field]} }`);
    expect(result.data).toBeUndefined();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'UNSUPPORTED_DEPLOYMENT_MODE', requiredMode: 'self-deployed', currentMode: 'hosted' });
    expect(result.errors![0]!.message).toContain('DEPLOYMENT_MODE=self-deployed');
    expect(result.errors![0]!.message).not.toContain('Sup3r-Secret');
    const stats = await emulator.stats();
    expect(stats.totalRequests).toBe(0);
    const event = auditEvents(gw)
      .filter((e) => e.operation === field)
      .pop()!;
    expect(event).toMatchObject({ outcome: 'refused', reason: 'UNSUPPORTED_DEPLOYMENT_MODE', targetUser: USER, steps: [], requestIds: [] });
  });

  it('refuses through fragments, inline fragments, aliases and variables, and a document mixing allowed fields sends nothing', async () => {
    await emulator.resetStats();
    const result = await gw.graphql(
      `mutation Contain($u: ID!) {
        allowed: enableAccount(input: {user: $u}) { accountEnabled }
        ...Kill
        ... on Mutation { cut: revokeSignInSessions(input: {user: $u}) { revoked } }
      }
      fragment Kill on Mutation { end: terminateSession(input: {user: $u, disableAccount: true}) { succeeded } }`,
      { u: USER },
    );
    expect(result.data).toBeUndefined();
    expect(result.errors!.map((e) => e.extensions!.code)).toEqual(['UNSUPPORTED_DEPLOYMENT_MODE', 'UNSUPPORTED_DEPLOYMENT_MODE']);
    expect((await emulator.stats()).totalRequests).toBe(0);
    // All three mutation fields of the refused document are audited as refused, enableAccount included.
    const operations = auditEvents(gw)
      .filter((e) => e.operationName === 'Contain')
      .map((e) => e.operation)
      .sort();
    expect(operations).toEqual(['enableAccount', 'revokeSignInSessions', 'terminateSession']);
  });

  it('still runs mutations that work in both modes (enableAccount) through the broker, and Graph applies them', async () => {
    // The hosted app holds User.ReadWrite.All (app role). accountEnabled is a sensitive property: app-only, Graph
    // also asks a role that covers the target (user-update; docs/graph-facts.md#writes-and-permissions), the
    // User Administrator role `npm run doctor` asks for. Without it Graph refuses and the gateway says so.
    const target = [...emulator.tenant.users.values()].find(
      (u) => u._directoryRoles.length === 0 && u.userType === 'Member' && u.accountEnabled && u.id !== emulator.tenant.wellKnown.adminUserId,
    )!;
    target.accountEnabled = false; // blocked beforehand, so the change is visible in the tenant
    const hostedApp = emulator.tenant.apps.get(emulator.tenant.wellKnown.hostedAppId)!;
    const roles = hostedApp.directoryRoles;
    const refused = await gw.graphql(`mutation { enableAccount(input: {user: "${target.id}"}) { accountEnabled } }`);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', graphErrorCode: 'Authorization_RequestDenied' });
    expect(emulator.tenant.users.get(target.id)!.accountEnabled).toBe(false);
    hostedApp.directoryRoles = ['User Administrator'];
    onTestFinished(() => {
      hostedApp.directoryRoles = roles;
    });
    await emulator.resetStats();
    const result = await gw.graphql<{ enableAccount: { accountEnabled: boolean; requestId: string | null; user: { id: string; accountEnabled: boolean } } }>(
      `mutation Unblock($u: ID!) { enableAccount(input: {user: $u}) { accountEnabled requestId user { id accountEnabled } } }`,
      { u: target.id },
    );
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    expect(result.data!.enableAccount).toMatchObject({ accountEnabled: true, user: { id: target.id, accountEnabled: true } });
    expect(result.data!.enableAccount.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(emulator.tenant.users.get(target.id)!.accountEnabled).toBe(true);
    expect((await emulator.stats()).graphRequests).toBeGreaterThan(0);
    const event = auditEvents(gw)
      .filter((e) => e.operationName === 'Unblock')
      .pop()!;
    expect(event).toMatchObject({ operation: 'enableAccount', outcome: 'succeeded', targetUser: target.id });
  });

  it('serves the SDL with the directives and requirements kept', async () => {
    const res = await fetch(`${gw.url}/schema.graphql`);
    const sdl = await res.text();
    expect(res.status).toBe(200);
    expect(sdl).toMatch(
      /terminateSession\(\s*"[^"]+"\s+input: TerminateSessionInput!\s*\): TerminateSessionPayload!\s+@deployment\(requires: SELF_DEPLOYED\)\s+@requiresPermission\(permission: "Users.Terminate"\)/,
    );
    expect(sdl).toContain('directive @requiresPermission');
    expect(sdl).toContain('directive @graphIdentity');
    expect(sdl).toMatch(
      /changePasswordOnPremises\([\s\S]*?\): ChangePasswordOnPremisesPayload!\s+@deployment\(requires: SELF_DEPLOYED\)\s+@graphIdentity\(requires: DELEGATED\)/,
    );
  });

  it('counts audit events in metrics', async () => {
    const text = await gw.metrics.registry.getSingleMetricAsString('gateway_audit_events_total');
    expect(text).toMatch(/gateway_audit_events_total\{operation="terminateSession",outcome="refused"\} [1-9]/);
  });

  it('composes with caller permissions: the deployment refusal comes first, FORBIDDEN applies to fields hosted mode allows', async () => {
    await emulator.resetStats();
    const headers = { 'x-api-key': READER_KEY };
    const refused = await reader.graphql(`mutation { ${REFUSED.terminateSession} }`, undefined, headers);
    expect(refused.errors![0]!.extensions!.code).toBe('UNSUPPORTED_DEPLOYMENT_MODE');
    const forbidden = await reader.graphql(`mutation { enableAccount(input: {user: "${USER}"}) { accountEnabled } }`, undefined, headers);
    expect(forbidden.status).toBe(403);
    expect(forbidden.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect((await emulator.stats()).graphRequests).toBe(0);
  });
});
