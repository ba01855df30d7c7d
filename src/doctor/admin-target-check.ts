import type { Config } from '../config-types.js';
import { Permission } from '../permissions.js';
import type { FeatureAvailability } from './enabled-features.js';
import { leastToGrant, satisfyingSet, type FeatureId, type GrantKind, type PermissionSet } from './feature-permissions.js';
import { grantAdvice } from './permission-checks.js';
import { grantText, type Check } from './report.js';

/**
 * The features whose mutations look up the target's directory roles before writing, for a caller
 * without Users.ManageAdmins (docs/security.md#administrators-as-targets).
 */
const TAKEOVER_FEATURES: ReadonlySet<FeatureId> = new Set([
  'changePassword',
  'changePasswordOnPremises',
  'deleteAuthenticationMethod',
  'updateUserPhones',
  'enableAccount',
  'deleteUser',
  'temporaryAccessPass',
]);

/**
 * The user's memberships, read twice: `GET /users/{id}/transitiveMemberOf/microsoft.graph.directoryRole`
 * ("another user's memberships": User.Read.All least, then GroupMember.Read.All, Group.Read.All,
 * Directory.Read.All, Directory.ReadWrite.All) and `POST /users/{id}/getMemberObjects` ("Memberships
 * for a user": User.Read.All, Directory.Read.All, User.ReadWrite.All, Directory.ReadWrite.All), the
 * latter because the cast's index may not list a membership made moments ago
 * (docs/graph-facts.md#writes-and-permissions, "Recent memberships"). Application and delegated alike;
 * a set answers both. Without a permission that reads directory roles Graph lists them with limited
 * information, and any item counts as a role.
 */
export const ADMINISTRATOR_LOOKUP = {
  call: 'GET /users/{id}/transitiveMemberOf/microsoft.graph.directoryRole and POST /users/{id}/getMemberObjects',
  sets: [
    ['User.Read.All'],
    ['Directory.Read.All'],
    ['Directory.ReadWrite.All'],
    ['GroupMember.Read.All', 'User.ReadWrite.All'],
    ['Group.Read.All', 'User.ReadWrite.All'],
  ] as readonly PermissionSet[],
  source:
    'https://learn.microsoft.com/graph/api/user-list-transitivememberof#permissions and https://learn.microsoft.com/graph/api/directoryobject-getmemberobjects#permissions',
};

/**
 * The second lookup of the same check (src/graph/role-grants.ts): a user's PIM eligibilities
 * (roleEligibilityScheduleInstances: RoleEligibilitySchedule.Read.Directory least, then
 * RoleEligibilitySchedule.ReadWrite.Directory, RoleManagement.Read.All, RoleManagement.Read.Directory,
 * RoleManagement.ReadWrite.Directory) and active assignments at any scope (roleAssignments:
 * RoleManagement.Read.Directory least, then RoleManagement.Read.All, Directory.Read.All,
 * RoleManagement.ReadWrite.Directory, Directory.ReadWrite.All), application and delegated alike
 * (docs/graph-facts.md#writes-and-permissions, "Eligible and administrative-unit roles"). A set
 * answers both lists; RoleManagement.Read.Directory alone does, so it is the least.
 */
export const ROLE_GRANTS_LOOKUP = {
  call: 'GET /roleManagement/directory/roleEligibilityScheduleInstances and /roleAssignments (principalId filter)',
  sets: [
    ['RoleManagement.Read.Directory'],
    ['RoleManagement.Read.All'],
    ['RoleManagement.ReadWrite.Directory'],
    ['RoleEligibilitySchedule.Read.Directory', 'Directory.Read.All'],
    ['RoleEligibilitySchedule.ReadWrite.Directory', 'Directory.Read.All'],
    ['RoleEligibilitySchedule.Read.Directory', 'Directory.ReadWrite.All'],
    ['RoleEligibilitySchedule.ReadWrite.Directory', 'Directory.ReadWrite.All'],
  ] as readonly PermissionSet[],
  source: 'https://learn.microsoft.com/graph/api/rbacapplication-list-roleeligibilityscheduleinstances#permissions',
};

/**
 * The third lookup of the check (src/graph/role-grants.ts, roles held through a group): the groups
 * the target is eligible for, as member or owner, through PIM for Groups
 * (`privilegedAccess/group/eligibilityScheduleInstances`): PrivilegedEligibilitySchedule.Read.AzureADGroup
 * least, then PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup, application and delegated alike
 * (delegated, the signed-in caller also needs Global Reader or Privileged Role Administrator). The
 * target's role-assignable groups come from getMemberObjects, answered by the first lookup's
 * permissions; the groups' own grants by the second's.
 */
export const GROUP_ELIGIBILITY_LOOKUP = {
  call: 'GET /identityGovernance/privilegedAccess/group/eligibilityScheduleInstances (principalId filter)',
  sets: [['PrivilegedEligibilitySchedule.Read.AzureADGroup'], ['PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup']] as readonly PermissionSet[],
  source: 'https://learn.microsoft.com/graph/api/privilegedaccessgroup-list-eligibilityscheduleinstances#permissions',
};

/**
 * The fourth lookup of the check (src/graph/role-grants.ts, standing owners of role-assignable
 * groups): `GET /groups?$filter=isAssignableToRole eq true&$expand=owners` and, for a group listing
 * 20 owners, `GET /groups/{id}/owners`. `/users/{id}/ownedObjects` lists no application permission,
 * hence the group list. group-list and group-list-owners share GroupMember.Read.All, Group.Read.All,
 * Group.ReadWrite.All and Directory.Read.All, application and delegated alike
 * (docs/graph-facts.md#writes-and-permissions, "Owners of a role-assignable group").
 */
export const GROUP_OWNERSHIP_LOOKUP = {
  call: 'GET /groups?$filter=isAssignableToRole eq true&$expand=owners and GET /groups/{id}/owners',
  sets: [['GroupMember.Read.All'], ['Group.Read.All'], ['Group.ReadWrite.All'], ['Directory.Read.All']] as readonly PermissionSet[],
  source: 'https://learn.microsoft.com/graph/api/group-list#permissions',
};

/**
 * One line: whether Graph will answer the gateway's administrator-target lookup with this token, for
 * the callers that need it. Without a permission on the page's list, every takeover-class mutation
 * of a caller without Users.ManageAdmins fails closed with ADMINISTRATOR_CHECK_FAILED.
 */
export function administratorTargetCheck(config: Config, availability: readonly FeatureAvailability[], kind: GrantKind, granted: ReadonlySet<string>): Check[] {
  const enabled = availability.filter((a) => a.state === 'enabled' && TAKEOVER_FEATURES.has(a.feature.id)).map((a) => a.feature);
  if (enabled.length === 0) return [];
  const id = 'administrator-targets';
  const identity =
    kind === 'application'
      ? "the gateway's app (application permission)"
      : "the signed-in user's token (delegated permission; under on-behalf-of, each caller's)";
  if (config.callerAuth.mode === 'api-key') {
    const needing = config.callerAuth.keys.filter(
      (k) => !k.permissions.has(Permission.UsersManageAdmins) && enabled.some((f) => k.permissions.has(f.callerPermission)),
    );
    if (needing.length === 0)
      return [
        {
          id,
          status: 'ok',
          message: `administrator targets: every key that may call ${enabled.map((f) => f.id).join(', ')} holds ${Permission.UsersManageAdmins}: no role lookup is sent`,
        },
      ];
  }
  return [
    activeRoleLine(id, identity, enabled, kind, granted),
    roleGrantsLine(identity, enabled, kind, granted),
    groupEligibilityLine(identity, enabled, kind, granted),
    groupOwnershipLine(identity, enabled, kind, granted),
  ];
}

function activeRoleLine(id: string, identity: string, enabled: readonly { id: string }[], kind: GrantKind, granted: ReadonlySet<string>): Check {
  const held = satisfyingSet(ADMINISTRATOR_LOOKUP.sets, granted);
  if (held) {
    return {
      id,
      status: 'ok',
      message: `administrator targets: ${ADMINISTRATOR_LOOKUP.call} is answered with ${held.join(' + ')} of ${identity}, so callers without ${Permission.UsersManageAdmins} are checked (roles Graph lists with limited information count too)`,
    };
  }
  const grant = grantAdvice(leastToGrant(ADMINISTRATOR_LOOKUP.sets, granted), kind);
  return {
    id,
    status: 'missing',
    message: `administrator targets: ${ADMINISTRATOR_LOOKUP.call} needs ${grantText(grant)} for ${identity} (${ADMINISTRATOR_LOOKUP.source}); without it ${enabled.map((f) => f.id).join(', ')} fail closed with ADMINISTRATOR_CHECK_FAILED for every caller without ${Permission.UsersManageAdmins}`,
    grant,
  };
}

/** Eligible (PIM) and administrative-unit administrators: the second lookup's permission. */
function roleGrantsLine(identity: string, enabled: readonly { id: string }[], kind: GrantKind, granted: ReadonlySet<string>): Check {
  const id = 'administrator-targets-eligible';
  const delegatedNote =
    kind === 'delegated' ? '; each signed-in caller also needs a role that reads them (Global Reader or Privileged Role Administrator, for instance)' : '';
  const held = satisfyingSet(ROLE_GRANTS_LOOKUP.sets, granted);
  if (held) {
    return {
      id,
      status: 'ok',
      message: `administrator targets (eligible and administrative-unit roles): ${ROLE_GRANTS_LOOKUP.call} are answered with ${held.join(' + ')} of ${identity}${delegatedNote}`,
    };
  }
  const grant = grantAdvice(leastToGrant(ROLE_GRANTS_LOOKUP.sets, granted), kind);
  return {
    id,
    status: 'missing',
    message: `administrator targets (eligible and administrative-unit roles): ${ROLE_GRANTS_LOOKUP.call} need ${grantText(grant)} for ${identity} (${ROLE_GRANTS_LOOKUP.source})${delegatedNote}; without it ${enabled.map((f) => f.id).join(', ')} fail closed with ADMINISTRATOR_CHECK_FAILED for every caller without ${Permission.UsersManageAdmins}`,
    grant,
  };
}

/** Roles held through a group the target is PIM-eligible for: the third lookup's permission. */
function groupEligibilityLine(identity: string, enabled: readonly { id: string }[], kind: GrantKind, granted: ReadonlySet<string>): Check {
  const id = 'administrator-targets-group-eligible';
  const delegatedNote = kind === 'delegated' ? '; each signed-in caller also needs Global Reader or Privileged Role Administrator' : '';
  const held = satisfyingSet(GROUP_ELIGIBILITY_LOOKUP.sets, granted);
  if (held) {
    return {
      id,
      status: 'ok',
      message: `administrator targets (roles through groups eligible in PIM for Groups): ${GROUP_ELIGIBILITY_LOOKUP.call} is answered with ${held.join(' + ')} of ${identity}${delegatedNote}`,
    };
  }
  const grant = grantAdvice(leastToGrant(GROUP_ELIGIBILITY_LOOKUP.sets, granted), kind);
  return {
    id,
    status: 'missing',
    message: `administrator targets (roles through groups eligible in PIM for Groups): ${GROUP_ELIGIBILITY_LOOKUP.call} needs ${grantText(grant)} for ${identity} (${GROUP_ELIGIBILITY_LOOKUP.source})${delegatedNote}; without it ${enabled.map((f) => f.id).join(', ')} fail closed with ADMINISTRATOR_CHECK_FAILED for every caller without ${Permission.UsersManageAdmins}`,
    grant,
  };
}

/** Roles held through a role-assignable group the target owns: the fourth lookup's permission. */
function groupOwnershipLine(identity: string, enabled: readonly { id: string }[], kind: GrantKind, granted: ReadonlySet<string>): Check {
  const id = 'administrator-targets-group-owners';
  const held = satisfyingSet(GROUP_OWNERSHIP_LOOKUP.sets, granted);
  if (held) {
    return {
      id,
      status: 'ok',
      message: `administrator targets (owners of role-assignable groups): ${GROUP_OWNERSHIP_LOOKUP.call} are answered with ${held.join(' + ')} of ${identity}`,
    };
  }
  const grant = grantAdvice(leastToGrant(GROUP_OWNERSHIP_LOOKUP.sets, granted), kind);
  return {
    id,
    status: 'missing',
    message: `administrator targets (owners of role-assignable groups): ${GROUP_OWNERSHIP_LOOKUP.call} need ${grantText(grant)} for ${identity} (${GROUP_OWNERSHIP_LOOKUP.source}); without it ${enabled.map((f) => f.id).join(', ')} fail closed with ADMINISTRATOR_CHECK_FAILED for every caller without ${Permission.UsersManageAdmins}`,
    grant,
  };
}
