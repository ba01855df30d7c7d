import { createHash } from 'node:crypto';
import type { Logger } from '../logger.js';
import { CLOCK_SKEW_SECONDS } from './caller-token-verifier.js';
import type { CallerRevocations } from './types.js';

/**
 * Caller tokens of contained users (docs/security.md#contained-users-caller-tokens). Entra revokes a
 * contained user's refresh tokens and sessions, but an access token it already issued for this API
 * stays valid until it expires: Continuous Access Evaluation, which cuts that short, is not offered
 * to third-party APIs (docs/graph-facts.md#revoked-sessions-and-access-tokens). So after a
 * containment mutation succeeds on user X at time T, the gateway itself refuses X's tokens issued
 * before T, for as long as such a token can live, then forgets.
 *
 * With a Redis CACHE_URL the record is in Redis, for every replica; each process also keeps the
 * records it wrote itself, so it refuses them even while Redis does not answer. Without Redis it is
 * per process (memory).
 */

/**
 * How long a record is kept: the longest access token lifetime Entra can be configured to issue
 * (a token lifetime policy allows up to 1 day; the default is 60-90 minutes), plus the clock skew the
 * verifier allows on `exp`. After that every token issued before the containment has expired.
 */
export const MAX_ACCESS_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;
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

export interface CallerRevocationsOptions {
  /** The tenant whose users' tokens the gateway accepts (partitions the records of one Redis). */
  tenantId: string;
  logger: Logger;
  /** A connected node-redis client (CACHE_URL): the records are shared with every replica through it. */
  redis?: RedisCommands;
  now?: () => number;
}

export function createCallerRevocations(options: CallerRevocationsOptions): CallerRevocations {
  const now = options.now ?? Date.now;
  const log = options.logger.child({ component: 'caller-revocations' });
  // Insertion order is age order: the first entry is the oldest.
  const local = new Map<string, { revokedAtMs: number; expiresAtMs: number }>();
  const keyOf = (objectId: string) => createHash('sha256').update(`${options.tenantId.toLowerCase()}\n${objectId.toLowerCase()}`).digest('hex').slice(0, 32);
  let redisFailing = false;
  const redisFailed = (error: unknown, what: string) => {
    // Said once per outage: every request of a user token reads the record.
    if (!redisFailing) log.warn({ err: (error as Error | undefined)?.message }, what);
    redisFailing = true;
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
      if (!options.redis) return true;
      try {
        // The later of two containments wins (GET-then-SET in one script), so a slower replica
        // writing an earlier time does not undo a later one.
        await options.redis.sendCommand([
          'EVAL',
          "local held = tonumber(redis.call('GET', KEYS[1]) or '0') if tonumber(ARGV[1]) > held then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 1",
          '1',
          `${CALLER_REVOKED_KEY_PREFIX}${key}`,
          String(Math.floor(revokedAtMs)),
          String(REVOCATION_TTL_MS),
        ]);
        redisFailing = false;
        return true;
      } catch (error) {
        redisFailed(error, 'a containment could not be recorded in Redis: only this replica refuses the contained user’s earlier caller tokens');
        return false;
      }
    },
    async revokedAt(objectId) {
      const key = keyOf(objectId);
      const held = recalled(key);
      if (held !== undefined || !options.redis) return held;
      try {
        const reply = await options.redis.sendCommand(['GET', `${CALLER_REVOKED_KEY_PREFIX}${key}`]);
        redisFailing = false;
        const at = typeof reply === 'string' ? Number(reply) : NaN;
        return Number.isFinite(at) ? at : undefined;
      } catch (error) {
        // Open, not closed: refusing every user token while Redis is down would stop the gateway
        // for everyone; the records this replica wrote itself still refuse (docs/security.md#contained-users-caller-tokens).
        redisFailed(error, 'containment records could not be read from Redis: only the ones this replica wrote are enforced until it answers');
        return undefined;
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
