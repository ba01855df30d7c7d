import { describe, expect, it } from 'vitest';
import { ErrorCode, GatewayError } from '../../src/errors.js';
import { createAuthenticationGuard, refusedCredential } from '../../src/identity/authentication-failures.js';
import { TOKEN_ISSUED_BEFORE_CONTAINMENT } from '../../src/identity/caller-authenticator.js';
import { AMBIGUOUS_CREDENTIALS } from '../../src/identity/credential-headers.js';
import { createMetrics } from '../../src/metrics.js';
import { capturingLogger } from '../support/log-capture.js';

/**
 * The one rule for a refused credential, which /graphql (src/server.ts) and the sign-in routes
 * (src/identity/auth-routes.ts) both follow (docs/security.md#failed-authentication). Before, each
 * wrote it, in different orders: /graphql answered a contained user's genuine token its 401 even
 * once the address's budget was spent, where the sign-in routes, and every other credential on
 * /graphql, got the 429. The burst that opens that gap cannot be timed over a socket, so the rule is
 * exercised here on the real guard; test/e2e/contained-caller-tokens.test.ts covers the routes.
 */
const attempt = { clientAddress: '192.0.2.7', correlationId: 'corr-refused-0001', route: '/graphql' };
const headers = { authorization: 'Bearer x.y.z' };
const wrong = () => new GatewayError(ErrorCode.UNAUTHENTICATED, 'Invalid bearer token.');
const contained = () => new GatewayError(ErrorCode.UNAUTHENTICATED, 'Invalid bearer token: issued before.', { reason: TOKEN_ISSUED_BEFORE_CONTAINMENT });
const ambiguous = () => new GatewayError(ErrorCode.BAD_USER_INPUT, 'two credentials', { reason: AMBIGUOUS_CREDENTIALS });

function guard() {
  const metrics = createMetrics({ defaultMetrics: false });
  const authGuard = createAuthenticationGuard({
    config: { callerAuth: { mode: 'entra', audiences: ['api://x'] }, authFailures: { limit: 2, windowSeconds: 300 }, trustedProxies: [] },
    logger: capturingLogger([], 'warn'),
    metrics,
  });
  const counted = async () =>
    (await metrics.registry.getSingleMetricAsString('gateway_authentication_failures_total')).split('\n').filter((l) => !l.startsWith('#'));
  return { authGuard, counted };
}

describe('refusedCredential', () => {
  it('within the budget: a contained user’s token is refused and recorded without counting; a wrong one counts', async () => {
    const { authGuard, counted } = guard();
    for (let i = 0; i < 3; i += 1) expect((await refusedCredential(authGuard, contained(), headers, attempt))?.kind).toBe('refused');
    expect(authGuard.blockedNow(attempt)).toBeUndefined();
    expect(await counted()).toEqual(['gateway_authentication_failures_total{reason="bearer_token_of_contained_user"} 3']);
  });

  it('once the address used up its budget: a contained user’s token gets the same 429 as any other credential', async () => {
    const { authGuard } = guard();
    for (let i = 0; i < 2; i += 1) expect((await refusedCredential(authGuard, wrong(), headers, attempt))?.kind).toBe('refused');
    const refusal = await refusedCredential(authGuard, contained(), headers, attempt);
    expect(refusal?.kind).toBe('throttled');
    expect(refusal?.error.code).toBe(ErrorCode.THROTTLED);
    expect((await refusedCredential(authGuard, wrong(), headers, attempt))?.kind).toBe('throttled');
    // Two credentials at once: nothing was looked at, answered as it is.
    expect(await refusedCredential(authGuard, ambiguous(), headers, attempt)).toEqual({ kind: 'ambiguous', error: expect.any(GatewayError) });
    // Not a refused credential at all.
    expect(await refusedCredential(authGuard, new GatewayError(ErrorCode.INTERNAL_SERVER_ERROR, 'x'), headers, attempt)).toBeUndefined();
    expect(await refusedCredential(authGuard, new Error('x'), headers, attempt)).toBeUndefined();
  });
});
