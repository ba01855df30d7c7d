import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressKey } from '../../src/http/client-address.js';
import type { TestGateway } from '../support/gateway.js';
import { GOOD_KEY, READ_QUERY, startKeyGuardedGateway, WRONG_KEY } from '../support/key-guarded-gateway.js';

/**
 * A failed authentication leaves a `warn` line (reason, client address, correlation id; never the
 * credential), a count in gateway_authentication_failures_total{reason}, and uses up the client
 * address's budget: after AUTH_FAILURE_LIMIT failures in the window, every request from it gets
 * 429 THROTTLED with Retry-After until the window ends, a good key included. Production configuration.
 */

describe('failed caller authentication', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startKeyGuardedGateway({ env: { AUTH_FAILURE_LIMIT: '3', AUTH_FAILURE_WINDOW_SECONDS: '3' } });
  }, 60_000);
  afterAll(() => gw.close());

  const failures = () => gw.logRecords('caller authentication failed');
  const metric = async () =>
    (await gw.metrics.registry.getSingleMetricAsString('gateway_authentication_failures_total')).split('\n').filter((l) => !l.startsWith('#'));

  it('logs each failure at warn with its reason, address and correlation id, never the key, and counts it', async () => {
    const missing = await gw.graphql(READ_QUERY, undefined, { 'x-correlation-id': 'corr-missing-0001' });
    expect(missing.status).toBe(401);
    const wrong = await gw.graphql(READ_QUERY, undefined, { 'x-api-key': WRONG_KEY, 'x-correlation-id': 'corr-wrong-00002' });
    expect(wrong.status).toBe(401);
    expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const lines = failures();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 'warn',
      reason: 'missing_credential',
      clientAddress: '127.0.0.1',
      correlationId: 'corr-missing-0001',
      route: '/graphql',
    });
    expect(lines[1]).toMatchObject({
      level: 'warn',
      reason: 'invalid_api_key',
      clientAddress: '127.0.0.1',
      correlationId: 'corr-wrong-00002',
      failures: 2,
      limit: 3,
    });
    expect(gw.logLines.join('')).not.toContain(WRONG_KEY);
    expect(await metric()).toEqual(
      expect.arrayContaining([
        'gateway_authentication_failures_total{reason="missing_credential"} 1',
        'gateway_authentication_failures_total{reason="invalid_api_key"} 1',
      ]),
    );
  });

  it('after the limit, refuses every request from the address with 429 and Retry-After, without any upstream call, until the window ends', async () => {
    expect((await gw.graphql(READ_QUERY, undefined, { 'x-api-key': WRONG_KEY })).status).toBe(401); // the third failure
    await gw.emulator.resetStats();
    const blocked = await gw.graphql(READ_QUERY, undefined, { 'x-api-key': GOOD_KEY });
    expect(blocked.status).toBe(429);
    expect(blocked.errors?.[0]?.extensions).toMatchObject({ code: 'THROTTLED', reason: 'AUTHENTICATION_FAILURES' });
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3);
    expect((await gw.graphql(READ_QUERY, undefined, { 'x-api-key': WRONG_KEY })).status).toBe(429);
    expect((await gw.emulator.stats()).totalRequests).toBe(0);
    expect(await metric()).toContain('gateway_authentication_failures_total{reason="throttled"} 2');

    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 200));
    const again = await gw.graphql(READ_QUERY, undefined, { 'x-api-key': GOOD_KEY });
    expect(again.status).toBe(200);
    expect(again.data?.users.nodes).toHaveLength(1);
  }, 20_000);

  it('ignores X-Forwarded-For without TRUSTED_PROXIES: a guesser cannot give each guess a fresh address', async () => {
    const before = failures().length;
    for (const forwarded of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) {
      expect((await gw.graphql(READ_QUERY, undefined, { 'x-api-key': WRONG_KEY, 'x-forwarded-for': forwarded })).status).toBe(401);
    }
    const blocked = await gw.graphql(READ_QUERY, undefined, { 'x-api-key': GOOD_KEY, 'x-forwarded-for': '198.51.100.4' });
    expect(blocked.status).toBe(429);
    expect(
      failures()
        .slice(before)
        .map((r) => r.clientAddress),
    ).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
  });
});

describe('the address failures count under', () => {
  it('is the IPv4 address, an IPv4-mapped IPv6 address as IPv4, an IPv6 address as its /64 in one spelling, anything else as given', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('2001:db8:1:2::99')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0DB8:0001:0002:0000:0000:0000:0001')).toBe('2001:db8:1:2::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80::/64');
    expect(addressKey('::1')).toBe('::/64');
    expect(addressKey('not-an-address')).toBe('not-an-address');
    expect(addressKey(undefined)).toBe('unknown');
  });
});
