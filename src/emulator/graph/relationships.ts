/** `/users/{id}/manager`, `manager/$ref`, `directReports`, `memberOf`, `ownedDevices`. */
import type { EmuResponse } from '../http.js';
import type { DeviceRecord, GroupRecord, UserRecord } from '../model.js';
import { requireCapability } from './authorization.js';
import { metadataUrl, noContent, ok, queryParam, readJsonObject, type GraphCall } from './call.js';
import { deviceEntity, groupEntity, userEntity, userToGraph } from './entities.js';
import { badRequest, notFound } from './errors.js';
import { listCollection, parseSelect, project } from './query.js';
import { recordChange } from './state.js';
import { directReportsOf, managerOf } from './users.js';

export function getManager(call: GraphCall, user: UserRecord): EmuResponse {
  requireCapability(call.principal, 'users.read', user);
  const manager = managerOf(call, user);
  if (!manager) throw notFound('manager');
  const select = parseSelect(userEntity, queryParam(call, '$select'), { list: false });
  return ok(200, {
    '@odata.context': metadataUrl(call, 'directoryObjects/$entity'),
    ...project(userToGraph(manager), select ?? userEntity.defaultSelect, userEntity.odataType),
  });
}

/** The manager id named by an `@odata.id` reference (absolute URL, or a relative one). */
function referencedId(reference: unknown): string {
  if (typeof reference !== 'string' || reference.trim() === '') throw badRequest("The request body must name the manager in '@odata.id'.");
  const m = /(?:users|directoryObjects)(?:\/|\(')([^/()']+)(?:'\))?\/?$/.exec(reference.trim());
  if (!m) throw badRequest(`Invalid object identifier '${reference}'.`);
  return decodeURIComponent(m[1]!);
}

export function setManager(call: GraphCall, user: UserRecord): EmuResponse {
  requireCapability(call.principal, 'users.manager', user);
  const id = referencedId(readJsonObject(call)['@odata.id']);
  const tenant = call.ctx.tenant;
  const lower = id.toLowerCase();
  const manager = tenant.users.get(lower) ?? [...tenant.users.values()].find((u) => u.userPrincipalName.toLowerCase() === lower);
  if (!manager) throw badRequest(`Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
  if (manager.id === user.id) throw badRequest('A user cannot be their own manager.');
  for (let cursor: UserRecord | undefined = manager, hops = 0; cursor && hops <= tenant.users.size; hops += 1) {
    if (cursor.managerId === user.id) throw badRequest('The manager assignment would create a circular reporting chain.');
    cursor = cursor.managerId ? tenant.users.get(cursor.managerId) : undefined;
  }
  user.managerId = manager.id;
  recordChange(tenant, user.id, 'changed', call.ctx.now());
  return noContent();
}

export function removeManager(call: GraphCall, user: UserRecord): EmuResponse {
  requireCapability(call.principal, 'users.manager', user);
  if (!user.managerId) throw notFound('manager');
  user.managerId = null;
  recordChange(call.ctx.tenant, user.id, 'changed', call.ctx.now());
  return noContent();
}

export function listDirectReports(call: GraphCall, user: UserRecord): EmuResponse {
  requireCapability(call.principal, 'users.read', user);
  return listCollection(call, {
    entity: userEntity,
    records: directReportsOf(call, user),
    contextFragment: 'directoryObjects',
    typedItems: true,
    allowSearch: false,
    allowOrderBy: false,
    filterIsAdvanced: true,
  });
}

export function listMemberOf(call: GraphCall, user: UserRecord): EmuResponse {
  requireCapability(call.principal, 'memberOf.read', user);
  const groups = user.memberOf.map((id) => call.ctx.tenant.groups.get(id)).filter((g): g is GroupRecord => g !== undefined);
  return listCollection(call, {
    entity: groupEntity,
    records: groups,
    contextFragment: 'directoryObjects',
    typedItems: true,
    allowSearch: true,
    allowOrderBy: false,
    filterIsAdvanced: true,
  });
}

export function listOwnedDevices(call: GraphCall, user: UserRecord): EmuResponse {
  requireCapability(call.principal, 'devices.read', user);
  const devices = user.ownedDevices.map((id) => call.ctx.tenant.devices.get(id)).filter((d): d is DeviceRecord => d !== undefined);
  return listCollection(call, {
    entity: deviceEntity,
    records: devices,
    contextFragment: 'directoryObjects',
    typedItems: true,
    allowSearch: false,
    allowOrderBy: false,
    filterIsAdvanced: true,
  });
}
