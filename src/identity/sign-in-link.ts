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
 * Without Redis, spent ids live in the process's memory, which a restart forgets: there a link
 * issued before the process started is refused (`notBefore`), or a spent link would work again after
 * a restart, for anyone who saw it (it travels in a URL: proxy logs, browser history).
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
  /** `before-restart`: issued before this process started, where spent links are kept in its memory only. */
  | { ok: false; problem: 'malformed' | 'bad-signature' | 'expired' | 'used' | 'before-restart' }
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
  /** Records `id` as spent: true when this call spent it, false when it already was. Throws when it cannot tell. */
  spend(id: string, expiresAtMs: number): Promise<boolean>;
}

/** This process's memory: enough for one replica, or replicas that do not share TOKEN_CACHE_KEY. */
export function spentLinksInMemory(now: () => number = Date.now): SpentLinks {
  const used = new Map<string, number>();
  return {
    spend(id, expiresAtMs) {
      for (const [usedId, exp] of used) if (exp <= now()) used.delete(usedId);
      if (used.has(id)) return Promise.resolve(false);
      used.set(id, expiresAtMs);
      return Promise.resolve(true);
    },
  };
}

/** Redis keys of spent links: `mgug:sign-in-link:<id>`, expiring when the link does. */
export const SPENT_LINK_KEY_PREFIX = 'mgug:sign-in-link:';

/**
 * In Redis, for every replica: `SET <key> 1 NX PX <ms left>` spends a link atomically and forgets it
 * when the link expires. `PX` rather than `PXAT` (an absolute time): PXAT needs Redis 6.2, and a
 * managed Redis 6.0 (Azure Cache for Redis "version 6") would refuse it, which would refuse every link.
 */
export function spentLinksInRedis(client: { sendCommand(args: string[]): Promise<unknown> }, now: () => number = Date.now): SpentLinks {
  return {
    async spend(id, expiresAtMs) {
      const msLeft = Math.max(1, Math.ceil(expiresAtMs - now()));
      const reply = await client.sendCommand(['SET', `${SPENT_LINK_KEY_PREFIX}${id}`, '1', 'NX', 'PX', String(msLeft)]);
      return reply === 'OK';
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
  // Memory forgets spent links at a restart: links from before this process are not accepted.
  const notBefore = input.spent ? Number.NEGATIVE_INFINITY : now();
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
      if (payload.iat < notBefore) return { ok: false, problem: 'before-restart' };
      let first: boolean;
      try {
        first = await spent.spend(payload.id, payload.exp);
      } catch (cause) {
        return { ok: false, problem: 'unconfirmed', cause };
      }
      if (!first) return { ok: false, problem: 'used' };
      return { ok: true, linkId: payload.id, issuedBy: payload.by };
    },
  };
}
