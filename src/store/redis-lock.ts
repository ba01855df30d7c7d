import { ErrorCode, GatewayError } from '../errors.js';
import type { DistributedLock } from './lock.js';

/** The subset of a node-redis client the lock needs (keeps the lock testable and typed loosely). */
export interface RedisLockClient {
  set(key: string, value: string, options: { condition: 'NX'; expiration: { type: 'PX'; value: number } }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

// Delete only if we still own it: an expired lock re-taken by another replica must not be freed by us.
const RELEASE_IF_OWNER = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** `SET name owner NX PX ttl` + compare-and-delete release: the classic single-instance Redis lock. */
export function createRedisLock(client: RedisLockClient, prefix = 'mgug:lock:'): DistributedLock {
  return {
    async tryAcquire(name, owner, ttlMs) {
      let reply: unknown;
      try {
        reply = await client.set(prefix + name, owner, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } });
      } catch {
        // Redis down, or full (`OOM command not allowed`): nobody can hold the lock, so nobody may
        // redeem the refresh token. A dependency failure with a code, not Entra's fault nor a 500.
        throw new GatewayError(
          ErrorCode.UPSTREAM_UNAVAILABLE,
          'The token store (Redis) did not take the token refresh lock: it is unreachable or full (a Redis at maxmemory refuses writes). Retry in a moment; see docs/operations.md#redis.',
          { retryAfterSeconds: 5 },
        );
      }
      return reply === 'OK';
    },
    async release(name, owner) {
      await client.eval(RELEASE_IF_OWNER, { keys: [prefix + name], arguments: [owner] });
    },
  };
}
