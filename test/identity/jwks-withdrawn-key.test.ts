import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, errors as joseErrors, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createUpstreamHttp, type UpstreamHttp } from '../../src/http/upstream.js';
import { createJwksResolver, KEYS_MAX_AGE_MS } from '../../src/identity/jwks.js';

/**
 * Entra rolls its signing keys over periodically and, in an emergency, at once
 * (docs/graph-facts.md#signing-keys): a key withdrawn from the `jwks_uri` must stop verifying
 * tokens. The resolver fetched the keys once and went back only for a `kid` it did not know, so a
 * withdrawn key (a leaked one, the reason for an emergency rollover) verified forged tokens for as
 * long as the process ran. Now the keys are fetched again once they are KEYS_MAX_AGE_MS old; while
 * that fetch fails, the keys held keep serving (an authority outage must not lock every caller out),
 * each failure is told (the gateway's warning) and the fetch is tried again every 10 s beside the
 * requests.
 */
describe('signing keys withdrawn by the authority', () => {
  let server: http.Server;
  let upstream: UpstreamHttp;
  let jwksUri: string;
  let published: JWK[] = [];
  let failing = false;
  let hits = 0;
  const signers: Record<string, CryptoKey> = {};

  const token = (kid: string) => new SignJWT({ sub: `caller-${kid}` }).setProtectedHeader({ alg: 'RS256', kid }).setExpirationTime('10y').sign(signers[kid]!);

  beforeAll(async () => {
    for (const kid of ['kept', 'withdrawn']) {
      const { privateKey, publicKey } = await generateKeyPair('RS256');
      signers[kid] = privateKey;
      published.push({ ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' });
    }
    server = http.createServer((_req, res) => {
      hits += 1;
      if (failing) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`;
    upstream = createUpstreamHttp({ extraCaPem: [] });
  });

  afterAll(async () => {
    await upstream?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('stops verifying a withdrawn key once the keys held are KEYS_MAX_AGE_MS old; keeps the keys held while the authority fails', async () => {
    let clock = 1_000_000;
    const told: string[] = [];
    const keys = createJwksResolver({ upstream, jwksUri, now: () => clock, onStaleRefreshFailure: (error) => told.push((error as Error).message) });
    const verify = async (kid: string) => (await jwtVerify(await token(kid), keys, { algorithms: ['RS256'], currentDate: new Date(clock) })).payload.sub;

    expect(await verify('withdrawn')).toBe('caller-withdrawn');
    expect(hits).toBe(1);

    // Emergency rollover: the authority withdraws the key.
    published = published.filter((key) => key.kid !== 'withdrawn');
    clock += 60 * 60 * 1000;
    expect(await verify('withdrawn')).toBe('caller-withdrawn'); // within the age, as before
    expect(hits).toBe(1);

    // Past the age the keys are fetched again, and the withdrawn key verifies nothing.
    clock += KEYS_MAX_AGE_MS;
    await expect(verify('withdrawn')).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
    expect(await verify('kept')).toBe('caller-kept');
    expect(hits).toBe(2);

    // Past the age again, with the authority failing: the keys held keep serving, one fetch per 10 s.
    failing = true;
    clock += KEYS_MAX_AGE_MS + 1;
    expect(await verify('kept')).toBe('caller-kept');
    expect(hits).toBe(3);
    clock += 5_000;
    expect(await verify('kept')).toBe('caller-kept');
    expect(hits).toBe(3);
    clock += 5_000;
    // Further attempts do not hold the request up: the keys held answer, the fetch runs beside it.
    expect(await verify('kept')).toBe('caller-kept');
    await vi.waitFor(() => expect(hits).toBe(4));
    await vi.waitFor(() => expect(told).toHaveLength(2));

    // Back: fetched once more, and then held again for the full age.
    failing = false;
    clock += 10_000;
    expect(await verify('kept')).toBe('caller-kept');
    await vi.waitFor(() => expect(hits).toBe(5));
    clock += 60_000;
    expect(await verify('kept')).toBe('caller-kept');
    expect(hits).toBe(5);
  });
});
