import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKeyvStore,
  createTokenCipher,
  createTokenStore,
  deriveTokenCacheKey,
  TokenCacheKeyMismatchError,
  withLock,
  type KeyvBackend,
} from '../../src/store/index.js';
import type { Config } from '../../src/config-types.js';
import { redisSkipReason, startTestRedis, type TestRedis } from './redis-server.js';
import { sealInLegacyFormat } from './legacy-format.js';

/**
 * One suite, every backend (keyv's habit): memory, SQLite file and a real redis-server, so the
 * adapters cannot drift apart.
 */
const skipRedis = redisSkipReason();
let redis: TestRedis | undefined;
const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-store-'));

beforeAll(async () => {
  if (!skipRedis) redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

type Variant = { name: string; cache: () => Config['cache']; shared: boolean; skip?: string };
const variants: Variant[] = [
  { name: 'memory', cache: () => ({ kind: 'memory' }), shared: false },
  { name: 'sqlite', cache: () => ({ kind: 'sqlite', path: path.join(dataDir, `cache-${randomBytes(4).toString('hex')}.sqlite`) }), shared: true },
  { name: 'redis', cache: () => ({ kind: 'redis', url: redis!.url }), shared: true, skip: skipRedis },
];

const key = deriveTokenCacheKey('correct horse battery staple');

describe.each(variants)('token store on $name', (variant) => {
  const open = async (cache: Config['cache']) => createKeyvStore(cache, { dataDir, keepsRefreshToken: true });

  it.skipIf(!!variant.skip)('round-trips values, encrypted at rest, per identity', async () => {
    const cache = variant.cache();
    const backend = await open(cache);
    const a = await createTokenStore(backend, createTokenCipher(key), `id-a-${randomBytes(3).toString('hex')}`);
    const b = await createTokenStore(backend, createTokenCipher(key), `id-b-${randomBytes(3).toString('hex')}`);
    await a.set('msal-cache', '{"RefreshToken":{"x":"secret-refresh-token"}}');
    expect(await a.get('msal-cache')).toBe('{"RefreshToken":{"x":"secret-refresh-token"}}');
    expect(await b.get('msal-cache')).toBeUndefined();
    const raw = await backend.keyv.get(`${a.identityId}:msal-cache`);
    expect(raw).toMatch(/^v2\./);
    expect(raw).not.toContain('secret-refresh-token');
    await a.delete('msal-cache');
    expect(await a.get('msal-cache')).toBeUndefined();
    await backend.close();
  });

  it.skipIf(!!variant.skip)("refuses a value copied from another identity's or another record's slot, even with the same key", async () => {
    const cache = variant.cache();
    const backend = await open(cache);
    const victim = await createTokenStore(backend, createTokenCipher(key), `id-victim-${randomBytes(3).toString('hex')}`);
    const other = await createTokenStore(backend, createTokenCipher(key), `id-other-${randomBytes(3).toString('hex')}`);
    await other.set('broker-refresh-token', 'refresh token of the other identity');
    await other.putShortLived('sign-in', 'pending sign-in of the other identity', 60_000);
    // Whoever can write the store, without the key, copies sealed values between slots.
    await backend.keyv.set(`${victim.identityId}:broker-refresh-token`, await backend.keyv.get(`${other.identityId}:broker-refresh-token`));
    await backend.keyv.set(`${victim.identityId}:short-lived:sign-in`, await backend.keyv.get(`${other.identityId}:short-lived:sign-in`));
    await backend.keyv.set(`${other.identityId}:msal-cache`, await backend.keyv.get(`${other.identityId}:broker-refresh-token`));
    await expect(victim.get('broker-refresh-token')).rejects.toBeInstanceOf(TokenCacheKeyMismatchError);
    await expect(victim.getShortLived('sign-in')).rejects.toBeInstanceOf(TokenCacheKeyMismatchError);
    await expect(other.get('msal-cache')).rejects.toBeInstanceOf(TokenCacheKeyMismatchError);
    expect(await other.get('broker-refresh-token')).toBe('refresh token of the other identity');
    await backend.close();
  });

  // Only stores that outlive the process can be reopened; the memory store has nothing to reopen.
  if (variant.shared) {
    it.skipIf(!!variant.skip)('survives reopening, and a wrong key is a clear startup error', async () => {
      const cache = variant.cache();
      const identityId = `id-${randomBytes(3).toString('hex')}`;
      const first = await createTokenStore(await open(cache), createTokenCipher(key), identityId);
      await first.set('broker-refresh-token', 'rt-value');
      await first.close();

      const again = await createTokenStore(await open(cache), createTokenCipher(key), identityId);
      expect(await again.get('broker-refresh-token')).toBe('rt-value');
      await again.close();

      const wrongBackend = await open(cache);
      const wrong = createTokenStore(wrongBackend, createTokenCipher(deriveTokenCacheKey('another key')), identityId);
      await expect(wrong).rejects.toBeInstanceOf(TokenCacheKeyMismatchError);
      await expect(wrong).rejects.toThrow(/TOKEN_CACHE_KEY does not decrypt the existing token cache at .*; restore the key or run npm run auth:reset/);
      await wrongBackend.close();

      // Nothing was lost: the right key still reads it; reset then accepts a new key.
      const right = await createTokenStore(await open(cache), createTokenCipher(key), identityId);
      expect(await right.get('broker-refresh-token')).toBe('rt-value');
      await right.reset();
      await right.close();
      const fresh = await createTokenStore(await open(cache), createTokenCipher(deriveTokenCacheKey('another key')), identityId);
      expect(await fresh.get('broker-refresh-token')).toBeUndefined();
      await fresh.close();
    });
  }

  if (variant.shared) {
    it.skipIf(!!variant.skip)('opens records an older gateway wrote (v1), counts them, and writes them in the bound format when next written', async () => {
      const cache = variant.cache();
      const identityId = `id-${randomBytes(3).toString('hex')}`;
      const older = await open(cache);
      await older.keyv.set(`${identityId}:key-check`, sealInLegacyFormat(key, 'msgraph-user-gateway token cache key check v1'));
      await older.keyv.set(`${identityId}:msal-cache`, sealInLegacyFormat(key, 'cache written before the upgrade'));
      await older.keyv.set(`${identityId}:broker-refresh-token`, sealInLegacyFormat(key, 'rt written before the upgrade'));
      await older.close();

      const upgraded = await createTokenStore(await open(cache), createTokenCipher(key), identityId);
      expect(upgraded.inLegacyFormat).toBe(2);
      expect(upgraded.sealedWithPreviousKey).toBe(0);
      expect(await upgraded.get('broker-refresh-token')).toBe('rt written before the upgrade');
      await upgraded.set('broker-refresh-token', 'rt written after the upgrade');
      await upgraded.close();

      const later = await open(cache);
      // The key check is sealed again at the first start (a constant: nothing to race with); token
      // records only when next written.
      expect(await later.keyv.get(`${identityId}:key-check`)).toMatch(/^v2\./);
      expect(await later.keyv.get(`${identityId}:broker-refresh-token`)).toMatch(/^v2\./);
      expect(await later.keyv.get(`${identityId}:msal-cache`)).toMatch(/^v1\./);
      const again = await createTokenStore(later, createTokenCipher(key), identityId);
      expect(again.inLegacyFormat).toBe(1);
      expect(await again.get('msal-cache')).toBe('cache written before the upgrade');
      await again.close();

      // A rotation after the upgrade ends the old format: v1 values open only with the previous key.
      const rotated = deriveTokenCacheKey('the key after the upgrade');
      const rotating = await createTokenStore(await open(cache), createTokenCipher(rotated, key), identityId);
      expect(rotating.sealedWithPreviousKey).toBe(2);
      await rotating.set('msal-cache', 'cache after the rotation');
      await rotating.set('broker-refresh-token', 'rt after the rotation');
      await rotating.close();
      const done = await createTokenStore(await open(cache), createTokenCipher(rotated), identityId);
      expect(done.inLegacyFormat).toBe(0);
      expect(await done.get('msal-cache')).toBe('cache after the rotation');
      await done.close();
    });

    it.skipIf(!!variant.skip)('rotates TOKEN_CACHE_KEY: the previous key opens what it sealed until each record is written again', async () => {
      const cache = variant.cache();
      const identityId = `id-${randomBytes(3).toString('hex')}`;
      const newKey = deriveTokenCacheKey('the key that replaces it');
      const before = await createTokenStore(await open(cache), createTokenCipher(key), identityId);
      await before.set('msal-cache', 'cache-sealed-before');
      await before.set('broker-refresh-token', 'rt-sealed-before');
      await before.close();

      // The new key alone: a clear start-up error, nothing lost.
      const newOnlyBackend = await open(cache);
      await expect(createTokenStore(newOnlyBackend, createTokenCipher(newKey), identityId)).rejects.toBeInstanceOf(TokenCacheKeyMismatchError);
      await newOnlyBackend.close();

      const rotating = await createTokenStore(await open(cache), createTokenCipher(newKey, key), identityId);
      expect(rotating.sealedWithPreviousKey).toBe(2);
      expect(await rotating.get('broker-refresh-token')).toBe('rt-sealed-before');
      await rotating.set('broker-refresh-token', 'rt-rotated');
      await rotating.close();

      const later = await createTokenStore(await open(cache), createTokenCipher(newKey, key), identityId);
      expect(later.sealedWithPreviousKey).toBe(1);
      await later.set('msal-cache', 'cache-rotated');
      await later.close();

      // Every record written again (and the key check sealed again at the first rotating start): the
      // previous key can go, and the old key alone no longer opens the store.
      const done = await createTokenStore(await open(cache), createTokenCipher(newKey), identityId);
      expect(done.sealedWithPreviousKey).toBe(0);
      expect(await done.get('msal-cache')).toBe('cache-rotated');
      expect(await done.get('broker-refresh-token')).toBe('rt-rotated');
      await done.close();
      const oldOnlyBackend = await open(cache);
      await expect(createTokenStore(oldOnlyBackend, createTokenCipher(key), identityId)).rejects.toBeInstanceOf(TokenCacheKeyMismatchError);
      await oldOnlyBackend.close();
    });
  }

  it.skipIf(!!variant.skip)('short-lived records: sealed, gone after their time, taken by exactly one of the connections racing for one', async () => {
    const cache = variant.cache();
    const backends: KeyvBackend[] = variant.shared ? [await open(cache), await open(cache)] : [await open(cache)];
    const identityId = `id-${randomBytes(3).toString('hex')}`;
    const stores = await Promise.all(backends.map((b) => createTokenStore(b, createTokenCipher(key), identityId)));
    const last = stores.at(-1)!;
    await stores[0]!.putShortLived('sign-in:abc', '{"verifier":"pkce-secret"}', 60_000);
    expect(await last.getShortLived('sign-in:abc')).toBe('{"verifier":"pkce-secret"}');
    expect(JSON.stringify(await backends[0]!.keyv.get(`${identityId}:short-lived:sign-in:abc`))).not.toContain('pkce-secret');
    const taken = await Promise.all(stores.flatMap((s) => [s.takeShortLived('sign-in:abc'), s.takeShortLived('sign-in:abc')]));
    expect(taken.filter(Boolean)).toHaveLength(1);
    expect(await last.getShortLived('sign-in:abc')).toBeUndefined();
    await stores[0]!.putShortLived('sign-in:brief', 'x', 50);
    await new Promise((r) => setTimeout(r, 120));
    expect(await last.getShortLived('sign-in:brief')).toBeUndefined();
    for (const s of stores) await s.close();
  });

  it.skipIf(!!variant.skip)('the lock admits one holder at a time, even from separate connections', async () => {
    const cache = variant.cache();
    const backends: KeyvBackend[] = variant.shared ? [await open(cache), await open(cache)] : [await open(cache)];
    let inside = 0;
    let maxInside = 0;
    let runs = 0;
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        withLock(backends[i % backends.length]!.lock, 'refresh:test', async () => {
          inside += 1;
          maxInside = Math.max(maxInside, inside);
          await new Promise((r) => setTimeout(r, 5));
          runs += 1;
          inside -= 1;
        }),
      ),
    );
    expect(runs).toBe(12);
    expect(maxInside).toBe(1);
    for (const b of backends) await b.close();
  });

  it.skipIf(!!variant.skip)('an expired lock can be taken over, and the old owner cannot release the new one', async () => {
    const backend = await open(variant.cache());
    expect(await backend.lock.tryAcquire('l', 'owner-1', 50)).toBe(true);
    expect(await backend.lock.tryAcquire('l', 'owner-2', 50)).toBe(false);
    await new Promise((r) => setTimeout(r, 80));
    expect(await backend.lock.tryAcquire('l', 'owner-2', 5_000)).toBe(true);
    await backend.lock.release('l', 'owner-1');
    expect(await backend.lock.tryAcquire('l', 'owner-3', 5_000)).toBe(false);
    await backend.lock.release('l', 'owner-2');
    expect(await backend.lock.tryAcquire('l', 'owner-3', 5_000)).toBe(true);
    await backend.close();
  });
});

describe.skipIf(!!skipRedis)('token store on Redis while Redis is down', () => {
  it('fails fast instead of waiting for Redis: token reads answer nothing; sign-in records, writes and the refresh lock are 503; close returns', async () => {
    // A Redis of its own: this test stops it.
    const own = await startTestRedis();
    const backend = await createKeyvStore({ kind: 'redis', url: own.url }, { dataDir, keepsRefreshToken: true });
    const store = await createTokenStore(backend, createTokenCipher(key), `id-down-${randomBytes(3).toString('hex')}`);
    await store.set('msal-cache', '{"kept":true}');
    await own.stop();

    const started = Date.now();
    // keyv answers a failed read as "nothing stored": client credentials then simply ask Entra again.
    expect(await store.get('msal-cache')).toBeUndefined();
    await expect(store.set('msal-cache', '{"new":true}')).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    await expect(store.putShortLived('sign-in:x', 'pending', 60_000)).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    // A sign-in record that cannot be read is not "no sign-in waiting": that made the operator's
    // callback a guessed state, counted as a failed authentication.
    await expect(store.getShortLived('sign-in:x')).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', message: expect.stringMatching(/could not be read/) });
    await expect(store.takeShortLived('sign-in:x')).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    await expect(store.withRefreshLock(async () => 'redeemed')).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      message: expect.stringMatching(/refresh lock/),
    });
    await store.close();
    // Before: node-redis's offline queue held every one of these until Redis came back.
    expect(Date.now() - started).toBeLessThan(3_000);
  }, 30_000);
});
