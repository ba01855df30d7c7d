import type { Configuration } from '@azure/msal-node';
import type { UpstreamHttp } from '../http/upstream.js';

/** `${authorityHost}/${tenantId}`: the tenant-specific authority (never `common` for daemons). */
export function authorityUrl(authorityHost: string, tenantId: string): string {
  return `${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}`;
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
): Promise<Pick<Configuration['auth'], 'authority' | 'knownAuthorities' | 'authorityMetadata'>> {
  const authority = authorityUrl(authorityHost, tenantId);
  const knownAuthorities = [new URL(authorityHost).host];
  let authorityMetadata: string | undefined;
  try {
    const response = await upstream.fetch(`${authority}/v2.0/.well-known/openid-configuration`, { signal: AbortSignal.timeout(15_000) });
    if (response.ok) authorityMetadata = await response.text();
  } catch {
    // Not fatal: msal then fetches it itself (through the same network module) on first use.
  }
  return { authority, knownAuthorities, ...(authorityMetadata ? { authorityMetadata } : {}) };
}
