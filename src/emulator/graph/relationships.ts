/** `/users/{id}/manager`, `manager/$ref`, `directReports`, `memberOf`, `ownedDevices`. */
import type { EmuResponse } from '../http.js';
import type { ContactRecord, DeviceRecord, EndpointRecord, UserRecord } from '../model.js';
import { contactToGraph, isContact } from './contacts.js';
import { endpointItem, endpointToGraph, isEndpoint } from './endpoints.js';
import { can, canReadType, requireCapability } from './authorization.js';
import { metadataUrl, noContent, ok, queryParam, readJsonObject, type GraphCall } from './call.js';
import { deviceEntity, userEntity, userToGraph, type EntityType } from './entities.js';
import { badRequest, forbidden, notFound } from './errors.js';
import { countCollection, listCollection, parseSelect, project, projectLimited, type CollectionOptions } from './query.js';
import { recordChange } from './state.js';
import { directReportsOf, directoryObjectItem, managerOf, membershipEntity, membershipItem, userMemberships, type Membership } from './users.js';

/** Direct reports are users and contacts: filtered and sorted on each one's own properties. */
const directReportEntity: EntityType<UserRecord | ContactRecord> = {
  ...(userEntity as EntityType<unknown>),
  toGraph: (record) => (isContact(record) ? contactToGraph(record) : userToGraph(record)),
};

export function getManager(call: GraphCall, user: UserRecord): EmuResponse {
  requireCapability(call.principal, 'users.read', user);
  const manager = managerOf(call, user);
  if (!manager) throw notFound('manager');
  const select = parseSelect(userEntity, queryParam(call, '$select'), { list: false });
  return ok(200, {
    '@odata.context': metadataUrl(call, 'directoryObjects/$entity'),
    ...directoryObjectItem(call, manager, select),
  });
}

const REFERENCE_PATH = /^\/v1\.0\/users\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/**
 * The object id named by an `@odata.id` reference. Graph documents exactly one form,
 * `https://graph.microsoft.com/v1.0/users/{id}` on its own host (user-post-manager, whose v1.0 and
 * beta pages both show it; docs/graph-facts.md#manager-and-bulk-lookup). The emulator, as strict as
 * Graph where it is unclear, takes only that: its own origin, `/v1.0/users/` and an object id. A
 * `/beta/` or `/directoryObjects/` path, a userPrincipalName, a `users('...')` key, a relative URL
 * or another host is Graph's 400.
 */
function referencedId(call: GraphCall, reference: unknown): string {
  if (typeof reference !== 'string' || reference.trim() === '') throw badRequest("The request body must name the manager in '@odata.id'.");
  const invalid = () => badRequest(`Invalid object identifier '${reference.slice(0, 300)}'.`);
  let url: URL;
  try {
    url = new URL(reference.trim());
  } catch {
    throw invalid();
  }
  if (url.origin !== new URL(call.ctx.origin).origin || url.search !== '' || url.hash !== '') throw invalid();
  const m = REFERENCE_PATH.exec(url.pathname);
  if (!m) throw invalid();
  return m[1]!.toLowerCase();
}

export function setManager(call: GraphCall, user: UserRecord): EmuResponse {
  requireCapability(call.principal, 'users.manager', user);
  const id = referencedId(call, readJsonObject(call)['@odata.id']);
  const tenant = call.ctx.tenant;
  const manager = tenant.users.get(id);
  if (!manager) throw notFound(id);
  // Not documented either way (docs/graph-facts.md#manager-and-bulk-lookup, "Reporting loops"): the
  // emulator refuses a self-reference and a loop; the gateway is tested under the other reading too.
  if (manager.id === user.id) throw badRequest('A user cannot be their own manager.');
  for (let cursor: UserRecord | undefined = manager, hops = 0; cursor && hops <= tenant.users.size; hops += 1) {
    if (cursor.managerId === user.id) throw badRequest('The manager assignment would create a circular reporting chain.');
    cursor = cursor.managerId ? tenant.users.get(cursor.managerId) : undefined;
  }
  user.managerId = manager.id;
  recordChange(tenant, user.id, 'changed', call.ctx.now(), ['manager']);
  return noContent();
}

export function removeManager(call: GraphCall, user: UserRecord): EmuResponse {
  requireCapability(call.principal, 'users.manager', user);
  if (!user.managerId) throw notFound('manager');
  const former = user.managerId;
  user.managerId = null;
  recordChange(call.ctx.tenant, user.id, 'changed', call.ctx.now(), ['manager'], former);
  return noContent();
}

export function listDirectReports(call: GraphCall, user: UserRecord): EmuResponse {
  requireCapability(call.principal, 'users.read', user);
  return listCollection<UserRecord | ContactRecord>(call, {
    entity: directReportEntity,
    records: directReportsOf(call, user),
    item: (record, _graph, select) => directoryObjectItem(call, record, select),
    contextFragment: 'directoryObjects',
    typedItems: true,
    allowSearch: false,
    allowOrderBy: false,
    filterIsAdvanced: true,
    // The page does not list `$top` (src/emulator/graph-settings.ts, `directReportsTop`).
    ignoreTop: call.ctx.graph.directReportsTop === 'ignored',
  });
}

/**
 * `/users/{id}/memberOf` answers whoever reads the user or reads groups (the page's least privileged
 * delegated permission is User.Read); the memberships come back in full only for a caller that
 * reads their type, otherwise with limited information, never a 403 for them
 * (docs/graph-facts.md#manager-and-bulk-lookup, "Limited information"). Its page makes `$search` a
 * full advanced query (`ConsistencyLevel: eventual` and `$count=true`, unlike `/users`, where the
 * header is enough) on `displayName` only (docs/graph-facts.md#manager-and-bulk-lookup, "Memberships").
 */
export function listMemberOf(call: GraphCall, user: UserRecord): EmuResponse {
  return listCollection<Membership>(call, memberOfCollection(call, user));
}

/**
 * `/users/{id}/memberOf/$count`: a plain-text count with `ConsistencyLevel: eventual`, as the page's
 * example 2 shows (docs/graph-facts.md#manager-and-bulk-lookup, "Memberships").
 */
export function countMemberOf(call: GraphCall, user: UserRecord): EmuResponse {
  return countCollection<Membership>(call, memberOfCollection(call, user));
}

function memberOfCollection(call: GraphCall, user: UserRecord): CollectionOptions<Membership> {
  if (!can(call.principal, 'users.read', user) && !can(call.principal, 'memberOf.read', user)) throw forbidden();
  return {
    entity: membershipEntity,
    records: userMemberships(call, user),
    item: (record, _graph, select) => membershipItem(call.principal, record, select),
    contextFragment: 'directoryObjects',
    typedItems: true,
    allowSearch: true,
    searchIsAdvanced: true,
    searchProperties: ['displayName'],
    allowOrderBy: false,
    filterIsAdvanced: true,
  };
}

/** Owned devices are devices and endpoints: filtered on each one's own properties. */
const ownedDeviceEntity: EntityType<DeviceRecord | EndpointRecord> = {
  ...(deviceEntity as EntityType<unknown>),
  toGraph: (record) => (isEndpoint(record) ? endpointToGraph(record) : deviceEntity.toGraph(record)),
};

/**
 * `/users/{id}/ownedDevices` answers whoever reads the user: its page lists User.Read, User.Read.All,
 * User.ReadWrite.All, Directory.Read.All and Directory.ReadWrite.All (Device.Read.All alone is not
 * listed, so it is refused). Devices come back in full only for a caller that reads devices
 * (device-get), otherwise with limited information (docs/graph-facts.md#manager-and-bulk-lookup).
 * The list may also hold endpoint objects (src/emulator/graph/endpoints.ts), typed as such.
 */
export function listOwnedDevices(call: GraphCall, user: UserRecord): EmuResponse {
  requireCapability(call.principal, 'users.read', user);
  const tenant = call.ctx.tenant;
  const owned = user.ownedDevices
    .map((id) => tenant.devices.get(id) ?? tenant.endpoints.get(id))
    .filter((d): d is DeviceRecord | EndpointRecord => d !== undefined);
  const full = canReadType(call.principal, 'device');
  return listCollection<DeviceRecord | EndpointRecord>(call, {
    entity: ownedDeviceEntity,
    records: owned,
    item: (record, graph, select) => {
      if (isEndpoint(record)) return endpointItem(record, select);
      const properties = select ?? deviceEntity.defaultSelect;
      return full ? project(graph, properties, deviceEntity.odataType) : projectLimited(graph, properties, deviceEntity.odataType);
    },
    contextFragment: 'directoryObjects',
    typedItems: true,
    allowSearch: false,
    allowOrderBy: false,
    filterIsAdvanced: true,
  });
}
