/**
 * Directory role reads, as documented (docs/graph-facts.md#writes-and-permissions):
 * - `GET /roleManagement/directory/roleAssignments` with `$filter` on `principalId` or
 *   `roleDefinitionId` (`eq`) and `$expand=roleDefinition`: the role assignments of service
 *   principals (the app's `directoryRoles`) and users (their roles) at tenant scope `/`, and users'
 *   assignments scoped to an administrative unit (`/administrativeUnits/{id}`); `$select` honoured.
 *   Needs RoleManagement.Read.Directory (or a documented higher permission); delegated callers
 *   must also hold a role that reads role assignments.
 * - `GET /me/transitiveMemberOf/microsoft.graph.directoryRole` (and `/users/{id}/...`): the
 *   activated directory roles of a user. An OData cast is an advanced query: it needs
 *   `ConsistencyLevel: eventual` and `$count=true`. A caller that reaches the call (User.Read.All)
 *   but does not read directory roles gets them with limited information, as from memberOf.
 *   Paged over the user's memberships (`$top`, 100 by default), the cast applied to each page, so
 *   a page may hold no role and have a nextLink.
 */
import { createHash } from 'node:crypto';
import { digestGuid } from '../digest-guid.js';
import type { EmuResponse } from '../http.js';
import type { RoleGrantRecord, UserRecord } from '../model.js';
import { canReadType, type Principal } from './authorization.js';
import { isEventual, metadataUrl, ok, queryParam, type GraphCall } from './call.js';
import { badRequest, forbidden, unknownProperty, unsupportedQuery } from './errors.js';
import { DEFAULT_PAGE_SIZE, decodeSkipToken, encodeSkipToken, expiredPageToken, linkWith, parseTop, project, projectLimited } from './query.js';

/** Built-in role names the emulator tenant uses, with Entra's tenant-independent template ids. */
export const BUILT_IN_ROLES: Readonly<Record<string, { templateId: string; description: string }>> = {
  'Global Administrator': {
    templateId: '62e90394-69f5-4237-9190-012177145e10',
    description: 'Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.',
  },
  'Privileged Authentication Administrator': {
    templateId: '7be44c8a-adaf-4e2a-84d6-ab2649e08a13',
    description: 'Can access to view, set and reset authentication method information for any user (admin or non-admin).',
  },
  'User Administrator': {
    templateId: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
    description: 'Can manage all aspects of users and groups, including resetting passwords for limited admins.',
  },
  'Helpdesk Administrator': {
    templateId: '729827e3-9c14-49f7-bb1b-9608f156bbb8',
    description: 'Can reset passwords for non-administrators and Helpdesk Administrators.',
  },
  'Authentication Administrator': {
    templateId: 'c4e39bd9-1100-46d3-8c65-fb160da0071f',
    description: 'Can access to view, set and reset authentication method information for any non-admin user.',
  },
  'Password Administrator': {
    templateId: '966707d0-3269-4727-9be2-8c3a10f19b9d',
    description: 'Can reset passwords for non-administrators and Password Administrators.',
  },
  'Privileged Role Administrator': {
    templateId: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
    description: 'Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.',
  },
  'Global Reader': {
    templateId: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
    description: 'Can read everything that a Global Administrator can, but not update anything.',
  },
  'Directory Readers': {
    templateId: '88d8e3e3-8f55-4a1e-953a-9b9898b8876b',
    description: 'Can read basic directory information. Commonly used to grant directory read access to applications and guests.',
  },
  'Groups Administrator': {
    templateId: 'fdd7a751-b60b-444a-984c-02652fe8fa1c',
    description:
      'Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.',
  },
  'Guest Inviter': {
    templateId: '95e79109-95c0-4d8e-aee3-d01accf2d47b',
    description: "Can invite guest users independent of the 'members can invite guests' setting.",
  },
  'Message Center Reader': {
    templateId: '790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b',
    description: 'Can read messages and updates for their organization in Office 365 Message Center only.',
  },
  'Reports Reader': { templateId: '4a5d8f65-41da-4de4-8968-e035b65339cf', description: 'Can read sign-in and audit reports.' },
  'Usage Summary Reports Reader': {
    templateId: '75934031-6c7e-415a-99d7-48dbd49e875e',
    description: "Read Usage reports and Adoption Score, but can't access user details.",
  },
};

const ROLE_ASSIGNMENT_READERS = [
  'RoleManagement.Read.Directory',
  'RoleManagement.Read.All',
  'Directory.Read.All',
  'RoleManagement.ReadWrite.Directory',
  'Directory.ReadWrite.All',
];
/** Least privileged roles that may read role assignments in delegated calls, plus Global Administrator above them. */
const ROLE_ASSIGNMENT_READER_ROLES = ['Directory Readers', 'Global Reader', 'Privileged Role Administrator', 'Global Administrator'];

export const MEMBERSHIP_READERS_APP = ['User.Read.All', 'GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];

interface RoleAssignment {
  id: string;
  principalId: string;
  roleDefinitionId: string;
  directoryScopeId: string;
}

function roleDefinition(name: string): Record<string, unknown> | undefined {
  const role = BUILT_IN_ROLES[name];
  if (!role) return undefined;
  // Built-in role definitions have the template id as their id.
  return { id: role.templateId, templateId: role.templateId, displayName: name, description: role.description, isBuiltIn: true, isEnabled: true };
}

function assignmentId(principalId: string, templateId: string): string {
  return createHash('sha256').update(`${templateId}:${principalId}`).digest('base64url').slice(0, 43);
}

function allAssignments(call: GraphCall): RoleAssignment[] {
  const out: RoleAssignment[] = [];
  const add = (principalId: string, roles: readonly string[]) => {
    for (const name of roles) {
      const role = BUILT_IN_ROLES[name];
      if (role) out.push({ id: assignmentId(principalId, role.templateId), principalId, roleDefinitionId: role.templateId, directoryScopeId: '/' });
    }
  };
  for (const app of call.ctx.tenant.apps.values()) add(app.servicePrincipalId, app.directoryRoles);
  for (const user of call.ctx.tenant.users.values()) {
    add(user.id, user._directoryRoles);
    // Assignments scoped to an administrative unit: listed here with their scope, not in memberOf.
    addScoped(out, user.id, user._scopedRoles);
  }
  // A role-assignable group's own assignments name the group as principal, never its members
  // (docs/graph-facts.md#writes-and-permissions, "Roles held through a group").
  for (const group of call.ctx.tenant.groups.values()) addScoped(out, group.id, group._scopedRoles);
  return out;
}

function addScoped(out: RoleAssignment[], principalId: string, grants: readonly RoleGrantRecord[] | undefined): void {
  for (const grant of grants ?? []) {
    const role = BUILT_IN_ROLES[grant.role];
    if (role) {
      out.push({
        id: assignmentId(`${principalId}:${grant.directoryScopeId}`, role.templateId),
        principalId,
        roleDefinitionId: role.templateId,
        directoryScopeId: grant.directoryScopeId,
      });
    }
  }
}

/**
 * Server-side pages of a role-management list. None of these pages documents `$top` or a page size,
 * and the paging page says a page may hold zero items and still have a nextLink
 * (docs/graph-facts.md#paging): the emulator takes the stricter reading, paging the whole collection
 * by ROLE_LIST_PAGE_SIZE and applying `$filter` to each page, so a filtered list may answer empty
 * pages before the one holding its item. `entries` holds every item in order, `null` where the
 * filter left one out.
 */
export const ROLE_LIST_PAGE_SIZE = 100;

export function roleListPage(call: GraphCall, entries: ReadonlyArray<Record<string, unknown> | null>): { value: Record<string, unknown>[]; nextLink?: string } {
  return offsetPage(call, entries, ROLE_LIST_PAGE_SIZE);
}

/**
 * The page of `entries` (every item in order, `null` where the cast or the filter left one out) that
 * the request's `$skiptoken` points at, `size` entries long, and the nextLink to the next one: a page
 * may be empty and still have a nextLink.
 */
export function offsetPage(
  call: GraphCall,
  entries: ReadonlyArray<Record<string, unknown> | null>,
  size: number,
): { value: Record<string, unknown>[]; nextLink?: string } {
  const start = pageOffset(call);
  const value = entries.slice(start, start + size).filter((e): e is Record<string, unknown> => e !== null);
  const end = start + size;
  return end < entries.length ? { value, nextLink: linkWith(call, '$skiptoken', encodeSkipToken({ o: end })) } : { value };
}

/**
 * The answer of an OData cast on a user's transitiveMemberOf: paged by `$top` over every membership
 * (`memberships`, `null` for what the cast leaves out), with `$count=true` the count of the cast's
 * items on the first page only.
 */
export function castAnswer(call: GraphCall, context: string, memberships: ReadonlyArray<Record<string, unknown> | null>, count: number): EmuResponse {
  const { value, nextLink } = offsetPage(call, memberships, parseTop(call) ?? DEFAULT_PAGE_SIZE);
  const body: Record<string, unknown> = { '@odata.context': metadataUrl(call, context) };
  if (queryParam(call, '$skiptoken') === undefined) body['@odata.count'] = count;
  body.value = value;
  if (nextLink) body['@odata.nextLink'] = nextLink;
  return ok(200, body);
}

/**
 * Who may list a user's memberships through an OData cast on transitiveMemberOf (the signed-in user
 * their own with User.Read, else MEMBERSHIP_READERS_APP), asked as an advanced query
 * (`ConsistencyLevel: eventual` and `$count=true`, docs/graph-facts.md#listing-users); throws Graph's refusal.
 */
export function assertCastAllowed(call: GraphCall, user: UserRecord): void {
  const principal = call.principal;
  const readsSelf = principal.kind === 'user' && principal.objectId === user.id && principal.permissions.has('User.Read');
  if (!readsSelf && !MEMBERSHIP_READERS_APP.some((p) => principal.permissions.has(p))) throw forbidden();
  if (!isEventual(call) || (queryParam(call, '$count') ?? '').toLowerCase() !== 'true') {
    throw badRequest('An OData cast on transitiveMemberOf is an advanced query: send the ConsistencyLevel: eventual header and $count=true.');
  }
}

/**
 * The user's group memberships as the index behind advanced queries holds them: without the ones made
 * within GraphSettings.advancedQueryIndexLagSeconds (UserRecord._joinedAtMs). The casts on
 * transitiveMemberOf are advanced queries, "served from an index that might not be up-to-date with
 * recent changes" (docs/graph-facts.md#writes-and-permissions, "Recent memberships").
 */
export function indexedMemberships(call: GraphCall, user: UserRecord): string[] {
  return indexed(call, user, user.memberOf, (id) => id);
}

/** The user's activated directory roles as that index holds them (a role granted within the lag: `role:{name}` in `_joinedAtMs`). */
function indexedRoles(call: GraphCall, user: UserRecord): string[] {
  return indexed(call, user, user._directoryRoles, (name) => `role:${name}`);
}

function indexed(call: GraphCall, user: UserRecord, items: string[], key: (item: string) => string): string[] {
  const lagMs = isEventual(call) ? call.ctx.graph.advancedQueryIndexLagSeconds * 1000 : 0;
  if (lagMs === 0 || !user._joinedAtMs) return items;
  const asOfMs = call.ctx.now() - lagMs;
  return items.filter((item) => (user._joinedAtMs![key(item)] ?? Number.NEGATIVE_INFINITY) <= asOfMs);
}

/** Where a page of these lists starts: 0, or the offset its `$skiptoken` carries (a bad one is Graph's expired-token 400). */
export function pageOffset(call: GraphCall): number {
  const skipToken = queryParam(call, '$skiptoken');
  if (skipToken === undefined) return 0;
  const decoded = decodeSkipToken(skipToken) as { o?: unknown };
  if (typeof decoded?.o !== 'number' || !Number.isInteger(decoded.o) || decoded.o < 0) throw expiredPageToken();
  return decoded.o;
}

/**
 * Whether `principal` may read a role-management list: one of `permissions`, and, delegated, one of
 * `roles` too (the signed-in user's own rights: docs/graph-facts.md#delegated-permissions).
 */
export function mayReadRoleList(principal: Principal, permissions: readonly string[], roles: readonly string[]): boolean {
  if (!permissions.some((p) => principal.permissions.has(p))) return false;
  if (principal.kind === 'app') return true;
  return principal.directoryRoles.some((r) => roles.includes(r));
}

/**
 * `$filter` on a role-management collection: one `<property> eq '<value>'` on one of `filterable`
 * (case-insensitive, as Graph compares ids); anything else is refused, the stricter reading.
 * Absent: `undefined` (every item).
 */
export function roleObjectEqFilter(raw: string | undefined, filterable: readonly string[], type: string): ((item: object) => boolean) | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const m = /^\s*([A-Za-z]+)\s+eq\s+'((?:[^']|'')*)'\s*$/.exec(raw);
  const property = m ? filterable.find((p) => p.toLowerCase() === m[1]!.toLowerCase()) : undefined;
  if (!m || !property) throw unsupportedQuery(`Unsupported or invalid filter '${raw}' on ${type}: use ${filterable.join(', ')} with eq.`);
  const value = m[2]!.replace(/''/g, "'").toLowerCase();
  return (item) => String((item as Record<string, unknown>)[property] ?? '').toLowerCase() === value;
}

export function listRoleAssignments(call: GraphCall): EmuResponse {
  if (!mayReadRoleList(call.principal, ROLE_ASSIGNMENT_READERS, ROLE_ASSIGNMENT_READER_ROLES)) throw forbidden();
  const filter = roleObjectEqFilter(queryParam(call, '$filter'), ['principalId', 'roleDefinitionId', 'directoryScopeId'], 'unifiedRoleAssignment');
  const expandRaw = (queryParam(call, '$expand') ?? '').trim();
  if (expandRaw !== '' && expandRaw.toLowerCase() !== 'roledefinition') {
    throw badRequest(`Expanding '${expandRaw}' is not supported here: only roleDefinition can be expanded on unifiedRoleAssignment.`);
  }
  const select = roleObjectSelect(queryParam(call, '$select'), ROLE_ASSIGNMENT_PROPERTIES, 'microsoft.graph.unifiedRoleAssignment');
  const rolesByTemplate = new Map(Object.entries(BUILT_IN_ROLES).map(([name, role]) => [role.templateId, name]));
  const entries = allAssignments(call).map((a) => {
    if (filter && !filter(a)) return null;
    const full: Record<string, unknown> = { ...a, appScopeId: null, resourceScope: a.directoryScopeId };
    const item: Record<string, unknown> = select ? project(full, select) : full;
    if (expandRaw !== '') item.roleDefinition = roleDefinition(rolesByTemplate.get(a.roleDefinitionId) ?? '') ?? null;
    return item;
  });
  const { value, nextLink } = roleListPage(call, entries);
  return ok(200, {
    '@odata.context': metadataUrl(call, `roleManagement/directory/roleAssignments${expandRaw ? '(roleDefinition())' : ''}`),
    value,
    ...(nextLink ? { '@odata.nextLink': nextLink } : {}),
  });
}

/** unifiedRoleAssignment's properties (resources/unifiedroleassignment), with the deprecated resourceScope. */
const ROLE_ASSIGNMENT_PROPERTIES = ['id', 'appScopeId', 'directoryScopeId', 'principalId', 'roleDefinitionId', 'resourceScope'];

/**
 * `$select` on a role-management collection: the type's own properties, in the canonical spelling;
 * another name is a 400 as on any type. Absent: `undefined` (every property).
 */
export function roleObjectSelect(raw: string | undefined, properties: readonly string[], type: string): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const out: string[] = [];
  for (const name of raw
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean)) {
    const canonical = properties.find((p) => p.toLowerCase() === name.toLowerCase());
    if (!canonical) throw unknownProperty(name, type);
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out;
}

/** A directoryRole object: the tenant's activated instance of a role template (its id differs per tenant). */
export function directoryRole(call: GraphCall, name: string): Record<string, unknown> | undefined {
  const role = BUILT_IN_ROLES[name];
  if (!role) return undefined;
  const id = digestGuid(`${call.ctx.tenant.tenantId}:${role.templateId}`, 'a');
  return {
    '@odata.type': '#microsoft.graph.directoryRole',
    id,
    deletedDateTime: null,
    description: role.description,
    displayName: name,
    roleTemplateId: role.templateId,
  };
}

const DIRECTORY_ROLE_TYPE = '#microsoft.graph.directoryRole';
/** The directoryRole resource's properties (resources/directoryrole, with deletedDateTime from directoryObject). */
const DIRECTORY_ROLE_PROPERTIES = ['id', 'deletedDateTime', 'description', 'displayName', 'roleTemplateId'];

/** `$select` after a cast to directoryRole names that type's properties; another is a 400 as on any type. */
function directoryRoleSelect(raw: string | undefined): string[] {
  return roleObjectSelect(raw, DIRECTORY_ROLE_PROPERTIES, 'microsoft.graph.directoryRole') ?? DIRECTORY_ROLE_PROPERTIES;
}

export function listTransitiveDirectoryRoles(call: GraphCall, user: UserRecord): EmuResponse {
  assertCastAllowed(call, user);
  const principal = call.principal;
  // The items as memberOf shows them to this caller: in full only for a caller that reads directory
  // roles (canReadType: Directory.Read.All or higher, the narrower reading), otherwise type and id with
  // every other selected property null (docs/graph-facts.md#writes-and-permissions, "Another user's directory roles").
  const select = directoryRoleSelect(queryParam(call, '$select'));
  const full = canReadType(principal, 'directoryRole');
  const roles = indexedRoles(call, user)
    .map((name) => directoryRole(call, name))
    .filter((r): r is Record<string, unknown> => r !== undefined)
    .map((role) => (full ? project(role, select, DIRECTORY_ROLE_TYPE) : projectLimited(role, select, DIRECTORY_ROLE_TYPE)));
  // The cast is applied to each page of the user's memberships, groups first: a user in more groups
  // than a page holds gets pages without a role (or with none at all) before the page that has one,
  // each with a nextLink (docs/graph-facts.md#paging: a page may hold zero results).
  const groups = indexedMemberships(call, user).filter((id) => call.ctx.tenant.groups.has(id)).length;
  const memberships: Array<Record<string, unknown> | null> = [...Array<null>(groups).fill(null), ...roles];
  return castAnswer(call, 'directoryRoles', memberships, roles.length);
}
