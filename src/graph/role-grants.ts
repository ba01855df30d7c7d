import { badInput, ErrorCode, GatewayError } from '../errors.js';
import { isGuid } from '../guid.js';
import { graphPaths } from './paths.js';
import { MAX_PAGE_SIZE } from './requests.js';
import type { GraphRequest } from './types.js';

/**
 * A user's role grants that `transitiveMemberOf/microsoft.graph.directoryRole` does not list
 * (docs/graph-facts.md#writes-and-permissions, "Eligible and administrative-unit roles" and "Roles
 * held through a group"):
 * - roles the user is only eligible for through PIM: `GET /roleManagement/directory/roleEligibilityScheduleInstances`;
 * - active role assignments at any scope, administrative units and custom roles included:
 *   `GET /roleManagement/directory/roleAssignments`.
 * Both filtered on `principalId eq '{object id}'`, so both list what the principal holds itself: an
 * eligibility or assignment held by a role-assignable group names the group, not its members. So the
 * groups through which the user may hold a role are found as well, and their ids asked as principals:
 * - the role-assignable groups the user is a member of: the ids `POST /users/{id}/getMemberObjects`
 *   lists (every membership, transitively) that are among the tenant's role-assignable groups (the
 *   list below). Not the cast `transitiveMemberOf/microsoft.graph.group?$filter=isAssignableToRole eq true`:
 *   that is an advanced query, answered from an index that may not hold a membership made moments ago,
 *   so a user just added to a group holding Global Administrator read as ordinary
 *   (docs/graph-facts.md#writes-and-permissions, "Recent memberships"). Only a role-assignable group
 *   can hold a role, and it cannot have groups as members, so its members are users;
 * - the role-assignable groups the user is a standing owner of: an owner manages the membership and
 *   can add themselves (groups-concept). `/users/{id}/ownedObjects` lists no application permission,
 *   so the tenant's role-assignable groups are listed with their owners:
 *   `GET /groups?$filter=isAssignableToRole eq true&$select=id&$expand=owners($select=id)` (a default
 *   query: `$expand` is not taken with advanced ones; at most 500 such groups per tenant). An expanded
 *   relationship holds at most 20 objects, so a group listing 20 owners without the user has its
 *   whole owners list read (`GET /groups/{id}/owners`) before it is ruled out;
 * - the groups the user is eligible for, as member or owner, through PIM for Groups:
 *   `GET /identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter=principalId eq '{id}'`
 *   (an eligible member activates membership; an eligible owner activates ownership and manages the members).
 * Permissions: RoleManagement.Read.Directory answers both role lists (Directory.Read.All only the
 * assignments); User.Read.All the memberships (getMemberObjects, "Memberships for a user"), as for
 * the directoryRole cast;
 * PrivilegedEligibilitySchedule.Read.AzureADGroup the PIM for Groups eligibilities; GroupMember.Read.All
 * the groups and their owners.
 */

/** One grant as the gateway reads it: who holds it, the role and where it applies. */
export interface RoleGrant {
  /** The user, or a group through which the user holds it. */
  principalId: string;
  roleDefinitionId: string;
  /** `/` for the tenant, `/administrativeUnits/{id}` for a unit, or another object's id. */
  directoryScopeId: string;
}

export interface RoleGrants {
  /** PIM eligibilities (not activated), the user's own and its groups'. Read until one is found. */
  eligible: RoleGrant[];
  /** Active assignments, any scope, the user's own and its groups'. Read until one is found. */
  assigned: RoleGrant[];
  /**
   * Activated directory roles the transitiveMemberOf cast listed (any item counts, also one with
   * limited information), asked in the same `$batch`. Read until one is found.
   */
  activeRoles: number;
}

/** Which of the lookups Graph did not answer: each needs its own permission. */
export type RoleGrantLookup = 'directoryRoles' | 'roleGrants' | 'groupMemberships' | 'groupOwnerships' | 'groupEligibilities' | 'groupsUnchecked';

/** A lookup Graph did not answer (its error), or groups the check does not read through (`groupsUnchecked`: past MAX_GROUP_PRINCIPALS, or one without an id). */
export class RoleGrantLookupFailure extends Error {
  constructor(
    readonly lookup: RoleGrantLookup,
    readonly error: unknown,
  ) {
    super(`role grant lookup ${lookup} failed`);
  }
}

/** The least permission that answers both role lists, for messages and the doctor. */
export const ROLE_GRANTS_PERMISSION = 'RoleManagement.Read.Directory';
/** The least permission that lists PIM for Groups eligibilities. */
export const GROUP_ELIGIBILITY_PERMISSION = 'PrivilegedEligibilitySchedule.Read.AzureADGroup';
/** The least permission that lists another user's memberships (the directoryRole cast's too). */
export const GROUP_MEMBERSHIP_PERMISSION = 'User.Read.All';

/** The least permission that lists the tenant's groups and a group's owners (group-list, group-list-owners). */
export const GROUP_OWNERSHIP_PERMISSION = 'GroupMember.Read.All';

/**
 * Most objects Graph puts in an expanded relationship of a directory object (known issue 13635), with
 * no nextLink: a group listing that many owners may have more.
 */
export const EXPANDED_RELATIONSHIP_CAP = 20;

/**
 * Most groups whose grants one check asks (two requests each, one `$batch` envelope of 20 items per
 * ten groups). Past it the check fails closed: a user in or eligible for that many role-capable groups
 * is handled by a caller holding Users.ManageAdmins.
 */
export const MAX_GROUP_PRINCIPALS = 20;

const SELECT = 'id,principalId,roleDefinitionId,directoryScopeId';

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

/**
 * The ids of every group, administrative unit and directory role the user is a member of, directly or
 * transitively: a function Graph answers from the directory, not from the index behind advanced
 * queries, so a membership made a moment ago is listed. A POST that only reads (effect `read`).
 */
export function memberObjectsRequest(userId: string): GraphRequest {
  if (!isGuid(userId)) throw badInput('A role lookup needs the object id of the user.');
  return { method: 'POST', path: graphPaths.userMemberObjects(userId.toLowerCase()), body: { securityEnabledOnly: false }, effect: 'read' };
}

/**
 * The user's role-assignable groups: the ids getMemberObjects listed (`memberObjects`) that the
 * tenant's list of role-assignable groups holds, as `{id}` items. A value that is not a string is an
 * answer the check cannot read: it fails closed.
 */
export function roleAssignableMemberships(
  memberObjects: readonly unknown[],
  roleAssignableGroups: readonly Record<string, unknown>[],
): Record<string, unknown>[] {
  const assignable = new Set(roleAssignableGroups.flatMap((g) => (typeof g.id === 'string' ? [g.id.toLowerCase()] : [])));
  const found: Record<string, unknown>[] = [];
  for (const id of memberObjects) {
    if (typeof id !== 'string') {
      throw new RoleGrantLookupFailure(
        'groupMemberships',
        new GatewayError(ErrorCode.UPSTREAM_ERROR, "Microsoft Graph sent an unexpected response: a user's memberships listed a value that is not an id."),
      );
    }
    if (assignable.has(id.toLowerCase())) found.push({ id: id.toLowerCase() });
  }
  return found;
}

/**
 * The tenant's role-assignable groups, each with its owners (a default query: `isAssignableToRole eq`
 * needs no advanced parameters, and `$expand` is not supported with them).
 */
export function roleAssignableGroupOwnersRequest(): GraphRequest {
  return {
    method: 'GET',
    path: graphPaths.groups(),
    query: { $filter: 'isAssignableToRole eq true', $select: 'id', $expand: 'owners($select=id)', $top: String(MAX_PAGE_SIZE) },
  };
}

/** One group's whole owners list (at most 100 owners, more than an expanded relationship holds). */
export function groupOwnersRequest(groupId: string): GraphRequest {
  if (!isGuid(groupId)) throw badInput('A role lookup needs the object id of a group.');
  return { method: 'GET', path: graphPaths.groupOwners(groupId.toLowerCase()), query: { $select: 'id', $top: String(MAX_PAGE_SIZE) } };
}

/**
 * From the role-assignable groups and their expanded owners: the groups `userId` owns, and the ones
 * whose owners list may have been cut short (EXPANDED_RELATIONSHIP_CAP listed, the user not among
 * them, or no owners list at all), whose whole list must be read before they are ruled out. A group
 * without a usable id is one the check cannot ask about: it fails closed.
 */
export function ownedGroups(groups: readonly Record<string, unknown>[], userId: string): { owned: string[]; unsure: string[] } {
  const user = userId.toLowerCase();
  const owned: string[] = [];
  const unsure: string[] = [];
  for (const group of groups) {
    if (typeof group.id !== 'string' || !isGuid(group.id)) throw new RoleGrantLookupFailure('groupsUnchecked', undefined);
    const owners = group.owners;
    if (!Array.isArray(owners)) unsure.push(group.id.toLowerCase());
    else if (ownerIds(owners).includes(user)) owned.push(group.id.toLowerCase());
    else if (owners.length >= EXPANDED_RELATIONSHIP_CAP) unsure.push(group.id.toLowerCase());
  }
  return { owned, unsure };
}

/** The object ids of an owners list (lower case); an item without one is no owner the check can match. */
export function ownerIds(owners: readonly unknown[]): string[] {
  return owners.flatMap((o) => (o && typeof o === 'object' && typeof (o as { id?: unknown }).id === 'string' ? [(o as { id: string }).id.toLowerCase()] : []));
}

/** The user's PIM for Groups eligibilities (membership and ownership). */
export function groupEligibilityRequest(userId: string): GraphRequest {
  return { method: 'GET', path: graphPaths.groupEligibilityInstances(), query: { $filter: byPrincipal(userId), $select: 'id,groupId,accessId' } };
}

export function grantsOf(items: readonly Record<string, unknown>[], principalId: string): RoleGrant[] {
  return items.map((item) => ({
    principalId: typeof item.principalId === 'string' ? item.principalId : principalId,
    roleDefinitionId: typeof item.roleDefinitionId === 'string' ? item.roleDefinitionId : '',
    directoryScopeId: typeof item.directoryScopeId === 'string' ? item.directoryScopeId : '',
  }));
}

/**
 * The group ids to ask as principals: every role-assignable group the user is a member of
 * (roleAssignableMemberships; an item that says `isAssignableToRole: false` is left out), every role-assignable group
 * the user owns, and every group of a PIM for Groups eligibility. An item without a usable id is a
 * group the check cannot ask about: it fails closed, as do more than MAX_GROUP_PRINCIPALS groups.
 */
export function groupPrincipals(
  memberships: readonly Record<string, unknown>[],
  eligibilities: readonly Record<string, unknown>[],
  owned: readonly string[] = [],
): string[] {
  const ids = new Set<string>();
  const add = (id: unknown) => {
    if (typeof id !== 'string' || !isGuid(id)) throw new RoleGrantLookupFailure('groupsUnchecked', undefined);
    ids.add(id.toLowerCase());
  };
  for (const group of memberships) if (group.isAssignableToRole !== false) add(group.id);
  for (const id of owned) add(id);
  for (const eligibility of eligibilities) add(eligibility.groupId);
  if (ids.size > MAX_GROUP_PRINCIPALS) throw new RoleGrantLookupFailure('groupsUnchecked', undefined);
  return [...ids];
}
