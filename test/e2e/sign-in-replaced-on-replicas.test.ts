import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { apiKeyCallers } from '../support/api-key-callers.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';

/**
 * A sign-in at /auth/login replaces the account every caller is served as, on every replica sharing
 * the token store (docs/security.md#a-new-sign-in-reaches-every-replica). The replica that completed
 * it dropped its cached access token; the others kept serving theirs, the previous account's, until it
 * expired (an hour and more): `me` named the previous account there, and the check that keeps
 * mutations off the signed-in account (which asks Graph `/me` with that token) guarded the previous
 * account, not the new one. Production configuration, authorization-code flow, two replicas on one Redis.
 */
const skip = redisSkipReason();
const KEYS = { soar: 'soar-key-0123456789', admin: 'admin-key-0123456789' };

describe.skipIf(skip !== undefined)('a new sign-in on one replica', () => {
  let emulator: TestEmulator;
  let redis: TestRedis;
  let first: App;
  let second: App;
  const firstLines: string[] = [];
  const secondLines: string[] = [];
  const dropped = (lines: string[]) => logRecordsOf(lines).filter((r) => String(r.msg).startsWith('the stored sign-in names another account')).length;

  const graphql = async (replica: App, query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${replica.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEYS.soar },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
  };
  const me = async (replica: App) => {
    const body = await graphql(replica, '{ me { id } }');
    expect(body.errors).toBeUndefined();
    return (body.data!.me as { id: string }).id;
  };
  /** /auth/login, through the tenant as `loginHint` (the admin when absent), back to /auth/callback. */
  const signIn = async (replica: App, loginHint?: string) => {
    const login = await fetch(`${replica.url}/auth/login`, { redirect: 'manual', headers: { 'x-api-key': KEYS.admin } });
    expect(login.status).toBe(302);
    const url = new URL(login.headers.get('location')!);
    if (loginHint) url.searchParams.set('login_hint', loginHint);
    const consent = await emulator.fetch(url.toString(), { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const callback = new URL(consent.headers.get('location')!);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const done = await fetch(`${replica.url}/auth/callback${callback.search}`, { headers: { cookie } });
    expect(done.status).toBe(200);
  };

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 20 });
    redis = await startTestRedis();
    const config = () =>
      loadSandboxConfig(emulator, {
        NODE_ENV: 'production',
        GRAPH_AUTH_FLOW: 'authorization-code',
        ...apiKeyCallers({
          soar: { key: KEYS.soar, permissions: ['Users.Read', 'Users.Terminate'] },
          admin: { key: KEYS.admin, permissions: ['Gateway.Admin'] },
        }),
        CACHE_URL: redis.url,
        TOKEN_CACHE_KEY: 'replicas sign-in test token cache key',
      });
    first = await startApp(config(), { emulator, logger: capturingLogger(firstLines, 'info') });
    second = await startApp(config(), { emulator, logger: capturingLogger(secondLines, 'info') });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
    await redis?.stop();
    await emulator?.close();
  });

  it('serves every replica as the new account from the next request on', async () => {
    const adminId = emulator.tenant.wellKnown.adminUserId;
    const other = [...emulator.tenant.users.values()].find((u) => u.accountEnabled && u.userType === 'Member' && u._directoryRoles.length === 0)!;

    await signIn(first);
    expect(await me(first)).toBe(adminId);
    // The other replica obtains (and caches) a token of the signed-in account.
    expect(await me(second)).toBe(adminId);

    await signIn(first, other.userPrincipalName);
    expect(await me(first)).toBe(other.id);

    expect(await me(second)).toBe(other.id);
    // The mutation check guards the new account on the other replica too: nothing written.
    const before = emulator.tenant.users.get(other.id)!.accountEnabled;
    const refused = await graphql(second, 'mutation($u: ID!) { terminateSession(input: { user: $u }) { succeeded } }', { u: other.id });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'SIGNED_IN_ACCOUNT' });
    expect(emulator.tenant.users.get(other.id)!.accountEnabled).toBe(before);

    // And back: the replica that did not complete the sign-in is no different.
    await signIn(second);
    expect(await me(second)).toBe(adminId);
    expect(await me(first)).toBe(adminId);
    // Each replica dropped a token once, for the sign-in the other completed; never while its account stayed.
    expect(dropped(firstLines)).toBe(1);
    expect(dropped(secondLines)).toBe(1);
  }, 60_000);
});
