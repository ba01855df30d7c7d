import { ErrorCode, GatewayError } from '../../errors.js';
import type { GraphUsersClient } from '../../graph/api.js';
import {
  GROUP_ELIGIBILITY_PERMISSION,
  GROUP_MEMBERSHIP_PERMISSION,
  GROUP_OWNERSHIP_PERMISSION,
  MAX_GROUP_PRINCIPALS,
  ROLE_GRANTS_PERMISSION,
  RoleGrantLookupFailure,
} from '../../graph/role-grants.js';
import { Permission } from '../../permissions.js';
import {
  activeRoleLookupFailed,
  activeRoleRefusal,
  ADMINISTRATOR_CHECK_FAILED,
  administratorCheckFailed,
  ADMINISTRATOR_TARGET,
  targetObjectId,
} from './admin-targets.js';

/**
 * The second half of the administrator-target check (docs/security.md#administrators-as-targets):
 * `transitiveMemberOf/microsoft.graph.directoryRole` (admin-targets.ts) lists only active,
 * tenant-wide roles, yet a Temporary Access Pass or a new password for a user merely *eligible*
 * for Global Administrator through PIM lets the attacker activate the role, and an administrator
 * over an administrative unit (a User Administrator of a unit resets its members' passwords) is an
 * administrator too, as is a user who holds such a grant through a role-assignable group (a member),
 * can add themselves to such a group (a standing owner) or can activate one (PIM for Groups eligible
 * member or owner). So the user's PIM eligibilities and
 * active assignments at every scope are read as well, the user's own and those of its groups
 * (src/graph/role-grants.ts), any of them counting, in the same round trip as the role lookup for an
 * object id, and a second one only for a user in or eligible for a group (a userPrincipalName is first
 * resolved: Graph filters principalId by object id only). Fails closed as the role lookup does: the
 * write is not sent when Graph does not answer (RoleManagement.Read.Directory,
 * PrivilegedEligibilitySchedule.Read.AzureADGroup, GroupMember.Read.All or User.Read.All missing, or
 * unavailable), nor for a user in or owning more groups than the check reads.
 */

type RoleLookupGraph = Pick<GraphUsersClient, 'getUser' | 'roleGrantsOf'>;

/**
 * Both halves in one `$batch` (the directoryRole cast beside the grant and group lists); an
 * administrator refusal wins over a failed lookup, so the answer does not depend on timing. A
 * userPrincipalName is read once, first: each lookup then asks by object id.
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
  let grants;
  try {
    grants = await graph.roleGrantsOf(objectId);
  } catch (error) {
    throw roleLookupFailed(error);
  }
  if (grants.activeRoles > 0) throw activeRoleRefusal();
  if (grants.eligible.length === 0 && grants.assigned.length === 0) return;
  throw new GatewayError(
    ErrorCode.FORBIDDEN,
    `This user is eligible for a directory role or holds one (at any scope, directly or through a group), and this mutation could hand their account over: acting on an administrator needs the permission ${Permission.UsersManageAdmins} besides the mutation's own.`,
    { argument: 'user', reason: ADMINISTRATOR_TARGET, permission: Permission.UsersManageAdmins },
  );
}

const DELEGATED_NOTE = "an application permission of the gateway's app, or under on-behalf-of a delegated permission consented for it";

/** The fail-closed error for the lookup that was not answered, naming the permission it needs. */
function roleLookupFailed(error: unknown): unknown {
  if (!(error instanceof RoleGrantLookupFailure)) {
    return administratorCheckFailed(
      error,
      'is eligible for a directory role or holds one',
      `Grant the caller ${Permission.UsersManageAdmins} to skip the check.`,
    );
  }
  switch (error.lookup) {
    case 'directoryRoles':
      return activeRoleLookupFailed(error.error);
    case 'groupsUnchecked':
      return new GatewayError(
        ErrorCode.FORBIDDEN,
        `This user is a member or owner of, or eligible for, more role-assignable or PIM-governed groups than the gateway checks (${MAX_GROUP_PRINCIPALS}), so it could not tell whether they hold a directory role through one, and nothing was written. Acting on this user needs the permission ${Permission.UsersManageAdmins} besides the mutation's own.`,
        { argument: 'user', reason: ADMINISTRATOR_CHECK_FAILED, permission: Permission.UsersManageAdmins },
      );
    case 'groupMemberships':
      return administratorCheckFailed(
        error.error,
        'holds a directory role through a role-assignable group',
        `Reading a user's groups needs the Graph permission ${GROUP_MEMBERSHIP_PERMISSION}: ${DELEGATED_NOTE}; or grant the caller ${Permission.UsersManageAdmins}.`,
        { permission: GROUP_MEMBERSHIP_PERMISSION },
      );
    case 'groupOwnerships':
      return administratorCheckFailed(
        error.error,
        'owns a role-assignable group that holds a directory role',
        `Reading the role-assignable groups and their owners needs the Graph permission ${GROUP_OWNERSHIP_PERMISSION}: ${DELEGATED_NOTE}; or grant the caller ${Permission.UsersManageAdmins}.`,
        { permission: GROUP_OWNERSHIP_PERMISSION },
      );
    case 'groupEligibilities':
      return administratorCheckFailed(
        error.error,
        'is eligible for a group that holds a directory role (PIM for Groups)',
        `Reading a user's PIM for Groups eligibilities needs the Graph permission ${GROUP_ELIGIBILITY_PERMISSION}: ${DELEGATED_NOTE} (the signed-in caller then also needs Global Reader or Privileged Role Administrator); or grant the caller ${Permission.UsersManageAdmins}.`,
        { permission: GROUP_ELIGIBILITY_PERMISSION },
      );
    default:
      return administratorCheckFailed(
        error.error,
        'is eligible for a directory role or holds one over an administrative unit',
        `Reading a user's role eligibilities and assignments needs the Graph permission ${ROLE_GRANTS_PERMISSION}: ${DELEGATED_NOTE} (the signed-in caller then also needs a role that reads them, such as Global Reader or Privileged Role Administrator); or grant the caller ${Permission.UsersManageAdmins}.`,
        { permission: ROLE_GRANTS_PERMISSION },
      );
  }
}
