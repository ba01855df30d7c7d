import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';
import type { Logger } from '../logger.js';
import type { TokenStore } from '../store/token-store.js';

/**
 * msal's cache persisted through our encrypted token store. The store is already partitioned by
 * identity (its keys start with the identity id), so one msal application maps to one record.
 * Reads always reload (another replica may have rotated the refresh token); writes happen only
 * when msal says the cache changed.
 *
 * A write the store refuses (Redis full or down) does not fail the acquisition: the token msal just
 * obtained is good and stays in msal's memory, and a refresh token another replica still reads
 * from the store stays valid too (Entra does not revoke a refresh token when it is used,
 * docs/graph-facts.md#refresh-tokens). It is logged, since other replicas will not see the token.
 */
export function createMsalCachePlugin(store: TokenStore, logger: Logger): ICachePlugin {
  return {
    async beforeCacheAccess(context: TokenCacheContext) {
      const serialized = await store.get('msal-cache');
      if (serialized !== undefined) context.tokenCache.deserialize(serialized);
    },
    async afterCacheAccess(context: TokenCacheContext) {
      if (!context.cacheHasChanged) return;
      try {
        await store.set('msal-cache', context.tokenCache.serialize());
      } catch (error) {
        logger.warn(
          { component: 'token-cache', location: store.location, err: (error as Error | undefined)?.message },
          'token cache not persisted: the store refused the write; this process keeps the token in memory, other replicas do not see it',
        );
      }
    },
  };
}
