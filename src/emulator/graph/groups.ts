/**
 * The group reads the administrator-target check uses to find a user's standing ownerships of
 * role-assignable groups (docs/graph-facts.md#writes-and-permissions, "Roles held through a group",
 * "Owners of a role-assignable group"). `GET /users/{id}/ownedObjects` would be the direct question,
 * but its page lists no application permission (user-list-ownedobjects, "Application: Not
 * supported"), so the gateway asks the other way round:
 * - `GET /groups` with `$filter=isAssignableToRole eq true` (the group resource: `eq` is a default
 *   query) and `$expand=owners($select=id)` (the resource's own example expands owners with a nested
 *   `$select`). Permissions (group-list): GroupMember.Read.All, Group.Read.All, Group.ReadWrite.All,
 *   Directory.Read.All, Directory.ReadWrite.All, application and delegated; the page's newer
 *   additions (Group-NestingSupport.ReadWrite.All, Group.ManageProtection.All) are not taken, the
 *   stricter reading. An expanded relationship of a directory object holds at most 20 objects and
 *   no nextLink (known issue 13635), and a page with `$expand` holds at most 100 items (the
 *   `expandPageCap` switch). `$expand` is not supported with advanced queries (aad-advanced-queries,
 *   its note): with `ConsistencyLevel: eventual` the emulator refuses it (Graph's answer is not
 *   documented: the stricter reading). The emulator takes only that filter (`eq true|false`), one
 *   `$expand` of `owners`, `$select` of group properties, `$top` 1..999, and no `$search`/`$orderby`.
 * - `GET /groups/{id}/owners`: the whole owners list (at most 100, resources/group), for a group whose
 *   expanded owners hit the cap of 20. Permissions (group-list-owners): GroupMember.Read.All least,
 *   then Group.ReadWrite.All, Directory.Read.All, Group.Read.All, GroupMember.ReadWrite.All,
 *   application and delegated. `$select` of user properties and `$top`; paged by `$top` (default 100).
 */
import type { EmuResponse } from '../http.js';
import type { GroupRecord, UserRecord } from '../model.js';
import type { Principal } from './authorization.js';
import { isEventual, metadataUrl, ok, queryParam, type GraphCall } from './call.js';
import { offsetPage, roleObjectSelect } from './directory-roles.js';
import { groupEntity, userEntity } from './entities.js';
import { badRequest, forbidden, GraphError, unsupportedQuery } from './errors.js';
import { DEFAULT_PAGE_SIZE, parseTop, project, rejectUnsupportedOptions } from './query.js';

/** group-list's permissions common to every published version of the page. */
const GROUP_LIST_READERS = ['GroupMember.Read.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
/** group-list-owners' permissions (its generated permissions include). */
const GROUP_OWNER_READERS = ['GroupMember.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Group.Read.All', 'GroupMember.ReadWrite.All'];
/** Known issue 13635: an expanded relationship of a directory object holds at most 20 objects, and no nextLink. */
export const EXPANDED_OWNERS_CAP = 20;

function mayRead(principal: Principal, readers: readonly string[]): boolean {
  return readers.some((p) => principal.permissions.has(p));
}

/** `owners` or `owners($select=a,b)`: the nested `$select` (undefined when absent); anything else 400. */
function parseOwnersExpand(raw: string): string | undefined {
  const m = /^\s*owners\s*(?:\(\s*\$select\s*=\s*([^()]*)\))?\s*$/i.exec(raw);
  if (!m) throw badRequest(`The emulator expands only 'owners' (with an optional nested $select) on groups, not '${raw}'.`);
  return m[1];
}

function ownerItem(user: UserRecord, select: readonly string[]): Record<string, unknown> {
  return project(userEntity.toGraph(user), select, '#microsoft.graph.user');
}

export function listGroups(call: GraphCall): EmuResponse {
  if (!mayRead(call.principal, GROUP_LIST_READERS)) throw forbidden();
  rejectUnsupportedOptions(call);
  for (const option of ['$search', '$orderby']) {
    if (queryParam(call, option) !== undefined) throw unsupportedQuery(`The emulator does not take ${option} on groups.`);
  }
  const rawExpand = queryParam(call, '$expand');
  if (rawExpand !== undefined && isEventual(call)) throw badRequest('$expand is not supported with advanced queries (ConsistencyLevel: eventual).');
  const rawFilter = (queryParam(call, '$filter') ?? '').trim();
  let wanted: boolean | undefined;
  if (rawFilter !== '') {
    const m = /^isAssignableToRole\s+eq\s+(true|false)$/i.exec(rawFilter);
    if (!m) throw unsupportedQuery(`Unsupported or invalid filter '${rawFilter}' on groups: the emulator takes isAssignableToRole eq true|false.`);
    wanted = m[1]!.toLowerCase() === 'true';
  }
  const select = roleObjectSelect(queryParam(call, '$select'), groupEntity.properties, 'microsoft.graph.group') ?? groupEntity.defaultSelect;
  const ownersSelect =
    rawExpand === undefined
      ? undefined
      : (roleObjectSelect(parseOwnersExpand(rawExpand), userEntity.properties, 'microsoft.graph.user') ?? ['id', 'displayName', 'userPrincipalName']);
  const users = call.ctx.tenant.users;
  const entries = [...call.ctx.tenant.groups.values()].map((group: GroupRecord) => {
    if (wanted !== undefined && (group.isAssignableToRole ?? false) !== wanted) return null;
    const item = project(groupEntity.toGraph(group), select);
    if (ownersSelect) {
      const owners = (group.owners ?? []).map((id) => users.get(id)).filter((u): u is UserRecord => u !== undefined);
      item.owners = owners.slice(0, EXPANDED_OWNERS_CAP).map((u) => ownerItem(u, ownersSelect));
    }
    return item;
  });
  const requestedTop = parseTop(call) ?? DEFAULT_PAGE_SIZE;
  const cap = call.ctx.graph.expandPageCap;
  const top = ownersSelect && cap !== null ? Math.min(requestedTop, cap) : requestedTop;
  // The filter leaves its items out of each page (null entries): a page may be short, or empty with a nextLink.
  const { value, nextLink } = offsetPage(call, entries, top);
  return ok(200, { '@odata.context': metadataUrl(call, 'groups'), value, ...(nextLink ? { '@odata.nextLink': nextLink } : {}) });
}

export function listGroupOwners(call: GraphCall, groupId: string): EmuResponse {
  if (!mayRead(call.principal, GROUP_OWNER_READERS)) throw forbidden();
  rejectUnsupportedOptions(call);
  for (const option of ['$filter', '$search', '$orderby', '$expand']) {
    if (queryParam(call, option) !== undefined) throw unsupportedQuery(`The emulator does not take ${option} on a group's owners.`);
  }
  const group = [...call.ctx.tenant.groups.values()].find((g) => g.id.toLowerCase() === groupId.toLowerCase());
  if (!group)
    throw new GraphError(
      404,
      'Request_ResourceNotFound',
      `Resource '${groupId}' does not exist or one of its queried reference-property objects are not present.`,
    );
  const select = roleObjectSelect(queryParam(call, '$select'), userEntity.properties, 'microsoft.graph.user') ?? ['id', 'displayName', 'userPrincipalName'];
  const users = call.ctx.tenant.users;
  const entries = (group.owners ?? []).map((id) => users.get(id)).map((u) => (u ? ownerItem(u, select) : null));
  const { value, nextLink } = offsetPage(call, entries, parseTop(call) ?? DEFAULT_PAGE_SIZE);
  return ok(200, { '@odata.context': metadataUrl(call, 'directoryObjects'), value, ...(nextLink ? { '@odata.nextLink': nextLink } : {}) });
}
