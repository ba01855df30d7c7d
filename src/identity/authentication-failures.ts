import type { IncomingMessage } from 'node:http';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config-types.js';
import { ErrorCode, GatewayError } from '../errors.js';
import { addressKey, clientAddressResolver } from '../http/client-address.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import { isRevokedCallerToken } from './caller-authenticator.js';
import { isAmbiguousCredentials } from './credential-headers.js';
import { createQuietWindows } from './quiet-windows.js';

/**
 * What happens when a caller fails to authenticate (GraphQL or the sign-in routes): one `warn`
 * line without the credential (reason, client address, correlation id, route), one count in
 * `gateway_authentication_failures_total{reason}`, and a per-address budget. After `limit`
 * failures within `windowSeconds`, every further request from that address is refused with
 * THROTTLED (HTTP 429, `Retry-After`) until the window ends, successful credentials included:
 * otherwise a guesser would still learn which guess was right.
 *
 * The address is the TCP peer, or behind TRUSTED_PROXIES the client their `X-Forwarded-For` names
 * (src/http/client-address.ts). With a shared Redis (CACHE_URL) every replica counts into the same
 * budget, so a guesser gains nothing by spreading guesses over the replicas behind a load balancer;
 * while Redis does not answer each replica counts in its own memory (rate-limiter-flexible's
 * insurance limiter) rather than letting guesses through uncounted
 * (docs/security.md#failed-authentication).
 */
export type AuthenticationFailureReason =
  | 'missing_credential'
  | 'invalid_api_key'
  | 'invalid_bearer_token'
  | 'bearer_token_of_contained_user'
  | 'ambiguous_credentials'
  | 'not_loopback'
  | 'invalid_sign_in_link'
  | 'sign_in_not_bound'
  | 'invalid_sign_in_state'
  | 'not_operator'
  | 'host_not_allowed'
  | 'origin_not_allowed'
  | 'forwarded_request'
  | 'throttled';

export interface AuthenticationAttempt {
  clientAddress: string | undefined;
  correlationId: string;
  /** The route template, e.g. `/graphql` or `/auth/login`. */
  route: string;
}

export interface AuthenticationGuard {
  /** The client address a request's failures count against (TCP peer or, behind TRUSTED_PROXIES, the forwarded client). */
  clientAddressOf(req: IncomingMessage): string | undefined;
  /** Refuses (GatewayError THROTTLED) an address that has used up its failures; call before checking any credential. */
  admit(attempt: AuthenticationAttempt): Promise<void>;
  /**
   * The THROTTLED refusal for an address this process has itself recorded `limit` failures for
   * within the window, else undefined. Synchronous: call it right after a credential was checked,
   * before its outcome (a success or a 401) is shown. `admit` alone let a burst through: every
   * request of it passed `admit` while the first ones were still being counted (with Redis, one
   * round trip each), and one burst of 1,000 concurrent guesses from one address had 270 to 480 of
   * them checked against a limit of 10.
   */
  blockedNow(attempt: AuthenticationAttempt): GatewayError | undefined;
  /** Logs and counts one failure; `countsTowardsLimit: false` for refusals that are not guesses (a valid key lacking a permission). */
  recordFailure(reason: AuthenticationFailureReason, attempt: AuthenticationAttempt, options?: { countsTowardsLimit?: boolean }): Promise<void>;
  /** The reason label of an UNAUTHENTICATED refusal by the configured caller authenticator. */
  reasonOf(headers: Record<string, string | string[] | undefined>): AuthenticationFailureReason;
  /** Writes the counts of refusals not logged that no line carried yet, and stops its timer (shutdown). */
  close(): void;
}

export const DEFAULT_AUTH_FAILURES = { limit: 10, windowSeconds: 300 } as const;

/**
 * What a refused credential is answered with, after its failure was recorded: `ambiguous` (no
 * credential was looked at), `throttled` (the address used up its failures while this one was
 * checked) or `refused` (the 401 itself). Undefined for an error that is not a refused credential.
 */
export type CredentialRefusal = { kind: 'ambiguous' | 'throttled' | 'refused'; error: GatewayError };

/**
 * The one rule for a credential the caller authenticator refused, on /graphql (src/server.ts) and
 * the sign-in routes (src/identity/auth-routes.ts) alike. In this order:
 * 1. Two credentials at once: nothing was looked at, so nothing was guessed; recorded, not counted,
 *    and answered as it is whatever the address's budget.
 * 2. Any other refusal, a contained user's genuine token included: THROTTLED when the address's
 *    budget was used up since `admit` (docs/security.md#failed-authentication: right credential or
 *    wrong, the same 429), without recording another failure.
 * 3. A contained user's token: recorded, not counted (not a guess: docs/security.md#contained-users-caller-tokens);
 *    any other: recorded and counted under the reason of the configured authentication.
 */
export async function refusedCredential(
  guard: AuthenticationGuard,
  error: unknown,
  headers: Record<string, string | string[] | undefined>,
  attempt: AuthenticationAttempt,
): Promise<CredentialRefusal | undefined> {
  if (!(error instanceof GatewayError)) return undefined;
  if (isAmbiguousCredentials(error)) {
    await guard.recordFailure('ambiguous_credentials', attempt, { countsTowardsLimit: false });
    return { kind: 'ambiguous', error };
  }
  if (error.code !== ErrorCode.UNAUTHENTICATED) return undefined;
  const blocked = guard.blockedNow(attempt);
  if (blocked) return { kind: 'throttled', error: blocked };
  if (isRevokedCallerToken(error)) await guard.recordFailure('bearer_token_of_contained_user', attempt, { countsTowardsLimit: false });
  else await guard.recordFailure(guard.reasonOf(headers), attempt);
  return { kind: 'refused', error };
}

export interface AuthenticationGuardDeps {
  config: Pick<Config, 'callerAuth' | 'authFailures' | 'trustedProxies'>;
  logger: Logger;
  metrics: Pick<GatewayMetrics, 'authenticationFailures'>;
  /** A connected node-redis client (CACHE_URL): the failures are counted there, for every replica. */
  redis?: unknown;
  /**
   * Which gateway's doors the counts are for (`graphIdentityId`): its replicas share one budget per
   * client address, and another gateway on the same Redis keeps its own. Without it, a stranger's
   * failures at one gateway blocked the same address (or everyone behind one proxy) at another.
   */
  partition?: string;
  /** The clock of the quiet interval of refusals that are not guesses (UNCOUNTED_REFUSAL_LOG_INTERVAL_MS); Date.now by default. */
  now?: () => number;
}

/** Redis keys of the counts: `mgug:auth-failures:<partition>:<address>`, expiring with their window. */
export const AUTH_FAILURES_KEY_PREFIX = 'mgug:auth-failures';

/**
 * With Redis, an address found below the limit is not asked about again for this long, so a caller
 * that authenticates costs no Redis round trip per request. A block reached through other replicas
 * is seen here at most this late, and a failure here always asks again: a guesser gets at most one
 * more guess per replica, each of which is counted.
 */
export const CLEAR_ADDRESS_MEMO_MS = 1_000;
/** Bound of the per-address memos below (`clearUntil`, `keys`); a full one is cleared. */
const MAX_REMEMBERED_ADDRESSES = 10_000;

/**
 * Addresses the in-memory failure counts hold at most (the counts themselves without Redis, the
 * insurance counts beside it). rate-limiter-flexible's RateLimiterMemory keeps one record and one
 * timer per address for the whole window, without a bound: ~620 bytes of heap each, so failures
 * from 200,000 addresses within the 5-minute window (an IPv6 /46 counted by /64, or any peer in
 * TRUSTED_PROXIES writing a new `X-Forwarded-For` each time, at ~650 requests a second) held about
 * 120 MB, past the image's 128 MB heap. Past the bound the oldest address is forgotten: only a
 * caller that itself holds this many addresses can push another's count out, and it already has this
 * many fresh budgets.
 */
export const MAX_COUNTED_ADDRESSES = 10_000;

/**
 * Refusals that are not guesses (a valid key without Gateway.Admin, a rebinding Host, a foreign
 * Origin, a relayed request, two credentials at once) do not use up the failure budget, so nothing
 * ever stops them: each wrote one `warn` line, and a caller holding any valid key (or, with
 * CALLER_AUTH=none, any page the local operator's browser opens) could write lines as fast as it
 * could send requests, burying the lines that matter and filling the log pipeline. Now the first
 * refusal of a reason from an address writes its line, the next ones within this interval only
 * count (the metric still counts every one), and how many it did not write (`notLogged`) is said by
 * the next line after it, or by a line of its own when the interval ends without one
 * (src/identity/quiet-windows.ts, docs/security.md#failed-authentication).
 */
export const UNCOUNTED_REFUSAL_LOG_INTERVAL_MS = 60_000;

/** RateLimiterMemory that forgets its oldest key to make room past `maxKeys` (see MAX_COUNTED_ADDRESSES). */
class BoundedRateLimiterMemory extends RateLimiterMemory {
  readonly #maxKeys: number;

  constructor(options: ConstructorParameters<typeof RateLimiterMemory>[0], maxKeys: number) {
    super(options);
    this.#maxKeys = maxKeys;
  }

  override consume(key: string | number, pointsToConsume?: number, options?: { [key: string]: unknown }): Promise<RateLimiterRes> {
    // The library's own store (rate-limiter-flexible 11: a Map in insertion order, whose `delete`
    // also clears the key's expiry timer); test/e2e/auth-failure-addresses.test.ts notices
    // if a new version moves it.
    const storage = (this as unknown as { _memoryStorage?: { _storage?: Map<string, unknown>; delete(key: string): boolean } })._memoryStorage;
    const records = storage?._storage;
    if (storage && records && records.size >= this.#maxKeys && !records.has(this.getKey(key))) {
      const oldest = records.keys().next().value;
      if (oldest !== undefined) storage.delete(oldest);
    }
    return super.consume(key, pointsToConsume, options);
  }
}

/** The address as logged: `::ffff:` removed from an IPv4-mapped address, nothing else changed. */
function displayAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export function createAuthenticationGuard(deps: AuthenticationGuardDeps): AuthenticationGuard {
  const { limit, windowSeconds } = deps.config.authFailures ?? DEFAULT_AUTH_FAILURES;
  const memory = new BoundedRateLimiterMemory({ keyPrefix: 'auth-failures', points: limit, duration: windowSeconds }, MAX_COUNTED_ADDRESSES);
  const limiter: RateLimiterAbstract = deps.redis
    ? new RateLimiterRedis({
        storeClient: deps.redis,
        useRedisPackage: true,
        // Fails fast when Redis hangs or is gone (its client has no offline queue); the memory limiter counts meanwhile.
        rejectIfRedisNotReady: true,
        keyPrefix: deps.partition ? `${AUTH_FAILURES_KEY_PREFIX}:${deps.partition}` : AUTH_FAILURES_KEY_PREFIX,
        points: limit,
        duration: windowSeconds,
        insuranceLimiter: memory,
      })
    : memory;
  const log = deps.logger.child({ component: 'caller-auth' });
  const mode = deps.config.callerAuth.mode;
  /** Redis only: address → until when it counts as below the limit without asking (CLEAR_ADDRESS_MEMO_MS). */
  const clearUntil = new Map<string, number>();
  /**
   * Client address → its key. Parsing an address with ipaddr.js on every request was ~2 % of a
   * single lookup's CPU in the benchmark's profile, for the handful of addresses (load balancers,
   * proxies, clients) a gateway sees; bounded like `clearUntil`.
   */
  const keys = new Map<string, string>();
  /**
   * Failures this process recorded per address key, counted the moment they are recorded (before
   * any Redis round trip), for `blockedNow`; a fixed window from the first failure. Bounded like
   * `clearUntil`.
   */
  const recorded = new Map<string, { failures: number; until: number }>();
  const now = deps.now ?? Date.now;
  /**
   * `<reason> <address key>` of refusals that are not guesses → their quiet window. Bounded like
   * `recorded`, but by forgetting the window opened longest ago (a cleared map would let every
   * address write a line again at once); a count no later line carries gets a line of its own.
   */
  const quiet = createQuietWindows<{ reason: AuthenticationFailureReason; clientAddress: string; key: string }>({
    intervalMs: UNCOUNTED_REFUSAL_LOG_INTERVAL_MS,
    maxKeys: MAX_REMEMBERED_ADDRESSES,
    now,
    report: ({ subject, notLogged }) =>
      log.warn(
        {
          reason: subject.reason,
          clientAddress: subject.clientAddress,
          ...(subject.key !== subject.clientAddress ? { countedAs: subject.key } : {}),
          notLogged,
        },
        'caller authentication failures not logged',
      ),
  });
  const throttled = (attempt: AuthenticationAttempt, retryAfterMs: number): GatewayError => {
    const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    deps.metrics.authenticationFailures.inc({ reason: 'throttled' });
    log.debug(
      { reason: 'throttled', clientAddress: displayAddress(attempt.clientAddress), correlationId: attempt.correlationId, route: attempt.route },
      'request refused: too many failed authentications',
    );
    return new GatewayError(
      ErrorCode.THROTTLED,
      `Too many failed authentications from this address (${limit} within ${windowSeconds} s); try again in ${retryAfterSeconds} s.`,
      { retryAfterSeconds, reason: 'AUTHENTICATION_FAILURES' },
    );
  };
  const keyOf = (clientAddress: string | undefined): string => {
    if (!clientAddress) return addressKey(clientAddress);
    let key = keys.get(clientAddress);
    if (key === undefined) {
      key = addressKey(clientAddress);
      if (keys.size >= MAX_REMEMBERED_ADDRESSES) keys.clear();
      keys.set(clientAddress, key);
    }
    return key;
  };

  return {
    clientAddressOf: clientAddressResolver(deps.config.trustedProxies ?? []),
    async admit(attempt) {
      const address = keyOf(attempt.clientAddress);
      if (deps.redis && (clearUntil.get(address) ?? 0) > Date.now()) return;
      const shared = await limiter.get(address);
      // With Redis, a failure Redis did not record (unreachable, or full and refusing writes while
      // still answering reads) was counted in this replica's memory by the insurance limiter. Those
      // count here too: reading Redis alone would admit a guesser for as long as Redis refuses
      // writes. (Redis unreachable, `limiter.get` already answers from that memory.)
      const local = deps.redis ? await memory.get(address) : null;
      const state = [shared, local].find((candidate) => candidate !== null && candidate.consumedPoints >= limit);
      if (!state) {
        if (deps.redis) {
          if (clearUntil.size >= MAX_REMEMBERED_ADDRESSES) clearUntil.clear();
          clearUntil.set(address, Date.now() + CLEAR_ADDRESS_MEMO_MS);
        }
        return;
      }
      throw throttled(attempt, state.msBeforeNext);
    },
    blockedNow(attempt) {
      const entry = recorded.get(keyOf(attempt.clientAddress));
      const now = Date.now();
      if (!entry || entry.until <= now || entry.failures < limit) return undefined;
      return throttled(attempt, entry.until - now);
    },
    async recordFailure(reason, attempt, options = {}) {
      const key = keyOf(attempt.clientAddress);
      const clientAddress = displayAddress(attempt.clientAddress);
      deps.metrics.authenticationFailures.inc({ reason });
      let failures: number | undefined;
      if (options.countsTowardsLimit !== false) {
        // Counted here at once, before any await, so that `blockedNow` sees it for the requests of the same burst.
        const now = Date.now();
        const entry = recorded.get(key);
        if (entry && entry.until > now) entry.failures += 1;
        else {
          if (recorded.size >= MAX_REMEMBERED_ADDRESSES) recorded.clear();
          recorded.set(key, { failures: 1, until: now + windowSeconds * 1000 });
        }
        clearUntil.delete(key);
        const state = await limiter.consume(key).catch((rejected: unknown) => {
          if (rejected instanceof RateLimiterRes) return rejected;
          throw rejected;
        });
        failures = state.consumedPoints;
      }
      // Not a guess: nothing bounds how often it comes, so its lines are (UNCOUNTED_REFUSAL_LOG_INTERVAL_MS).
      const line = failures === undefined ? quiet.event(`${reason} ${key}`, { reason, clientAddress, key }) : { write: true, notLogged: 0 };
      if (!line.write) return;
      log.warn(
        {
          reason,
          clientAddress,
          ...(key !== clientAddress ? { countedAs: key } : {}),
          correlationId: attempt.correlationId,
          route: attempt.route,
          ...(failures !== undefined ? { failures, limit } : {}),
          ...(line.notLogged > 0 ? { notLogged: line.notLogged } : {}),
        },
        'caller authentication failed',
      );
    },
    close() {
      quiet.close();
    },
    reasonOf(headers) {
      const has = (name: string) => headers[name] !== undefined && headers[name] !== '';
      switch (mode) {
        case 'none':
          return 'not_loopback';
        case 'api-key':
          return has('x-api-key') || has('authorization') ? 'invalid_api_key' : 'missing_credential';
        case 'entra':
          return has('authorization') ? 'invalid_bearer_token' : 'missing_credential';
        default: {
          const unreachable: never = mode;
          throw new Error(`unknown CALLER_AUTH ${String(unreachable)}`);
        }
      }
    },
  };
}
