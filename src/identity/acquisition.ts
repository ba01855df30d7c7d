import type { GatewayMetrics } from '../metrics.js';
import type { Logger } from '../logger.js';
import { tokenErrorToGatewayError, type FlowName } from './token-errors.js';
import type { AcquiredToken } from './token-slot.js';

/**
 * Wraps one upstream token acquisition: counts it (`tokenAcquisitions{flow,outcome}`), logs the
 * outcome without the token, and turns any failure into a caller-safe GatewayError.
 */
export async function instrumentAcquisition(
  flow: FlowName,
  deps: { metrics: GatewayMetrics; logger: Logger; secrets: readonly string[] },
  acquire: () => Promise<AcquiredToken>,
): Promise<AcquiredToken> {
  const started = Date.now();
  try {
    const token = await acquire();
    deps.metrics.tokenAcquisitions.inc({ flow, outcome: 'success' });
    deps.logger.debug({ flow, expiresAt: new Date(token.expiresAt).toISOString(), ms: Date.now() - started }, 'graph token acquired');
    return token;
  } catch (error) {
    const mapped = tokenErrorToGatewayError(flow, error, deps.secrets);
    deps.metrics.tokenAcquisitions.inc({ flow, outcome: 'failure' });
    // `errorCode`, not `code`: the logger redacts every field named `code` (OAuth authorization codes).
    deps.logger.warn({ flow, errorCode: mapped.code, ms: Date.now() - started }, mapped.message);
    throw mapped;
  }
}

/** msal's AuthenticationResult → our token; a result without an expiry is treated as short-lived. */
export function fromMsalResult(result: { accessToken: string; expiresOn: Date | null } | null, now: number): AcquiredToken {
  if (!result?.accessToken) throw Object.assign(new Error('msal returned no access token'), { errorCode: 'no_tokens_found' });
  return { accessToken: result.accessToken, expiresAt: result.expiresOn?.getTime() ?? now + 60_000 };
}
