import type { EmulatorContext } from '../context.js';
import { json, type EmuRequest, type EmuResponse } from '../http.js';
import { tenantEndpoints, type TenantSegment } from './tenant-segment.js';

/**
 * OpenID Connect discovery, the JWKS and Entra's instance discovery. Each tenant has two metadata
 * documents (docs/graph-facts.md#caller-tokens): the v2.0 one (`/{tenant}/v2.0/.well-known/...`)
 * names the v2.0 issuer, the v1.0 one (`/{tenant}/.well-known/...`) the v1.0 issuer on the STS
 * host. For `common` and `organizations` the issuer keeps Entra's literal `{tenantid}`
 * placeholder, as the real one does.
 */
export function openIdConfiguration(ctx: EmulatorContext, segment: TenantSegment): EmuResponse {
  const tenantPart = segment.kind === 'multi' ? segment.alias : ctx.tenant.tenantId;
  const endpoints = tenantEndpoints(ctx, tenantPart);
  const issuer = segment.kind === 'multi' ? `${ctx.origin}/{tenantid}/v2.0` : ctx.issuerV2;
  const host = new URL(ctx.origin).host;
  const body = {
    token_endpoint: endpoints.token,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: endpoints.jwks,
    response_modes_supported: ['query', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer,
    request_uri_parameter_supported: false,
    authorization_endpoint: endpoints.authorization,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: endpoints.logout,
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'nonce',
      'preferred_username',
      'name',
      'tid',
      'ver',
      'at_hash',
      'c_hash',
      'email',
    ],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', 'password', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
    code_challenge_methods_supported: ['S256'],
    tenant_region_scope: 'EU',
    cloud_instance_name: host,
    cloud_graph_host_name: host,
    msgraph_host: host,
    rbac_url: ctx.origin,
  };
  return { ...json(200, body, { 'cache-control': 'max-age=86400, private' }), route: 'GET /{tenant}/v2.0/.well-known/openid-configuration' };
}

/** The v1.0 document: v1.0 issuer, v1.0 endpoints, and (as Entra's does) the common keys. */
export function openIdConfigurationV1(ctx: EmulatorContext, segment: TenantSegment): EmuResponse {
  const tenantPart = segment.kind === 'multi' ? segment.alias : ctx.tenant.tenantId;
  const base = `${ctx.origin}/${tenantPart}`;
  const host = new URL(ctx.origin).host;
  const body = {
    token_endpoint: `${base}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${ctx.origin}/common/discovery/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
    scopes_supported: ['openid'],
    issuer: segment.kind === 'multi' ? ctx.issuer.replace(ctx.tenant.tenantId, '{tenantid}') : ctx.issuer,
    microsoft_multi_refresh_token: true,
    authorization_endpoint: `${base}/oauth2/authorize`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/logout`,
    claims_supported: [
      'sub',
      'iss',
      'cloud_instance_name',
      'cloud_instance_host_name',
      'cloud_graph_host_name',
      'msgraph_host',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'amr',
      'nonce',
      'email',
      'given_name',
      'family_name',
      'nickname',
    ],
    tenant_region_scope: 'EU',
    cloud_instance_name: host,
    cloud_graph_host_name: host,
    msgraph_host: host,
    rbac_url: ctx.origin,
  };
  return { ...json(200, body, { 'cache-control': 'max-age=86400, private' }), route: 'GET /{tenant}/.well-known/openid-configuration' };
}

export function jwks(ctx: EmulatorContext, route = 'GET /{tenant}/discovery/v2.0/keys'): EmuResponse {
  return { ...json(200, ctx.signer.jwks, { 'cache-control': 'max-age=86400, private' }), route };
}

/**
 * `GET /common/discovery/instance?api-version=1.1&authorization_endpoint=...`: msal asks this when
 * the authority host is not in its known lists; the emulator host is its own only alias.
 */
export function instanceDiscovery(ctx: EmulatorContext, req: EmuRequest): EmuResponse {
  const host = new URL(ctx.origin).host;
  let tenantPart = 'common';
  const authorizationEndpoint = req.url.searchParams.get('authorization_endpoint');
  if (authorizationEndpoint) {
    try {
      tenantPart = new URL(authorizationEndpoint).pathname.split('/').filter(Boolean)[0] ?? 'common';
    } catch {
      // A malformed endpoint still gets the common metadata, as Entra does.
    }
  }
  return {
    ...json(200, {
      tenant_discovery_endpoint: `${ctx.origin}/${tenantPart}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    }),
    route: 'GET /common/discovery/instance',
  };
}
