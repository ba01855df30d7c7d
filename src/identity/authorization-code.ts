import { CryptoProvider, type AccountInfo, type ConfidentialClientApplication } from '@azure/msal-node';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuditAccount, AuditCaller } from '../audit/event.js';
import type { Config } from '../config-types.js';
import { ErrorCode, GatewayError } from '../errors.js';
import type { GraphIdentity, GraphTokenSource } from './types.js';
import { graphDefaultScope } from './authority.js';
import { fromMsalResult, instrumentAcquisition } from './acquisition.js';
import type { GraphIdentityDeps } from './deps.js';
import { createMsalCachePlugin } from './msal-cache-plugin.js';
import type { MsalAppFactory } from './msal-app.js';
import { tokenErrorToGatewayError } from './token-errors.js';
import { TokenCacheKeyMismatchError } from '../store/token-store.js';
import { TokenSlot, slotTokenSource, tokenProbe, type AcquiredToken } from './token-slot.js';

/**
 * A sign-in started at /auth/login, waiting for its callback: kept in the token store (sealed,
 * expiring), so that with a shared CACHE_URL the callback completes on whichever replica it reaches
 * (docs/security.md#replicas). Keyed by the SHA-256 of the state, never the state itself.
 */
interface PendingLogin {
  verifier: string;
  redirectUri: string;
  expiresAt: number;
  /** Who started it (for the audit event of the identity change). */
  operator: AuditCaller;
  /** SHA-256 (base64url) of the binding secret given to the starting browser (a cookie); the callback must present it. */
  bindingDigest: string;
}

/** What a completed callback did. A refused account leaves the previous identity in place. */
export type SignInOutcome =
  | { outcome: 'signed-in'; operator: AuditCaller; account: AuditAccount; previousAccount?: AuditAccount }
  | { outcome: 'account-refused'; operator: AuditCaller; account: AuditAccount; previousAccount?: AuditAccount };

const LOGIN_TTL_MS = 10 * 60_000;
/** How long a token store that answered nothing is not asked again which account it holds (see followStoredAccount). */
const STORED_ACCOUNT_RETRY_MS = 5_000;

/** The authorization-code identity also drives the /auth/login → /auth/callback sign-in. */
export interface AuthorizationCodeIdentity extends GraphIdentity {
  readonly kind: 'authorization-code';
  /** REDIRECT_URI when configured (then /auth/login uses it; else the gateway's own /auth/callback). */
  readonly redirectUri: string | undefined;
  /**
   * The authorize URL (state + PKCE S256; the verifier stays server-side keyed by state) and a
   * binding secret for the operator's browser: only a callback that presents it completes.
   */
  beginLogin(redirectUri: string, operator: AuditCaller): Promise<{ location: string; binding: string }>;
  /**
   * Redeems the code of a callback whose state was started with one of these bindings (every value
   * of the binding cookie the browser sent). The new account replaces the previous one only when
   * SIGN_IN_ACCOUNT admits it.
   */
  completeLogin(input: { code: string; state: string; bindings: readonly string[] }): Promise<SignInOutcome>;
  /**
   * Whether `state` names a sign-in waiting for its callback, and whether one of `bindings` is the one
   * given to the browser that started it; nothing is spent. For Entra's error redirect, which carries
   * the state of the sign-in it ends and no code.
   */
  pendingSignIn(input: { state: string; bindings: readonly string[] }): Promise<PendingSignInCheck>;
}

/** `unknown`: no sign-in waits under that state (never started here, expired, or already completed). */
export type PendingSignInCheck = 'bound' | 'not-bound' | 'unknown';

/** The `reason` of the BAD_USER_INPUT a callback with an unknown state gets, so the route can count it as a guess. */
export const SIGN_IN_STATE_UNKNOWN = 'SIGN_IN_STATE_UNKNOWN';

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
  const plugin = createMsalCachePlugin(deps.store, deps.logger);
  let app: ConfidentialClientApplication = factory.create(plugin);
  const crypto = new CryptoProvider();
  const log = deps.logger.child({ component: 'identity', flow: 'authorization-code' });

  const digest = (binding: string) => createHash('sha256').update(binding, 'utf8').digest();
  const pendingName = (state: string) => `sign-in:${createHash('sha256').update(state, 'utf8').digest('base64url')}`;
  /**
   * A record of the store that is there but does not open: sealed under a TOKEN_CACHE_KEY this
   * replica does not hold (a rotation under way, replicas on different keys), or altered in the
   * store. Not the caller's guess, and not an internal failure: before, the callback answered 500
   * with an `error` line and a stack (docs/security.md#replicas).
   */
  const readSignInRecord = async <T>(what: string, read: () => Promise<T>): Promise<T> => {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof TokenCacheKeyMismatchError)) throw error;
      log.warn({ record: what }, 'sign-in record not readable: it was sealed with a key this gateway does not hold, or altered');
      throw new GatewayError(
        ErrorCode.UPSTREAM_UNAVAILABLE,
        `This gateway cannot open the record of this sign-in (${what}) in its token store: it was sealed with a TOKEN_CACHE_KEY this gateway does not hold (replicas on different keys during a rotation), or altered. Give every replica the same TOKEN_CACHE_KEY (and TOKEN_CACHE_KEY_PREVIOUS), then start again at /auth/login.`,
        { retryAfterSeconds: 5 },
      );
    }
  };
  const readPending = async (state: string): Promise<PendingLogin | undefined> => {
    const text = await readSignInRecord('the sign-in in progress', () => deps.store.getShortLived(pendingName(state)));
    if (text === undefined) return undefined;
    const login = JSON.parse(text) as PendingLogin;
    // The store's expiry is the bound; this guards a backend whose expiry lags.
    return login.expiresAt > now() ? login : undefined;
  };
  const isBound = (login: PendingLogin, bindings: readonly string[]): boolean =>
    bindings.some((binding) => binding.length > 0 && timingSafeEqual(digest(binding), Buffer.from(login.bindingDigest, 'base64url')));
  const signedInAccount = async (): Promise<AccountInfo | undefined> => {
    // getAllAccounts runs the plugin's beforeCacheAccess: the latest persisted cache is loaded.
    const accounts = await app.getTokenCache().getAllAccounts();
    return accounts[0];
  };

  /** The account (msal homeAccountId) whose access token the slot holds; acquisitions run one at a time (the refresh lock). */
  let servedAccount: string | undefined;
  /** The accounts `app` has acquired tokens for: what its in-memory cache holds besides what the store holds now. */
  let appAccounts = new Set<string>();
  /**
   * msal merges what the plugin loads into its in-memory cache, it never drops an entry the store no
   * longer has: after a sign-in completed on another replica, this replica's application still held
   * the previous account, with its refresh token, listed it first, kept redeeming that refresh token
   * and wrote both accounts back to the shared store (docs/security.md#a-new-sign-in-reaches-every-replica).
   * When the store no longer names an account this application acquired for, a new application (an
   * empty in-memory cache) takes over, as after a sign-in here. Called under the refresh lock.
   */
  const forgetReplacedAccounts = async (): Promise<void> => {
    if (appAccounts.size === 0) return;
    let stored: Set<string> | undefined;
    try {
      stored = storedAccounts(await deps.store.get('msal-cache'));
    } catch {
      // Not openable: signedInAccount (next) meets the same record and says so.
      return;
    }
    if (stored === undefined || [...appAccounts].every((a) => stored.has(a))) return;
    log.info('the stored sign-in no longer names an account this replica served (signed in again on another replica): its in-memory token cache is dropped');
    app = factory.create(plugin);
    appAccounts = new Set();
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
    try {
      const result = await app.acquireTokenByCode({ code, redirectUri: selfDeployed.redirectUri, scopes });
      servedAccount = result?.account?.homeAccountId;
      if (servedAccount !== undefined) appAccounts.add(servedAccount);
      return fromMsalResult(result, now());
    } catch (error) {
      // A refused AUTH_CODE is a spent or stale configuration value: nothing stored needs a reset.
      throw tokenErrorToGatewayError('authorization-code', error, factory.secrets, 'configured-code');
    }
  };

  const acquire = (forceRefresh: boolean, rejectedToken?: string) =>
    instrumentAcquisition('authorization-code', { ...deps, secrets: factory.secrets }, () =>
      deps.store.withRefreshLock(async () => {
        await forgetReplacedAccounts();
        const account = await signedInAccount();
        if (!account) return redeemConfiguredCode();
        servedAccount = account.homeAccountId;
        appAccounts.add(account.homeAccountId);
        if (forceRefresh && rejectedToken) {
          // Another replica may already have renewed while we waited for the lock: reuse its token.
          const cached = fromMsalResult(await app.acquireTokenSilent({ account, scopes }), now());
          if (cached.accessToken !== rejectedToken) return cached;
        }
        return fromMsalResult(await app.acquireTokenSilent({ account, scopes, forceRefresh }), now());
      }),
    );
  const slot = new TokenSlot(acquire, now);

  /**
   * A sign-in completed on another replica replaces the stored account, and this replica's cached
   * access token (the previous account's, valid for an hour and more) has to go with it: before, that
   * replica kept serving every caller as the previous account, and the check that keeps mutations off
   * the signed-in account (it asks Graph `/me` with this token) guarded the previous account, so the
   * new one could be terminated or have its password changed there
   * (docs/security.md#a-new-sign-in-reaches-every-replica). So every use of the cached token first
   * reads which accounts the store holds (one read shared by concurrent uses: the store is read
   * anyway for every acquisition); a store that answers nothing (unreachable, or nothing stored, which
   * a read cannot tell apart) keeps the token, as a Redis outage must not stop serving, and is asked
   * again only after STORED_ACCOUNT_RETRY_MS, so an outage does not cost every Graph call a timeout.
   */
  let accountCheck: Promise<void> | undefined;
  let storeQuietUntil = 0;
  const followStoredAccount = (): Promise<void> => {
    if (servedAccount === undefined || now() < storeQuietUntil) return Promise.resolve();
    accountCheck ??= (async () => {
      try {
        const stored = storedAccounts(await deps.store.get('msal-cache'));
        if (stored === undefined) storeQuietUntil = now() + STORED_ACCOUNT_RETRY_MS;
        else if (servedAccount !== undefined && !stored.has(servedAccount)) {
          log.info('the stored sign-in names another account (signed in on another replica): the cached access token is dropped');
          servedAccount = undefined;
          slot.clear();
        }
      } catch {
        // Not openable (a key this replica does not hold, or altered): the next acquisition says so.
        storeQuietUntil = now() + STORED_ACCOUNT_RETRY_MS;
      } finally {
        accountCheck = undefined;
      }
    })();
    return accountCheck;
  };

  const slotSource = slotTokenSource(`delegated:${selfDeployed.clientId}`, slot);
  const source: GraphTokenSource = {
    ...slotSource,
    getAccessToken: async (signal) => {
      await followStoredAccount();
      return slotSource.getAccessToken(signal);
    },
  };

  return {
    kind: 'authorization-code',
    delegated: true,
    redirectUri: selfDeployed.redirectUri,
    tokenSourceFor: () => source,
    probe: tokenProbe(source),
    async beginLogin(redirectUri, operator) {
      const { verifier, challenge } = await crypto.generatePkceCodes();
      const state = randomBytes(24).toString('base64url');
      const binding = randomBytes(32).toString('base64url');
      const login: PendingLogin = { verifier, redirectUri, expiresAt: now() + LOGIN_TTL_MS, operator, bindingDigest: digest(binding).toString('base64url') };
      await deps.store.putShortLived(pendingName(state), JSON.stringify(login), LOGIN_TTL_MS);
      // `prompt=select_account`: Entra asks which account to sign in instead of taking the one the
      // operator's browser is already signed in with, which would quietly become the account every
      // caller is served as (docs/identity.md#self-deployed-authorization-code-delegated; Entra's prompt values:
      // docs/graph-facts.md#sign-in-requests).
      const location = await app.getAuthCodeUrl({
        scopes,
        redirectUri,
        state,
        codeChallenge: challenge,
        codeChallengeMethod: 'S256',
        responseMode: 'query',
        prompt: 'select_account',
      });
      return { location, binding };
    },
    async pendingSignIn({ state, bindings }) {
      const login = await readPending(state);
      if (!login) return 'unknown';
      return isBound(login, bindings) ? 'bound' : 'not-bound';
    },
    async completeLogin({ code, state, bindings }) {
      const unknownState = () =>
        new GatewayError(
          ErrorCode.BAD_USER_INPUT,
          'The sign-in state is unknown, expired or already used (sign-ins must complete within 10 minutes, once; replicas share them only through a Redis CACHE_URL). Start again at /auth/login.',
          { reason: SIGN_IN_STATE_UNKNOWN },
        );
      const login = await readPending(state);
      if (!login) throw unknownState();
      // The state alone is not enough: it travels through the browser's address bar and Entra's
      // redirect. Only the browser that started the sign-in holds the binding. A wrong binding does
      // not cancel the pending sign-in (that would let anyone who saw the state cancel it).
      if (!isBound(login, bindings)) {
        throw new GatewayError(
          ErrorCode.UNAUTHENTICATED,
          'This sign-in was started by someone else (or in another browser): complete it in the browser that opened /auth/login, or start again there.',
          { reason: 'SIGN_IN_NOT_BOUND' },
        );
      }
      // Read before the sign-in is spent: a stored identity this replica cannot open leaves the
      // sign-in waiting, for a replica that can.
      const previous = await readSignInRecord('the signed-in account it replaces', signedInAccount);
      // Spent once: of two callbacks racing (on two replicas), only the one that removes it goes on.
      if (!(await deps.store.takeShortLived(pendingName(state)))) throw unknownState();
      const previousAccount = previous ? accountOf(previous) : undefined;
      // Redeem with a throw-away application whose cache is not persisted: the new account is
      // checked before it may replace the stored identity.
      const candidate = factory.create();
      let account: AccountInfo;
      try {
        const result = await candidate.acquireTokenByCode({ code, redirectUri: login.redirectUri, scopes, codeVerifier: login.verifier });
        if (!result.account) throw new Error('the token response named no account (no id_token)');
        account = result.account;
        deps.metrics.tokenAcquisitions.inc({ flow: 'authorization-code', outcome: 'success' });
      } catch (error) {
        deps.metrics.tokenAcquisitions.inc({ flow: 'authorization-code', outcome: 'failure' });
        // The stored identity is untouched (the code went to a throw-away cache): a refused code
        // means "start again at /auth/login", never "reset the stored identity".
        throw tokenErrorToGatewayError('authorization-code', error, factory.secrets, 'sign-in-code');
      }
      const signedIn = accountOf(account);
      if (!accountAllowed(account, config.signInAccount, selfDeployed.tenantId)) {
        log.warn({ account: signedIn }, 'sign-in refused: the account is not SIGN_IN_ACCOUNT; the previous identity is kept');
        return { outcome: 'account-refused', operator: login.operator, account: signedIn, ...(previousAccount ? { previousAccount } : {}) };
      }
      const serialized = candidate.getTokenCache().serialize();
      await deps.store.withRefreshLock(async () => {
        // The new user replaces the previous one: exactly the candidate's cache is persisted.
        await deps.store.set('msal-cache', serialized);
        app = factory.create(plugin);
        appAccounts = new Set();
      });
      servedAccount = undefined;
      slot.clear();
      log.info({ account: signedIn }, 'signed in through /auth/login');
      return { outcome: 'signed-in', operator: login.operator, account: signedIn, ...(previousAccount ? { previousAccount } : {}) };
    },
  };
}

/**
 * The accounts (homeAccountId) of a serialized msal cache, read without msal: deserializing it into
 * the live application could replace what an acquisition in progress just put there. Undefined when
 * nothing is stored or the text is not a cache.
 */
function storedAccounts(serialized: string | undefined): Set<string> | undefined {
  if (serialized === undefined) return undefined;
  try {
    const accounts = (JSON.parse(serialized) as { Account?: Record<string, { home_account_id?: unknown }> }).Account;
    if (!accounts || typeof accounts !== 'object') return undefined;
    return new Set(Object.values(accounts).flatMap((a) => (typeof a?.home_account_id === 'string' ? [a.home_account_id] : [])));
  } catch {
    return undefined;
  }
}

function accountOf(account: AccountInfo): AuditAccount {
  const objectId = typeof account.idTokenClaims?.oid === 'string' ? account.idTokenClaims.oid : account.localAccountId;
  return { ...(objectId ? { objectId } : {}), ...(account.username ? { username: account.username } : {}) };
}

/**
 * SIGN_IN_ACCOUNT: an object id is compared with the id token's `oid` (immutable), a UPN with
 * `preferred_username` (mutable, so an object id is the stronger pin: docs/graph-facts.md#caller-tokens). A GUID
 * tenant id must also match `tid`: an object id names an account only within its tenant.
 */
export function accountAllowed(account: AccountInfo, pinned: string | undefined, tenantId: string): boolean {
  const claims = account.idTokenClaims ?? {};
  const tid = typeof claims.tid === 'string' ? claims.tid : account.tenantId;
  if (/^[0-9a-f-]{36}$/i.test(tenantId) && tid && tid.toLowerCase() !== tenantId.toLowerCase()) return false;
  if (pinned === undefined) return true;
  const wanted = pinned.toLowerCase();
  const oid = typeof claims.oid === 'string' ? claims.oid : account.localAccountId;
  if (pinned.includes('@')) {
    const username = typeof claims.preferred_username === 'string' ? claims.preferred_username : account.username;
    return (username ?? '').toLowerCase() === wanted;
  }
  return (oid ?? '').toLowerCase() === wanted;
}
