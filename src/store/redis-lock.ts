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
      const reply = await client.set(prefix + name, owner, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } });
      return reply === 'OK';
    },
    async release(name, owner) {
      await client.eval(RELEASE_IF_OWNER, { keys: [prefix + name], arguments: [owner] });
    },
  };
}
