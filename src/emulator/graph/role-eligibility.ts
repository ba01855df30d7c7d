/**
 * `GET /roleManagement/directory/roleEligibilityScheduleInstances` (v1.0), as documented
 * (docs/graph-facts.md#writes-and-permissions, "Eligible and administrative-unit roles"):
 * - Permissions: RoleEligibilitySchedule.Read.Directory least, then
 *   RoleEligibilitySchedule.ReadWrite.Directory, RoleManagement.Read.All, RoleManagement.Read.Directory,
 *   RoleManagement.ReadWrite.Directory; application and delegated alike. Directory.Read.All is not on
 *   the list, so it does not read eligibilities. Delegated, the signed-in user must also hold one of
 *   the roles the PIM pages name for reads (Global Reader, Security Operator, Security Reader,
 *   Security Administrator, Privileged Role Administrator; Global Administrator above them).
 * - `$filter` with `eq` on principalId, roleDefinitionId, directoryScopeId, memberType or
 *   roleEligibilityScheduleId (the resource page's `$filter` columns; `ne` and combinations are
 *   refused, the stricter reading), and `$select`; `$expand` is not taken (the gateway never sends it).
 * - Items: users' own eligibilities and those of role-assignable groups (memberType `Direct`,
 *   principalId the user or the group): an eligibility held by a group names the group, and a filter
 *   on a member's id never lists it (the documented meaning of principalId).
 * - Paged server-side (roleListPage): a filtered page may be empty and still have a nextLink.
 */
import { createHash } from 'node:crypto';
import { digestGuid } from '../digest-guid.js';
import type { EmuResponse } from '../http.js';
import { metadataUrl, ok, queryParam, type GraphCall } from './call.js';
import type { RoleGrantRecord } from '../model.js';
import { BUILT_IN_ROLES, mayReadRoleList, roleListPage, roleObjectEqFilter, roleObjectSelect } from './directory-roles.js';
import { badRequest, forbidden, pimUnlicensed } from './errors.js';
import { project } from './query.js';

const ELIGIBILITY_READERS = [
  'RoleEligibilitySchedule.Read.Directory',
  'RoleEligibilitySchedule.ReadWrite.Directory',
  'RoleManagement.Read.All',
  'RoleManagement.Read.Directory',
  'RoleManagement.ReadWrite.Directory',
];
/** Least privileged roles for delegated PIM reads (rbac-pim-entra-roles-apis), plus Global Administrator above them. */
const ELIGIBILITY_READER_ROLES = [
  'Global Reader',
  'Security Operator',
  'Security Reader',
  'Security Administrator',
  'Privileged Role Administrator',
  'Global Administrator',
];

const TYPE = 'microsoft.graph.unifiedRoleEligibilityScheduleInstance';
/** The resource's properties (resources/unifiedroleeligibilityscheduleinstance). */
const PROPERTIES = [
  'id',
  'principalId',
  'roleDefinitionId',
  'directoryScopeId',
  'appScopeId',
  'startDateTime',
  'endDateTime',
  'memberType',
  'roleEligibilityScheduleId',
];
const FILTERABLE = ['principalId', 'roleDefinitionId', 'directoryScopeId', 'memberType', 'roleEligibilityScheduleId'];

function instanceId(principalId: string, templateId: string, scope: string): string {
  return `${createHash('sha256').update(`${templateId}:${principalId}:${scope}`).digest('base64url').slice(0, 43)}-1-e`;
}

function scheduleId(principalId: string, templateId: string, scope: string): string {
  return digestGuid(`schedule:${templateId}:${principalId}:${scope}`);
}

export function listRoleEligibilityScheduleInstances(call: GraphCall): EmuResponse {
  if (!mayReadRoleList(call.principal, ELIGIBILITY_READERS, ELIGIBILITY_READER_ROLES)) throw forbidden();
  // After the permission check: an app that may not read the list learns nothing about the licence.
  if (call.ctx.graph.pimLicence === 'unlicensed') throw pimUnlicensed();
  const filter = roleObjectEqFilter(queryParam(call, '$filter'), FILTERABLE, 'unifiedRoleEligibilityScheduleInstance');
  const select = roleObjectSelect(queryParam(call, '$select'), PROPERTIES, TYPE);
  if ((queryParam(call, '$expand') ?? '').trim() !== '') throw badRequest('The emulator does not expand relationships of role eligibility schedule instances.');
  const entries: Array<Record<string, unknown> | null> = [];
  const add = (principalId: string, since: string, grants: readonly RoleGrantRecord[] | undefined) => {
    for (const grant of grants ?? []) {
      const role = BUILT_IN_ROLES[grant.role];
      if (!role) continue;
      const full: Record<string, unknown> = {
        id: instanceId(principalId, role.templateId, grant.directoryScopeId),
        principalId,
        roleDefinitionId: role.templateId,
        directoryScopeId: grant.directoryScopeId,
        appScopeId: null,
        startDateTime: since,
        endDateTime: null,
        memberType: 'Direct',
        roleEligibilityScheduleId: scheduleId(principalId, role.templateId, grant.directoryScopeId),
      };
      entries.push(filter && !filter(full) ? null : select ? project(full, select) : full);
    }
  };
  for (const user of call.ctx.tenant.users.values()) add(user.id, user.createdDateTime, user._eligibleRoles);
  // A role-assignable group's eligibility names the group, not its members.
  for (const group of call.ctx.tenant.groups.values()) add(group.id, '2024-01-01T00:00:00Z', group._eligibleRoles);
  const { value, nextLink } = roleListPage(call, entries);
  return ok(200, {
    '@odata.context': metadataUrl(call, 'roleManagement/directory/roleEligibilityScheduleInstances'),
    value,
    ...(nextLink ? { '@odata.nextLink': nextLink } : {}),
  });
}
