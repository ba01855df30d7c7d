import path from 'node:path';
import KeyvRedis from '@keyv/redis';
import { Keyv } from 'keyv';
import type { Config } from '../config-types.js';
import { createMemoryLock, type DistributedLock } from './lock.js';
import { failFastRedisOptions } from './redis-connection.js';
import { redisErrorSummary } from './redis-error.js';
import { createRedisLock, type RedisLockClient } from './redis-lock.js';
import { SqliteKeyvStore } from './sqlite-keyv-store.js';

/** A keyv store plus the lock that goes with it (same backend, so replicas sharing one agree). */
export interface KeyvBackend {
  readonly kind: 'memory' | 'sqlite' | 'redis';
  /** For messages: where the data lives, never including credentials. */
  readonly location: string;
  /** True when the data outlives the process (SQLite file, Redis). */
  readonly persisted: boolean;
  /**
   * Throws when the store fails (`throwOnErrors`): the token store decides per record what a failure
   * means (src/store/token-store.ts); keyv's default answered a failed read as "nothing stored".
   */
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
/** How long one token-store command on Redis may take before it fails. */
export const TOKEN_STORE_COMMAND_TIMEOUT_MS = 2_000;
const NAMESPACE = 'mgug';

export function resolveCacheKind(cache: Config['cache'], options: KeyvStoreOptions): Exclude<Config['cache'], { kind: 'default' }> {
  if (cache.kind !== 'default') return cache;
  return options.keepsRefreshToken ? { kind: 'sqlite', path: path.join(options.dataDir, DEFAULT_SQLITE_FILE) } : { kind: 'memory' };
}

export async function createKeyvStore(cache: Config['cache'], options: KeyvStoreOptions): Promise<KeyvBackend> {
  const resolved = resolveCacheKind(cache, options);
  switch (resolved.kind) {
    case 'memory': {
      const keyv = new Keyv<string>({ namespace: NAMESPACE, throwOnErrors: true });
      return { kind: 'memory', location: 'memory', persisted: false, keyv, lock: createMemoryLock(), close: async () => undefined };
    }
    case 'sqlite': {
      const file = path.resolve(options.dataDir, resolved.path);
      let store: SqliteKeyvStore;
      try {
        store = new SqliteKeyvStore(file);
      } catch (error) {
        throw sqliteOpenError(file, cache.kind === 'default' ? 'DATA_DIR' : 'CACHE_URL', error);
      }
      const keyv = new Keyv<string>({ store, namespace: NAMESPACE, throwOnErrors: true });
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
      // Commands fail at once while Redis is disconnected (no offline queue) and after
      // TOKEN_STORE_COMMAND_TIMEOUT_MS when it hangs. With node-redis's defaults every read, write and
      // refresh lock of the token store waited for Redis to come back: a token renewal during an
      // outage hung its operations until their deadline, and shutdown hung on close. Failing fast,
      // a token read answers "nothing stored", a sign-in record's read, a write or the lock a 503
      // (src/store/token-store.ts, src/store/redis-lock.ts; docs/operations.md#redis).
      const store = new KeyvRedis(failFastRedisOptions({ url: resolved.url, commandTimeoutMs: TOKEN_STORE_COMMAND_TIMEOUT_MS, connectTimeoutMs: 10_000 }), {
        namespace: NAMESPACE,
        throwOnConnectError: true,
        throwOnErrors: true,
        connectionTimeout: 10_000,
      });
      // keyv's own "timed out" says nothing of why: keep the client's first error (a refused
      // password, a refused connection, a TLS failure) for the start-up failure.
      let firstError: unknown;
      store.on('error', (error: unknown) => (firstError ??= error));
      const keyv = new Keyv<string>({ store, namespace: NAMESPACE, useKeyPrefix: false, throwOnErrors: true });
      let client: RedisLockClient;
      try {
        client = (await store.getClient()) as unknown as RedisLockClient;
      } catch (error) {
        const why = redisErrorSummary(firstError ?? error).message ?? 'no reason given';
        throw new Error(`the token cache's Redis (${redactUrl(resolved.url)}) could not be used: ${why}`, { cause: error });
      }
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

/**
 * Why the SQLite file could not be opened, for the start-up failure: Node's and SQLite's own words
 * ("EROFS: read-only file system, open '…'", "database or disk is full") name neither the variable
 * that chose the file nor what to do. The path is no secret; nothing else of the configuration is quoted.
 */
function sqliteOpenError(file: string, variable: 'DATA_DIR' | 'CACHE_URL', error: unknown): Error {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : 'no reason given';
  const why = code && !message.startsWith(code) ? `${code}: ${message}` : message;
  const fix =
    variable === 'DATA_DIR'
      ? "mount a writable volume at DATA_DIR (the image's /data), or set CACHE_URL to a Redis"
      : 'point CACHE_URL at a file on a writable volume, or at a Redis';
  return new Error(
    `the token cache's SQLite file ${file} (${variable}) could not be opened: ${why}; the gateway needs a directory it can write, with free space: ${fix} (docs/operations.md#data-directory)`,
    { cause: error },
  );
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
