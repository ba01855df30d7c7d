import { createHash } from 'node:crypto';
import type { Keyv } from 'keyv';
import type { Logger } from '../logger.js';
import { CLOCK_SKEW_SECONDS } from './caller-token-verifier.js';
import { MAX_ACCESS_TOKEN_LIFETIME_SECONDS } from './access-token-lifetime.js';
import { redisErrorSummary } from '../store/redis-error.js';
import type { CallerRevocations } from './types.js';

/**
 * Caller tokens of contained users (docs/security.md#contained-users-caller-tokens). Entra revokes a
 * contained user's refresh tokens and sessions, but an access token it already issued for this API
 * stays valid until it expires: Continuous Access Evaluation, which cuts that short, is not offered
 * to third-party APIs (docs/graph-facts.md#revoked-sessions-and-access-tokens). So after a
 * containment mutation succeeds on user X at time T, the gateway itself refuses X's tokens issued
 * before T, for as long as such a token can live, then forgets.
 *
 * With a Redis CACHE_URL the record is in Redis, for every replica (with a SQLite one, in that file,
 * for the processes on its host); each process also keeps the records it wrote itself, so it refuses
 * them even while the store does not answer. With the memory cache it is per process.
 */

/**
 * How long a record is kept: the longest access token lifetime Entra can be configured to issue,
 * plus the clock skew the verifier allows on `exp`. After that every token issued before the
 * containment has expired.
 */
export const REVOCATION_TTL_MS = (MAX_ACCESS_TOKEN_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) * 1000;
/**
 * Records a process holds in memory at most (~200 bytes each). Containments are writes an operator
 * with Users.Terminate (or the like) makes, so this many within a day is far past any incident; past
 * it the oldest record is forgotten first (with Redis, Redis still holds it).
 */
export const MAX_REMEMBERED_REVOCATIONS = 50_000;
/** Redis keys: `mgug:caller-revoked:<sha-256 of tenant and object id>`, expiring with the record. Neither id is written out. */
export const CALLER_REVOKED_KEY_PREFIX = 'mgug:caller-revoked:';

type RedisCommands = { sendCommand(args: string[]): Promise<unknown> };

/** Where the records every process sharing CACHE_URL sees are kept; both calls throw when the store fails. */
export interface SharedRevocationRecords {
  /** What it is, for log lines: `Redis` or `SQLite`. */
  readonly kind: string;
  read(key: string): Promise<number | undefined>;
  /** Keeps the later of `revokedAtMs` and the time held, for `ttlMs`. */
  write(key: string, revokedAtMs: number, ttlMs: number): Promise<void>;
}

/** In Redis (CACHE_URL redis://): the shared-state connection of src/app.ts. */
export function revocationRecordsInRedis(client: RedisCommands): SharedRevocationRecords {
  return {
    kind: 'Redis',
    async read(key) {
      const reply = await client.sendCommand(['GET', `${CALLER_REVOKED_KEY_PREFIX}${key}`]);
      const at = typeof reply === 'string' ? Number(reply) : NaN;
      return Number.isFinite(at) ? at : undefined;
    },
    async write(key, revokedAtMs, ttlMs) {
      // The later of two containments wins (GET-then-SET in one script), so a slower replica
      // writing an earlier time does not undo a later one.
      await client.sendCommand([
        'EVAL',
        "local held = tonumber(redis.call('GET', KEYS[1]) or '0') if tonumber(ARGV[1]) > held then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 1",
        '1',
        `${CALLER_REVOKED_KEY_PREFIX}${key}`,
        String(Math.floor(revokedAtMs)),
        String(ttlMs),
      ]);
    },
  };
}

/**
 * In a keyv store (CACHE_URL sqlite://: the processes opening the same file on one host share it,
 * and a restart keeps it). Read, then written: two containments of one user at once may keep the
 * earlier time, which still refuses every token the later one would within a second or two.
 */
export function revocationRecordsInKeyv(keyv: Keyv<string>, kind: string): SharedRevocationRecords {
  const keyOf = (key: string) => `caller-revoked:${key}`;
  return {
    kind,
    async read(key) {
      const value = await keyv.get(keyOf(key));
      const at = typeof value === 'string' ? Number(value) : NaN;
      return Number.isFinite(at) ? at : undefined;
    },
    async write(key, revokedAtMs, ttlMs) {
      const held = await keyv.get(keyOf(key));
      const at = Math.max(Math.floor(revokedAtMs), Number(held) || 0);
      if (!(await keyv.set(keyOf(key), String(at), ttlMs))) throw new Error('the store refused the write');
    },
  };
}

export interface CallerRevocationsOptions {
  /** The tenant whose users' tokens the gateway accepts (partitions the records of one store). */
  tenantId: string;
  logger: Logger;
  /** Records every process sharing CACHE_URL sees (Redis, SQLite); without, this process's memory only. */
  shared?: SharedRevocationRecords;
  now?: () => number;
}

export function createCallerRevocations(options: CallerRevocationsOptions): CallerRevocations {
  const now = options.now ?? Date.now;
  const log = options.logger.child({ component: 'caller-revocations' });
  // Insertion order is age order: the first entry is the oldest.
  const local = new Map<string, { revokedAtMs: number; expiresAtMs: number }>();
  const keyOf = (objectId: string) => createHash('sha256').update(`${options.tenantId.toLowerCase()}\n${objectId.toLowerCase()}`).digest('hex').slice(0, 32);
  const shared = options.shared;
  let sharedFailing = false;
  const sharedFailed = (error: unknown, what: string) => {
    // Said once per outage: every request of a user token reads the record.
    // A Redis error may quote its URL, password included: summarised as every other Redis failure line is.
    if (!sharedFailing) log.warn({ err: redisErrorSummary(error) }, what);
    sharedFailing = true;
  };

  const remember = (key: string, revokedAtMs: number) => {
    const held = local.get(key);
    local.delete(key);
    local.set(key, { revokedAtMs: Math.max(revokedAtMs, held?.revokedAtMs ?? 0), expiresAtMs: now() + REVOCATION_TTL_MS });
    if (local.size <= MAX_REMEMBERED_REVOCATIONS) return;
    for (const [k, record] of local) if (record.expiresAtMs <= now()) local.delete(k);
    while (local.size > MAX_REMEMBERED_REVOCATIONS) local.delete(local.keys().next().value!);
  };
  const recalled = (key: string): number | undefined => {
    const record = local.get(key);
    if (!record) return undefined;
    if (record.expiresAtMs > now()) return record.revokedAtMs;
    local.delete(key);
    return undefined;
  };

  return {
    async revoke(objectId, revokedAtMs) {
      const key = keyOf(objectId);
      remember(key, revokedAtMs);
      if (!shared) return true;
      try {
        await shared.write(key, revokedAtMs, REVOCATION_TTL_MS);
        sharedFailing = false;
        return true;
      } catch (error) {
        sharedFailed(error, `a containment could not be recorded in ${shared.kind}: only this process refuses the contained user's earlier caller tokens`);
        return false;
      }
    },
    async revokedAt(objectId) {
      const key = keyOf(objectId);
      const held = recalled(key);
      if (!shared) return held;
      try {
        // Asked even when this process holds a record: another may have contained the user again since.
        const at = await shared.read(key);
        sharedFailing = false;
        return at === undefined ? held : Math.max(at, held ?? 0);
      } catch (error) {
        // Open, not closed: refusing every user token while the store is down would stop the gateway
        // for everyone; the records this process wrote itself still refuse (docs/security.md#contained-users-caller-tokens).
        sharedFailed(error, `containment records could not be read from ${shared.kind}: only the ones this process wrote are enforced until it answers`);
        return held;
      }
    },
  };
}

/**
 * Whether a token was issued before the containment: `iat` (seconds) before the recorded time
 * (milliseconds). A token of the same second as the containment counts as before it (the stricter
 * reading; the client signs in again a second later). A token without `iat` cannot show it is newer.
 */
export function issuedBefore(iat: unknown, revokedAtMs: number): boolean {
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return true;
  return iat * 1000 <= revokedAtMs;
}
