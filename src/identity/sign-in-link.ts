import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { deriveTokenCacheKey } from '../store/encryption.js';

/**
 * One-time sign-in links: how an operator starts `/auth/login` from a browser, which cannot send an
 * API key. A link is `/auth/login?link=<payload>.<mac>`; the payload names the link id, who minted
 * it and when it expires; the MAC is HMAC-SHA256. Two minters:
 * - `npm run auth:login-url`, run where the gateway's configuration is, under a key derived from
 *   TOKEN_CACHE_KEY through the token cache's own scrypt, then HKDF: whoever can mint one already
 *   holds the key that guards the refresh tokens. Not HKDF of the secret alone: one link then let
 *   anyone test guesses of a weak TOKEN_CACHE_KEY offline at hash speed (~75,000 a second in
 *   Python), past the scrypt that makes guessing it through the cache slow;
 * - the gateway itself, for a caller holding Gateway.Admin (`POST /auth/login-link`), under the same
 *   key, or a random per-process key when TOKEN_CACHE_KEY is not set.
 * The gateway accepts a link once (it remembers used ids until they expire) and only before it expires.
 * Replicas of one Graph identity that share TOKEN_CACHE_KEY all accept a link (and no other gateway:
 * the key names the identity, `deriveSignInLinkKey`), so with a Redis CACHE_URL "once" is kept in
 * Redis for all of them (an atomic SET NX): otherwise a link could be spent once per replica. When
 * Redis cannot say whether the link is unused, the link is refused (fail closed), not accepted.
 * A record of spent links knows when it began, and a link issued before that is refused: a record
 * that forgot (a restarted process's memory; a Redis restarted without persistence, or emptied)
 * cannot tell a spent link from an unused one, and a spent link would work again for anyone who saw
 * it (it travels in a URL: proxy logs, browser history). Without Redis the record begins when the
 * process starts; in Redis it begins when a gateway first finds it missing (docs/security.md#replicas).
 */
export const SIGN_IN_LINK_TTL_MS = 5 * 60_000;
/** 3: the key is bound to the Graph identity (v2 links, keyed by TOKEN_CACHE_KEY alone, are refused). */
const VERSION = 3;

interface LinkPayload {
  v: number;
  /** Random id: single use is tracked by it. */
  id: string;
  /** Issued, ms since the epoch. */
  iat: number;
  /** Expiry, ms since the epoch. */
  exp: number;
  /** Who minted it (operating-system user and host of the CLI), for the audit trail. */
  by: string;
}

/**
 * The HMAC key of sign-in links: HKDF of the token cache's scrypt-derived key, so it is separate from
 * the encryption key, and a guess of TOKEN_CACHE_KEY costs a scrypt however it is tested. The HKDF
 * info names the Graph identity the link may sign in (`graphIdentityId`: app registration, tenant
 * and flow): a link starts a sign-in only on the gateways of that identity (its replicas). Keyed by
 * TOKEN_CACHE_KEY alone, two gateways configured with the same TOKEN_CACHE_KEY (another tenant,
 * another app) accepted each other's links, so a caller holding Gateway.Admin on one of them got a
 * link from its `POST /auth/login-link` that started a sign-in on the other, where its key is unknown.
 */
export function deriveSignInLinkKey(tokenCacheKey: string, identityId: string): Buffer {
  if (identityId.length === 0) throw new Error('a sign-in link key needs the Graph identity it signs in');
  return Buffer.from(hkdfSync('sha256', deriveTokenCacheKey(tokenCacheKey), 'msgraph-user-gateway', `sign-in-link v3\n${identityId}`, 32));
}

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(payload, 'utf8').digest();
}

export function mintSignInLink(input: { key: Buffer; loginUrl: string; issuedBy: string; now?: number; ttlMs?: number }): {
  url: string;
  id: string;
  expiresAt: Date;
} {
  const issuedAt = input.now ?? Date.now();
  const payload: LinkPayload = {
    v: VERSION,
    id: randomBytes(16).toString('base64url'),
    iat: issuedAt,
    exp: issuedAt + (input.ttlMs ?? SIGN_IN_LINK_TTL_MS),
    by: input.issuedBy.slice(0, 128),
  };
  const encoded = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  const url = new URL(input.loginUrl);
  url.searchParams.set('link', `${encoded}.${mac(input.key, encoded).toString('base64url')}`);
  return { url: url.toString(), id: payload.id, expiresAt: new Date(payload.exp) };
}

export type SignInLinkCheck =
  | { ok: true; linkId: string; issuedBy: string }
  /** `before-record`: issued before the record of spent links began (this process's start without Redis). */
  | { ok: false; problem: 'malformed' | 'bad-signature' | 'expired' | 'used' | 'before-record' }
  /**
   * The shared record of spent links did not answer, or refused to record the link (a full Redis
   * refuses writes), so the link is not accepted now; `cause` is the store's error.
   */
  | { ok: false; problem: 'unconfirmed'; cause: unknown };

export interface SignInLinks {
  /** A new link to `loginUrl` (the gateway's /auth/login). */
  mint(loginUrl: string, issuedBy: string): { url: string; id: string; expiresAt: Date };
  /** Checks a link and, when it is good, spends it. */
  redeem(link: string): Promise<SignInLinkCheck>;
}

/** Where spent link ids are recorded until they expire. */
export interface SpentLinks {
  /**
   * Records `id` as spent: `spent` when this call spent it, `used` when it already was,
   * `before-record` when the link was issued before the record began (whether it was spent is
   * unknown: it is refused and nothing is recorded). Throws when it cannot tell.
   */
  spend(id: string, expiresAtMs: number, issuedAtMs: number): Promise<SpendOutcome>;
}

export type SpendOutcome = 'spent' | 'used' | 'before-record';

/** This process's memory: enough for one replica, or replicas that do not share TOKEN_CACHE_KEY. It begins when it is created. */
export function spentLinksInMemory(now: () => number = Date.now): SpentLinks {
  const since = now();
  const used = new Map<string, number>();
  return {
    spend(id, expiresAtMs, issuedAtMs) {
      if (issuedAtMs < since) return Promise.resolve('before-record');
      for (const [usedId, exp] of used) if (exp <= now()) used.delete(usedId);
      if (used.has(id)) return Promise.resolve('used');
      used.set(id, expiresAtMs);
      return Promise.resolve('spent');
    },
  };
}

/**
 * Redis keys of spent links: `mgug:sign-in-link:{<identity>}:<id>`, expiring when the link does;
 * `<identity>` is `graphIdentityId` (a digest, no client id, tenant or broker registration in clear).
 * Partitioned per Graph identity, with the record's start: a link is valid on one identity's
 * gateways only (`deriveSignInLinkKey`), so its record belongs to them. The `{...}` hash tag puts
 * both keys of the spend script on one Redis Cluster slot.
 */
export function spentLinkKey(identityId: string, id: string): string {
  return `mgug:sign-in-link:{${identityId}}:${id}`;
}
/**
 * When one identity's record of spent links began (ms since the epoch); no expiry. It was one key for
 * the whole Redis (`mgug:sign-in-links-since`): any gateway sharing the Redis, of any identity, began
 * the record with its own clock, so a gateway whose clock ran behind let another identity's spent
 * links work again after Redis forgot them, and one whose clock ran ahead refused another identity's
 * new links (docs/security.md#one-redis-for-several-gateways).
 */
export function spentLinksSinceKey(identityId: string): string {
  return `mgug:sign-in-links-since:{${identityId}}`;
}
/**
 * The key layout before the partition (`mgug:sign-in-link:<id>`), which replicas of the previous
 * release still read and write during a rolling upgrade: a spend checks it and writes it too, so a
 * link is spent once across old and new replicas. Remove in the release after (docs/operations.md#redis).
 */
export const LEGACY_SPENT_LINK_KEY_PREFIX = 'mgug:sign-in-link:';

/**
 * Spends a link atomically, in one script: the record's start (set now when missing: the Redis lost
 * it, and with it every spent link), then `SET <key> 1 NX PX <ms left>`, which spends the link and
 * forgets it when the link expires. `PX` rather than `PXAT` (an absolute time): PXAT needs Redis 6.2,
 * and a managed Redis 6.0 (Azure Cache for Redis "version 6") would refuse it, which would refuse
 * every link. Scripts (EVAL) are Redis 2.6. KEYS[3], the previous release's key, is read and written
 * for the rolling upgrade only (it is on another Cluster slot: Cluster is not served until it goes).
 */
const SPEND_SCRIPT = `
local since = redis.call('GET', KEYS[1])
if not since then
  redis.call('SET', KEYS[1], ARGV[1])
  since = ARGV[1]
end
if tonumber(ARGV[2]) < tonumber(since) then return 'before-record' end
if redis.call('EXISTS', KEYS[3]) == 1 then return 'used' end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then
  redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[3])
  return 'spent'
end
return 'used'
`;

type RedisCommands = { sendCommand(args: string[]): Promise<unknown> };

/**
 * In Redis, for every replica of one Graph identity (`identityId`: `graphIdentityId`). Opening it
 * records when the record began, unless it already says (`SET NX`): a gateway's start against an
 * empty Redis begins it, so that links issued afterwards work on every replica and links from before
 * are refused once, as without Redis.
 */
export async function openSpentLinksInRedis(client: RedisCommands, identityId: string, now: () => number = Date.now): Promise<SpentLinks> {
  if (identityId.length === 0) throw new Error('a record of spent links needs the Graph identity it belongs to');
  const sinceKey = spentLinksSinceKey(identityId);
  // Not a reason to stop the start (Redis may be down for a moment): the first spend then begins the
  // record, refusing that link once, which fails closed.
  await client.sendCommand(['SET', sinceKey, String(now()), 'NX']).catch(() => undefined);
  return {
    async spend(id, expiresAtMs, issuedAtMs) {
      const msLeft = Math.max(1, Math.ceil(expiresAtMs - now()));
      const reply = await client.sendCommand([
        'EVAL',
        SPEND_SCRIPT,
        '3',
        sinceKey,
        spentLinkKey(identityId, id),
        `${LEGACY_SPENT_LINK_KEY_PREFIX}${id}`,
        String(now()),
        String(issuedAtMs),
        String(msLeft),
      ]);
      if (reply === 'spent' || reply === 'used' || reply === 'before-record') return reply;
      throw new Error(`unexpected reply from the spent-links script: ${typeof reply}`);
    },
  };
}

export function createSignInLinks(input: {
  key: Buffer;
  now?: () => number;
  /** Spent links shared by every replica and kept across gateway restarts (Redis); absent: this process's memory. */
  spent?: SpentLinks;
}): SignInLinks {
  const now = input.now ?? Date.now;
  const spent = input.spent ?? spentLinksInMemory(now);
  return {
    mint: (loginUrl, issuedBy) => mintSignInLink({ key: input.key, loginUrl, issuedBy, now: now() }),
    async redeem(link) {
      const [encoded, signature, extra] = link.split('.');
      if (!encoded || !signature || extra !== undefined || encoded.length > 1024) return { ok: false, problem: 'malformed' };
      const expected = mac(input.key, encoded);
      const presented = Buffer.from(signature, 'base64url');
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return { ok: false, problem: 'bad-signature' };
      let payload: Partial<LinkPayload>;
      try {
        payload = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as Partial<LinkPayload>;
      } catch {
        return { ok: false, problem: 'malformed' };
      }
      if (
        payload.v !== VERSION ||
        typeof payload.id !== 'string' ||
        typeof payload.iat !== 'number' ||
        typeof payload.exp !== 'number' ||
        typeof payload.by !== 'string'
      ) {
        return { ok: false, problem: 'malformed' };
      }
      if (payload.exp <= now()) return { ok: false, problem: 'expired' };
      let outcome: SpendOutcome;
      try {
        outcome = await spent.spend(payload.id, payload.exp, payload.iat);
      } catch (cause) {
        return { ok: false, problem: 'unconfirmed', cause };
      }
      if (outcome !== 'spent') return { ok: false, problem: outcome };
      return { ok: true, linkId: payload.id, issuedBy: payload.by };
    },
  };
}
