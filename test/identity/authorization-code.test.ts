import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret, type Config } from '../../src/config-types.js';
import { identityState } from '../../src/emulator/entra/state.js';
import { GatewayError } from '../../src/errors.js';
import { createAuditLog } from '../../src/audit/index.js';
import type { AuthRoutesDeps } from '../../src/identity/auth-routes.js';
import { createAuthenticationGuard } from '../../src/identity/authentication-failures.js';
import { createSignInLinks } from '../../src/identity/sign-in-link.js';
import { servedOverHttpsResolver } from '../../src/http/served-over-https.js';
import { createAuthRoutes, createCallerAuthenticator, createGraphIdentity, graphIdentityId } from '../../src/identity/index.js';
import type { Caller, GraphIdentity } from '../../src/identity/types.js';
import { openTokenStore } from '../../src/store/index.js';
import { demoAppAuthorizationCode, type TestEmulator } from '../support/emulator.js';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';
import { decodeJwtPayload, emulatorConfig, startIdentityTestBed, type CapturedLogs, type IdentityTestBed, type TestDeps } from './support.js';

/**
 * Refreshes are forced with `invalidate()` (what the Graph client does after a 401): msal then
 * redeems the refresh token. Entra keeps a redeemed refresh token valid; the emulator runs here
 * with its `singleUseRefreshTokens` switch, so a redeemed one answers invalid_grant and the tests
 * prove the gateway always uses (and persists) the latest one and never redeems one twice.
 */
const REDIRECT_URI = 'http://127.0.0.1:4000/auth/callback';

let emulator: TestEmulator;
let dataDir: string;
let logs: CapturedLogs;
let deps: TestDeps;
let bed: IdentityTestBed;
const seen: string[] = [];
const anonymous: Caller = { kind: 'anonymous', permissions: new Set() };
const skipRedis = redisSkipReason();
let redis: TestRedis | undefined;

beforeAll(async () => {
  bed = await startIdentityTestBed('mgug-ac-', { singleUseRefreshTokens: true });
  ({ emulator, dataDir, logs, deps } = bed);
  if (!skipRedis) redis = await startTestRedis();
});

afterAll(async () => {
  await redis?.stop();
  await bed.close();
});

/** A code as an operator copies it by hand (test/support/emulator.ts), remembered so that no log may show it. */
async function obtainCode(redirectUri = REDIRECT_URI): Promise<string> {
  const code = await demoAppAuthorizationCode(emulator, redirectUri);
  seen.push(code);
  return code;
}

function authCodeConfig(cache: Config['cache'], authCode?: string): Config {
  const base = emulatorConfig(emulator, dataDir);
  return emulatorConfig(emulator, dataDir, {
    cache,
    selfDeployed: { ...base.selfDeployed!, flow: 'authorization-code', redirectUri: REDIRECT_URI, ...(authCode ? { authCode: new Secret(authCode) } : {}) },
  });
}

/** The auth routes' collaborators, as src/app.ts wires them (CALLER_AUTH=none: the loopback caller is the operator). */
function routeDeps(config: Config): AuthRoutesDeps {
  return {
    logger: logs.logger,
    callerAuthenticator: createCallerAuthenticator(config, { upstream: deps.upstream, logger: logs.logger }),
    authGuard: createAuthenticationGuard({ config, logger: logs.logger, metrics: deps.metrics }),
    auditLog: createAuditLog({ logger: logs.logger, metrics: deps.metrics }),
    signInLinks: createSignInLinks({ key: randomBytes(32) }),
  };
}

function refreshTokensIssued(): string[] {
  return [...identityState(emulator.tenant).refreshTokens.keys()];
}

describe('authorization code', () => {
  const sqlite = (): Config['cache'] => ({ kind: 'sqlite', path: path.join(dataDir, 'tokens.sqlite') });

  it('redeems AUTH_CODE, and a restarted instance redeems the persisted rotated refresh token', async () => {
    const config = authCodeConfig(sqlite(), await obtainCode());
    const first = await createGraphIdentity(config, deps);
    expect(first.kind).toBe('authorization-code');
    expect(first.delegated).toBe(true);
    const token = await first.tokenSourceFor(anonymous).getAccessToken();
    seen.push(token);
    const claims = decodeJwtPayload(token);
    expect(claims.oid).toBe(emulator.tenant.wellKnown.adminUserId);
    expect(claims.scp).toMatch(/Directory\.AccessAsUser\.All/);
    await first.close?.();

    // Restart twice: each start redeems the refresh token persisted by the previous one (AUTH_CODE is spent).
    for (let restart = 0; restart < 2; restart++) {
      await emulator.resetStats();
      const again = await createGraphIdentity(config, deps);
      const source = again.tokenSourceFor(anonymous);
      const persisted = await source.getAccessToken(); // the persisted access token, no request
      expect((await emulator.stats()).tokenRequests).toBe(0);
      source.invalidate!();
      const next = await source.getAccessToken();
      seen.push(persisted, next);
      expect(next).not.toBe(persisted);
      expect(decodeJwtPayload(next).oid).toBe(emulator.tenant.wellKnown.adminUserId);
      const stats = await emulator.stats();
      expect(stats.tokenRequests).toBe(1);
      expect(stats.byStatus['400'] ?? 0).toBe(0);
      await again.close?.();
    }
    // The persisted cache is encrypted: no refresh token in the SQLite file's rows.
    const store = await openTokenStore(config, { identityId: graphIdentityId(config), keepsRefreshToken: true });
    const latest = refreshTokensIssued().at(-1)!;
    expect(await store.get('msal-cache')).toContain(latest);
    await store.close();
  });

  it('a spent AUTH_CODE with no stored grant says how to recover, without the code', async () => {
    const code = await obtainCode();
    const once = await createGraphIdentity(authCodeConfig({ kind: 'memory' }, code), deps);
    await once.tokenSourceFor(anonymous).getAccessToken();
    await once.close?.();
    const twice = await createGraphIdentity(authCodeConfig({ kind: 'memory' }, code), deps);
    const error = (await twice
      .tokenSourceFor(anonymous)
      .getAccessToken()
      .catch((e: unknown) => e)) as GatewayError;
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.message).toMatch(/AADSTS54005/);
    // Nothing is stored, so nothing needs a reset: a new sign-in or a fresh AUTH_CODE.
    expect(error.message).toMatch(/AUTH_CODE was refused .*sign in at \/auth\/login, or set a fresh AUTH_CODE/);
    expect(error.message).not.toMatch(/auth:reset/);
    expect(error.message).not.toContain(code);
    await twice.close?.();
  });

  it('signs in through /auth/login → emulator → /auth/callback over HTTP', async () => {
    const base = emulatorConfig(emulator, dataDir);
    const config = emulatorConfig(emulator, dataDir, { cache: { kind: 'memory' }, selfDeployed: { ...base.selfDeployed!, flow: 'authorization-code' } });
    const identity = await createGraphIdentity(config, deps);
    const before = await identity
      .tokenSourceFor(anonymous)
      .getAccessToken()
      .catch((e: unknown) => e);
    expect((before as GatewayError).message).toMatch(/sign in at \/auth\/login/);

    const routes = createAuthRoutes(identity, routeDeps(config));
    const server: Server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
      void routes(req, res, url).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const login = await undiciFetch(`${origin}/auth/login`, { redirect: 'manual' });
      expect(login.status).toBe(302);
      const authorizeUrl = new URL(login.headers.get('location')!);
      expect(authorizeUrl.origin).toBe(emulator.origin);
      expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
      // The operator chooses the account; an account the browser is already signed in with is not taken silently.
      expect(authorizeUrl.searchParams.get('prompt')).toBe('select_account');
      expect(authorizeUrl.searchParams.get('state')).toBeTruthy();
      expect(authorizeUrl.searchParams.get('redirect_uri')).toBe(`${origin}/auth/callback`);

      const consent = await emulator.fetch(authorizeUrl.toString(), { redirect: 'manual' });
      const callbackUrl = consent.headers.get('location')!;
      seen.push(new URL(callbackUrl).searchParams.get('code')!);
      expect(callbackUrl.startsWith(`${origin}/auth/callback?`)).toBe(true);

      // A forged state is refused; so is the real one without the browser's binding cookie; with it, the callback signs in.
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      const forged = new URL(callbackUrl);
      forged.searchParams.set('state', 'forged');
      const refused = await undiciFetch(forged, { headers: { cookie } });
      expect(refused.status).toBe(400);
      expect((await undiciFetch(callbackUrl)).status).toBe(401);
      const callback = await undiciFetch(callbackUrl, { headers: { cookie } });
      const body = (await callback.json()) as { ok: boolean; message: string };
      expect(callback.status).toBe(200);
      expect(body.ok).toBe(true);
      expect(body.message).toContain(emulator.tenant.users.get(emulator.tenant.wellKnown.adminUserId)!.userPrincipalName);
      // Replaying the same callback fails (state is single-use).
      expect((await undiciFetch(callbackUrl, { headers: { cookie } })).status).toBe(400);

      const token = await identity.tokenSourceFor(anonymous).getAccessToken();
      seen.push(token);
      expect(decodeJwtPayload(token).idtyp).toBe('user');
      // Entra's error redirect renders a page without secrets.
      const denied = await undiciFetch(
        `${origin}/auth/callback?error=access_denied&error_description=AADSTS50057%3A+The+user+account+is+disabled.%0D%0ATrace+ID%3A+x`,
        {
          headers: { accept: 'text/html' },
        },
      );
      expect(denied.status).toBe(400);
      expect(await denied.text()).toContain('Entra ID refused the sign-in (access_denied, AADSTS50057).');
      // Anyone can link a browser here: free text in the parameters is never shown on the gateway's page.
      const lure = await undiciFetch(
        `${origin}/auth/callback?error=${encodeURIComponent('Your session expired. Call +1 555 0100')}&error_description=${encodeURIComponent('Visit evil.example to sign in again')}`,
        { headers: { accept: 'text/html' } },
      );
      expect(lure.status).toBe(400);
      const page = await lure.text();
      expect(page).toContain('Entra ID refused the sign-in (error).');
      expect(page).not.toMatch(/555 0100|evil\.example/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await identity.close?.();
    }
  });

  it('behind a TLS-ending proxy in TRUSTED_PROXIES, without REDIRECT_URI, the callback URL is https (docs/identity.md#the-callback-url)', async () => {
    const base = emulatorConfig(emulator, dataDir);
    const config = emulatorConfig(emulator, dataDir, { cache: { kind: 'memory' }, selfDeployed: { ...base.selfDeployed!, flow: 'authorization-code' } });
    // Entra accepts an http redirect URI for localhost only: the gateway's public callback is https, registered on the app.
    const app = [...emulator.tenant.apps.values()].find((a) => a.appId === base.selfDeployed!.clientId)!;
    app.redirectUris.push('https://gateway.example/auth/callback');
    const identity = await createGraphIdentity(config, deps);
    const serve = (trustedProxies: string[]) => {
      const routes = createAuthRoutes(identity, { ...routeDeps(config), servedOverHttps: servedOverHttpsResolver(trustedProxies) });
      return createServer((req, res) => {
        const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
        void routes(req, res, url).then((handled) => {
          if (!handled) res.writeHead(404).end();
        });
      });
    };
    // The proxy (on loopback here) ended TLS and says so; the Host is the public one.
    const behindProxy = serve(['loopback']);
    const untrusted = serve([]);
    const origins: string[] = [];
    for (const server of [behindProxy, untrusted]) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origins.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
    const [proxied, direct] = origins as [string, string];
    const forwarded = { host: 'gateway.example', 'x-forwarded-proto': 'https' };
    // node:http, which sends the Host given (fetch sends the URL's own).
    const get = (origin: string, target: string, headers: Record<string, string>) =>
      new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const req = httpRequest(`${origin}${target}`, { headers }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      const login = await get(proxied, '/auth/login', forwarded);
      expect(login.status).toBe(302);
      const authorizeUrl = new URL(login.headers.location!);
      expect(authorizeUrl.searchParams.get('redirect_uri')).toBe('https://gateway.example/auth/callback');
      // The https callback's cookie: `__Host-` and Secure.
      const setCookie = login.headers['set-cookie']![0]!;
      expect(setCookie).toMatch(/^__Host-mgug_sign_in=.*; Secure/);

      const consent = await emulator.fetch(authorizeUrl.toString(), { redirect: 'manual' });
      const callbackUrl = new URL(consent.headers.get('location')!);
      seen.push(callbackUrl.searchParams.get('code')!);
      expect(callbackUrl.origin).toBe('https://gateway.example');
      // The proxy hands the callback on the same way; the cookie of that scheme completes it.
      const callback = await get(proxied, `${callbackUrl.pathname}${callbackUrl.search}`, { ...forwarded, cookie: setCookie.split(';')[0]! });
      expect(callback.status).toBe(200);
      expect((JSON.parse(callback.body) as { ok: boolean }).ok).toBe(true);

      // From a peer not in TRUSTED_PROXIES the header is the client's own word: not believed, and
      // the http callback URL off localhost is named in the log with what to set.
      const spoofed = await get(direct, '/auth/login', forwarded);
      expect(spoofed.status).toBe(302);
      expect(new URL(spoofed.headers.location!).searchParams.get('redirect_uri')).toBe('http://gateway.example/auth/callback');
      expect(
        logs.lines.some((line) => line.includes('http on a host other than localhost') && line.includes('TRUSTED_PROXIES') && line.includes('REDIRECT_URI')),
      ).toBe(true);
    } finally {
      app.redirectUris.pop();
      for (const server of [behindProxy, untrusted]) await new Promise((resolve) => server.close(resolve));
      await identity.close?.();
    }
  });

  it('client-credentials identities decline the /auth routes', async () => {
    const config = emulatorConfig(emulator, dataDir);
    const identity = await createGraphIdentity(config, deps);
    const routes = createAuthRoutes(identity, routeDeps(config));
    expect(await routes({} as never, {} as never, new URL('http://x/auth/login'))).toBe(false);
    await identity.close?.();
  });

  it.skipIf(!!skipRedis)('two replicas sharing Redis refresh concurrently and never hit invalid_grant', async () => {
    const cache: Config['cache'] = { kind: 'redis', url: redis!.url };
    const a = await createGraphIdentity(authCodeConfig(cache, await obtainCode()), deps);
    const b = await createGraphIdentity(authCodeConfig(cache, 'unused-by-b-because-a-signed-in'), deps);
    const replicas: GraphIdentity[] = [a, b];
    await a.tokenSourceFor(anonymous).getAccessToken();
    await emulator.resetStats();
    const rounds = 6;
    for (let round = 0; round < rounds; round++) {
      for (const r of replicas) r.tokenSourceFor(anonymous).invalidate!();
      const tokens = await Promise.all(replicas.flatMap((r) => [r.tokenSourceFor(anonymous).getAccessToken(), r.tokenSourceFor(anonymous).getAccessToken()]));
      seen.push(...tokens);
      for (const t of tokens) expect(decodeJwtPayload(t).oid).toBe(emulator.tenant.wellKnown.adminUserId);
    }
    const stats = await emulator.stats();
    expect(stats.byStatus['400'] ?? 0).toBe(0);
    // One redemption per round: the replica that waited for the lock reuses the other's new token.
    expect(stats.tokenRequests).toBe(rounds);
    await a.close?.();
    await b.close?.();
  });

  it('logs at trace level carry no token, refresh token, code or secret', () => {
    logs.assertNoSecrets([emulator.tenant.wellKnown.demoAppSecret, ...seen, ...refreshTokensIssued()]);
  });
});
