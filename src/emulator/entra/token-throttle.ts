import { randomUUID } from 'node:crypto';
import type { EmulatorContext } from '../context.js';
import type { TenantModel } from '../model.js';
import type { EmuRequest, EmuResponse } from '../http.js';
import { aadError, aadErrorResponse } from './errors.js';

/**
 * Entra's server throttling of token requests (docs/graph-facts.md#msal-node), on only when the
 * identity switch `tokenRequestsPerMinute` is set. Microsoft's MSAL guidance ("Understanding client
 * and server throttling in MSAL.NET", learn.microsoft.com/entra/msal/dotnet/advanced/client-and-server-throttling)
 * says Entra signals it two ways: a client credentials request gets `429 Too Many Requests` with
 * `Retry-After: 60`; a user-facing request gets `invalid_grant` AADSTS50196 ("The server terminated
 * an operation because it encountered a loop while processing a request"; reference-error-codes:
 * LoopDetected). The 429's body is not documented; a field report quotes it as the bare text "Too
 * Many Requests" (AzureAD/microsoft-authentication-library-for-dotnet#2855), which the emulator
 * sends (the stricter reading: a client cannot rely on an OAuth error body). On-behalf-of carries a
 * user, so it is taken as user-facing.
 *
 * What Entra counts is not documented (repeated identical requests of an app that does not cache
 * tokens); the emulator counts every token request of one app and grant type in a sliding minute,
 * the answered and the refused alike, as a client that keeps asking keeps being refused.
 */
export const THROTTLE_RETRY_AFTER_SECONDS = 60;
const WINDOW_MS = 60_000;

const windows = new WeakMap<TenantModel, Map<string, number[]>>();

/** Forgets every count (a new `tokenRequestsPerMinute` starts afresh). */
export function resetTokenThrottle(tenant: TenantModel): void {
  windows.delete(tenant);
}

/** Counts this request; the throttled answer when the app is over `tokenRequestsPerMinute`, else undefined. */
export function throttledTokenRequest(ctx: EmulatorContext, req: EmuRequest, appId: string, grantType: string, route: string): EmuResponse | undefined {
  const limit = ctx.identity.tokenRequestsPerMinute;
  if (limit === null) return undefined;
  let byKey = windows.get(ctx.tenant);
  if (!byKey) {
    byKey = new Map();
    windows.set(ctx.tenant, byKey);
  }
  const key = `${appId}\n${grantType}`;
  const now = ctx.now();
  const recent = (byKey.get(key) ?? []).filter((at) => now - at < WINDOW_MS);
  recent.push(now);
  byKey.set(key, recent);
  if (recent.length <= limit) return undefined;
  if (grantType === 'client_credentials') {
    return {
      status: 429,
      route,
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'retry-after': String(THROTTLE_RETRY_AFTER_SECONDS),
        'x-ms-request-id': randomUUID(),
        'client-request-id': req.headers['client-request-id'] ?? randomUUID(),
      },
      body: 'Too Many Requests',
    };
  }
  return aadErrorResponse(
    ctx,
    req,
    aadError('invalid_grant', 50196, 'The server terminated an operation because it encountered a loop while processing a request.'),
    route,
  );
}
