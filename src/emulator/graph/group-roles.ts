/**
 * How a user may hold a directory role through a group, as documented
 * (docs/graph-facts.md#writes-and-permissions, "Roles held through a group"):
 * - `GET /users/{id}/transitiveMemberOf/microsoft.graph.group`: the user's groups (an OData cast:
 *   an advanced query, `ConsistencyLevel: eventual` and `$count=true`), with `$filter` on
 *   `isAssignableToRole` (`eq true`/`eq false` only; anything else refused, the stricter reading) and
 *   `$select`. Permissions as the directoryRole cast (User.Read.All least for another user). Groups
 *   come in full only to a caller that reads groups, otherwise with limited information (type and
 *   id); the filter is applied either way. Paged by `$top` over the user's memberships, the cast
 *   applied to each page, so a page may be empty and have a nextLink.
 * - `GET /identityGovernance/privilegedAccess/group/eligibilityScheduleInstances`: PIM for Groups
 *   eligibilities, membership (`accessId` `member`) or ownership (`owner`). The page requires a
 *   `$filter` (`eq`) on principalId or groupId: without one, or with any other filter, 400.
 *   Permissions, application and delegated: PrivilegedEligibilitySchedule.Read.AzureADGroup or
 *   PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup; delegated, the signed-in user must also hold
 *   Global Reader or Privileged Role Administrator (the least roles for role-assignable groups; the
 *   page's "owner or member of the group" alternative is not modelled, the stricter reading).
 *   Paged server-side like the role-management lists.
 */
import { createHash } from 'node:crypto';
import type { EmuResponse } from '../http.js';
import type { GroupRecord, UserRecord } from '../model.js';
import { canReadType } from './authorization.js';
import { metadataUrl, ok, queryParam, readJsonObject, type GraphCall } from './call.js';
import {
  assertCastAllowed,
  castAnswer,
  directoryRole,
  indexedMemberships,
  mayReadRoleList,
  roleListPage,
  roleObjectEqFilter,
  roleObjectSelect,
} from './directory-roles.js';
import { groupEntity } from './entities.js';
import { badRequest, forbidden, pimUnlicensed, unsupportedQuery } from './errors.js';
import { project, projectLimited } from './query.js';

const GROUP_TYPE = '#microsoft.graph.group';

export function listTransitiveGroups(call: GraphCall, user: UserRecord): EmuResponse {
  assertCastAllowed(call, user);
  const principal = call.principal;
  const rawFilter = (queryParam(call, '$filter') ?? '').trim();
  let wanted: boolean | undefined;
  if (rawFilter !== '') {
    const m = /^isAssignableToRole\s+eq\s+(true|false)$/i.exec(rawFilter);
    if (!m) throw unsupportedQuery(`Unsupported or invalid filter '${rawFilter}' on this cast: the emulator takes isAssignableToRole eq true|false.`);
    wanted = m[1]!.toLowerCase() === 'true';
  }
  const select = roleObjectSelect(queryParam(call, '$select'), groupEntity.properties, 'microsoft.graph.group') ?? groupEntity.defaultSelect;
  const full = canReadType(principal, 'group');
  // Every membership in order (groups, then directory roles, which the cast leaves out), `null` for
  // what the cast or the filter leaves out: the cast applies to each page of memberships.
  const memberships: Array<Record<string, unknown> | null> = indexedMemberships(call, user).map((id) => {
    const group: GroupRecord | undefined = call.ctx.tenant.groups.get(id);
    if (!group) return null;
    if (wanted !== undefined && (group.isAssignableToRole ?? false) !== wanted) return null;
    const graph = groupEntity.toGraph(group);
    return full ? project(graph, select, GROUP_TYPE) : projectLimited(graph, select, GROUP_TYPE);
  });
  for (let n = 0; n < user._directoryRoles.length; n++) memberships.push(null);
  return castAnswer(call, 'groups', memberships, memberships.filter((m) => m !== null).length);
}

/**
 * directoryobject-getmemberobjects, "Memberships for a user": application User.Read.All,
 * Directory.Read.All, User.ReadWrite.All, Directory.ReadWrite.All; delegated the same, and User.Read
 * (taken for the signed-in user's own memberships only, the stricter reading).
 */
const MEMBER_OBJECTS_READERS = ['User.Read.All', 'Directory.Read.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'];

/**
 * `POST /users/{id}/getMemberObjects` `{"securityEnabledOnly": bool}`: the ids of every group,
 * administrative unit and directory role the user is a member of, transitively
 * (directoryobject-getmemberobjects); `true` keeps security groups only. A function, not an advanced
 * query: nothing documents it as served from the lagging index, so it lists memberships made within
 * the index lag (docs/graph-facts.md#writes-and-permissions, "Recent memberships"). The parameter is
 * required as a JSON boolean (the stricter reading of the page's Boolean parameter).
 */
export function getMemberObjects(call: GraphCall, user: UserRecord): EmuResponse {
  const principal = call.principal;
  const readsSelf = principal.kind === 'user' && principal.objectId === user.id && principal.permissions.has('User.Read');
  if (!readsSelf && !MEMBER_OBJECTS_READERS.some((p) => principal.permissions.has(p))) throw forbidden();
  const body = readJsonObject(call);
  if (typeof body.securityEnabledOnly !== 'boolean') throw badRequest("The parameter 'securityEnabledOnly' must be given as true or false.");
  const securityOnly = body.securityEnabledOnly;
  const value: string[] = [];
  for (const id of user.memberOf) {
    const group = call.ctx.tenant.groups.get(id);
    if (group && (!securityOnly || group.securityEnabled)) value.push(group.id);
  }
  if (!securityOnly) {
    for (const name of user._directoryRoles) {
      const role = directoryRole(call, name);
      if (role) value.push(role.id as string);
    }
  }
  return ok(200, { '@odata.context': metadataUrl(call, 'Collection(Edm.String)'), value });
}

const GROUP_ELIGIBILITY_READERS = ['PrivilegedEligibilitySchedule.Read.AzureADGroup', 'PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup'];
/** rbac-pim-groups-apis-read-eligibilityschedules: the least roles for role-assignable groups, plus Global Administrator above them. */
const GROUP_ELIGIBILITY_READER_ROLES = ['Global Reader', 'Privileged Role Administrator', 'Global Administrator'];
const GROUP_ELIGIBILITY_TYPE = 'microsoft.graph.privilegedAccessGroupEligibilityScheduleInstance';
/** The resource's properties (resources/privilegedaccessgroupeligibilityscheduleinstance). */
const GROUP_ELIGIBILITY_PROPERTIES = ['id', 'accessId', 'eligibilityScheduleId', 'endDateTime', 'groupId', 'memberType', 'principalId', 'startDateTime'];

export function listGroupEligibilityScheduleInstances(call: GraphCall): EmuResponse {
  if (!mayReadRoleList(call.principal, GROUP_ELIGIBILITY_READERS, GROUP_ELIGIBILITY_READER_ROLES)) throw forbidden();
  // After the permission check: an app that may not read the list learns nothing about the licence.
  if (call.ctx.graph.pimLicence === 'unlicensed') throw pimUnlicensed();
  const raw = queryParam(call, '$filter');
  // "This method requires the $filter (eq) query parameter to scope the request to a principalId or a groupId."
  if (raw === undefined || !/^\s*(principalId|groupId)\s+eq\s/i.test(raw)) {
    throw badRequest('The $filter query parameter with principalId or groupId (eq) is required.');
  }
  const filter = roleObjectEqFilter(raw, ['principalId', 'groupId'], 'privilegedAccessGroupEligibilityScheduleInstance')!;
  const select = roleObjectSelect(queryParam(call, '$select'), GROUP_ELIGIBILITY_PROPERTIES, GROUP_ELIGIBILITY_TYPE);
  if ((queryParam(call, '$expand') ?? '').trim() !== '')
    throw badRequest('The emulator does not expand relationships of group eligibility schedule instances.');
  const entries: Array<Record<string, unknown> | null> = [];
  for (const user of call.ctx.tenant.users.values()) {
    for (const grant of user._eligibleGroups ?? []) {
      const schedule = createHash('sha256').update(`${grant.groupId}:${grant.accessId}:${user.id}`).digest('hex');
      const full: Record<string, unknown> = {
        id: `${grant.groupId}_${grant.accessId}_${schedule.slice(0, 36)}`,
        accessId: grant.accessId,
        eligibilityScheduleId: `${grant.groupId}_${grant.accessId}_${schedule.slice(36, 72)}`,
        endDateTime: null,
        groupId: grant.groupId,
        memberType: 'Direct',
        principalId: user.id,
        startDateTime: user.createdDateTime,
      };
      entries.push(filter(full) ? (select ? project(full, select) : full) : null);
    }
  }
  const { value, nextLink } = roleListPage(call, entries);
  return ok(200, {
    '@odata.context': metadataUrl(call, 'identityGovernance/privilegedAccess/group/eligibilityScheduleInstances'),
    value,
    ...(nextLink ? { '@odata.nextLink': nextLink } : {}),
  });
}
