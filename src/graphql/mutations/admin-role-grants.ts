import { ErrorCode, GatewayError, isGatewayError } from '../../errors.js';
import type { GraphUsersClient } from '../../graph/api.js';
import { ROLE_GRANTS_PERMISSION } from '../../graph/role-grants.js';
import { Permission } from '../../permissions.js';
import { administratorCheckFailed, ADMINISTRATOR_TARGET, refuseAdministratorTarget, targetObjectId } from './admin-targets.js';

/**
 * The second half of the administrator-target check (docs/security.md#administrators-as-targets):
 * `transitiveMemberOf/microsoft.graph.directoryRole` (admin-targets.ts) lists only active,
 * tenant-wide roles, yet a Temporary Access Pass or a new password for a user merely *eligible*
 * for Global Administrator through PIM lets the attacker activate the role, and an administrator
 * over an administrative unit (a User Administrator of a unit resets its members' passwords) is an
 * administrator too. So the user's PIM eligibilities and active assignments at every scope are read
 * as well (src/graph/role-grants.ts), any of them counting, in the same round trip as the role
 * lookup for an object id (a userPrincipalName is first resolved: Graph filters principalId by
 * object id only). Fails closed as the role lookup does: the write is not sent when Graph does not
 * answer (RoleManagement.Read.Directory missing, or unavailable).
 */

type RoleLookupGraph = Pick<GraphUsersClient, 'directoryRolesOf' | 'getUser' | 'roleGrantsOf'>;

/**
 * Both lookups at once; an administrator refusal wins over a failed lookup, so the answer does not
 * depend on timing. A userPrincipalName is read once, for both: each lookup then asks by object id.
 */
export async function refuseAnyAdministratorTarget(graph: RoleLookupGraph, userKey: string): Promise<void> {
  let objectId: string | undefined;
  try {
    objectId = await targetObjectId(graph, userKey);
  } catch (error) {
    throw administratorCheckFailed(
      error,
      'holds a directory role',
      `Finding the user needs the Graph permission User.Read.All; or grant the caller ${Permission.UsersManageAdmins}.`,
    );
  }
  // Not found by the read the write is like: the write meets the same 404.
  if (objectId === undefined) return;
  const outcomes = await Promise.allSettled([refuseAdministratorTarget(graph, objectId), refuseRoleGrantTarget(graph, objectId)]);
  const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as unknown);
  const refusal = failures.find((e) => isGatewayError(e) && e.extensions.reason === ADMINISTRATOR_TARGET);
  if (refusal !== undefined) throw refusal;
  if (failures.length > 0) throw failures[0];
}

/** Refuses a target with a PIM eligibility or an active role assignment at any scope. */
export async function refuseRoleGrantTarget(graph: Pick<GraphUsersClient, 'getUser' | 'roleGrantsOf'>, userKey: string): Promise<void> {
  let grants;
  try {
    const principalId = await targetObjectId(graph, userKey);
    // No such user: nothing to protect; the write then meets Graph's own 404.
    if (principalId === undefined) return;
    grants = await graph.roleGrantsOf(principalId);
  } catch (error) {
    throw administratorCheckFailed(
      error,
      'is eligible for a directory role or holds one over an administrative unit',
      `Reading a user's role eligibilities and assignments needs the Graph permission ${ROLE_GRANTS_PERMISSION}: an application permission of the gateway's app, or under on-behalf-of a delegated permission consented for it (the signed-in caller then also needs a role that reads them, such as Global Reader or Privileged Role Administrator); or grant the caller ${Permission.UsersManageAdmins}.`,
      { permission: ROLE_GRANTS_PERMISSION },
    );
  }
  if (grants.eligible.length === 0 && grants.assigned.length === 0 && !grants.more) return;
  throw new GatewayError(
    ErrorCode.FORBIDDEN,
    `This user is eligible for a directory role or holds one (at any scope), and this mutation could hand their account over: acting on an administrator needs the permission ${Permission.UsersManageAdmins} besides the mutation's own.`,
    { argument: 'user', reason: ADMINISTRATOR_TARGET, permission: Permission.UsersManageAdmins },
  );
}
