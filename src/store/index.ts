import type { Config } from '../config-types.js';
import { createTokenCipher, resolveTokenCacheKey } from './encryption.js';
import { createKeyvStore, resolveCacheKind } from './keyv-store.js';
import { createTokenStore, type TokenStore } from './token-store.js';

export { createKeyvStore, type KeyvBackend } from './keyv-store.js';
export { createTokenStore, resetTokenRecords, TokenCacheKeyMismatchError } from './token-store.js';
export { createTokenCipher, deriveTokenCacheKey, resolveTokenCacheKey, sandboxKeyFile, TokenCacheDecryptError } from './encryption.js';
export { withLock } from './lock.js';

/**
 * Opens the encrypted token store for one Graph identity from Config: picks the backend
 * (CACHE_URL or the default), resolves the AES key and checks it against what is already stored.
 */
export async function openTokenStore(config: Config, options: { identityId: string; keepsRefreshToken: boolean }): Promise<TokenStore> {
  const storeOptions = { dataDir: config.dataDir, keepsRefreshToken: defaultCachePersists(config, options.keepsRefreshToken) };
  const kind = resolveCacheKind(config.cache, storeOptions).kind;
  const { key, previousKey } = resolveTokenCacheKey({
    tokenCacheKey: config.tokenCacheKey?.reveal(),
    previousTokenCacheKey: config.tokenCacheKeyPrevious?.reveal(),
    persisted: kind !== 'memory',
    sandbox: config.sandbox.enabled,
    dataDir: config.dataDir,
  });
  const backend = await createKeyvStore(config.cache, storeOptions);
  try {
    return await createTokenStore(backend, createTokenCipher(key, previousKey), options.identityId);
  } catch (error) {
    await backend.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Whether the `default` cache is the SQLite file: only when a refresh token is kept, and not in
 * sandbox mode, where the emulator forgets its grants and signing key at every start (a persisted
 * token would only be refused).
 */
export function defaultCachePersists(config: Config, keepsRefreshToken: boolean): boolean {
  return keepsRefreshToken && !config.sandbox.enabled;
}
