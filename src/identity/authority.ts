import type { Configuration } from '@azure/msal-node';
import type { UpstreamHttp } from '../http/upstream.js';
import type { Logger } from '../logger.js';

/** `${authorityHost}/${tenantId}`: the tenant-specific authority (never `common` for daemons). */
export function authorityUrl(authorityHost: string, tenantId: string): string {
  return `${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}`;
}

/**
 * What an error message may say about an authority URL: its origin (scheme, host, port), never its
 * path. The path of every tenant-specific authority URL (`{host}/{tenant}/...`, a v2.0 `jwks_uri`)
 * holds the tenant id, which in hosted mode is the broker's Token, a secret
 * (docs/security.md#the-broker-token-is-a-secret): a message that named the URL would leak it the
 * day someone logged it. The host is what an operator needs to find the outage.
 */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an unparsable URL';
  }
}

/** `${graphEndpoint}/.default`: all application permissions (app-only) or consented scopes. */
export function graphDefaultScope(graphEndpoint: string): string {
  return `${graphEndpoint.replace(/\/+$/, '')}/.default`;
}

/**
 * Authority options that keep msal off the network for instance discovery: the authority's host
 * is a known authority (so any https host works, loopback included), and the endpoint metadata is
 * fetched once through our HTTP layer and handed to every msal application we build.
 */
export async function loadAuthorityOptions(
  upstream: UpstreamHttp,
  authorityHost: string,
  tenantId: string,
  logger?: Pick<Logger, 'warn'>,
): Promise<Pick<Configuration['auth'], 'authority' | 'knownAuthorities' | 'authorityMetadata'>> {
  const authority = authorityUrl(authorityHost, tenantId);
  const knownAuthorities = [new URL(authorityHost).host];
  let authorityMetadata: string | undefined;
  // Not fatal: msal then fetches it itself (through the same network module) on first use. But
  // said: msal's own failure then reads only "endpoints_resolution_error", without the cause (a
  // proxy that refuses the tunnel, an unreachable host, a wrong AZURE_AUTHORITY_HOST).
  const unread = (cause: Record<string, unknown>) =>
    logger?.warn(
      { authorityHost: new URL(authorityHost).origin, ...cause },
      'Entra ID metadata could not be read at start; msal asks again at the first token request',
    );
  try {
    const response = await upstream.fetch(`${authority}/v2.0/.well-known/openid-configuration`, { signal: AbortSignal.timeout(15_000) });
    if (response.ok) authorityMetadata = await response.text();
    else unread({ status: response.status });
  } catch (error) {
    // The name and code of the innermost cause only (fetch wraps it in "TypeError: fetch failed");
    // a message may carry another party's text.
    let e = error as { name?: unknown; code?: unknown; cause?: unknown } | null;
    for (let depth = 0; depth < 5 && e?.cause && typeof e.cause === 'object'; depth++) e = e.cause as typeof e;
    unread({ err: { name: typeof e?.name === 'string' ? e.name : 'Error', code: typeof e?.code === 'string' ? e.code : undefined } });
  }
  return { authority, knownAuthorities, ...(authorityMetadata ? { authorityMetadata } : {}) };
}
