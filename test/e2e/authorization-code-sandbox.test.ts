import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { passwordGrant } from '../identity/support.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { capturingLogger } from '../support/log-capture.js';

/**
 * The XSOAR integration's delegated set-up end to end on the sandbox tenant, without copying a code by hand:
 * GET /auth/login → the tenant's sign-in → /auth/callback, then Graph acts as the signed-in
 * administrator (`me`), and changePassword works as XSOAR's change-password did.
 */
describe('authorization code in the sandbox, through /auth/login', () => {
  let emulator: TestEmulator;
  let app: App;
  const logLines: string[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 100 });
    const config = loadSandboxConfig(emulator, {
      GRAPH_AUTH_FLOW: 'authorization-code',
    });
    const logger = capturingLogger(logLines, 'debug');
    app = await startApp(config, { emulator, logger });
  }, 60_000);

  afterAll(async () => {
    await app.close();
    await emulator.close();
  });

  it('is not ready before anyone signed in, and says how to sign in', async () => {
    expect((await fetch(`${app.url}/readyz`)).status).toBe(503);
    const { errors } = (await (
      await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ me { id } }' }) })
    ).json()) as {
      errors?: Array<{ message: string }>;
    };
    expect(errors?.[0]?.message).toMatch(/auth\/login|AUTH_CODE/);
  });

  it('the loopback operator cannot be borrowed: a sign-in started from another site or through a rebinding Host is refused', async () => {
    const crossSite = await fetch(`${app.url}/auth/login`, { redirect: 'manual', headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get('location')).toBeNull();
    const port = new URL(app.url).port;
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/auth/login', headers: { host: `rebind.attacker.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    expect(rebound).toBe(403);
  });

  it('signs in through /auth/login and the tenant, then acts as the administrator', async () => {
    const login = await fetch(`${app.url}/auth/login`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    const authorize = login.headers.get('location')!;
    expect(authorize.startsWith(`${emulator.origin}/${emulator.tenantId}/oauth2/v2.0/authorize?`)).toBe(true);
    expect(new URL(authorize).searchParams.get('code_challenge_method')).toBe('S256');
    const consent = await emulator.fetch(authorize, { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const callback = consent.headers.get('location')!;
    expect(callback.startsWith(`${app.url}/auth/callback?`)).toBe(true);
    const done = await fetch(callback, { headers: { cookie: login.headers.get('set-cookie') ?? '' } });
    expect(done.status).toBe(200);

    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ me { id userPrincipalName } }' }),
    });
    const body = (await res.json()) as { data: { me: { id: string; userPrincipalName: string } } };
    expect(body.data.me.id).toBe(emulator.tenant.wellKnown.adminUserId);

    const code = new URL(callback).searchParams.get('code')!;
    expect(logLines.join('\n')).not.toContain(code);
  });

  it('refuses a mutation aimed at the signed-in account itself (by id or UPN in any case) before anything is written, and audits it', async () => {
    const admin = emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!;
    const post = async (query: string, variables: Record<string, unknown>) =>
      (await (
        await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) })
      ).json()) as { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions: Record<string, unknown> }> };
    const attempts: Array<[string, Record<string, unknown>]> = [
      ['mutation($u: ID!) { terminateSession(input: { user: $u }) { succeeded } }', { u: admin.id.toUpperCase() }],
      ['mutation($u: ID!) { disableAccount(input: { user: $u }) { user { id } } }', { u: admin.userPrincipalName.toUpperCase() }],
      [
        'mutation($u: ID!, $pw: String!) { changePassword(input: { user: $u, password: $pw, forceChangePasswordNextSignIn: false }) { user { id } } }',
        { u: admin.userPrincipalName, pw: 'Taken-Over-Account-77!' },
      ],
    ];
    const before = { enabled: admin.accountEnabled, password: admin._password };
    logLines.length = 0;
    await emulator.resetStats();
    for (const [query, variables] of attempts) {
      const body = await post(query, variables);
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'SIGNED_IN_ACCOUNT', argument: 'user' });
    }
    const stats = await emulator.stats();
    // Only reads: who is signed in (`/me`), and the UPN targets' object ids.
    const writes = Object.keys(stats.byRoute).filter((route) => !route.startsWith('GET '));
    expect(writes).toEqual([]);
    expect(admin.accountEnabled).toBe(before.enabled);
    expect(admin._password).toBe(before.password);
    const events = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.audit === true || l.msg === 'audit');
    expect(events.filter((e) => e.outcome === 'refused' && e.reason === 'FORBIDDEN')).toHaveLength(3);
    expect(logLines.join('\n')).not.toContain('Taken-Over-Account-77!');

    // Another user is still served, by UPN too: the guard resolved it and let it through.
    const other = [...emulator.tenant.users.values()].find(
      (u) => u.accountEnabled && u.userType === 'Member' && u.id !== admin.id && u._directoryRoles.length === 0,
    )!;
    const revoked = await post('mutation($u: ID!) { revokeSignInSessions(input: { user: $u }) { user { id } } }', { u: other.userPrincipalName });
    expect(revoked.errors).toBeUndefined();
    // Several mutations in one document ask who is signed in once.
    await emulator.resetStats();
    const twice = await post(
      'mutation($u: ID!) { a: revokeSignInSessions(input: { user: $u }) { user { id } } b: revokeSignInSessions(input: { user: $u }) { user { id } } }',
      {
        u: other.id,
      },
    );
    expect(twice.errors).toBeUndefined();
    expect((await emulator.stats()).byRoute['GET /v1.0/me']).toBe(1);
  });

  it("changes a user's password as the signed-in administrator; the new one signs in", async () => {
    const target = [...emulator.tenant.users.values()].find(
      (u) => u.accountEnabled && u.userType === 'Member' && u._directoryRoles.length === 0 && !u.onPremisesSyncEnabled,
    )!;
    const password = 'Winter-Harbour-4821!';
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation($id: ID!, $pw: String!) { changePassword(input: { user: $id, password: $pw, forceChangePasswordNextSignIn: false }) { user { id } } }',
        variables: { id: target.id, pw: password },
      }),
    });
    const body = (await res.json()) as { data?: { changePassword: { user: { id: string } } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data?.changePassword.user.id).toBe(target.id);
    const signIn = await passwordGrant(emulator, { username: target.userPrincipalName, password, scope: 'openid' });
    expect(signIn.status).toBe(200);
    expect(logLines.join('\n')).not.toContain(password);
  });
});
