import path from 'node:path';
import KeyvRedis from '@keyv/redis';
import { Keyv } from 'keyv';
import type { Config } from '../config-types.js';
import { createMemoryLock, type DistributedLock } from './lock.js';
import { createRedisLock, type RedisLockClient } from './redis-lock.js';
import { SqliteKeyvStore } from './sqlite-keyv-store.js';

/** A keyv store plus the lock that goes with it (same backend, so replicas sharing one agree). */
export interface KeyvBackend {
  readonly kind: 'memory' | 'sqlite' | 'redis';
  /** For messages: where the data lives, never including credentials. */
  readonly location: string;
  /** True when the data outlives the process (SQLite file, Redis). */
  readonly persisted: boolean;
  readonly keyv: Keyv<string>;
  readonly lock: DistributedLock;
  close(): Promise<void>;
}

export interface KeyvStoreOptions {
  dataDir: string;
  /**
   * Does this identity keep a refresh token (authorization code, hosted broker)? Then the
   * `default` cache is a SQLite file that survives restarts; otherwise memory is enough.
   */
  keepsRefreshToken: boolean;
}

export const DEFAULT_SQLITE_FILE = 'token-cache.sqlite';
const NAMESPACE = 'mgug';

export function resolveCacheKind(cache: Config['cache'], options: KeyvStoreOptions): Exclude<Config['cache'], { kind: 'default' }> {
  if (cache.kind !== 'default') return cache;
  return options.keepsRefreshToken ? { kind: 'sqlite', path: path.join(options.dataDir, DEFAULT_SQLITE_FILE) } : { kind: 'memory' };
}

export async function createKeyvStore(cache: Config['cache'], options: KeyvStoreOptions): Promise<KeyvBackend> {
  const resolved = resolveCacheKind(cache, options);
  switch (resolved.kind) {
    case 'memory': {
      const keyv = new Keyv<string>({ namespace: NAMESPACE });
      return { kind: 'memory', location: 'memory', persisted: false, keyv, lock: createMemoryLock(), close: async () => undefined };
    }
    case 'sqlite': {
      const store = new SqliteKeyvStore(path.resolve(options.dataDir, resolved.path));
      const keyv = new Keyv<string>({ store, namespace: NAMESPACE });
      return {
        kind: 'sqlite',
        location: `SQLite file ${store.file}`,
        persisted: true,
        keyv,
        lock: store.lock,
        close: () => store.disconnect(),
      };
    }
    case 'redis': {
      const store = new KeyvRedis(resolved.url, { namespace: NAMESPACE, throwOnConnectError: true, throwOnErrors: true, connectionTimeout: 10_000 });
      const keyv = new Keyv<string>({ store, namespace: NAMESPACE, useKeyPrefix: false });
      const client = (await store.getClient()) as unknown as RedisLockClient;
      return {
        kind: 'redis',
        location: `Redis ${redactUrl(resolved.url)}`,
        persisted: true,
        keyv,
        lock: createRedisLock(client),
        close: () => store.disconnect(),
      };
    }
    default: {
      const unreachable: never = resolved;
      throw new Error(`unknown cache kind ${JSON.stringify(unreachable)}`);
    }
  }
}

/** A Redis URL may carry a password: keep host and port only. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}
