import { badInput } from '../errors.js';
import { isGuid } from '../guid.js';
import type { GraphPage } from './api.js';
import { readPage } from './paging.js';
import { graphPaths } from './paths.js';
import type { GraphRequest, GraphResult } from './types.js';

/**
 * A user's role grants that `transitiveMemberOf/microsoft.graph.directoryRole` does not list
 * (docs/graph-facts.md#writes-and-permissions, "Eligible and administrative-unit roles"):
 * - roles the user is only eligible for through PIM: `GET /roleManagement/directory/roleEligibilityScheduleInstances`;
 * - active role assignments at any scope, administrative units and custom roles included:
 *   `GET /roleManagement/directory/roleAssignments`.
 * Both filtered on `principalId eq '{object id}'`, so both list what the user holds as principal:
 * an eligibility or assignment held by a role-assignable group names the group, not its members.
 * One permission answers both, application or delegated: RoleManagement.Read.Directory (or
 * RoleManagement.Read.All / RoleManagement.ReadWrite.Directory); Directory.Read.All reads
 * assignments but not eligibilities.
 */

/** One grant as the gateway reads it: the role and where it applies. */
export interface RoleGrant {
  roleDefinitionId: string;
  /** `/` for the tenant, `/administrativeUnits/{id}` for a unit, or another object's id. */
  directoryScopeId: string;
}

export interface RoleGrants {
  /** PIM eligibilities (not activated). */
  eligible: RoleGrant[];
  /** Active assignments, any scope. */
  assigned: RoleGrant[];
  /** Graph said there is more than the first page of either (the check needs only "any"). */
  more: boolean;
}

/** The least permission that answers both requests, for messages and the doctor. */
export const ROLE_GRANTS_PERMISSION = 'RoleManagement.Read.Directory';

const SELECT = 'id,roleDefinitionId,directoryScopeId';

function byPrincipal(principalId: string): string {
  // Only an object id is sent: Graph's principalId is one, and nothing caller-typed reaches the filter.
  if (!isGuid(principalId)) throw badInput('A role lookup needs the object id of the user.');
  return `principalId eq '${principalId.toLowerCase()}'`;
}

export function roleEligibilityRequest(principalId: string): GraphRequest {
  return { method: 'GET', path: graphPaths.roleEligibilityInstances(), query: { $filter: byPrincipal(principalId), $select: SELECT } };
}

export function roleAssignmentsRequest(principalId: string): GraphRequest {
  return { method: 'GET', path: graphPaths.directoryRoleAssignments(), query: { $filter: byPrincipal(principalId), $select: SELECT } };
}

function grantsOf(page: GraphPage<Record<string, unknown>>): RoleGrant[] {
  return page.items.map((item) => ({
    roleDefinitionId: typeof item.roleDefinitionId === 'string' ? item.roleDefinitionId : '',
    directoryScopeId: typeof item.directoryScopeId === 'string' ? item.directoryScopeId : '',
  }));
}

/** The two answers, in the order of the requests; the first failure is thrown (the check fails closed). */
export function readRoleGrants(eligibility: GraphResult, assignments: GraphResult): RoleGrants {
  if (!eligibility.ok) throw eligibility.error;
  if (!assignments.ok) throw assignments.error;
  const eligible = readPage<Record<string, unknown>>(eligibility.body, eligibility.requestId, false);
  const assigned = readPage<Record<string, unknown>>(assignments.body, assignments.requestId, false);
  return { eligible: grantsOf(eligible), assigned: grantsOf(assigned), more: eligible.nextLink !== null || assigned.nextLink !== null };
}
