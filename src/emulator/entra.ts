import type { EmulatorContext } from './context.js';
import { authorize, logout } from './entra/authorize.js';
import { instanceDiscovery, jwks, openIdConfiguration, openIdConfigurationV1 } from './entra/discovery.js';
import { aadErrorResponse } from './entra/errors.js';
import { classifyTenantSegment } from './entra/tenant-segment.js';
import { tokenEndpoint } from './entra/token-endpoint.js';
import type { EmuRequest, EmuResponse } from './http.js';

/**
 * Entra ID v2.0 endpoints of the emulator tenant, plus the v1.0 metadata and keys that verifiers
 * of v1.0 tokens read, addressed by tenant id or domain (and by `common`/`organizations` where
 * Entra allows it). Unknown paths return undefined so the server answers its generic 404.
 */
type Endpoint = 'openid-configuration' | 'openid-configuration-v1' | 'keys' | 'keys-v1' | 'authorize' | 'token' | 'logout';

const ENDPOINTS: Record<string, Endpoint> = {
  'v2.0/.well-known/openid-configuration': 'openid-configuration',
  '.well-known/openid-configuration': 'openid-configuration-v1',
  'discovery/v2.0/keys': 'keys',
  'discovery/keys': 'keys-v1',
  'oauth2/v2.0/authorize': 'authorize',
  'oauth2/v2.0/token': 'token',
  'oauth2/v2.0/logout': 'logout',
};

const ROUTE_METHODS: Record<Endpoint, string[]> = {
  'openid-configuration': ['GET'],
  'openid-configuration-v1': ['GET'],
  keys: ['GET'],
  'keys-v1': ['GET'],
  authorize: ['GET'],
  token: ['POST'],
  logout: ['GET'],
};

export async function handleEntra(ctx: EmulatorContext, req: EmuRequest): Promise<EmuResponse | undefined> {
  const path = req.url.pathname.replace(/\/+$/, '');
  if (path === '/common/discovery/instance' && req.method === 'GET') return instanceDiscovery(ctx, req);
  const match = /^\/([^/]+)\/(.+)$/.exec(path);
  if (!match) return undefined;
  const [, tenantSegment, rest] = match as unknown as [string, string, string];
  const endpoint = ENDPOINTS[rest];
  if (!endpoint) return undefined;
  const route = `${req.method} /{tenant}/${rest}`;
  if (!ROUTE_METHODS[endpoint].includes(req.method)) {
    return aadErrorResponse(
      ctx,
      req,
      {
        kind: 'invalid_request',
        code: 900561,
        message: `The endpoint only accepts ${ROUTE_METHODS[endpoint].join(', ')} requests. Received a ${req.method} request.`,
      },
      route,
    );
  }
  const segment = classifyTenantSegment(ctx, tenantSegment);
  if (segment.kind === 'unknown') {
    return aadErrorResponse(
      ctx,
      req,
      {
        kind: 'invalid_request',
        code: 90002,
        message: `Tenant '${decodeURIComponent(tenantSegment)}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      },
      route,
    );
  }
  switch (endpoint) {
    case 'openid-configuration':
      return openIdConfiguration(ctx, segment);
    case 'openid-configuration-v1':
      return openIdConfigurationV1(ctx, segment);
    case 'keys':
      return jwks(ctx);
    case 'keys-v1':
      return jwks(ctx, 'GET /{tenant}/discovery/keys');
    case 'authorize':
      return authorize(ctx, req);
    case 'token':
      return tokenEndpoint(ctx, req, segment);
    case 'logout':
      return logout(req);
    default: {
      const unreachable: never = endpoint;
      return unreachable;
    }
  }
}
