import type { EmulatorContext } from '../context.js';

/**
 * How the first path segment names the tenant: its id or verified domain (`tenant`), or one of
 * the multi-tenant aliases (`common`, `organizations`) that only make sense for discovery and
 * user sign-in. `consumers` and foreign tenants are not served.
 */
export type TenantSegment = { kind: 'tenant' } | { kind: 'multi'; alias: 'common' | 'organizations' } | { kind: 'unknown' };

export function classifyTenantSegment(ctx: EmulatorContext, segment: string): TenantSegment {
  const value = decodeURIComponent(segment).toLowerCase();
  if (value === ctx.tenant.tenantId.toLowerCase() || value === ctx.tenant.domain.toLowerCase()) return { kind: 'tenant' };
  if (value === 'common' || value === 'organizations') return { kind: 'multi', alias: value };
  return { kind: 'unknown' };
}

/** The endpoints, always named with the tenant id (what the discovery document publishes). */
export function tenantEndpoints(ctx: EmulatorContext, tenantPart = ctx.tenant.tenantId) {
  const base = `${ctx.origin}/${tenantPart}`;
  return {
    authorization: `${base}/oauth2/v2.0/authorize`,
    token: `${base}/oauth2/v2.0/token`,
    logout: `${base}/oauth2/v2.0/logout`,
    jwks: `${base}/discovery/v2.0/keys`,
  };
}
