import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@keyv/redis';
import { createSignInLinks, LEGACY_SPENT_LINK_KEY_PREFIX, openSpentLinksInRedis, spentLinkKey, spentLinksSinceKey } from '../../src/identity/sign-in-link.js';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';

/**
 * Two self-deployed gateways of different Graph identities (app registrations) on one Redis
 * (docs/security.md#one-redis-for-several-gateways). The record of spent sign-in links began at one
 * global key, `mgug:sign-in-links-since`, set with the clock of whichever gateway found it missing:
 * - a gateway whose clock ran behind began it early, so after Redis forgot the spent links another
 *   identity's spent link worked again (replay);
 * - a gateway whose clock ran ahead began it late, so another identity's new links were refused.
 * Each identity now has its own record; the other gateway's clock does not touch it.
 */
const skipRedis = redisSkipReason();
const LOGIN = 'http://127.0.0.1:9/auth/login';
const IDENTITY_A = 'authorization-code-aaaaaaaaaaaaaaaaaaaaaaaa';
const IDENTITY_B = 'authorization-code-bbbbbbbbbbbbbbbbbbbbbbbb';
const TEN_MINUTES = 10 * 60_000;

describe.skipIf(!!skipRedis)('one Redis shared by gateways of different Graph identities: sign-in links', () => {
  let redis: TestRedis;
  let client: ReturnType<typeof createClient>;
  const linkOf = (url: string) => new URL(url).searchParams.get('link')!;

  beforeAll(async () => {
    redis = await startTestRedis();
    client = createClient({ url: redis.url });
    await client.connect();
  }, 30_000);
  afterAll(async () => {
    await client?.close();
    await redis?.stop();
  });

  it("a gateway whose clock runs behind does not make another identity's spent link work again after Redis forgot it", async () => {
    await client.flushAll();
    const a = createSignInLinks({ key: randomBytes(32), spent: await openSpentLinksInRedis(client, IDENTITY_A) });
    const link = a.mint(LOGIN, 'operator@a');
    expect(await a.redeem(linkOf(link.url))).toMatchObject({ ok: true });
    // Redis forgets (restart without persistence); gateway B, ten minutes behind, starts first.
    await client.flushAll();
    const behind = () => Date.now() - TEN_MINUTES;
    await openSpentLinksInRedis(client, IDENTITY_B, behind);
    expect(Number(await client.get(spentLinksSinceKey(IDENTITY_B)))).toBeLessThan(Date.now() - TEN_MINUTES + 60_000);
    // A's own record began again when A next looked, at A's clock: the spent link stays refused.
    expect(await a.redeem(linkOf(link.url))).toEqual({ ok: false, problem: 'before-record' });
    expect(await client.exists(spentLinkKey(IDENTITY_A, link.id))).toBe(0);
  });

  it("a gateway whose clock runs ahead does not refuse another identity's new links", async () => {
    await client.flushAll();
    const ahead = () => Date.now() + TEN_MINUTES;
    const b = createSignInLinks({ key: randomBytes(32), now: ahead, spent: await openSpentLinksInRedis(client, IDENTITY_B, ahead) });
    const a = createSignInLinks({ key: randomBytes(32), spent: await openSpentLinksInRedis(client, IDENTITY_A) });
    const link = a.mint(LOGIN, 'operator@a');
    expect(await a.redeem(linkOf(link.url))).toMatchObject({ ok: true });
    expect(await a.redeem(linkOf(link.url))).toEqual({ ok: false, problem: 'used' });
    // B's links work on B, once: each record is its own.
    const own = b.mint(LOGIN, 'operator@b');
    expect(await b.redeem(linkOf(own.url))).toMatchObject({ ok: true });
    expect(await b.redeem(linkOf(own.url))).toEqual({ ok: false, problem: 'used' });
    // No key names the identity in clear beyond its digest, and the old global key is not written.
    expect(await client.exists('mgug:sign-in-links-since')).toBe(0);
  });

  it('during a rolling upgrade a link spent on a replica of the previous release is refused by a new one, and the other way round', async () => {
    await client.flushAll();
    const key = randomBytes(32);
    const a = createSignInLinks({ key, spent: await openSpentLinksInRedis(client, IDENTITY_A) });
    // What the previous release wrote when it spent a link.
    const old = a.mint(LOGIN, 'operator@a');
    await client.set(`${LEGACY_SPENT_LINK_KEY_PREFIX}${old.id}`, '1', { PX: 60_000 });
    expect(await a.redeem(linkOf(old.url))).toEqual({ ok: false, problem: 'used' });
    // A spend on a new replica is written where the previous release looks too, expiring with the link.
    const fresh = a.mint(LOGIN, 'operator@a');
    expect(await a.redeem(linkOf(fresh.url))).toMatchObject({ ok: true });
    const msLeft = await client.pTTL(`${LEGACY_SPENT_LINK_KEY_PREFIX}${fresh.id}`);
    expect(msLeft).toBeGreaterThan(0);
    expect(msLeft).toBeLessThanOrEqual(fresh.expiresAt.getTime() - Date.now() + 1_000);
  });
});
