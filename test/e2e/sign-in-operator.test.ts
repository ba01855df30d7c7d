import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { loginUrlReport } from '../../src/cli/login-url.js';
import { hashApiKey } from '../../src/config.js';
import { graphIdentityId } from '../../src/identity/identity-id.js';
import { deriveSignInLinkKey, mintSignInLink } from '../../src/identity/sign-in-link.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { capturingLogger, logRecordsOf } from '../support/log-capture.js';
import { operatorSignInLink } from '../support/sign-in-link.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * The authorization-code sign-in replaces the Graph identity every caller is served as, so it is an
 * operator act (docs/security.md#sign-in-is-an-operator-act). The production configuration
 * (NODE_ENV=production, API keys) of the red-team finding: a caller with no key started a sign-in,
 * added `login_hint` for an ordinary user, and from then on every caller was served as that user.
 */
const TOKEN_CACHE_KEY = 'sign-in operator test token cache key';
const KEYS = { soar: 'soar-key-0123456789', admin: 'admin-key-0123456789' };

describe('sign-in is an operator act (authorization code, production configuration)', () => {
  let emulator: TestEmulator;
  let app: App;
  const logLines: string[] = [];
  let adminUpn: string;
  let ordinaryUser: { id: string; userPrincipalName: string };

  const records = () => logRecordsOf(logLines);
  const signInAudits = () => records().filter((r) => r.audit === true && r.operation === 'signIn');
  const me = async () => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEYS.soar },
      body: JSON.stringify({ query: '{ me { id userPrincipalName } }' }),
    });
    return (await res.json()) as { data?: { me: { id: string; userPrincipalName: string } | null }; errors?: Array<{ message: string }> };
  };
  /** What a browser does after /auth/login: follow to the tenant, come back with the code. */
  const throughTenant = async (authorizeUrl: string, loginHint?: string) => {
    const url = new URL(authorizeUrl);
    if (loginHint) url.searchParams.set('login_hint', loginHint);
    const consent = await emulator.fetch(url.toString(), { redirect: 'manual' });
    expect(consent.status).toBe(302);
    return consent.headers.get('location')!;
  };
  const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0]!;

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 60 });
    adminUpn = emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!.userPrincipalName;
    ordinaryUser = [...emulator.tenant.users.values()].find((u) => u.accountEnabled && u.userType === 'Member' && u._directoryRoles.length === 0)!;
    const config = loadSandboxConfig(emulator, {
      NODE_ENV: 'production',
      GRAPH_AUTH_FLOW: 'authorization-code',
      ...apiKeyCallers({
        soar: { key: KEYS.soar, permissions: ['Users.Read', 'Users.Terminate'] },
        admin: { key: KEYS.admin, permissions: ['Gateway.Admin'] },
      }),
      TOKEN_CACHE_KEY,
      SIGN_IN_ACCOUNT: adminUpn,
      AUTH_FAILURE_LIMIT: '50',
    });
    const logger = capturingLogger(logLines, 'info');
    app = await startApp(config, { emulator, logger });
  }, 60_000);

  afterAll(async () => {
    await app.close();
    await emulator.close();
  });

  it('refuses /auth/login without a credential and with a key that lacks Gateway.Admin, and starts nothing', async () => {
    await emulator.resetStats();
    const anonymous = await fetch(`${app.url}/auth/login`, { redirect: 'manual' });
    expect(anonymous.status).toBe(401);
    // CALLER_AUTH=api-key: the challenge names the scheme that answers it (src/identity/caller-authenticator.ts).
    expect(anonymous.headers.get('www-authenticate')).toBe('ApiKey');
    expect(anonymous.headers.get('location')).toBeNull();
    expect(anonymous.headers.get('set-cookie')).toBeNull();
    expect(((await anonymous.json()) as { message: string }).message).toMatch(/operator/);

    const reader = await fetch(`${app.url}/auth/login`, { redirect: 'manual', headers: { 'x-api-key': KEYS.soar } });
    expect(reader.status).toBe(403);
    expect(reader.headers.get('location')).toBeNull();
    expect(((await reader.json()) as { message: string }).message).toContain('Gateway.Admin');
    expect((await emulator.stats()).totalRequests).toBe(0);
    const failures = records().filter((r) => r.msg === 'caller authentication failed' && r.route === '/auth/login');
    expect(failures.map((r) => r.reason)).toEqual(['missing_credential', 'not_operator']);
    expect(JSON.stringify(failures)).not.toContain(KEYS.soar);
  });

  it('refuses a login_hint for an ordinary user (SIGN_IN_ACCOUNT) and keeps serving the previous identity', async () => {
    const login = await fetch(`${app.url}/auth/login`, { redirect: 'manual', headers: { 'x-api-key': KEYS.admin } });
    expect(login.status).toBe(302);
    const callback = await throughTenant(login.headers.get('location')!, ordinaryUser.userPrincipalName);
    const refused = await fetch(callback, { headers: { cookie: cookieOf(login) } });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toMatch(/SIGN_IN_ACCOUNT/);
    // Nobody had signed in: still nobody.
    expect((await me()).errors?.[0]?.message).toMatch(/auth\/login/);
    const audit = signInAudits().at(-1)!;
    expect(audit).toMatchObject({ outcome: 'refused', reason: 'FORBIDDEN', caller: { kind: 'api-key', keyId: 'admin' } });
    expect(audit.account.objectId).toBe(ordinaryUser.id);
  });

  it('binds the state to the browser that started it: a callback without its cookie is refused, with it completes once', async () => {
    const login = await fetch(`${app.url}/auth/login`, { redirect: 'manual', headers: { 'x-api-key': KEYS.admin } });
    expect(login.status).toBe(302);
    expect(login.headers.get('set-cookie')).toMatch(/^mgug_sign_in=[\w-]{40,}; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax$/);
    const callback = await throughTenant(login.headers.get('location')!);

    const stranger = await fetch(callback);
    expect(stranger.status).toBe(401);
    const forgedCookie = await fetch(callback, { headers: { cookie: 'mgug_sign_in=someone-elses-binding' } });
    expect(forgedCookie.status).toBe(401);
    expect((await me()).errors?.[0]?.message).toMatch(/auth\/login/);

    const done = await fetch(callback, { headers: { cookie: cookieOf(login) } });
    expect(done.status).toBe(200);
    expect(((await done.json()) as { message: string }).message).toContain(adminUpn);
    expect((await me()).data?.me?.id).toBe(emulator.tenant.wellKnown.adminUserId);
    // Replayed: the state is spent.
    expect((await fetch(callback, { headers: { cookie: cookieOf(login) } })).status).toBe(400);

    const audit = signInAudits().at(-1)!;
    expect(audit).toMatchObject({ outcome: 'succeeded', caller: { kind: 'api-key', keyId: 'admin' }, account: { username: adminUpn } });
    expect(audit.previousAccount).toBeUndefined();
    expect(records().filter((r) => r.reason === 'sign_in_not_bound')).toHaveLength(2);
  });

  it("completes in the operator's browser even beside a binding cookie planted for a longer path or a parent domain", async () => {
    const login = await fetch(`${app.url}/auth/login`, { redirect: 'manual', headers: { 'x-api-key': KEYS.admin } });
    const callback = await throughTenant(login.headers.get('location')!);
    // A browser sends the most specific path first: a cookie set from a sibling subdomain or over
    // plain http (Path=/auth/callback) arrives before the gateway's own (Path=/).
    const failuresBefore = records().filter((r) => r.reason === 'sign_in_not_bound').length;
    const done = await fetch(callback, { headers: { cookie: `mgug_sign_in=planted-by-a-sibling-subdomain; ${cookieOf(login)}` } });
    expect(done.status).toBe(200);
    expect(records().filter((r) => r.reason === 'sign_in_not_bound')).toHaveLength(failuresBefore);
    expect(signInAudits().at(-1)).toMatchObject({ outcome: 'succeeded', caller: { kind: 'api-key', keyId: 'admin' } });
    // Planted values alone still bind nothing.
    const again = await fetch(`${app.url}/auth/login`, { redirect: 'manual', headers: { 'x-api-key': KEYS.admin } });
    const otherCallback = await throughTenant(again.headers.get('location')!);
    const planted = Array.from({ length: 12 }, (_, i) => `mgug_sign_in=planted-${i}`).join('; ');
    expect((await fetch(otherCallback, { headers: { cookie: planted } })).status).toBe(401);
  });

  it('a refused account after a sign-in keeps the signed-in administrator', async () => {
    const login = await fetch(`${app.url}/auth/login`, { redirect: 'manual', headers: { 'x-api-key': KEYS.admin } });
    const callback = await throughTenant(login.headers.get('location')!, ordinaryUser.id);
    expect((await fetch(callback, { headers: { cookie: cookieOf(login) } })).status).toBe(403);
    expect((await me()).data?.me?.id).toBe(emulator.tenant.wellKnown.adminUserId);
    expect(signInAudits().at(-1)).toMatchObject({ outcome: 'refused', previousAccount: { username: adminUpn } });
  });

  it('POST /auth/login-link hands a Gateway.Admin caller a one-time link to open in a browser', async () => {
    expect((await fetch(`${app.url}/auth/login-link`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${app.url}/auth/login-link`, { method: 'POST', headers: { 'x-api-key': KEYS.soar } })).status).toBe(403);
    expect((await fetch(`${app.url}/auth/login-link`, { headers: { 'x-api-key': KEYS.admin } })).status).toBe(405);
    const issued = await fetch(`${app.url}/auth/login-link`, { method: 'POST', headers: { 'x-api-key': KEYS.admin } });
    expect(issued.status).toBe(201);
    const { url, expiresAt } = (await issued.json()) as { url: string; expiresAt: string };
    expect(url.startsWith(`${app.url}/auth/login?link=`)).toBe(true);
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(5 * 60_000);
    // The browser has no key: the link is its credential.
    const login = await fetch(url, { redirect: 'manual' });
    expect(login.status).toBe(302);
    const callback = await throughTenant(login.headers.get('location')!);
    expect((await fetch(callback, { headers: { cookie: cookieOf(login) } })).status).toBe(200);
    expect(signInAudits().at(-1)).toMatchObject({ outcome: 'succeeded', caller: { kind: 'sign-in-link', issuedBy: 'api-key:admin' } });
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(401);
  });

  it('accepts a one-time link from npm run auth:login-url once, and never an expired or forged one', async () => {
    const link = operatorSignInLink(app);
    const first = await fetch(link.url, { redirect: 'manual' });
    expect(first.status).toBe(302);
    const callback = await throughTenant(first.headers.get('location')!);
    expect((await fetch(callback, { headers: { cookie: cookieOf(first) } })).status).toBe(200);
    expect(signInAudits().at(-1)).toMatchObject({
      outcome: 'succeeded',
      caller: { kind: 'sign-in-link', linkId: link.id, issuedBy: 'operator@test-host' },
      previousAccount: { username: adminUpn },
    });

    expect((await fetch(link.url, { redirect: 'manual' })).status).toBe(401);
    const expired = operatorSignInLink(app, { issuedBy: 'x', now: Date.now() - 10 * 60_000 });
    expect((await fetch(expired.url, { redirect: 'manual' })).status).toBe(401);
    const forged = mintSignInLink({
      key: deriveSignInLinkKey('some other key, not the gateway one', graphIdentityId(app.config)),
      loginUrl: `${app.url}/auth/login`,
      issuedBy: 'x',
    });
    const forgedRes = await fetch(forged.url, { redirect: 'manual' });
    expect(forgedRes.status).toBe(401);
    expect(forgedRes.headers.get('location')).toBeNull();
    expect(records().filter((r) => r.reason === 'invalid_sign_in_link')).toHaveLength(4);
    // Neither the link nor the code appears in the log.
    expect(logLines.join('')).not.toContain(new URL(link.url).searchParams.get('link')!);
    expect(logLines.join('')).not.toContain(new URL(callback).searchParams.get('code')!);
  });

  it('a spent link does not work again after a restart: without Redis, links from before the process are refused', async () => {
    // Before: spent links were remembered in memory only; after a restart the same link started a
    // sign-in again, and whoever had seen it (proxy logs, browser history) could sign the gateway in.
    const link = operatorSignInLink(app);
    const urlBeforeRestart = app.url;
    const first = await fetch(link.url, { redirect: 'manual' });
    expect(first.status).toBe(302);
    await app.close();
    app = await startApp(app.config, { emulator, logger: capturingLogger(logLines, 'info') });
    const replayed = await fetch(link.url.replace(urlBeforeRestart, app.url), { redirect: 'manual' });
    expect(replayed.status).toBe(401);
    expect(replayed.headers.get('location')).toBeNull();
    expect(((await replayed.json()) as { message: string }).message).toContain("from before the gateway's record of spent links began");
    // A link issued after the restart works.
    const fresh = operatorSignInLink(app);
    expect((await fetch(fresh.url, { redirect: 'manual' })).status).toBe(302);
  });
});

describe('SIGN_IN_ACCOUNT left unset', () => {
  it('is said at start-up: whoever completes a sign-in becomes the identity every caller is served as', async () => {
    const emulator = await startTestEmulator({ userCount: 10 });
    const lines: string[] = [];
    const config = loadSandboxConfig(emulator, { NODE_ENV: 'production', GRAPH_AUTH_FLOW: 'authorization-code', TOKEN_CACHE_KEY });
    const app = await startApp(config, { emulator, logger: capturingLogger(lines, 'info') });
    try {
      const warning = logRecordsOf(lines).find((r) => typeof r.msg === 'string' && r.msg.startsWith('SIGN_IN_ACCOUNT is not set'));
      expect(warning).toMatchObject({ level: 'warn' });
    } finally {
      await app.close();
      await emulator.close();
    }
  });
});

describe('a sign-in link names the Graph identity it signs in', () => {
  it("another gateway configured with the same TOKEN_CACHE_KEY (another tenant and app) refuses this gateway's links", async () => {
    // Before, the link key came from TOKEN_CACHE_KEY alone: a caller holding Gateway.Admin on one
    // gateway (an API key the other gateway does not know) got a link from POST /auth/login-link that
    // started a sign-in on the other one.
    const ours = await startTestEmulator({ userCount: 10 });
    const theirs = await startTestEmulator({ userCount: 10, seed: 7 });
    const production = { NODE_ENV: 'production', GRAPH_AUTH_FLOW: 'authorization-code', CALLER_AUTH: 'api-key', TOKEN_CACHE_KEY };
    const lines: string[] = [];
    const a = await startApp(loadSandboxConfig(ours, { ...production, API_KEYS: `admin:${hashApiKey(KEYS.admin)}:Gateway.Admin` }), {
      emulator: ours,
      logger: capturingLogger(lines, 'info'),
    });
    const b = await startApp(loadSandboxConfig(theirs, { ...production, API_KEYS: `other:${hashApiKey('other-admin-key-0123456789')}:Gateway.Admin` }), {
      emulator: theirs,
      logger: capturingLogger(lines, 'info'),
    });
    try {
      expect(graphIdentityId(a.config)).not.toBe(graphIdentityId(b.config));
      expect((await fetch(`${b.url}/auth/login-link`, { method: 'POST', headers: { 'x-api-key': KEYS.admin } })).status).toBe(401);
      const issued = await fetch(`${a.url}/auth/login-link`, { method: 'POST', headers: { 'x-api-key': KEYS.admin } });
      expect(issued.status).toBe(201);
      const link = new URL(((await issued.json()) as { url: string }).url).searchParams.get('link')!;
      const elsewhere = await fetch(`${b.url}/auth/login?link=${link}`, { redirect: 'manual' });
      expect(elsewhere.status).toBe(401);
      expect(elsewhere.headers.get('location')).toBeNull();
      expect(elsewhere.headers.get('set-cookie')).toBeNull();
      // On its own gateway the same link works (it was not spent by the refusal).
      expect((await fetch(`${a.url}/auth/login?link=${link}`, { redirect: 'manual' })).status).toBe(302);
      // npm run auth:login-url, run with the gateway's configuration, derives the same key.
      const printed = loginUrlReport({ ...a.config, selfDeployed: { ...a.config.selfDeployed!, redirectUri: `${a.url}/auth/callback` } })
        .map((line) => line.trim())
        .find((line) => line.startsWith(`${a.url}/auth/login?link=`))!;
      expect((await fetch(printed, { redirect: 'manual' })).status).toBe(302);
      expect((await fetch(printed.replace(a.url, b.url), { redirect: 'manual' })).status).toBe(401);
    } finally {
      await a.close();
      await b.close();
      await ours.close();
      await theirs.close();
    }
  });
});
