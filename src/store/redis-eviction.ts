import type { Logger } from '../logger.js';
import { redactUrl } from './keyv-store.js';
import { redisErrorSummary } from './redis-error.js';

/**
 * What the shared Redis does when it is full, read once at start-up from `INFO memory`.
 *
 * The gateway keeps security state there with an expiry: spent one-time sign-in links, the
 * failed-authentication counts, sign-ins in progress, the refresh lock and the shared Graph budget.
 * A Redis with `maxmemory` and an evicting `maxmemory-policy` (`volatile-lru` is the default of the
 * managed offerings; `allkeys-*` evicts anything) drops such keys silently when it fills up: a spent
 * link could be used again, a guesser's count would start over. With `noeviction` a full Redis
 * refuses writes instead, and every user of it fails closed (docs/operations.md#redis). So an
 * evicting policy gets a warning naming the fix; nothing stops the start (the operator may accept
 * the risk, and `INFO` may be refused by an ACL or a managed service).
 */
export interface RedisMemoryPolicy {
  maxmemoryBytes: number;
  policy: string;
}

/** `INFO memory` text → the limit and the policy; undefined when the reply names neither. */
export function parseMemoryPolicy(info: string): RedisMemoryPolicy | undefined {
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const policy = field('maxmemory_policy');
  const maxmemory = field('maxmemory');
  if (policy === undefined || maxmemory === undefined || !/^\d+$/.test(maxmemory)) return undefined;
  return { maxmemoryBytes: Number(maxmemory), policy };
}

/** True when a full Redis would drop keys rather than refuse writes. `maxmemory` 0 means no limit: nothing is evicted. */
export function evictsKeys(memory: RedisMemoryPolicy): boolean {
  return memory.maxmemoryBytes > 0 && memory.policy !== 'noeviction';
}

export async function warnIfRedisEvicts(client: { sendCommand(args: string[]): Promise<unknown> }, logger: Logger): Promise<void> {
  const log = logger.child({ component: 'shared-state' });
  let memory: RedisMemoryPolicy | undefined;
  try {
    memory = parseMemoryPolicy(String(await client.sendCommand(['INFO', 'memory'])));
  } catch (error) {
    log.debug({ err: redisErrorSummary(error) }, 'Redis INFO memory not available: its eviction policy is not checked');
    return;
  }
  if (memory && evictsKeys(memory)) {
    log.warn(
      { maxmemoryPolicy: memory.policy, maxmemoryBytes: memory.maxmemoryBytes },
      `Redis (CACHE_URL) evicts keys when full (maxmemory-policy ${memory.policy}): spent sign-in links and failed-authentication counts could be dropped; set maxmemory-policy noeviction (docs/operations.md#redis)`,
    );
  }
}

/**
 * Whether CACHE_URL authenticates. Once the gateway is connected, a URL without a password means
 * Redis takes commands from anyone who reaches it: whoever does can reset failed-authentication
 * counts, forget spent sign-in links and put back older token records (docs/operations.md#redis).
 */
export function cacheUrlCarriesPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

export const REDIS_WITHOUT_PASSWORD_ADVICE =
  'whoever reaches it can reset failed-authentication counts, forget spent sign-in links and put back older token records; start Redis with requirepass and set CACHE_URL=redis://:PASSWORD@host:6379 (docs/operations.md#redis)';

/** Said once at start-up, beside the eviction warning: nothing stops the start (the doctor fails on it). */
export function warnIfRedisHasNoPassword(url: string, logger: Logger): void {
  if (cacheUrlCarriesPassword(url)) return;
  logger
    .child({ component: 'shared-state' })
    .warn({ redis: `Redis ${redactUrl(url)}` }, `Redis (CACHE_URL) takes commands without a password: ${REDIS_WITHOUT_PASSWORD_ADVICE}`);
}
