import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { createMetrics } from '../../src/metrics.js';
import { createPlayground } from '../../src/playground/index.js';
import { createMetricsHandler } from '../../src/server.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { capturingLogger } from '../support/log-capture.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * The headers a scanner looks for, on one request per route (src/http/security-headers.ts): every
 * answer has `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
 * `Referrer-Policy: no-referrer`, `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Resource-Policy: same-origin`, whoever wrote it (a route, Apollo, a refusal, the
 * 404); every HTML page also has a CSP with `frame-ancestors 'none'`. The /auth/* answers carry
 * sign-in links, codes and the redirect to Entra ID: no referrer may leak them. HSTS only on an
 * answer that went out over HTTPS, as a TRUSTED_PROXIES peer says (X-Forwarded-Proto). Production
 * configuration with the playground and introspection on, authorization-code flow (so the /auth/*
 * routes exist). What a browser makes of COOP and CORP: test/http/browser-headers.browser.test.ts.
 */
const ADMIN_KEY = 'security-headers-admin-key-0123456789';

let emulator: TestEmulator;
let app: App;
const logLines: string[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 10 });
  const config = loadSandboxConfig(emulator, {
    NODE_ENV: 'production',
    PLAYGROUND: 'true',
    INTROSPECTION: 'true',
    GRAPH_AUTH_FLOW: 'authorization-code',
    ...apiKeyCallers({ admin: { key: ADMIN_KEY, permissions: ['Gateway.Admin', 'Users.Read'] } }),
    TOKEN_CACHE_KEY: 'security headers test key',
  });
  app = await startApp(config, { emulator, logger: capturingLogger(logLines, 'info') });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await emulator?.close();
});

function expectBaseline(response: Response, what: string): void {
  const headers = Object.fromEntries(response.headers);
  expect({
    what,
    nosniff: headers['x-content-type-options'],
    frame: headers['x-frame-options'],
    referrer: headers['referrer-policy'],
    opener: headers['cross-origin-opener-policy'],
    resource: headers['cross-origin-resource-policy'],
    // Over plain HTTP, never (RFC 6797 §7.2).
    hsts: headers['strict-transport-security'],
  }).toEqual({
    what,
    nosniff: 'nosniff',
    frame: 'DENY',
    referrer: 'no-referrer',
    opener: 'same-origin',
    resource: 'same-origin',
    hsts: undefined,
  });
}

function expectHtmlPage(response: Response, what: string): void {
  expectBaseline(response, what);
  expect(response.headers.get('content-type'), what).toMatch(/^text\/html/);
  expect(response.headers.get('content-security-policy'), what).toMatch(/frame-ancestors 'none'/);
}

/** fetch, with the body read to its end (an unread body on a closing connection trips undici). */
async function call(url: string, init?: RequestInit): Promise<Response> {
  const response = await fetch(url, init);
  await response.arrayBuffer();
  return response;
}

const html = { accept: 'text/html,application/xhtml+xml' };
const key = { 'x-api-key': ADMIN_KEY };

describe('security headers on every route', () => {
  it('HTML pages: the playground (GET /graphql from a browser, /playground)', async () => {
    expectHtmlPage(await call(`${app.url}/graphql`, { headers: html }), 'GET /graphql (browser)');
    expectHtmlPage(await call(`${app.url}/playground`, { headers: html }), 'GET /playground');
  });

  it('JSON and text: GraphQL (answered, refused, wrong method), SDL, health, readiness, metrics, assets, 404', async () => {
    const answered = await call(`${app.url}/graphql`, {
      method: 'POST',
      headers: { ...key, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ users(first: 1) { nodes { id } } }' }),
    });
    expect(answered.status).toBe(200);
    expectBaseline(answered, 'POST /graphql');
    expectBaseline(await call(`${app.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: key }), 'GET /graphql?query=');
    const refused = await call(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(refused.status).toBe(401);
    expectBaseline(refused, 'POST /graphql without a credential');
    expectBaseline(await call(`${app.url}/graphql`, { method: 'PUT' }), 'PUT /graphql');
    expectBaseline(await call(`${app.url}/schema.graphql`), 'GET /schema.graphql');
    expectBaseline(await call(`${app.url}/healthz`), 'GET /healthz');
    expectBaseline(await call(`${app.url}/readyz`), 'GET /readyz');
    expectBaseline(await call(`${app.url}/metrics`), 'GET /metrics');
    const page = await (await fetch(`${app.url}/graphql`, { headers: html })).text();
    const script = /src="(\/playground\/assets\/graphiql\.min\.[0-9a-f]+\.js)"/.exec(page)![1]!;
    expectBaseline(await call(`${app.url}${script}`), 'GET /playground/assets/graphiql.min.<hash>.js');
    expectBaseline(await call(`${app.url}/no-such-route`), 'GET /no-such-route');
  });

  it('/auth/*: refusal pages, the sign-in link, both redirects to Entra ID, the callback page', async () => {
    const refused = await call(`${app.url}/auth/login`, { headers: html, redirect: 'manual' });
    expect(refused.status).toBe(401);
    expectHtmlPage(refused, 'GET /auth/login without a credential');

    const linkAnswer = await fetch(`${app.url}/auth/login-link`, { method: 'POST', headers: key });
    expect(linkAnswer.status).toBe(201);
    expectBaseline(linkAnswer, 'POST /auth/login-link');
    const { url: link } = (await linkAnswer.json()) as { url: string };

    // The redirect to Entra ID of a one-time link: the link is in this page's URL, so no referrer.
    const viaLink = await call(link.replace(/^https?:\/\/[^/]+/, app.url), { headers: html, redirect: 'manual' });
    expect(viaLink.status).toBe(302);
    expectBaseline(viaLink, 'GET /auth/login?link=');
    const viaKey = await call(`${app.url}/auth/login`, { headers: key, redirect: 'manual' });
    expect(viaKey.status).toBe(302);
    expectBaseline(viaKey, 'GET /auth/login (operator key)');

    const callback = await call(`${app.url}/auth/callback?code=not-a-code&state=not-a-state`, { headers: html });
    expect(callback.status).toBe(400);
    expectHtmlPage(callback, 'GET /auth/callback (unknown state)');
    const callbackJson = await call(`${app.url}/auth/callback?code=not-a-code&state=not-a-state`);
    expectBaseline(callbackJson, 'GET /auth/callback (JSON)');
    expectBaseline(await call(`${app.url}/auth/login-link`), 'GET /auth/login-link (wrong method)');
  });

  it('the METRICS_PORT listener too', async () => {
    const server = createServer(createMetricsHandler(createMetrics({ defaultMetrics: false }), capturingLogger(logLines, 'info')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expectBaseline(await call(`${url}/metrics`), 'GET /metrics (METRICS_PORT)');
      expectBaseline(await call(`${url}/other`), 'GET /other (METRICS_PORT)');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('the playground pages carry the headers themselves too (PLAYGROUND on and off)', () => {
    for (const [what, playground] of [
      ['on', createPlayground({})],
      ['off', createPlayground({ enabled: false })],
    ] as const) {
      let written: Record<string, unknown> = {};
      const res = {
        writeHead(_status: number, headers: Record<string, unknown>) {
          written = headers;
          return res;
        },
        end() {
          return res;
        },
      };
      playground.servePage(res as unknown as ServerResponse);
      expect({
        what,
        frame: written['x-frame-options'],
        nosniff: written['x-content-type-options'],
        referrer: written['referrer-policy'],
        opener: written['cross-origin-opener-policy'],
        resource: written['cross-origin-resource-policy'],
      }).toEqual({
        what,
        frame: 'DENY',
        nosniff: 'nosniff',
        referrer: 'no-referrer',
        opener: 'same-origin',
        resource: 'same-origin',
      });
      expect(String(written['content-security-policy'])).toMatch(/frame-ancestors 'none'/);
    }
  });
});

describe('Strict-Transport-Security: only when the request came over HTTPS', () => {
  const https = { 'x-forwarded-proto': 'https' };

  it('without TRUSTED_PROXIES a client cannot claim HTTPS: no HSTS, whatever X-Forwarded-Proto says', async () => {
    for (const path of ['/healthz', '/graphql', '/no-such-route']) {
      const answer = await call(`${app.url}${path}`, { headers: { ...https, ...html } });
      expect(answer.headers.get('strict-transport-security'), path).toBeNull();
    }
  });

  describe('behind a TLS-terminating proxy in TRUSTED_PROXIES', () => {
    let proxied: App;
    let untrusted: App;
    beforeAll(async () => {
      const env = {
        NODE_ENV: 'production',
        PLAYGROUND: 'true',
        GRAPH_AUTH_FLOW: 'authorization-code',
        ...apiKeyCallers({ admin: { key: ADMIN_KEY, permissions: ['Gateway.Admin', 'Users.Read'] } }),
        TOKEN_CACHE_KEY: 'security headers test key',
      };
      // The test's requests come from 127.0.0.1: a trusted proxy for one gateway, not for the other.
      proxied = await startApp(loadSandboxConfig(emulator, { ...env, TRUSTED_PROXIES: 'loopback' }), { emulator, logger: capturingLogger(logLines, 'info') });
      untrusted = await startApp(loadSandboxConfig(emulator, { ...env, TRUSTED_PROXIES: '10.0.0.0/8' }), {
        emulator,
        logger: capturingLogger(logLines, 'info'),
      });
    }, 60_000);
    afterAll(async () => {
      await proxied?.close();
      await untrusted?.close();
    });

    it('the proxy says https: every route sends HSTS for a year, this host only', async () => {
      const answers: Array<[string, Response]> = [
        ['GET /graphql (browser)', await call(`${proxied.url}/graphql`, { headers: { ...https, ...html } })],
        [
          'POST /graphql',
          await call(`${proxied.url}/graphql`, {
            method: 'POST',
            headers: { ...https, ...key, 'content-type': 'application/json' },
            body: '{"query":"{ __typename }"}',
          }),
        ],
        ['GET /auth/login (redirect to Entra ID)', await call(`${proxied.url}/auth/login`, { headers: { ...https, ...key }, redirect: 'manual' })],
        ['GET /auth/callback', await call(`${proxied.url}/auth/callback?code=x&state=y`, { headers: { ...https, ...html } })],
        ['GET /healthz', await call(`${proxied.url}/healthz`, { headers: https })],
        ['GET /readyz', await call(`${proxied.url}/readyz`, { headers: https })],
        ['GET /metrics', await call(`${proxied.url}/metrics`, { headers: https })],
        ['GET /no-such-route', await call(`${proxied.url}/no-such-route`, { headers: https })],
      ];
      for (const [what, answer] of answers) expect(answer.headers.get('strict-transport-security'), what).toBe('max-age=31536000');
    });

    it("the proxy says http, says nothing, or passed on a client's https after its own http: no HSTS", async () => {
      const protos: Array<Record<string, string>> = [
        { 'x-forwarded-proto': 'http' },
        {},
        { 'x-forwarded-proto': 'https, http' },
        { 'x-forwarded-proto': 'wss' },
      ];
      for (const proto of protos) {
        const answer = await call(`${proxied.url}/healthz`, { headers: proto });
        expect(answer.headers.get('strict-transport-security'), JSON.stringify(proto)).toBeNull();
      }
    });

    it('a peer outside TRUSTED_PROXIES is not believed', async () => {
      const answer = await call(`${untrusted.url}/healthz`, { headers: https });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('strict-transport-security')).toBeNull();
    });
  });
});
