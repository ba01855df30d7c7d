import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../support/gateway.js';
import { GOOD_KEY, READ_QUERY, startKeyGuardedGateway, WRONG_KEY } from '../support/key-guarded-gateway.js';

/**
 * Behind TRUSTED_PROXIES, the walk over `X-Forwarded-For` stops at the first entry that is not an
 * address: the nearest hop that is one is the client (docs/security.md#client-address). Before,
 * such an entry was the client itself: a peer in the trusted range (on Kubernetes, the pod
 * network) put up to 16 KB of text of its choice into `clientAddress` of log lines and sign-in
 * audit events, and each different text was a fresh failure budget and a fresh key of the
 * in-memory failure counts, whose bound of 10,000 addresses was sized for addresses, not 16 KB keys.
 */

describe('X-Forwarded-For entries that are not addresses', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startKeyGuardedGateway({ env: { TRUSTED_PROXIES: 'loopback', AUTH_FAILURE_LIMIT: '2', AUTH_FAILURE_WINDOW_SECONDS: '30' } });
  }, 60_000);
  afterAll(() => gw.close());

  const failures = () => gw.logRecords('caller authentication failed');

  it('are not a client address: the nearest hop that is an address counts, and a fresh text is no fresh budget', async () => {
    const junk = (i: number) => `not-an-address-${i}-${'x'.repeat(4000)}`;
    for (let i = 0; i < 2; i++) {
      const answer = await gw.graphql(READ_QUERY, undefined, { 'x-api-key': WRONG_KEY, 'x-forwarded-for': `${junk(i)}, 127.0.0.2` });
      expect(answer.status).toBe(401);
    }
    const lines = failures();
    expect(lines.map((l) => l.clientAddress)).toEqual(['127.0.0.2', '127.0.0.2']);
    expect(gw.logLines.join('')).not.toContain('not-an-address');
    // The third text is no third budget: its address is used up.
    const third = await gw.graphql(READ_QUERY, undefined, { 'x-api-key': GOOD_KEY, 'x-forwarded-for': `${junk(2)}, 127.0.0.2` });
    expect(third.status).toBe(429);
    // Only the entry's owner is blocked: a real address further left still counts as itself.
    const other = await gw.graphql(READ_QUERY, undefined, { 'x-api-key': GOOD_KEY, 'x-forwarded-for': '127.0.0.3, 127.0.0.2' });
    expect(other.status).toBe(200);
  });
});
