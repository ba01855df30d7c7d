import { expect } from 'vitest';
import type { Config } from '../../src/config-types.js';
import { graphIdentityId } from '../../src/identity/identity-id.js';
import { deriveSignInLinkKey, mintSignInLink } from '../../src/identity/sign-in-link.js';

/**
 * The one-time sign-in link an operator gets for a running gateway (as `npm run auth:login-url`
 * prints it): to its /auth/login, signed with the key derived from its TOKEN_CACHE_KEY and Graph
 * identity, as the gateway derives it.
 */
export function operatorSignInLink(app: { url: string; config: Config }, options: { issuedBy?: string; now?: number } = {}): ReturnType<typeof mintSignInLink> {
  const tokenCacheKey = app.config.tokenCacheKey;
  if (!tokenCacheKey) throw new Error('a sign-in link needs the gateway to have a TOKEN_CACHE_KEY');
  return mintSignInLink({
    key: deriveSignInLinkKey(tokenCacheKey.reveal(), graphIdentityId(app.config)),
    loginUrl: `${app.url}/auth/login`,
    issuedBy: options.issuedBy ?? 'operator@test-host',
    ...(options.now !== undefined ? { now: options.now } : {}),
  });
}

/**
 * Opens a valid link at a gateway whose store of spent links cannot record it (Redis down or full)
 * and expects it refused, failing closed: whether another replica spent it is unknown. 503 with a
 * Retry-After, no redirect to sign in, and the reason said.
 */
export async function expectLinkRefusedUnrecorded(linkUrl: string): Promise<void> {
  const refused = await fetch(linkUrl, { redirect: 'manual' });
  expect(refused.status).toBe(503);
  expect(refused.headers.get('location')).toBeNull();
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(((await refused.json()) as { message: string }).message).toMatch(/cannot record that this sign-in link is spent/);
}
