import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';
import type { TokenStore } from '../store/token-store.js';

/**
 * msal's cache persisted through our encrypted token store. The store is already partitioned by
 * identity (its keys start with the identity id), so one msal application maps to one record.
 * Reads always reload (another replica may have rotated the refresh token); writes happen only
 * when msal says the cache changed.
 */
export function createMsalCachePlugin(store: TokenStore): ICachePlugin {
  return {
    async beforeCacheAccess(context: TokenCacheContext) {
      const serialized = await store.get('msal-cache');
      if (serialized !== undefined) context.tokenCache.deserialize(serialized);
    },
    async afterCacheAccess(context: TokenCacheContext) {
      if (context.cacheHasChanged) await store.set('msal-cache', context.tokenCache.serialize());
    },
  };
}
