import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { Agent, fetch as undiciFetch } from 'undici';
import { createCertificate } from '../../src/emulator/tls.js';
import { apiKeyCallers } from '../support/api-key-callers.js';
import { chromiumAvailable, launchChromium, playgroundReady, typeInEditor } from '../support/chromium.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startGatewayProcess, startProductionGateway, type GatewayProcess } from '../support/gateway-process.js';
import { freePort } from '../support/net.js';
import { buildProduction, DIST_MAIN, REPO_ROOT } from '../support/production-build.js';
import { tenantEnv } from '../doctor/support.js';

/**
 * The browser-facing headers and the sign-in cookie in headless Chromium, against the production
 * build (`node dist/src/main.js`, NODE_ENV=production), as a person's browser meets them:
 *
 * - On the loopback sandbox (CALLER_AUTH=none, plain http): the playground still loads its
 *   content-hashed assets and runs a query under COOP and CORP; a frontend of CORS_ORIGINS on
 *   another origin still reads the JSON API (CORP does not apply to CORS requests), but can no
 *   longer load an answer as a no-cors subresource, nor keep a handle on a gateway page it opened
 *   (COOP); the operator still signs in through /auth/login, with the unprefixed cookie.
 * - Behind a TLS-terminating proxy in TRUSTED_PROXIES (an https REDIRECT_URI, as Entra requires off
 *   loopback): the sign-in cookie is `__Host-mgug_sign_in`, Secure, which Chromium accepts and sends
 *   back, the callback completes with it and removes it, and every answer carries HSTS.
 */
const available = chromiumAvailable('the browser-facing headers test');

const ADMIN_KEY = 'browser-headers-admin-key-0123456789';

/** A page of another origin, listed in CORS_ORIGINS: a frontend of the gateway. */
async function startFrontend(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>frontend</title><p>frontend</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A TLS-terminating reverse proxy on `port` in front of `upstream`, writing X-Forwarded-Proto/For as an ingress does. */
async function startTlsProxy(port: number, upstream: string): Promise<Server> {
  const { certPem, keyPem } = createCertificate({ commonName: 'localhost', altNames: [{ type: 2, value: 'localhost' }] });
  const target = new URL(upstream);
  const server = createTlsServer({ cert: certPem, key: keyPem }, (req, res) => {
    const forwarded = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'x-forwarded-proto': 'https', 'x-forwarded-for': req.socket.remoteAddress ?? '' },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

describe.skipIf(!available)('browser-facing headers in Chromium, production build', () => {
  let browser: Browser;
  let frontend: { server: Server; origin: string };
  let loopback: GatewayProcess;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-browser-headers-'));

  beforeAll(async () => {
    frontend = await startFrontend();
    browser = await launchChromium();
    loopback = await startProductionGateway({
      dataDir,
      env: { SANDBOX_USERS: '20', PLAYGROUND: 'true', GRAPH_AUTH_FLOW: 'authorization-code', CORS_ORIGINS: frontend.origin, LOG_LEVEL: 'warn' },
    });
  }, 240_000);
  afterAll(async () => {
    loopback?.kill();
    await browser?.close();
    await new Promise((resolve) => frontend?.server.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A fresh context: the emulator's certificate (a private CA) and the test proxy's are accepted. */
  async function context(): Promise<BrowserContext> {
    return browser.newContext({ ignoreHTTPSErrors: true });
  }

  it('loopback sign-in: /auth/login → the tenant → /auth/callback completes in the browser, with the unprefixed cookie over http', async () => {
    const ctx = await context();
    const page = await ctx.newPage();
    // allHeaders(): Playwright's headers() leaves Set-Cookie out.
    const cookies: Array<Promise<string | null>> = [];
    page.on('response', (response) => {
      if (response.url().startsWith(`${loopback.url}/auth/login`)) cookies.push(response.headerValue('set-cookie'));
    });
    await page.goto(`${loopback.url}/auth/login`);
    expect(await page.locator('h1').textContent()).toBe('Signed in');
    expect(cookies).toHaveLength(1);
    expect(await cookies[0]).toMatch(/^mgug_sign_in=[\w-]{40,}; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax$/);
    // Safari drops Secure cookies from http://localhost, so the loopback keeps the plain name (src/identity/sign-in-cookie.ts).
    // The callback removed it.
    expect((await ctx.cookies(loopback.url)).map((c) => c.name)).toEqual([]);
    await ctx.close();
  }, 60_000);

  it('the playground loads its hashed, immutable assets and runs a query under COOP and CORP', async () => {
    const ctx = await context();
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    const assets: Array<{ url: string; cacheControl: string | undefined; status: number }> = [];
    page.on('response', (response) => {
      if (response.url().includes('/playground/assets/'))
        assets.push({ url: response.url(), cacheControl: response.headers()['cache-control'], status: response.status() });
    });
    const answer = await page.goto(`${loopback.url}/graphql`);
    expect(answer?.headers()['cross-origin-opener-policy']).toBe('same-origin');
    expect(answer?.headers()['cross-origin-resource-policy']).toBe('same-origin');
    await playgroundReady(page);
    expect(assets).toHaveLength(6);
    for (const asset of assets) {
      expect(asset.url).toMatch(/\/playground\/assets\/[\w.-]+\.[0-9a-f]{20}\.(js|css)$/);
      expect(asset).toMatchObject({ status: 200, cacheControl: 'public, max-age=31536000, immutable' });
    }
    // The page's own POST /graphql is answered and shown.
    await typeInEditor(page, '.graphiql-query-editor', 'query AssetsCheck { __typename }');
    // GraphiQL reads the operation's name from the editor a moment after a change; executing before
    // sends the example's name with the new text ("Unknown operation named DirectoryPage").
    await page.locator('.graphiql-tab-active', { hasText: 'AssetsCheck' }).waitFor({ timeout: 10_000 });
    await page.locator('.graphiql-execute-button').click();
    await page.locator('.result-window', { hasText: '"Query"' }).waitFor({ timeout: 30_000 });
    expect(errors.filter((e) => /Content Security Policy|Refused|ERR_BLOCKED/i.test(e))).toEqual([]);
    await ctx.close();
  }, 60_000);

  it('a frontend of CORS_ORIGINS reads the JSON API; it cannot load an answer no-cors, nor hold a gateway page it opened', async () => {
    const ctx = await context();
    const page = await ctx.newPage();
    await page.goto(frontend.origin);
    const seen = await page.evaluate(async (gateway) => {
      // CORS (a preflighted JSON POST): CORP does not apply, the frontend reads the answer.
      const cors = await fetch(`${gateway}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      const read = ((await cors.json()) as { data?: { __typename: string } }).data?.__typename;
      // no-cors: CORP same-origin makes it a network error instead of an opaque answer in this page's process.
      const noCors = await fetch(`${gateway}/healthz`, { mode: 'no-cors' }).then(
        (r) => `opaque ${r.type}`,
        (e: unknown) => `refused ${String(e)}`,
      );
      // COOP same-origin: the page it opened is moved to another browsing context group, and the
      // opener's handle reads as closed.
      // (The test's tsconfig has no DOM types: the page's `window.open`, typed here for what is read.)
      const open = (globalThis as unknown as { open(url: string): { closed: boolean } | null }).open;
      const popup = open(`${gateway}/graphql`);
      const deadline = Date.now() + 10_000;
      while (popup && !popup.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      return { status: cors.status, read, noCors, popupSevered: popup?.closed ?? 'blocked' };
    }, loopback.url);
    expect(seen).toEqual({ status: 200, read: 'Query', noCors: expect.stringMatching(/^refused TypeError/), popupSevered: true });
    await ctx.close();
  }, 60_000);

  describe('behind a TLS-terminating proxy (TRUSTED_PROXIES, https REDIRECT_URI)', () => {
    let emulator: TestEmulator;
    let gateway: GatewayProcess;
    let proxy: Server;
    let publicOrigin: string;

    beforeAll(async () => {
      emulator = await startTestEmulator({ userCount: 10 });
      const proxyPort = await freePort();
      publicOrigin = `https://localhost:${proxyPort}`;
      const demo = emulator.tenant.apps.get(emulator.tenant.wellKnown.demoAppId)!;
      // The app registration's https redirect URI, as an operator registers it in Entra ID.
      demo.redirectUris.push(`${publicOrigin}/auth/callback`);
      await buildProduction();
      const port = await freePort();
      gateway = await startGatewayProcess({
        command: process.execPath,
        args: [DIST_MAIN],
        cwd: REPO_ROOT,
        port,
        env: tenantEnv(emulator, demo, {
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(port),
          GRAPH_AUTH_FLOW: 'authorization-code',
          REDIRECT_URI: `${publicOrigin}/auth/callback`,
          TRUSTED_PROXIES: 'loopback',
          TOKEN_CACHE_KEY: 'browser headers test key',
          LOG_LEVEL: 'warn',
          ...apiKeyCallers({ admin: { key: ADMIN_KEY, permissions: ['Gateway.Admin', 'Users.Read'] } }),
        }),
      });
      proxy = await startTlsProxy(proxyPort, gateway.url);
    }, 240_000);
    afterAll(async () => {
      gateway?.kill();
      await new Promise((resolve) => proxy?.close(resolve));
      await emulator?.close();
    });

    it('the operator signs in with a __Host- cookie over https; every answer through the proxy carries HSTS', async () => {
      const minted = await fetch(`${gateway.url}/auth/login-link`, { method: 'POST', headers: { 'x-api-key': ADMIN_KEY } });
      expect(minted.status).toBe(201);
      const { url: link } = (await minted.json()) as { url: string };
      expect(link.startsWith(`${publicOrigin}/auth/login?link=`)).toBe(true);

      const ctx = await context();
      const page = await ctx.newPage();
      const seen: Array<Promise<{ url: string; cookie: string | null; hsts: string | null }>> = [];
      page.on('response', (response) => {
        // headerValue(): Playwright's headers() leaves Set-Cookie out.
        if (response.url().startsWith(publicOrigin))
          seen.push(
            Promise.all([response.headerValue('set-cookie'), response.headerValue('strict-transport-security')]).then(([cookie, hsts]) => ({
              url: response.url(),
              cookie,
              hsts,
            })),
          );
      });
      const sent: Array<Promise<string | null>> = [];
      page.on('request', (req) => {
        if (req.url().startsWith(`${publicOrigin}/auth/callback`)) sent.push(req.headerValue('cookie'));
      });
      await page.goto(link);
      expect(await page.locator('h1').textContent()).toBe('Signed in');

      const answers = await Promise.all(seen);
      expect(answers).toHaveLength(2);
      const [login, callback] = answers;
      expect(login!.url.startsWith(`${publicOrigin}/auth/login`)).toBe(true);
      expect(login!.cookie).toMatch(/^__Host-mgug_sign_in=[\w-]{40,}; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/);
      // Chromium kept it and sent it back to the callback.
      expect(await Promise.all(sent)).toEqual([expect.stringMatching(/^__Host-mgug_sign_in=[\w-]{40,}$/)]);
      expect(callback!.url.startsWith(`${publicOrigin}/auth/callback`)).toBe(true);
      expect(callback!.cookie).toBe('__Host-mgug_sign_in=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure');
      // The removal was accepted: a __Host- cookie is removed only by a Set-Cookie that is itself Secure.
      expect((await ctx.cookies(publicOrigin)).map((c) => c.name)).toEqual([]);
      for (const answer of answers) expect(answer.hsts, answer.url).toBe('max-age=31536000');
      await ctx.close();

      // Straight to the gateway (no proxy, plain http): no HSTS.
      const direct = await fetch(`${gateway.url}/healthz`);
      expect(direct.headers.get('strict-transport-security')).toBeNull();
    }, 60_000);

    it('a callback bringing the binding under the old, unprefixed name is refused as unbound; the same binding under __Host- completes', async () => {
      // What a sign-in started before an upgrade brings back: the callback reads only the name it set (src/identity/sign-in-cookie.ts).
      const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
      try {
        const viaProxy = (url: string, headers: Record<string, string> = {}) => undiciFetch(url, { headers, redirect: 'manual', dispatcher });
        const minted = await fetch(`${gateway.url}/auth/login-link`, { method: 'POST', headers: { 'x-api-key': ADMIN_KEY } });
        const { url: link } = (await minted.json()) as { url: string };
        const login = await viaProxy(link);
        expect(login.status).toBe(302);
        const binding = /^__Host-mgug_sign_in=([\w-]+);/.exec(login.headers.get('set-cookie') ?? '')![1]!;
        const consent = await emulator.fetch(login.headers.get('location')!, { redirect: 'manual' });
        const callback = consent.headers.get('location')!;
        expect(callback.startsWith(`${publicOrigin}/auth/callback?`)).toBe(true);

        const oldName = await viaProxy(callback, { cookie: `mgug_sign_in=${binding}`, accept: 'application/json' });
        expect(oldName.status).toBe(401);
        expect(((await oldName.json()) as { message: string }).message).toMatch(/\/auth\/login/);
        const newName = await viaProxy(callback, { cookie: `__Host-mgug_sign_in=${binding}`, accept: 'application/json' });
        expect(newName.status).toBe(200);
        await newName.arrayBuffer();
      } finally {
        await dispatcher.close();
      }
    }, 60_000);
  });
});
