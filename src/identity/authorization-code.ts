import { CryptoProvider, type AccountInfo, type ConfidentialClientApplication } from '@azure/msal-node';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config-types.js';
import { ErrorCode, GatewayError } from '../errors.js';
import type { GraphIdentity } from './types.js';
import { graphDefaultScope } from './authority.js';
import { fromMsalResult, instrumentAcquisition } from './acquisition.js';
import type { GraphIdentityDeps } from './deps.js';
import { createMsalCachePlugin } from './msal-cache-plugin.js';
import type { MsalAppFactory } from './msal-app.js';
import { tokenErrorToGatewayError } from './token-errors.js';
import { TokenSlot, type AcquiredToken } from './token-slot.js';

/** A sign-in started at /auth/login, waiting for its callback. */
interface PendingLogin {
  verifier: string;
  redirectUri: string;
  expiresAt: number;
}

const LOGIN_TTL_MS = 10 * 60_000;
const MAX_PENDING_LOGINS = 100;

/** The authorization-code identity also drives the /auth/login → /auth/callback sign-in. */
export interface AuthorizationCodeIdentity extends GraphIdentity {
  readonly kind: 'authorization-code';
  /** REDIRECT_URI when configured (then /auth/login uses it; else the gateway's own /auth/callback). */
  readonly redirectUri: string | undefined;
  /** The authorize URL (state + PKCE S256); the verifier stays server-side keyed by state. */
  beginLogin(redirectUri: string): Promise<string>;
  /** Redeems the code of a callback; returns the signed-in user's name. */
  completeLogin(input: { code: string; state: string }): Promise<{ username: string }>;
}

export function isAuthorizationCodeIdentity(identity: GraphIdentity): identity is AuthorizationCodeIdentity {
  return identity.kind === 'authorization-code' && typeof (identity as Partial<AuthorizationCodeIdentity>).beginLogin === 'function';
}

/**
 * Delegated Graph tokens for one signed-in user (what `changePassword` needs), through msal:
 * the refresh token lives in the encrypted store via the cache plugin, so every rotation is
 * persisted; a redemption happens only while holding the store's refresh lock, after re-reading
 * the cache, so replicas sharing the store never redeem the same refresh token twice.
 */
export function createAuthorizationCodeIdentity(config: Config, factory: MsalAppFactory, deps: GraphIdentityDeps): AuthorizationCodeIdentity {
  const selfDeployed = config.selfDeployed!;
  const now = deps.now ?? Date.now;
  const scopes = [graphDefaultScope(config.graphEndpoint)];
  const plugin = createMsalCachePlugin(deps.store);
  let app: ConfidentialClientApplication = factory.create(plugin);
  const pending = new Map<string, PendingLogin>();
  const crypto = new CryptoProvider();
  const log = deps.logger.child({ component: 'identity', flow: 'authorization-code' });

  const signedInAccount = async (): Promise<AccountInfo | undefined> => {
    // getAllAccounts runs the plugin's beforeCacheAccess: the latest persisted cache is loaded.
    const accounts = await app.getTokenCache().getAllAccounts();
    return accounts[0];
  };

  const redeemConfiguredCode = async (): Promise<AcquiredToken> => {
    const code = selfDeployed.authCode?.reveal();
    if (!code || !selfDeployed.redirectUri) {
      throw new GatewayError(
        ErrorCode.UNAUTHENTICATED,
        'Graph token acquisition (authorization-code) has no signed-in user: sign in at /auth/login (or set AUTH_CODE and REDIRECT_URI, `npm run auth:login-url` prints the URL).',
      );
    }
    log.info('redeeming AUTH_CODE (no signed-in user in the token cache yet)');
    return fromMsalResult(await app.acquireTokenByCode({ code, redirectUri: selfDeployed.redirectUri, scopes }), now());
  };

  const acquire = (forceRefresh: boolean, rejectedToken?: string) =>
    instrumentAcquisition('authorization-code', { ...deps, secrets: factory.secrets }, () =>
      deps.store.withRefreshLock(async () => {
        const account = await signedInAccount();
        if (!account) return redeemConfiguredCode();
        if (forceRefresh && rejectedToken) {
          // Another replica may already have renewed while we waited for the lock: reuse its token.
          const cached = fromMsalResult(await app.acquireTokenSilent({ account, scopes }), now());
          if (cached.accessToken !== rejectedToken) return cached;
        }
        return fromMsalResult(await app.acquireTokenSilent({ account, scopes, forceRefresh }), now());
      }),
    );
  const slot = new TokenSlot(acquire, now);

  const source = {
    partition: `delegated:${selfDeployed.clientId}`,
    getAccessToken: (signal?: AbortSignal) => slot.get(signal),
    invalidate: () => slot.invalidate(),
  };

  const sweep = () => {
    for (const [state, login] of pending) if (login.expiresAt <= now()) pending.delete(state);
  };

  return {
    kind: 'authorization-code',
    delegated: true,
    redirectUri: selfDeployed.redirectUri,
    tokenSourceFor: () => source,
    probe: async (signal) =>
      source.getAccessToken(signal).then(
        () => true,
        () => false,
      ),
    async beginLogin(redirectUri) {
      sweep();
      if (pending.size >= MAX_PENDING_LOGINS) pending.delete(pending.keys().next().value!);
      const { verifier, challenge } = await crypto.generatePkceCodes();
      const state = randomBytes(24).toString('base64url');
      pending.set(state, { verifier, redirectUri, expiresAt: now() + LOGIN_TTL_MS });
      return app.getAuthCodeUrl({ scopes, redirectUri, state, codeChallenge: challenge, codeChallengeMethod: 'S256', responseMode: 'query' });
    },
    async completeLogin({ code, state }) {
      sweep();
      const login = pending.get(state);
      if (!login) {
        throw new GatewayError(
          ErrorCode.BAD_USER_INPUT,
          'The sign-in state is unknown or expired (sign-ins must complete within 10 minutes, on the same gateway instance). Start again at /auth/login.',
        );
      }
      pending.delete(state);
      try {
        await deps.store.withRefreshLock(async () => {
          // A new sign-in replaces the previous user: start from an empty cache.
          await deps.store.delete('msal-cache');
          app = factory.create(plugin);
          const result = await app.acquireTokenByCode({ code, redirectUri: login.redirectUri, scopes, codeVerifier: login.verifier });
          deps.metrics.tokenAcquisitions.inc({ flow: 'authorization-code', outcome: 'success' });
          return result;
        });
      } catch (error) {
        deps.metrics.tokenAcquisitions.inc({ flow: 'authorization-code', outcome: 'failure' });
        throw tokenErrorToGatewayError('authorization-code', error, factory.secrets);
      }
      slot.clear();
      const account = await signedInAccount();
      log.info({ user: account?.username }, 'signed in through /auth/login');
      return { username: account?.username ?? 'unknown user' };
    },
  };
}
