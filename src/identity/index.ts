import type { Config } from '../config-types.js';
import type { GraphIdentity } from './types.js';
import { createAuthorizationCodeIdentity } from './authorization-code.js';
import { createClientCredentialsIdentity } from './client-credentials.js';
import type { GraphIdentityDeps } from './deps.js';
import { createHostedBrokerIdentity } from './hosted-broker.js';
import { createMsalAppFactory } from './msal-app.js';
import { createOnBehalfOfIdentity } from './on-behalf-of.js';
import { graphIdentityId, keepsRefreshToken } from './identity-id.js';
import { openTokenStore } from '../store/index.js';
import type { TokenStore } from '../store/token-store.js';

/** `store` is optional: without it the identity opens (and on close, closes) its own from Config. */
export type CreateGraphIdentityDeps = Omit<GraphIdentityDeps, 'store'> & { store?: TokenStore };

export { authenticationChallenge, createCallerAuthenticator } from './caller-authenticator.js';
export { createAuthRoutes } from './auth-routes.js';
export { graphIdentityId, graphFlowOf } from './identity-id.js';
export { graphDefaultScope } from './authority.js';
export { tokenErrorToGatewayError } from './token-errors.js';
export { encryptBrokerToken, decryptBrokerToken } from './broker-crypto.js';

/**
 * The process-wide Graph identity from Config: the hosted broker, or one of the self-deployed
 * msal flows. The token store must be the one opened for `graphIdentityId(config)`.
 */
export async function createGraphIdentity(config: Config, deps: CreateGraphIdentityDeps): Promise<GraphIdentity> {
  const ownsStore = deps.store === undefined;
  const store = deps.store ?? (await openTokenStore(config, { identityId: graphIdentityId(config), keepsRefreshToken: keepsRefreshToken(config) }));
  if (config.tokenCacheKeyPrevious) logRotationProgress(deps.logger, store);
  if (store.inLegacyFormat > 0) logLegacyFormat(deps.logger, store);
  try {
    const identity = await buildIdentity(config, { ...deps, store });
    if (!ownsStore) return identity;
    const closeIdentity = identity.close?.bind(identity);
    return Object.assign(identity, {
      close: async () => {
        await closeIdentity?.();
        await store.close();
      },
    });
  } catch (error) {
    if (ownsStore) await store.close().catch(() => undefined);
    throw error;
  }
}

/** How far a TOKEN_CACHE_KEY rotation has come, once at start-up (docs/operations.md#rotating-keys). */
function logRotationProgress(logger: GraphIdentityDeps['logger'], store: TokenStore): void {
  const remaining = store.sealedWithPreviousKey;
  logger.info(
    { sealedWithPreviousKey: remaining, location: store.location },
    remaining > 0
      ? `TOKEN_CACHE_KEY rotation: ${remaining} token record(s) still open only with TOKEN_CACHE_KEY_PREVIOUS; each is sealed with TOKEN_CACHE_KEY when next written`
      : 'TOKEN_CACHE_KEY rotation: no token record needs TOKEN_CACHE_KEY_PREVIOUS any more; remove it once every replica logs this',
  );
}

/** Records still in the format before values were bound to their record (docs/operations.md#upgrading-the-token-cache-format). */
function logLegacyFormat(logger: GraphIdentityDeps['logger'], store: TokenStore): void {
  logger.info(
    { inLegacyFormat: store.inLegacyFormat, location: store.location },
    `token cache: ${store.inLegacyFormat} token record(s) in the format before records were bound (v1); each is written in the current one when next written. Rotate TOKEN_CACHE_KEY afterwards to stop v1 values opening at all`,
  );
}

async function buildIdentity(config: Config, deps: GraphIdentityDeps): Promise<GraphIdentity> {
  if (config.deploymentMode === 'hosted') {
    if (!config.hosted) throw new Error('hosted mode needs BROKER_URL, BROKER_ID, BROKER_TOKEN and BROKER_KEY');
    return createHostedBrokerIdentity(config, deps);
  }
  const selfDeployed = config.selfDeployed;
  if (!selfDeployed) throw new Error('self-deployed mode needs AZURE_TENANT_ID, AZURE_CLIENT_ID and a credential');
  const factory = await createMsalAppFactory(config, selfDeployed, deps);
  switch (selfDeployed.flow) {
    case 'client-credentials':
      return createClientCredentialsIdentity(config, factory, deps);
    case 'authorization-code':
      return createAuthorizationCodeIdentity(config, factory, deps);
    case 'on-behalf-of':
      return createOnBehalfOfIdentity(config, factory, deps);
    default: {
      const unreachable: never = selfDeployed.flow;
      throw new Error(`unknown GRAPH_AUTH_FLOW ${String(unreachable)}`);
    }
  }
}
