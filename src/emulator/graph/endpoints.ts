/**
 * Endpoint objects in a user's `ownedDevices`. The relationship is typed `Collection(directoryObject)`
 * (resources/user), and Microsoft's v1.0 Graph PowerShell reference, generated from Graph's API
 * description, casts a user's owned devices to `microsoft.graph.device`, `microsoft.graph.endpoint` and
 * `microsoft.graph.appRoleAssignment` (Get-MgUserOwnedDeviceAsDevice, ...AsEndpoint,
 * ...AsAppRoleAssignment): an item of that list need not be a device
 * (docs/graph-facts.md#manager-and-bulk-lookup, "Owned devices are not always devices").
 */
import { randomUUID } from 'node:crypto';
import { optionalString, rejectUnknownSettings } from './admin-body.js';
import type { EndpointRecord, TenantModel } from '../model.js';

export const ENDPOINT_TYPE = '#microsoft.graph.endpoint';

/** The endpoint's properties (resources/endpoint) and directoryObject's `deletedDateTime`. */
export function endpointToGraph(e: EndpointRecord): Record<string, unknown> {
  return {
    id: e.id,
    deletedDateTime: null,
    capability: e.capability,
    providerId: e.providerId,
    providerName: e.providerName,
    providerResourceId: e.providerResourceId,
    uri: e.uri,
  };
}

export function isEndpoint(record: object): record is EndpointRecord {
  return (record as { kind?: unknown }).kind === 'endpoint';
}

/**
 * An endpoint as a directoryObject collection lists it: typed, with the selected properties the
 * endpoint type has (a `$select` of device properties leaves it its `id`), as memberOf lists a
 * directory role under a `$select` of group properties.
 */
export function endpointItem(e: EndpointRecord, select: readonly string[] | undefined): Record<string, unknown> {
  const full = endpointToGraph(e);
  const out: Record<string, unknown> = { '@odata.type': ENDPOINT_TYPE };
  for (const p of select ?? Object.keys(full)) if (p in full) out[p] = full[p];
  return out;
}

/** `POST /_emulator/endpoints`: adds an endpoint object to a user's ownedDevices. */
export function addEndpoint(tenant: TenantModel, body: Record<string, unknown>): { id: string } {
  rejectUnknownSettings(body, ['owner', 'capability', 'providerId', 'providerName', 'providerResourceId', 'uri'], 'endpoint');
  const owner = typeof body.owner === 'string' ? tenant.users.get(body.owner) : undefined;
  if (!owner) throw new Error("'owner' must be the object id of a user.");
  // capability and uri are "Not nullable" (resources/endpoint).
  const capability = optionalString(body, 'capability');
  const uri = optionalString(body, 'uri');
  if (!capability || !uri) throw new Error("'capability' and 'uri' are required (non-empty strings).");
  const endpoint: EndpointRecord = {
    kind: 'endpoint',
    id: randomUUID(),
    capability,
    providerId: optionalString(body, 'providerId'),
    providerName: optionalString(body, 'providerName'),
    providerResourceId: optionalString(body, 'providerResourceId'),
    uri,
  };
  tenant.endpoints.set(endpoint.id, endpoint);
  owner.ownedDevices.push(endpoint.id);
  return { id: endpoint.id };
}
