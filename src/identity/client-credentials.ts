import type { Config } from '../config-types.js';
import type { GraphIdentity } from './types.js';
import { graphDefaultScope } from './authority.js';
import { fromMsalResult, instrumentAcquisition } from './acquisition.js';
import type { GraphIdentityDeps } from './deps.js';
import { createMsalCachePlugin } from './msal-cache-plugin.js';
import type { MsalAppFactory } from './msal-app.js';
import { TokenSlot, slotTokenSource, tokenProbe } from './token-slot.js';

/** App-only Graph tokens for the self-deployed app (secret or certificate). */
export function createClientCredentialsIdentity(config: Config, factory: MsalAppFactory, deps: GraphIdentityDeps): GraphIdentity {
  const clientId = config.selfDeployed?.clientId ?? '';
  const now = deps.now ?? Date.now;
  const app = factory.create(createMsalCachePlugin(deps.store, deps.logger));
  const scopes = [graphDefaultScope(config.graphEndpoint)];
  const slot = new TokenSlot(
    (forceRefresh) =>
      instrumentAcquisition('client-credentials', { ...deps, secrets: factory.secrets }, async () =>
        fromMsalResult(await app.acquireTokenByClientCredential({ scopes, skipCache: forceRefresh }), now()),
      ),
    now,
  );
  const source = slotTokenSource(`app:${clientId}`, slot);
  return {
    kind: 'client-credentials',
    delegated: false,
    tokenSourceFor: () => source,
    probe: tokenProbe(source),
  };
}
