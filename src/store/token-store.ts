import { ErrorCode, GatewayError } from '../errors.js';
import type { KeyvBackend } from './keyv-store.js';
import { TokenCacheDecryptError, type TokenCipher } from './encryption.js';
import { withLock, type WithLockOptions } from './lock.js';

/** Records one Graph identity keeps. A fixed set, so `auth:reset` knows everything to delete. */
export type TokenRecord = 'msal-cache' | 'broker-refresh-token';
const ALL_RECORDS: readonly TokenRecord[] = ['msal-cache', 'broker-refresh-token'];
const KEY_CHECK = 'key-check';
const KEY_CHECK_PLAINTEXT = 'msgraph-user-gateway token cache key check v1';

/**
 * The encrypted, per-identity view of a keyv backend. Every value is sealed with AES-256-GCM
 * before it leaves the process, bound to the key it is stored under; keys are `<identityId>:<record>`
 * so several identities can share one Redis without seeing, or being handed, each other's tokens.
 */
export interface TokenStore {
  /** Where the tokens live (for messages), e.g. `SQLite file /data/token-cache.sqlite`. */
  readonly location: string;
  readonly persisted: boolean;
  readonly identityId: string;
  /**
   * Records of this identity that, when the store was opened, opened only with TOKEN_CACHE_KEY_PREVIOUS
   * (0 without one). They are sealed with the current key when next written; at 0 on every replica
   * the previous key can go (docs/operations.md#rotating-keys).
   */
  readonly sealedWithPreviousKey: number;
  /**
   * Records of this identity that, when the store was opened, were in the format before values were
   * bound to their record (`v1.`, src/store/encryption.ts); written again in the current one when next
   * written (docs/operations.md#upgrading-the-token-cache-format).
   */
  readonly inLegacyFormat: number;
  get(record: TokenRecord): Promise<string | undefined>;
  /** Throws UPSTREAM_UNAVAILABLE when the backend refused the write (see `writeRefused`), as `putShortLived` does. */
  set(record: TokenRecord, value: string): Promise<void>;
  delete(record: TokenRecord): Promise<void>;
  /**
   * A short-lived record every process sharing the backend sees (a sign-in in progress, so that
   * /auth/callback may reach another replica than /auth/login did): sealed like the tokens, gone
   * after `ttlMs`.
   */
  putShortLived(name: string, value: string, ttlMs: number): Promise<void>;
  getShortLived(name: string): Promise<string | undefined>;
  /** Removes it: true only for the one caller that removed it (replicas racing for one record: one wins). */
  takeShortLived(name: string): Promise<boolean>;
  /** One holder at a time across every process sharing the backend (refresh-token redemption). */
  withRefreshLock<T>(fn: () => Promise<T>, options?: WithLockOptions): Promise<T>;
  /** Deletes every record of this identity, including the key check (`npm run auth:reset`). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export class TokenCacheKeyMismatchError extends Error {
  constructor(location: string) {
    super(
      `TOKEN_CACHE_KEY does not decrypt the existing token cache at ${location} (or a record there was not written for this identity and record); restore the key or run npm run auth:reset`,
    );
    this.name = 'TokenCacheKeyMismatchError';
  }
}

/**
 * How a caller's error names the token store: its kind, never its address (a Redis host and port,
 * a file path), which only the operator needs and has in CACHE_URL and the gateway log
 * (docs/security.md#tokens-at-rest). Before, these errors named the Redis address to any caller
 * whose request met an unreachable or full Redis.
 */
const STORE_KIND_NAMES: Record<KeyvBackend['kind'], string> = { memory: 'memory', sqlite: 'SQLite file', redis: 'Redis' };

/**
 * A store's failure to write (Redis down, or full: `OOM command not allowed` under
 * `maxmemory-policy noeviction`; keyv throws it or answers `false` from `set`). A record that was
 * not written must not pass for written: a sign-in whose PKCE verifier was not kept would fail at
 * its callback with "unknown state", a completed sign-in would be lost on the next read.
 */
function writeRefused(kind: KeyvBackend['kind']): GatewayError {
  return new GatewayError(
    ErrorCode.UPSTREAM_UNAVAILABLE,
    `The token store (${STORE_KIND_NAMES[kind]}) refused the write: it is unreachable or full (a Redis at maxmemory refuses writes). Retry in a moment; see docs/operations.md#redis.`,
    { retryAfterSeconds: 5 },
  );
}

/**
 * Builds the store and proves the key: an existing key-check record (or any existing record) that
 * does not decrypt is a startup error, never a silent loss of the refresh token.
 */
export async function createTokenStore(backend: KeyvBackend, cipher: TokenCipher, identityId: string): Promise<TokenStore> {
  const write = async (key: string, sealed: string, ttlMs?: number): Promise<void> => {
    const written = await backend.keyv.set(key, sealed, ttlMs).catch(() => false);
    if (!written) throw writeRefused(backend.kind);
  };
  /**
   * A token record the store cannot read is "nothing stored": the gateway then asks Entra (or the
   * broker) again, which serves callers through a Redis outage.
   */
  const readQuietly = (key: string): Promise<string | undefined> => backend.keyv.get(key).catch(() => undefined);
  /**
   * A sign-in record the store cannot read or remove is not "no sign-in waiting": that answer made
   * the operator's callback during a Redis outage a failed authentication (a guessed state,
   * counted towards AUTH_FAILURE_LIMIT) instead of the store's unavailability.
   */
  const unreadable = (): GatewayError =>
    new GatewayError(
      ErrorCode.UPSTREAM_UNAVAILABLE,
      `The token store (${STORE_KIND_NAMES[backend.kind]}) could not be read: it is unreachable. Retry in a moment; see docs/operations.md#redis.`,
      { retryAfterSeconds: 5 },
    );
  const keyOf = (name: string) => `${identityId}:${name}`;
  const shortLivedKeyOf = (name: string) => `${identityId}:short-lived:${name}`;
  const inspect = (sealed: string, key: string) => {
    try {
      return cipher.inspect(sealed, key);
    } catch (error) {
      if (error instanceof TokenCacheDecryptError) throw new TokenCacheKeyMismatchError(backend.location);
      throw error;
    }
  };

  const open = (sealed: string, key: string) => inspect(sealed, key).plaintext;

  const sealedCheck = await readQuietly(keyOf(KEY_CHECK));
  const check = sealedCheck === undefined ? undefined : inspect(sealedCheck, keyOf(KEY_CHECK));
  if (check !== undefined && check.plaintext !== KEY_CHECK_PLAINTEXT) throw new TokenCacheKeyMismatchError(backend.location);
  let sealedWithPreviousKey = 0;
  let inLegacyFormat = 0;
  for (const record of ALL_RECORDS) {
    const existing = await readQuietly(keyOf(record));
    if (existing === undefined) continue;
    const opened = inspect(existing, keyOf(record));
    if (opened.sealedWithPreviousKey) sealedWithPreviousKey += 1;
    if (opened.inLegacyFormat) inLegacyFormat += 1;
  }
  // The key check holds a constant, so sealing it again races with nothing. Token records are not
  // re-sealed here: another replica may be writing a rotated refresh token, and a write of the value
  // read now would undo it (they are sealed with the current key, in the current format, when next written).
  if (check === undefined || check.sealedWithPreviousKey || check.inLegacyFormat)
    await backend.keyv.set(keyOf(KEY_CHECK), cipher.seal(KEY_CHECK_PLAINTEXT, keyOf(KEY_CHECK))).catch(() => false);

  return {
    location: backend.location,
    persisted: backend.persisted,
    identityId,
    sealedWithPreviousKey,
    inLegacyFormat,
    async get(record) {
      const sealed = await readQuietly(keyOf(record));
      return sealed === undefined ? undefined : open(sealed, keyOf(record));
    },
    async set(record, value) {
      await write(keyOf(record), cipher.seal(value, keyOf(record)));
    },
    async delete(record) {
      await backend.keyv.delete(keyOf(record)).catch(() => false);
    },
    async putShortLived(name, value, ttlMs) {
      await write(shortLivedKeyOf(name), cipher.seal(value, shortLivedKeyOf(name)), ttlMs);
    },
    async getShortLived(name) {
      const sealed = await backend.keyv.get(shortLivedKeyOf(name)).catch(() => {
        throw unreadable();
      });
      return sealed === undefined ? undefined : open(sealed, shortLivedKeyOf(name));
    },
    takeShortLived: (name) =>
      backend.keyv.delete(shortLivedKeyOf(name)).catch(() => {
        throw unreadable();
      }),
    withRefreshLock(fn, options) {
      return withLock(backend.lock, `refresh:${identityId}`, fn, options);
    },
    reset: async () => {
      await resetTokenRecords(backend, identityId);
    },
    close: () => backend.close(),
  };
}

/**
 * Deletes every record of one identity without needing the key (`auth:reset` must work precisely
 * when the key was lost). Returns how many records existed.
 */
export async function resetTokenRecords(backend: KeyvBackend, identityId: string): Promise<number> {
  let deleted = 0;
  for (const name of [...ALL_RECORDS, KEY_CHECK]) if (await backend.keyv.delete(`${identityId}:${name}`)) deleted += 1;
  return deleted;
}
