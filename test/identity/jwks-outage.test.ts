import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, GatewayError } from '../../src/errors.js';
import { createUpstreamHttp, type UpstreamHttp } from '../../src/http/upstream.js';
import { createJwksResolver } from '../../src/identity/jwks.js';

/**
 * An authority whose signing keys cannot be fetched (its `jwks_uri` answers 503, then recovers),
 * served on loopback. Before: the fetch error reached jose, the caller got 401 "could not be
 * verified", each valid token counted as a failed authentication, and every request fetched the
 * keys again. Now: 503 UPSTREAM_UNAVAILABLE (not counted), one fetch per 10 s while it fails.
 */
describe('signing keys that cannot be fetched', () => {
  let server: http.Server;
  let upstream: UpstreamHttp;
  let jwksUri: string;
  let failing = true;
  let hits = 0;
  let token: string;
  let jwks: unknown;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', use: 'sig', alg: 'RS256' }] };
    token = await new SignJWT({ sub: 'caller' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setExpirationTime('10m').sign(privateKey);
    server = http.createServer((_req, res) => {
      hits += 1;
      if (failing) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`;
    upstream = createUpstreamHttp({ extraCaPem: [] });
  });

  afterAll(async () => {
    await upstream?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('is the authority’s outage (UPSTREAM_UNAVAILABLE, Retry-After), asked again only after 10 s, and verifies once the keys are back', async () => {
    let clock = 1_000_000;
    const keys = createJwksResolver({ upstream, jwksUri, now: () => clock });
    const verify = () => jwtVerify(token, keys, { algorithms: ['RS256'] });

    const first = await verify().catch((e: unknown) => e);
    expect(first).toBeInstanceOf(GatewayError);
    expect((first as GatewayError).code).toBe(ErrorCode.UPSTREAM_UNAVAILABLE);
    expect((first as GatewayError).extensions.retryAfterSeconds).toBe(10);
    expect(hits).toBe(1);

    // A flood of valid tokens during the outage does not hammer the authority.
    for (let i = 0; i < 5; i++) {
      clock += 1_000;
      expect(((await verify().catch((e: unknown) => e)) as GatewayError).code).toBe(ErrorCode.UPSTREAM_UNAVAILABLE);
    }
    expect(hits).toBe(1);

    failing = false;
    clock += 10_000;
    const { payload } = await verify();
    expect(payload.sub).toBe('caller');
    expect(hits).toBe(2);
  });
});
