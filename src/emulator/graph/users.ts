/**
 * `/users` and `/users/{id}`: list, count, get, create, update, delete, revokeSignInSessions.
 * Writes validate like Graph (property names, types, password complexity, uniqueness), check
 * permissions per property, and append to the delta change log.
 */
import { randomUUID } from 'node:crypto';
import type { EmuResponse } from '../http.js';
import type { ContactRecord, GroupRecord, UserRecord } from '../model.js';
import { keepPreviousUpn, newUserRecord } from '../user-record.js';
import { findUserByUpn } from './addressing.js';
import { canReadType, requireAsUserForAdminTarget, requireAuthorityOver, requireCapability, type Capability, type Principal } from './authorization.js';
import { isContact, renderContact } from './contacts.js';
import { metadataUrl, noContent, ok, queryParam, readJsonObject, type GraphCall } from './call.js';
import { groupEntity, userEntity, userToGraph, type EntityType } from './entities.js';
import { directoryRole } from './directory-roles.js';
import { type GraphError, badRequest } from './errors.js';
import { assertPasswordComplexity } from './password-policy.js';
import { countCollection, listCollection, parseExpand, parseSelect, project, projectLimited, type CollectionOptions, type ExpandSpec } from './query.js';
import { recordChange } from './state.js';

const AGENT_USER_TYPE = '#microsoft.graph.agentUser';

/** Expanded collections hold at most 20 items and never a nextLink (docs/graph-facts.md#listing-users). */
const EXPANDED_COLLECTION_LIMIT = 20;
const USER_EXPANDABLE = ['manager', 'directReports', 'memberOf'] as const;

export function sortedUsers(call: GraphCall): UserRecord[] {
  return [...call.ctx.tenant.users.values()];
}

/** The users and organizational contacts whose manager is `user` (user-list-directreports). */
export function directReportsOf(call: GraphCall, user: UserRecord): Array<UserRecord | ContactRecord> {
  const tenant = call.ctx.tenant;
  const users: Array<UserRecord | ContactRecord> = [...tenant.users.values()].filter((u) => u.managerId === user.id);
  for (const c of tenant.contacts.values()) if (c.managerId === user.id) users.push(c);
  return users;
}

/** The user or organizational contact assigned as `user`'s manager (user-list-manager). */
export function managerOf(call: GraphCall, user: UserRecord): UserRecord | ContactRecord | undefined {
  if (!user.managerId) return undefined;
  return call.ctx.tenant.users.get(user.managerId) ?? call.ctx.tenant.contacts.get(user.managerId);
}

/** A user or a contact as an item of a directoryObject relationship, typed by `@odata.type`. */
export function directoryObjectItem(call: GraphCall, record: UserRecord | ContactRecord, select: readonly string[] | undefined): Record<string, unknown> {
  if (isContact(record)) return renderContact(call.principal, record, select);
  // An agent user is a user of a derived type, which a directoryObject item names (resources/agentuser).
  return project(userToGraph(record), select ?? userEntity.defaultSelect, record.identityParentId ? AGENT_USER_TYPE : userEntity.odataType);
}

function expandUser(call: GraphCall, user: UserRecord, spec: ExpandSpec): [string, unknown] | undefined {
  // A nested $select is honoured only under that reading of Graph's documentation (src/emulator/graph-settings.ts).
  const select = call.ctx.graph.expandNestedSelect ? spec.select : undefined;
  const asItem = (u: UserRecord | ContactRecord) => directoryObjectItem(call, u, select);
  switch (spec.property) {
    case 'manager': {
      const manager = managerOf(call, user);
      if (!manager) return undefined;
      // `$levels`: each manager carries its own manager, up the chain (user-list-manager's example).
      const top = asItem(manager);
      let item = top;
      let current: UserRecord | ContactRecord = manager;
      for (let level = 1; level < (spec.levels ?? 1) && !isContact(current); level += 1) {
        const next = managerOf(call, current);
        if (!next || next.id === user.id) break;
        const nested = asItem(next);
        item.manager = nested;
        item = nested;
        current = next;
      }
      return ['manager', top];
    }
    case 'directReports':
      return ['directReports', directReportsOf(call, user).slice(0, EXPANDED_COLLECTION_LIMIT).map(asItem)];
    case 'memberOf':
      return [
        'memberOf',
        userMemberships(call, user)
          .slice(0, EXPANDED_COLLECTION_LIMIT)
          .map((m) => membershipItem(call.principal, m, ['id', 'displayName'])),
      ];
    default:
      return undefined;
  }
}

/** A directory role the user is a member of, as a `memberOf` item (directoryRole resource's properties). */
interface RoleMembership {
  readonly directoryRole: Record<string, unknown>;
}
export type Membership = GroupRecord | RoleMembership;
const isRoleMembership = (m: Membership): m is RoleMembership => 'directoryRole' in m;
const DIRECTORY_ROLE_PROPERTIES = ['id', 'deletedDateTime', 'description', 'displayName', 'roleTemplateId'];

/** memberOf holds groups and directory roles: filtered and sorted on each one's own properties. */
export const membershipEntity: EntityType<Membership> = {
  ...(groupEntity as EntityType<unknown>),
  toGraph: (m) => (isRoleMembership(m) ? m.directoryRole : groupEntity.toGraph(m)),
};

/**
 * A user's direct memberships: "groups, directory roles, and administrative units"
 * (learn.microsoft.com/graph/api/user-list-memberof; docs/graph-facts.md#manager-and-bulk-lookup), each
 * typed by `@odata.type`. The emulator has no administrative units; a user holding a directory role
 * is a member of that role's directoryRole object. A `$select` names group properties; a role item
 * carries those of them a directoryRole has.
 */
export function userMemberships(call: GraphCall, user: UserRecord): Membership[] {
  const groups: Membership[] = user.memberOf.map((id) => call.ctx.tenant.groups.get(id)).filter((g): g is GroupRecord => g !== undefined);
  for (const name of user._directoryRoles) {
    const role = directoryRole(call, name);
    if (role) groups.push({ directoryRole: role });
  }
  return groups;
}

/**
 * One membership as `memberOf` lists it to this caller: in full, or with limited information (type
 * and id, the rest null) when the caller reaches the relationship without a permission that reads
 * groups or directory roles (src/emulator/graph/authorization.ts canReadType).
 */
export function membershipItem(principal: Principal, m: Membership, select: readonly string[] | undefined): Record<string, unknown> {
  if (!isRoleMembership(m)) {
    const properties = select ?? groupEntity.defaultSelect;
    const full = groupEntity.toGraph(m);
    return canReadType(principal, 'group') ? project(full, properties, groupEntity.odataType) : projectLimited(full, properties, groupEntity.odataType);
  }
  const properties = select ? select.filter((p) => DIRECTORY_ROLE_PROPERTIES.includes(p)) : DIRECTORY_ROLE_PROPERTIES;
  const type = '#microsoft.graph.directoryRole';
  return canReadType(principal, 'directoryRole') ? project(m.directoryRole, properties, type) : projectLimited(m.directoryRole, properties, type);
}

export function usersCollection(call: GraphCall, records: readonly UserRecord[], contextFragment: string, typedItems: boolean): CollectionOptions<UserRecord> {
  return {
    entity: userEntity,
    records,
    contextFragment,
    typedItems,
    allowSearch: true,
    allowOrderBy: true,
    filterIsAdvanced: false,
    expand: { properties: USER_EXPANDABLE, target: userEntity as EntityType<unknown>, apply: (record, spec) => expandUser(call, record, spec) },
  };
}

export function listUsers(call: GraphCall): EmuResponse {
  requireCapability(call.principal, 'users.read');
  return listCollection(call, usersCollection(call, sortedUsers(call), 'users', false));
}

export function countUsers(call: GraphCall): EmuResponse {
  requireCapability(call.principal, 'users.read');
  return countCollection(call, usersCollection(call, sortedUsers(call), 'users', false));
}

export function getUser(call: GraphCall, user: UserRecord): EmuResponse {
  requireCapability(call.principal, 'users.read', user);
  const select = parseSelect(userEntity, queryParam(call, '$select'), { list: false });
  const expand = parseExpand(call, USER_EXPANDABLE, userEntity as EntityType<unknown>, { single: true });
  const body: Record<string, unknown> = {
    '@odata.context': metadataUrl(call, select ? `users(${select.join(',')})/$entity` : 'users/$entity'),
    ...project(userToGraph(user), select ?? userEntity.defaultSelect),
  };
  if (expand) {
    const expanded = expandUser(call, user, expand);
    if (expanded) body[expanded[0]] = expanded[1];
  }
  return ok(200, body);
}

type PropertyKind = 'string' | 'nullableString' | 'boolean' | 'stringArray' | 'passwordProfile' | 'usageLocation';

/**
 * Properties a PATCH/POST may set, their JSON type, the capability each needs and the limits of
 * resources/user (docs/graph-facts.md#user-properties, "Values a write may set"): `maxLength` in
 * characters, `maxItems` for a collection ("only one number can be set" for businessPhones).
 */
const WRITABLE: Record<string, { kind: PropertyKind; capability: Capability; sensitive?: boolean; maxLength?: number; maxItems?: number }> = {
  accountEnabled: { kind: 'boolean', capability: 'users.enableDisable', sensitive: true },
  passwordProfile: { kind: 'passwordProfile', capability: 'users.password', sensitive: true },
  displayName: { kind: 'string', capability: 'users.write', maxLength: 256 },
  givenName: { kind: 'nullableString', capability: 'users.write', maxLength: 64 },
  surname: { kind: 'nullableString', capability: 'users.write', maxLength: 64 },
  userPrincipalName: { kind: 'string', capability: 'users.write', sensitive: true },
  mail: { kind: 'nullableString', capability: 'users.write' },
  mailNickname: { kind: 'string', capability: 'users.write', maxLength: 64 },
  otherMails: { kind: 'stringArray', capability: 'users.otherMails', sensitive: true },
  jobTitle: { kind: 'nullableString', capability: 'users.write', maxLength: 128 },
  department: { kind: 'nullableString', capability: 'users.write', maxLength: 64 },
  officeLocation: { kind: 'nullableString', capability: 'users.write', maxLength: 128 },
  mobilePhone: { kind: 'nullableString', capability: 'users.phones', sensitive: true, maxLength: 64 },
  businessPhones: { kind: 'stringArray', capability: 'users.phones', sensitive: true, maxItems: 1 },
  employeeId: { kind: 'nullableString', capability: 'users.write', maxLength: 16 },
  employeeType: { kind: 'nullableString', capability: 'users.write' },
  companyName: { kind: 'nullableString', capability: 'users.write', maxLength: 64 },
  city: { kind: 'nullableString', capability: 'users.write', maxLength: 128 },
  country: { kind: 'nullableString', capability: 'users.write', maxLength: 128 },
  preferredLanguage: { kind: 'nullableString', capability: 'users.write' },
  usageLocation: { kind: 'usageLocation', capability: 'users.write' },
  onPremisesImmutableId: { kind: 'nullableString', capability: 'users.write', sensitive: true },
  userType: { kind: 'string', capability: 'users.write' },
};

const READ_ONLY = new Set([
  'id',
  'createdDateTime',
  'signInSessionsValidFromDateTime',
  'deletedDateTime',
  'onPremisesSyncEnabled',
  'lastPasswordChangeDateTime',
  'securityIdentifier',
]);

const UPN_PATTERN = /^[A-Za-z0-9'._!#^~-]+@[A-Za-z0-9.-]+$/;

/**
 * A mail alias: printable ASCII without `@ ( ) \ [ ] " ; : < > ,` and without spaces. The group
 * resource's rule ("only characters in the ASCII character set 0 - 127 except ..."), which the user
 * page does not spell out while field reports show users refused for a comma and a space
 * (docs/graph-facts.md#user-properties): the stricter reading.
 */
const MAIL_NICKNAME = /^[!#-'*+\-./0-9=?A-Z^-~]+$/;

/** ISO 3166 alpha-2, upper case as resources/user's examples (`US`, `JP`, `GB`): the stricter reading. */
const USAGE_LOCATION = /^[A-Z]{2}$/;

const invalidValue = (property: string): GraphError => badRequest(`Invalid value specified for property '${property}' of resource 'User'.`);

function typeError(property: string, value: unknown, edmType: string): GraphError {
  return badRequest(`Cannot convert the literal '${typeof value === 'string' ? value : JSON.stringify(value)}' to the expected type '${edmType}'.`);
}

/**
 * Checks one property value against its Graph type. An `Edm.Boolean` takes a JSON `true`/`false`
 * only: a string, "true" included, is the 400 Graph gives for a value of the wrong JSON type
 * (docs/graph-facts.md#writes-and-permissions, "Value types").
 */
function coerce(property: string, kind: PropertyKind, value: unknown): unknown {
  switch (kind) {
    case 'boolean':
      if (typeof value === 'boolean') return value;
      throw typeError(property, value, 'Edm.Boolean');
    case 'string':
      if (typeof value === 'string' && value.length > 0) return value;
      throw invalidValue(property);
    case 'nullableString':
      // An empty string is not a value: Graph answers it with this 400 and clears a property only for
      // `null` (docs/graph-facts.md#user-properties, "Clearing a property").
      if (value === '') throw invalidValue(property);
      if (value === null || typeof value === 'string') return value;
      throw typeError(property, value, 'Edm.String');
    case 'stringArray':
      // Each item at least one character (an empty one: the 400 above); `[]` clears the collection.
      if (Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '')) return value;
      throw invalidValue(property);
    case 'usageLocation':
      // "Not nullable" (resources/user): a two-letter code, never null.
      if (typeof value === 'string' && USAGE_LOCATION.test(value)) return value;
      throw invalidValue(property);
    case 'passwordProfile': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidValue('passwordProfile');
      const known = ['password', 'forceChangePasswordNextSignIn', 'forceChangePasswordNextSignInWithMfa'];
      for (const key of Object.keys(value)) if (!known.includes(key)) throw badRequest(`Invalid property '${key}'.`);
      const v = value as Record<string, unknown>;
      return {
        password: v.password,
        forceChangePasswordNextSignIn:
          v.forceChangePasswordNextSignIn === undefined ? undefined : coerce('forceChangePasswordNextSignIn', 'boolean', v.forceChangePasswordNextSignIn),
        forceChangePasswordNextSignInWithMfa:
          v.forceChangePasswordNextSignInWithMfa === undefined
            ? undefined
            : coerce('forceChangePasswordNextSignInWithMfa', 'boolean', v.forceChangePasswordNextSignInWithMfa),
      };
    }
    default: {
      const exhaustive: never = kind;
      return exhaustive;
    }
  }
}

function validateBody(body: Record<string, unknown>): Map<string, unknown> {
  const changes = new Map<string, unknown>();
  for (const [property, value] of Object.entries(body)) {
    if (property.startsWith('@odata.')) continue;
    const spec = WRITABLE[property];
    if (!spec) {
      if (READ_ONLY.has(property)) throw badRequest(`Property '${property}' is read-only and cannot be set.`);
      throw badRequest(`Invalid property '${property}'.`);
    }
    const coerced = coerce(property, spec.kind, value);
    if (spec.maxLength !== undefined && typeof coerced === 'string' && coerced.length > spec.maxLength) throw invalidValue(property);
    if (spec.maxItems !== undefined && Array.isArray(coerced) && coerced.length > spec.maxItems) throw invalidValue(property);
    // "The $ and _ characters can't be used when specifying this property" (resources/user, onPremisesImmutableId).
    if (property === 'onPremisesImmutableId' && typeof coerced === 'string' && /[$_]/.test(coerced)) throw invalidValue(property);
    if (property === 'mailNickname' && typeof coerced === 'string' && !MAIL_NICKNAME.test(coerced)) throw invalidValue(property);
    changes.set(property, coerced);
  }
  return changes;
}

/**
 * Entra's username policy (docs/graph-facts.md#addressing-users-and-encoding, concept-sspr-policy
 * "Username policies"): the allowed characters, at most 64 characters before the `@`, 48 after and
 * 113 in all, and no `.` right before the `@`.
 */
function assertUpn(call: GraphCall, upn: string, self?: UserRecord): void {
  const at = upn.indexOf('@');
  const lengthsOk = upn.length <= 113 && at <= 64 && upn.length - at - 1 <= 48;
  if (!UPN_PATTERN.test(upn) || !lengthsOk || upn[at - 1] === '.') throw invalidValue('userPrincipalName');
  const domain = upn.split('@')[1]!.toLowerCase();
  if (domain !== call.ctx.tenant.domain) {
    throw badRequest('The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.');
  }
  const existing = findUserByUpn(call.ctx.tenant.users.values(), upn);
  if (existing && existing !== self) throw badRequest('Another object with the same value for property userPrincipalName already exists.');
}

type PasswordChange = { password?: unknown; forceChangePasswordNextSignIn?: boolean | undefined; forceChangePasswordNextSignInWithMfa?: boolean | undefined };

function applyChanges(user: UserRecord, changes: Map<string, unknown>): void {
  for (const [property, value] of changes) {
    if (property === 'passwordProfile') {
      const p = value as PasswordChange;
      if (typeof p.password === 'string') user._password = p.password;
      if (p.forceChangePasswordNextSignIn !== undefined) user.passwordProfile.forceChangePasswordNextSignIn = p.forceChangePasswordNextSignIn;
      if (p.forceChangePasswordNextSignInWithMfa !== undefined)
        user.passwordProfile.forceChangePasswordNextSignInWithMfa = p.forceChangePasswordNextSignInWithMfa;
    } else {
      (user as unknown as Record<string, unknown>)[property] = value;
    }
  }
}

/**
 * What a user synchronized from on-premises Active Directory (`onPremisesSyncEnabled: true`) takes in
 * the cloud (docs/graph-facts.md#writes-and-permissions, "Users synchronized from on-premises"):
 * `accountEnabled` only, which Microsoft's emergency steps for hybrid environments change in Entra
 * (learn.microsoft.com/entra/identity/users/users-revoke-access). resources/user marks businessPhones and
 * mobilePhone read-only for them, a passwordProfile change is refused (microsoft-graph-docs#7301,
 * where the docs team answers that synced users cannot be updated in the cloud), and for the rest
 * the emulator takes that answer as it stands: the stricter reading.
 */
const CLOUD_WRITABLE_WHEN_SYNCED = new Set(['accountEnabled']);
const SYNCED_OBJECT_MESSAGE =
  'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.';

export function updateUser(call: GraphCall, user: UserRecord): EmuResponse {
  const changes = validateBody(readJsonObject(call));
  for (const property of changes.keys()) {
    const spec = WRITABLE[property]!;
    requireCapability(call.principal, spec.capability, user);
    if (property === 'passwordProfile') requireAuthorityOver(call.principal, user, { requireRole: true });
    // Sensitive properties need a role that covers the target ("Who can perform sensitive actions"): a
    // signed-in user acting on another user, and an app always: the current user-update rows of
    // accountEnabled, mobilePhone and otherMails say that "in app-only scenarios in addition to
    // Microsoft Graph permissions, the app must be assigned a higher privileged administrator role",
    // without the older note's limit to targets holding admin roles (the stricter reading;
    // docs/graph-facts.md#writes-and-permissions, "Sensitive actions, app-only").
    else if (spec.sensitive) requireAuthorityOver(call.principal, user, { requireRole: call.principal.kind === 'app' || call.principal.objectId !== user.id });
    // Delegated, on an administrator: Directory.AccessAsUser.All besides the role (user-update note).
    if (spec.sensitive) requireAsUserForAdminTarget(call.principal, user);
  }
  if (user.onPremisesSyncEnabled && [...changes.keys()].some((p) => !CLOUD_WRITABLE_WHEN_SYNCED.has(p))) throw badRequest(SYNCED_OBJECT_MESSAGE);
  const upn = changes.get('userPrincipalName');
  if (typeof upn === 'string') assertUpn(call, upn, user);
  const profile = changes.get('passwordProfile') as PasswordChange | undefined;
  if (profile?.password !== undefined) {
    const candidate = { ...user, ...(typeof upn === 'string' ? { userPrincipalName: upn } : {}) };
    assertPasswordComplexity(profile.password, candidate);
  }
  // microsoft-graph-docs#4267: a passwordProfile without a password answered 204 and changed nothing
  // (the `forceChangeWithoutPassword: 'ignored'` switch; docs/graph-facts.md#writes-and-permissions).
  if (profile && profile.password === undefined && call.ctx.graph.forceChangeWithoutPassword === 'ignored') changes.delete('passwordProfile');
  if (typeof upn === 'string') keepPreviousUpn(user, upn, call.ctx.now());
  applyChanges(user, changes);
  if (changes.size > 0) recordChange(call.ctx.tenant, user.id, 'changed', call.ctx.now(), [...changes.keys()]);
  return noContent();
}

export function createUser(call: GraphCall): EmuResponse {
  requireCapability(call.principal, 'users.create');
  const changes = validateBody(readJsonObject(call));
  for (const required of ['accountEnabled', 'displayName', 'mailNickname', 'userPrincipalName']) {
    if (!changes.has(required)) throw invalidValue(required);
  }
  const profile = changes.get('passwordProfile') as PasswordChange | undefined;
  if (!profile || profile.password === undefined) throw badRequest('A password must be specified to create a new user.');
  const upn = changes.get('userPrincipalName') as string;
  assertUpn(call, upn);
  const user: UserRecord = newUserRecord({ id: randomUUID(), displayName: '', userPrincipalName: upn, createdMs: call.ctx.now(), password: '' });
  user.mailNickname = '';

  const withoutPassword = new Map(changes);
  withoutPassword.delete('passwordProfile');
  applyChanges(user, withoutPassword);
  assertPasswordComplexity(profile.password, user);
  applyChanges(user, new Map([['passwordProfile', profile]]));
  call.ctx.tenant.users.set(user.id, user);
  recordChange(call.ctx.tenant, user.id, 'changed', call.ctx.now());
  return ok(201, { '@odata.context': metadataUrl(call, 'users/$entity'), ...project(userToGraph(user), userEntity.defaultSelect) });
}

export function deleteUser(call: GraphCall, user: UserRecord): EmuResponse {
  requireCapability(call.principal, 'users.delete', user);
  requireAuthorityOver(call.principal, user, { requireRole: true });
  requireAsUserForAdminTarget(call.principal, user);
  call.ctx.tenant.users.delete(user.id);
  call.ctx.tenant.deletedUsers.set(user.id, user);
  recordChange(call.ctx.tenant, user.id, 'removed-soft', call.ctx.now());
  return noContent();
}

export function revokeSignInSessions(call: GraphCall, user: UserRecord): EmuResponse {
  requireCapability(call.principal, 'users.revokeSessions', user);
  requireAuthorityOver(call.principal, user, { requireRole: false });
  // Graph "doesn't revoke sign-in sessions for external users, because external users sign in
  // through their home tenant" (docs/graph-facts.md#revoking-sessions): the call succeeds and their
  // refresh tokens keep working. An external user here is a guest (externalUserState is set for
  // guests, src/emulator/graph/entities.ts) or an invited `#EXT#` account.
  if (!isExternalUser(user)) user.signInSessionsValidFromDateTime = new Date(call.ctx.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  // 200 {"value": true} as the service answers today, or the documented 204 No Content (known issue
  // "Revoke sign-in sessions returns wrong HTTP code"; src/emulator/graph-settings.ts).
  if (call.ctx.graph.revokeSignInSessionsStatus === 204) return noContent();
  return ok(200, { '@odata.context': metadataUrl(call, 'Edm.Boolean'), value: true });
}

function isExternalUser(user: UserRecord): boolean {
  return user.userType === 'Guest' || user.userPrincipalName.toUpperCase().includes('#EXT#');
}
