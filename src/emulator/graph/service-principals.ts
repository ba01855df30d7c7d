/**
 * `GET /servicePrincipals/{id}` and `GET /servicePrincipals(appId='{appId}')`: the tenant's service
 * principal of an app registration, as `npm run doctor` looks up its own. A service principal may
 * read itself with no permission at all; anyone else needs an Application or Directory read
 * permission (docs/graph-facts.md#writes-and-permissions, "Get servicePrincipal").
 */
import type { EmuResponse } from '../http.js';
import type { AppRegistration } from '../model.js';
import type { Principal } from './authorization.js';
import { metadataUrl, ok, queryParam, type GraphCall } from './call.js';
import { forbidden, notFound, unknownProperty } from './errors.js';

const APP_READERS = ['Application.Read.All', 'Application.ReadWrite.OwnedBy', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const DELEGATED_READERS = ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];

const PROPERTIES = ['id', 'appId', 'displayName', 'appDisplayName', 'accountEnabled', 'servicePrincipalType', 'appOwnerOrganizationId'] as const;

export type ServicePrincipalKey = { kind: 'id'; value: string } | { kind: 'appId'; value: string };

/** `servicePrincipals(appId='...')` with doubled quotes inside. */
export function appIdKey(segment: string): string | undefined {
  const m = /^servicePrincipals\(appId='(.*)'\)$/s.exec(segment);
  return m ? m[1]!.replace(/''/g, "'") : undefined;
}

function mayRead(principal: Principal, target: AppRegistration): boolean {
  if (principal.kind === 'app' && principal.appId.toLowerCase() === target.appId.toLowerCase()) return true;
  const allowed = principal.kind === 'app' ? APP_READERS : DELEGATED_READERS;
  return allowed.some((p) => principal.permissions.has(p));
}

function find(call: GraphCall, key: ServicePrincipalKey): AppRegistration | undefined {
  const wanted = key.value.toLowerCase();
  for (const app of call.ctx.tenant.apps.values()) {
    const candidate = key.kind === 'appId' ? app.appId : app.servicePrincipalId;
    if (candidate.toLowerCase() === wanted) return app;
  }
  return undefined;
}

export function getServicePrincipal(call: GraphCall, key: ServicePrincipalKey): EmuResponse {
  const app = find(call, key);
  // Graph checks permissions before it looks: without them, an unknown id is a 403 as well.
  if (!app) {
    if (!(call.principal.kind === 'app' ? APP_READERS : DELEGATED_READERS).some((p) => call.principal.permissions.has(p))) throw forbidden();
    throw notFound(key.value);
  }
  if (!mayRead(call.principal, app)) throw forbidden();
  const full: Record<string, unknown> = {
    id: app.servicePrincipalId,
    appId: app.appId,
    displayName: app.displayName,
    appDisplayName: app.displayName,
    accountEnabled: true,
    servicePrincipalType: 'Application',
    appOwnerOrganizationId: call.ctx.tenant.tenantId,
  };
  const selectRaw = queryParam(call, '$select');
  let selected: readonly string[] = PROPERTIES;
  if (selectRaw !== undefined && selectRaw.trim() !== '') {
    selected = selectRaw.split(',').map((name) => {
      const canonical = PROPERTIES.find((p) => p.toLowerCase() === name.trim().toLowerCase());
      if (!canonical) throw unknownProperty(name.trim(), 'microsoft.graph.servicePrincipal');
      return canonical;
    });
  }
  const body: Record<string, unknown> = { '@odata.context': metadataUrl(call, 'servicePrincipals/$entity') };
  for (const p of selected) body[p] = full[p];
  return ok(200, body);
}
