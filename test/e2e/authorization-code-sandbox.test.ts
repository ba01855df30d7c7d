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
