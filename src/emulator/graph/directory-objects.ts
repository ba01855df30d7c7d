/**
 * `POST /directoryObjects/getByIds`: up to 1000 ids in one round trip. Unknown ids are left out.
 * Without `$select`, v1.0 users come back with limited properties (a documented known issue), so
 * callers have to select what they need. It needs Directory.Read.All (or Directory.ReadWrite.All):
 * User.Read.All, enough for `GET /users/{id}`, is refused (docs/graph-facts.md#manager-and-bulk-lookup).
 */
import { isGuid } from '../../guid.js';
import type { EmuResponse } from '../http.js';
import { requireCapability } from './authorization.js';
import { metadataUrl, ok, queryParam, readJsonObject, type GraphCall } from './call.js';
import { canonicalProperty, deviceEntity, groupEntity, userEntity, userToGraph, type EntityType } from './entities.js';
import { badRequest } from './errors.js';
import { parseSelect, project } from './query.js';

export const GET_BY_IDS_LIMIT = 1000;
/** What a user looks like in getByIds without `$select`. */
const LIMITED_USER_PROPERTIES = ['id', 'displayName', 'userPrincipalName'];

/** A mixed-type `$select` applies to each type as far as it knows the properties. */
function selectedFor<R>(entity: EntityType<R>, selectRaw: string | undefined): readonly string[] {
  if (!selectRaw) return entity.defaultSelect;
  return selectRaw
    .split(',')
    .map((name) => canonicalProperty(entity, name.trim()))
    .filter((p): p is string => p !== undefined);
}

export function getByIds(call: GraphCall): EmuResponse {
  requireCapability(call.principal, 'directoryObjects.getByIds');
  const body = readJsonObject(call);
  const ids = body.ids;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw badRequest("The 'ids' property must be an array of strings.");
  if (ids.length === 0) throw badRequest("The 'ids' property must not be empty.");
  if (ids.length > GET_BY_IDS_LIMIT)
    throw badRequest(`Too many identifiers: at most ${GET_BY_IDS_LIMIT} ids can be requested at a time, received ${ids.length}.`);
  // "The IDs are GUIDs, represented as strings" (directoryobject-getbyids): anything else fails the
  // whole call with 400 Request_BadRequest "Invalid GUID specified." (microsoft-graph-docs-contrib#5884),
  // not a result without it. Only the hyphenated 8-4-4-4-12 form is taken (the page's examples; the
  // stricter reading). docs/graph-facts.md#manager-and-bulk-lookup.
  if (!ids.every((id) => isGuid(id))) throw badRequest('Invalid GUID specified.');
  const typesRaw = body.types;
  if (typesRaw !== undefined && (!Array.isArray(typesRaw) || !typesRaw.every((t) => typeof t === 'string')))
    throw badRequest("The 'types' property must be an array of strings.");
  const types = new Set(((typesRaw as string[] | undefined) ?? ['user', 'group', 'device']).map((t) => t.toLowerCase().replace(/^microsoft\.graph\./, '')));
  for (const t of types) if (!['user', 'group', 'device', 'directoryobject'].includes(t)) throw badRequest(`Unsupported type '${t}'.`);
  const all = types.has('directoryobject');
  const selectRaw = queryParam(call, '$select');
  const userSelect = parseSelect(userEntity, selectRaw, { list: true });
  const tenant = call.ctx.tenant;
  const value: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  for (const raw of ids as string[]) {
    const id = raw.toLowerCase();
    if (seen.has(id)) continue;
    seen.add(id);
    const user = tenant.users.get(id);
    if (user && (all || types.has('user'))) {
      // Under the getByIdsSelect switch's `ignored`, $select does not widen the limited set (the older
      // page text; docs/graph-facts.md#manager-and-bulk-lookup).
      const honoured = call.ctx.graph.getByIdsSelect === 'honoured';
      value.push(project(userToGraph(user), (honoured ? userSelect : undefined) ?? LIMITED_USER_PROPERTIES, userEntity.odataType));
      continue;
    }
    const group = tenant.groups.get(id);
    if (group && (all || types.has('group'))) {
      value.push(project(groupEntity.toGraph(group), selectedFor(groupEntity, selectRaw), groupEntity.odataType));
      continue;
    }
    const device = tenant.devices.get(id);
    if (device && (all || types.has('device'))) {
      value.push(project(deviceEntity.toGraph(device), selectedFor(deviceEntity, selectRaw), deviceEntity.odataType));
    }
  }
  return ok(200, { '@odata.context': metadataUrl(call, 'directoryObjects'), value });
}
