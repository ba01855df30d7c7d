import { OIDC_SCOPES, accessTokenVersionOf, apiAppFor } from '../apps.js';
import type { EmulatorContext } from '../context.js';
import type { AppRegistration } from '../model.js';
import { aadError, type AadError } from './errors.js';

/**
 * A parsed `scope` parameter: the one resource it names (Graph, or a custom API of the tenant such
 * as the gateway's), whether it asked for `.default` (everything consented) or named scopes, and
 * the OIDC scopes beside it. Entra allows one resource per token request; bare names (`User.Read`)
 * mean Graph. A custom API is named by one of its App ID URIs or by its client id.
 */
export interface RequestedScopes {
  resource: 'graph' | 'api';
  /** The client id of the custom API (resource `api`). */
  resourceAppId?: string;
  /** The resource URI as the client wrote it, without trailing slashes. */
  resourceUri: string;
  isDefault: boolean;
  /** Explicit scope names without the resource prefix (empty for `.default`). */
  names: string[];
  /** `openid`, `profile`, `offline_access`, `email` as requested. */
  oidc: string[];
}

const GRAPH_WELL_KNOWN = 'https://graph.microsoft.com';

function stripTrailingSlashes(value: string): string {
  return value.replace(/\/+$/, '');
}

function resourceOf(ctx: EmulatorContext, uri: string): Pick<RequestedScopes, 'resource' | 'resourceAppId'> | undefined {
  const candidate = stripTrailingSlashes(uri).toLowerCase();
  if (ctx.graphAudiences.some((aud) => stripTrailingSlashes(aud).toLowerCase() === candidate)) return { resource: 'graph' };
  const api = apiAppFor(ctx.tenant, uri);
  return api ? { resource: 'api', resourceAppId: api.appId } : undefined;
}

export function parseScopes(ctx: EmulatorContext, scopeParam: string | null): RequestedScopes | AadError {
  const tokens = (scopeParam ?? '').split(/\s+/).filter(Boolean);
  if (tokens.length === 0) return aadError('invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
  const oidc: string[] = [];
  const names: string[] = [];
  let isDefault = false;
  let resource: Pick<RequestedScopes, 'resource' | 'resourceAppId'> | undefined;
  let resourceUri: string | undefined;
  for (const token of tokens) {
    if (OIDC_SCOPES.includes(token.toLowerCase())) {
      oidc.push(token.toLowerCase());
      continue;
    }
    const slash = token.lastIndexOf('/');
    const uri = slash >= 0 ? stripTrailingSlashes(token.slice(0, slash)) : GRAPH_WELL_KNOWN;
    const name = slash >= 0 ? token.slice(slash + 1) : token;
    const tokenResource = resourceOf(ctx, uri);
    if (!tokenResource) {
      return aadError(
        'invalid_resource',
        500011,
        `The resource principal named ${uri} was not found in the tenant named ${ctx.tenant.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
      );
    }
    if (resource !== undefined && (resource.resourceAppId !== tokenResource.resourceAppId || resourceUri?.toLowerCase() !== uri.toLowerCase())) {
      return aadError(
        'invalid_scope',
        28000,
        `Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${scopeParam} is not valid.`,
      );
    }
    resource = tokenResource;
    resourceUri = uri;
    if (name === '.default') isDefault = true;
    else if (name.length > 0) names.push(name);
    else return aadError('invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope ${token} is not valid.`);
  }
  if (isDefault && names.length > 0) {
    return aadError(
      'invalid_scope',
      70011,
      `The provided value for the input parameter 'scope' is not valid. The scope ${scopeParam} is not valid. .default scope can't be combined with resource-specific scopes.`,
    );
  }
  // Only OIDC scopes: Entra answers with a Graph token carrying what is consented.
  return { ...(resource ?? { resource: 'graph' }), resourceUri: resourceUri ?? GRAPH_WELL_KNOWN, isDefault: isDefault || names.length === 0, names, oidc };
}

/** The custom API a request names, if it names one that still exists. */
export function requestedApi(ctx: EmulatorContext, scopes: RequestedScopes): AppRegistration | undefined {
  if (scopes.resource !== 'api' || scopes.resourceAppId === undefined) return undefined;
  const app = ctx.tenant.apps.get(scopes.resourceAppId);
  return app?.api ? app : undefined;
}

/**
 * The version and `aud` of an access token for this resource (docs/graph-facts.md#caller-tokens).
 * Graph tokens are v1.0 with the resource as requested. A custom API's own manifest picks the
 * version: v1.0 tokens carry the App ID URI or client id the client asked for, v2.0 tokens always
 * the API's client id.
 */
export function accessTokenShape(ctx: EmulatorContext, scopes: RequestedScopes): { version: '1.0' | '2.0'; audience: string } {
  const api = requestedApi(ctx, scopes);
  if (!api?.api) return { version: '1.0', audience: scopes.resourceUri };
  const version = accessTokenVersionOf(api.api);
  if (version === '2.0') return { version, audience: api.appId };
  const wanted = scopes.resourceUri.toLowerCase();
  const registered = api.api.identifierUris.find((uri) => stripTrailingSlashes(uri).toLowerCase() === wanted);
  return { version, audience: registered ?? api.appId };
}

/** Delegated scopes the app may get for the resource: Graph consents, or the API's scopes it holds. */
function consentedDelegated(ctx: EmulatorContext, app: AppRegistration, scopes: RequestedScopes): string[] {
  if (scopes.resource === 'api') {
    const api = requestedApi(ctx, scopes)?.api;
    return app.gatewayApiRoles.filter((p) => api?.scopes.includes(p));
  }
  return app.graphDelegatedScopes.filter((s) => !OIDC_SCOPES.includes(s.toLowerCase()));
}

function consentMissing(app: AppRegistration): AadError {
  return aadError(
    'invalid_grant',
    65001,
    `The user or administrator has not consented to use the application with ID '${app.appId}' named '${app.displayName}'. Send an interactive authorization request for this user and resource.`,
    undefined,
    // Entra's body carries `"suberror": "consent_required"` (docs/graph-facts.md#caller-tokens).
    { suberror: 'consent_required' },
  );
}

/** The `scp` a delegated token gets, or a consent error when a named scope was never consented. */
export function grantDelegated(ctx: EmulatorContext, app: AppRegistration, scopes: RequestedScopes): string[] | AadError {
  const consented = consentedDelegated(ctx, app, scopes);
  // A custom API the client holds no delegated permission on has nothing to consent to.
  if (scopes.isDefault && scopes.resource === 'api' && consented.length === 0) return consentMissing(app);
  if (scopes.isDefault) return consented;
  const granted: string[] = [];
  for (const name of scopes.names) {
    const match = consented.find((c) => c.toLowerCase() === name.toLowerCase());
    if (!match) return consentMissing(app);
    if (!granted.includes(match)) granted.push(match);
  }
  return granted;
}

/** The `roles` an app-only token gets; client credentials demand `<resource>/.default`. */
export function grantApplication(ctx: EmulatorContext, app: AppRegistration, scopes: RequestedScopes, scopeParam: string): string[] | AadError {
  if (!scopes.isDefault || scopes.names.length > 0 || scopes.oidc.length > 0) {
    return aadError(
      'invalid_scope',
      1002012,
      `The provided value for scope ${scopeParam} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }
  if (scopes.resource === 'graph') return [...app.graphAppRoles];
  const api = requestedApi(ctx, scopes)?.api;
  return app.gatewayApiRoles.filter((p) => api?.appRoles.includes(p));
}

/** The `scope` field of a token response; echoes `.default` so msal's cache finds the token again. */
export function responseScope(scopes: RequestedScopes, granted: string[]): string {
  const parts = granted.map((s) => `${scopes.resourceUri}/${s}`);
  if (scopes.isDefault) parts.push(`${scopes.resourceUri}/.default`);
  return [...parts, ...scopes.oidc].join(' ');
}
