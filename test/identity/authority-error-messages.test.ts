import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtVerify, SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { createUpstreamHttp, type UpstreamHttp } from '../../src/http/upstream.js';
import { createJwksResolver } from '../../src/identity/jwks.js';
import { createTenantMetadataSource } from '../../src/identity/tenant-metadata.js';

/**
 * The authority URLs the gateway reads (`{host}/{tenant}/.well-known/openid-configuration`, a v2.0
 * `jwks_uri` `{host}/{tenant}/discovery/v2.0/keys`) hold the tenant id, which in hosted mode is the
 * broker's Token (docs/security.md#the-broker-token-is-a-secret). The errors of a failed read named
 * the URL (and JSON.parse's message quoted the body, which may echo it): whoever logged one leaked
 * the Token. They name the origin now. An authority on loopback answers each way a read can fail.
 */
const TENANT = '3f2a9c1e-7b4d-4e8a-9f01-2c6d8e4b5a70';

describe('errors of a failed authority read name its origin, never the tenant', () => {
  let server: http.Server;
  let upstream: UpstreamHttp;
  let origin: string;
  let mode: 'status' | 'html' | 'no-issuer' | 'two-tenants' = 'status';

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const path = req.url ?? '';
      if (mode === 'status') res.writeHead(503).end(`no ${path}`);
      else if (mode === 'html') res.writeHead(200, { 'content-type': 'application/json' }).end(`${path} is not here`);
      else if (mode === 'no-issuer') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path }));
      else {
        // Each document names another tenant: the message listed both issuers.
        const other = path.includes('/v2.0/') ? '11111111-2222-4333-8444-555555555555' : TENANT;
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ issuer: `${origin}/${other}/v2.0`, jwks_uri: `${origin}/${TENANT}/discovery/v2.0/keys` }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    upstream = createUpstreamHttp({ extraCaPem: [] });
  });

  afterAll(async () => {
    await upstream?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** The message and every cause's message. */
  const messages = (error: unknown): string => {
    const out: string[] = [];
    for (let e = error as { message?: unknown; cause?: unknown; originalError?: unknown } | undefined, i = 0; e && i < 5; i++) {
      out.push(String(e.message));
      e = (e.originalError ?? e.cause) as typeof e;
    }
    return out.join(' <- ');
  };

  it.each([
    ['status', /^GET the tenant's v(1|2)\.0 OpenID metadata at ORIGIN answered HTTP 503$/],
    ['html', /^the tenant's v(1|2)\.0 OpenID metadata at ORIGIN is not JSON$/],
    ['no-issuer', /^the tenant's v(1|2)\.0 OpenID metadata at ORIGIN names no issuer or jwks_uri$/],
    ['two-tenants', /^the OpenID metadata at ORIGIN names issuers of no single tenant/],
  ] as const)('the tenant metadata: %s', async (how, shape) => {
    mode = how;
    const source = createTenantMetadataSource({ upstream, authorityHost: origin, tenant: TENANT });
    const error = await source.get().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(new RegExp(shape.source.replace('ORIGIN', origin.replace(/[.]/g, '\\.'))));
    expect(messages(error).toLowerCase()).not.toContain(TENANT);
  });

  it.each(['status', 'html'] as const)('the signing keys: %s', async (how) => {
    mode = how;
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).setExpirationTime('5m').sign(privateKey);
    const keys = createJwksResolver({ upstream, jwksUri: `${origin}/${TENANT}/discovery/v2.0/keys` });
    const error = await jwtVerify(token, keys).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).originalError?.message).toBe(
      how === 'status' ? `GET the signing keys at ${origin} answered HTTP 503` : `the signing keys at ${origin} are not JSON`,
    );
    expect(messages(error).toLowerCase()).not.toContain(TENANT);
  });
});
