import type { UpstreamHttp } from '../http/upstream.js';
import { authorityUrl, originOf } from './authority.js';
import { isGuid } from '../guid.js';

/**
 * The tenant's two OpenID metadata documents, the only source of the issuers its access tokens
 * carry (docs/graph-facts.md#caller-tokens): v1.0 tokens name the issuer of
 * `{authority}/{tenant}/.well-known/openid-configuration` (`https://sts.windows.net/{tid}/` in the
 * public cloud, another STS host in national clouds), v2.0 tokens the issuer of
 * `{authority}/{tenant}/v2.0/.well-known/openid-configuration`. Nothing about them is derived
 * from host names: a national cloud, or an emulator, works the same way.
 */
export type TokenVersion = '1.0' | '2.0';

export interface TenantIssuer {
  version: TokenVersion;
  issuer: string;
  jwksUri: string;
}

export interface TenantMetadata {
  /** The tenant's id (GUID), read from its issuers: the configured tenant may be a domain name. */
  tenantId: string;
  issuers: TenantIssuer[];
}

export interface TenantMetadataSource {
  /** The cached metadata; loaded on first use, reloaded after `ttlMs`; throws when never loaded. */
  get(): Promise<TenantMetadata>;
}

/** The tenant id in an Entra issuer: its first path segment (`https://sts.windows.net/{tid}/`, `{authority}/{tid}/v2.0`). */
function tenantOfIssuer(issuer: string): string | undefined {
  try {
    const segment = new URL(issuer).pathname.split('/').filter(Boolean)[0];
    return segment && isGuid(segment) ? segment.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

export function createTenantMetadataSource(options: {
  upstream: UpstreamHttp;
  authorityHost: string;
  /** AZURE_TENANT_ID: a GUID or a verified domain. */
  tenant: string;
  now?: () => number;
  /** How long loaded metadata is used before it is fetched again (Entra suggests daily). */
  ttlMs?: number;
  /** After a failed load with nothing cached, how long callers get the failure without a new attempt. */
  failureBackoffMs?: number;
}): TenantMetadataSource {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
  const failureBackoffMs = options.failureBackoffMs ?? 10_000;
  const authority = authorityUrl(options.authorityHost, options.tenant);
  let cached: { metadata: TenantMetadata; loadedAt: number } | undefined;
  let failure: { error: Error; at: number } | undefined;
  let inFlight: Promise<TenantMetadata> | undefined;

  // Messages name the authority's origin and the document, never the URL: its path holds the
  // tenant id (see originOf). Nor the issuers a wrong document names: each holds a tenant id too.
  const origin = originOf(authority);
  const fetchDocument = async (version: TokenVersion): Promise<TenantIssuer> => {
    const url = version === '1.0' ? `${authority}/.well-known/openid-configuration` : `${authority}/v2.0/.well-known/openid-configuration`;
    const what = `the tenant's v${version} OpenID metadata at ${origin}`;
    const response = await options.upstream.fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(15_000) });
    if (!response.ok) throw new Error(`GET ${what} answered HTTP ${response.status}`);
    // JSON.parse's own message quotes the start of the body, which may echo the URL.
    const body = (await response.json().catch(() => {
      throw new Error(`${what} is not JSON`);
    })) as { issuer?: unknown; jwks_uri?: unknown } | null;
    if (typeof body?.issuer !== 'string' || typeof body.jwks_uri !== 'string') throw new Error(`${what} names no issuer or jwks_uri`);
    return { version, issuer: body.issuer, jwksUri: body.jwks_uri };
  };

  const load = async (): Promise<TenantMetadata> => {
    const issuers = await Promise.all([fetchDocument('1.0'), fetchDocument('2.0')]);
    const tenants = new Set(issuers.map((i) => tenantOfIssuer(i.issuer)));
    const [tenantId] = [...tenants];
    if (tenants.size !== 1 || !tenantId) {
      throw new Error(`the OpenID metadata at ${origin} names issuers of no single tenant (the v1.0 and v2.0 issuers name different tenants, or none)`);
    }
    return { tenantId, issuers };
  };

  return {
    async get() {
      const fresh = cached && now() - cached.loadedAt < ttlMs;
      if (fresh) return cached!.metadata;
      if (!cached && failure && now() - failure.at < failureBackoffMs) throw failure.error;
      inFlight ??= load()
        .then((metadata) => {
          cached = { metadata, loadedAt: now() };
          failure = undefined;
          return metadata;
        })
        .catch((error: unknown) => {
          failure = { error: error instanceof Error ? error : new Error(String(error)), at: now() };
          // Stale metadata beats none: the issuers of a tenant do not change.
          if (cached) {
            cached = { metadata: cached.metadata, loadedAt: now() - ttlMs + failureBackoffMs };
            return cached.metadata;
          }
          throw failure.error;
        })
        .finally(() => {
          inFlight = undefined;
        });
      return inFlight;
    },
  };
}
