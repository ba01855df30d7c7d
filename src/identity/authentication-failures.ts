import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config-types.js';
import { ErrorCode, GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';

/**
 * What happens when a caller fails to authenticate (GraphQL or the sign-in routes): one `warn`
 * line without the credential (reason, client address, correlation id, route), one count in
 * `gateway_authentication_failures_total{reason}`, and a per-address budget. After `limit`
 * failures within `windowSeconds`, every further request from that address is refused with
 * THROTTLED (HTTP 429, `Retry-After`) until the window ends, successful credentials included:
 * otherwise a guesser would still learn which guess was right.
 *
 * The address is the TCP peer. Behind a reverse proxy every client shares the proxy's address, so
 * the limit then applies to all of them together (docs/security.md#failed-authentication).
 */
export type AuthenticationFailureReason =
  | 'missing_credential'
  | 'invalid_api_key'
  | 'invalid_bearer_token'
  | 'not_loopback'
  | 'invalid_sign_in_link'
  | 'sign_in_not_bound'
  | 'not_operator'
  | 'host_not_allowed'
  | 'origin_not_allowed'
  | 'throttled';

export interface AuthenticationAttempt {
  clientAddress: string | undefined;
  correlationId: string;
  /** The route template, e.g. `/graphql` or `/auth/login`. */
  route: string;
}

export interface AuthenticationGuard {
  /** Refuses (GatewayError THROTTLED) an address that has used up its failures; call before checking any credential. */
  admit(attempt: AuthenticationAttempt): Promise<void>;
  /** Logs and counts one failure; `countsTowardsLimit: false` for refusals that are not guesses (a valid key lacking a permission). */
  recordFailure(reason: AuthenticationFailureReason, attempt: AuthenticationAttempt, options?: { countsTowardsLimit?: boolean }): Promise<void>;
  /** The reason label of an UNAUTHENTICATED refusal by the configured caller authenticator. */
  reasonOf(headers: Record<string, string | string[] | undefined>): AuthenticationFailureReason;
}

export const DEFAULT_AUTH_FAILURES = { limit: 10, windowSeconds: 300 } as const;

export interface AuthenticationGuardDeps {
  config: Pick<Config, 'callerAuth' | 'authFailures'>;
  logger: Logger;
  metrics: Pick<GatewayMetrics, 'authenticationFailures'>;
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one client. */
function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export function createAuthenticationGuard(deps: AuthenticationGuardDeps): AuthenticationGuard {
  const { limit, windowSeconds } = deps.config.authFailures ?? DEFAULT_AUTH_FAILURES;
  const limiter = new RateLimiterMemory({ keyPrefix: 'auth-failures', points: limit, duration: windowSeconds });
  const log = deps.logger.child({ component: 'caller-auth' });
  const mode = deps.config.callerAuth.mode;

  return {
    async admit(attempt) {
      const state = await limiter.get(addressKey(attempt.clientAddress));
      if (!state || state.consumedPoints < limit) return;
      const retryAfterSeconds = Math.max(1, Math.ceil(state.msBeforeNext / 1000));
      deps.metrics.authenticationFailures.inc({ reason: 'throttled' });
      log.debug(
        { reason: 'throttled', clientAddress: addressKey(attempt.clientAddress), correlationId: attempt.correlationId, route: attempt.route },
        'request refused: too many failed authentications',
      );
      throw new GatewayError(
        ErrorCode.THROTTLED,
        `Too many failed authentications from this address (${limit} within ${windowSeconds} s); try again in ${retryAfterSeconds} s.`,
        { retryAfterSeconds, reason: 'AUTHENTICATION_FAILURES' },
      );
    },
    async recordFailure(reason, attempt, options = {}) {
      const clientAddress = addressKey(attempt.clientAddress);
      deps.metrics.authenticationFailures.inc({ reason });
      let failures: number | undefined;
      if (options.countsTowardsLimit !== false) {
        const state = await limiter.consume(clientAddress).catch((rejected: unknown) => {
          if (rejected instanceof RateLimiterRes) return rejected;
          throw rejected;
        });
        failures = state.consumedPoints;
      }
      log.warn(
        { reason, clientAddress, correlationId: attempt.correlationId, route: attempt.route, ...(failures !== undefined ? { failures, limit } : {}) },
        'caller authentication failed',
      );
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
