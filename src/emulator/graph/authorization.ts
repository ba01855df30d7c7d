/**
 * Who is calling Graph (from the bearer token) and what they may do. App-only tokens carry `roles`,
 * delegated ones `scp`. An app-only caller may do what its roles allow. A delegated caller may do
 * only what both the scope and the signed-in user allow: effective permissions are the
 * intersection of the two (docs/graph-facts.md#delegated-permissions), so `User.ReadWrite.All`
 * held by a user without an admin role writes nobody, and `Directory.AccessAsUser.All` is exactly
 * what the user's directory roles allow. Sensitive writes also need the actor to outrank the
 * target (docs/graph-facts.md#writes-and-permissions).
 */
import type { EmulatorContext } from '../context.js';
import type { EmuRequest } from '../http.js';
import type { UserRecord } from '../model.js';
import { GraphError, forbidden } from './errors.js';

export interface Principal {
  kind: 'app' | 'user';
  appId: string;
  /** The signed-in user (delegated) or the service principal (app-only). */
  objectId: string;
  permissions: ReadonlySet<string>;
  /** Entra directory roles: the user's (delegated) or the service principal's (app-only). */
  directoryRoles: readonly string[];
  user?: UserRecord;
}

export type Capability =
  | 'users.read'
  | 'users.write'
  | 'users.phones'
  | 'users.otherMails'
  | 'users.create'
  | 'users.delete'
  | 'users.enableDisable'
  | 'users.password'
  | 'users.revokeSessions'
  | 'users.manager'
  | 'authMethods.read'
  | 'authMethods.write'
  | 'authMethods.resetPassword'
  | 'memberOf.read'
  | 'directoryObjects.getByIds';

const READ = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
/** The permissions whose descriptions cover every declared user property (bar passwordProfile, see below). */
const FULL_WRITE = ['User.ReadWrite.All', 'Directory.ReadWrite.All'];
/** user-update's table: User.ReadUpdate.All least privileged, then the two above. */
const WRITE = ['User.ReadUpdate.All', ...FULL_WRITE];

const PERMISSIONS: Record<Capability, readonly string[]> = {
  'users.read': READ,
  'users.write': WRITE,
  // user-update, "Permissions for specific scenarios": User-Phone.ReadWrite.All is the least privileged
  // permission for businessPhones and mobilePhone, User-Mail.ReadWrite.All for otherMails. User.ReadUpdate.All,
  // the page's least privileged permission for the call, is not named for them, as it is not for
  // accountEnabled or passwordProfile: the stricter reading is that it does not reach these sensitive
  // properties, while User.ReadWrite.All and Directory.ReadWrite.All still do (docs/graph-facts.md#writes-and-permissions).
  'users.phones': ['User-Phone.ReadWrite.All', ...FULL_WRITE],
  'users.otherMails': ['User-Mail.ReadWrite.All', ...FULL_WRITE],
  'users.create': ['User.Create', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  // user-delete lists User.ReadWrite.All alone ("higher: not available"), and Directory.ReadWrite.All's own
  // description says it does not allow deleting users (docs/graph-facts.md#writes-and-permissions).
  'users.delete': ['User.ReadWrite.All'],
  'users.enableDisable': ['User.EnableDisableAccount.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  // passwordProfile: User-PasswordProfile.ReadWrite.All (user-update). The permissions reference excludes it
  // from User.ReadWrite.All ("except for their passwordProfile") and Directory.ReadWrite.All ("No rights to
  // reset user passwords"); delegated Directory.AccessAsUser.All acts as the signed-in admin
  // (docs/graph-facts.md#writes-and-permissions).
  'users.password': ['User-PasswordProfile.ReadWrite.All'],
  'users.revokeSessions': ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  'users.manager': ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  'authMethods.read': ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'],
  'authMethods.write': ['UserAuthenticationMethod.ReadWrite.All'],
  // Delegated UserAuthenticationMethod.ReadWrite.All only; application: not supported (docs/graph-facts.md#writes-and-permissions).
  'authMethods.resetPassword': ['UserAuthenticationMethod.ReadWrite.All'],
  // Reaching `/users/{id}/memberOf` (besides what reads the user): the group readers of group-get. Whether
  // the groups then come back in full is canReadType's question (docs/graph-facts.md#manager-and-bulk-lookup).
  'memberOf.read': ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  // directoryobject-getbyids: Directory.Read.All, "higher: not available"; Directory.ReadWrite.All reads
  // the directory too (its description), and the page's older text listed delegated
  // Directory.AccessAsUser.All. User.Read.All is not enough (docs/graph-facts.md#manager-and-bulk-lookup).
  'directoryObjects.getByIds': ['Directory.Read.All', 'Directory.ReadWrite.All'],
};

/**
 * Permissions that act only together with another: user-update names "User.EnableDisableAccount.All +
 * User.Read.All" as the least privileged *combination* for `accountEnabled`, so the narrow write
 * permission alone is refused; any permission that reads users (User.Read.All or higher) completes
 * it (docs/graph-facts.md#writes-and-permissions).
 */
const COMPANIONS: Readonly<Record<string, readonly string[]>> = {
  'User.EnableDisableAccount.All': READ,
};

/**
 * Capabilities `Directory.AccessAsUser.All` does not reach: the authentication-method APIs list only
 * the UserAuthenticationMethod.* permissions (docs/graph-facts.md#writes-and-permissions).
 */
const NOT_AS_USER: ReadonlySet<Capability> = new Set(['authMethods.read', 'authMethods.write', 'authMethods.resetPassword']);

export const GLOBAL_ADMIN = 'Global Administrator';
export const PRIVILEGED_AUTH_ADMIN = 'Privileged Authentication Administrator';
export const USER_ADMIN = 'User Administrator';
export const HELPDESK_ADMIN = 'Helpdesk Administrator';
export const AUTH_ADMIN = 'Authentication Administrator';
export const GLOBAL_READER = 'Global Reader';
const PASSWORD_ADMIN = 'Password Administrator';

/** Roles whose holders count as "S" targets: readers that any user admin may manage. */
const LOW_ROLES = ['Directory Readers', 'Guest Inviter', 'Message Center Reader', PASSWORD_ADMIN, 'Reports Reader', 'Usage Summary Reports Reader'];

/**
 * Delegated scopes that reach the signed-in user's own object only: `User.Read` reads the
 * profile, manager, reports and memberships of the signed-in user (docs/graph-facts.md#delegated-permissions).
 */
const SELF_PERMISSIONS: Partial<Record<Capability, readonly string[]>> = {
  'users.read': ['User.Read', 'User.ReadWrite', 'User.ReadBasic.All'],
  'memberOf.read': ['User.Read', 'User.ReadWrite'],
  'authMethods.read': ['UserAuthenticationMethod.Read', 'UserAuthenticationMethod.ReadWrite'],
};

/**
 * What a user may do to their own object without an admin role: read it, and revoke their own
 * sessions (revokeSignInSessions is "performed by the user or an administrator",
 * docs/graph-facts.md#delegated-permissions).
 */
const SELF_SERVICE: ReadonlySet<Capability> = new Set(['users.read', 'memberOf.read', 'authMethods.read', 'users.revokeSessions']);

/** What a signed-in user's directory roles allow (`member`: any member of the tenant, no role needed). */
const ROLE_GRANTS: Record<Capability, readonly string[] | 'member'> = {
  'users.read': 'member',
  'memberOf.read': 'member',
  'users.write': [GLOBAL_ADMIN, USER_ADMIN],
  'users.phones': [GLOBAL_ADMIN, USER_ADMIN],
  'users.otherMails': [GLOBAL_ADMIN, USER_ADMIN],
  'users.create': [GLOBAL_ADMIN, USER_ADMIN],
  'users.delete': [GLOBAL_ADMIN, USER_ADMIN, PRIVILEGED_AUTH_ADMIN],
  'users.enableDisable': [GLOBAL_ADMIN, USER_ADMIN, PRIVILEGED_AUTH_ADMIN],
  'users.password': [GLOBAL_ADMIN, USER_ADMIN, PRIVILEGED_AUTH_ADMIN, HELPDESK_ADMIN, PASSWORD_ADMIN],
  'users.revokeSessions': [GLOBAL_ADMIN, USER_ADMIN, PRIVILEGED_AUTH_ADMIN, HELPDESK_ADMIN, PASSWORD_ADMIN],
  'users.manager': [GLOBAL_ADMIN, USER_ADMIN],
  // Reading another user's methods: Global Reader, Authentication Administrator or Privileged
  // Authentication Administrator (rbac-authentication-methods-apis-read-others; older pages also list
  // Global Administrator); an Authentication Administrator only of non-admin users
  // (requireAuthMethodReadAuthority; docs/graph-facts.md#authentication-method-reads).
  'authMethods.read': [GLOBAL_ADMIN, GLOBAL_READER, PRIVILEGED_AUTH_ADMIN, AUTH_ADMIN],
  'authMethods.write': [GLOBAL_ADMIN, PRIVILEGED_AUTH_ADMIN, AUTH_ADMIN],
  // resetPassword: Authentication Administrator and Privileged Authentication Administrator (older text: "the
  // admin needs one of" those or Global Administrator); the current pages add that User, Helpdesk and
  // Password Administrators "can also reset passwords for non-admin users and a limited set of admin roles"
  // (the emulator used to refuse them). Which targets each reaches is `outranks` (resetPassword asks it).
  'authMethods.resetPassword': [GLOBAL_ADMIN, PRIVILEGED_AUTH_ADMIN, AUTH_ADMIN, USER_ADMIN, HELPDESK_ADMIN, PASSWORD_ADMIN],
  'directoryObjects.getByIds': 'member',
};

function tokenFrom(req: EmuRequest): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}

/** The token's app id without verifying it: only a key for per-client fault bookkeeping. */
export function unverifiedClientKey(req: EmuRequest): string {
  const token = tokenFrom(req);
  if (!token) return 'anonymous';
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const appId = payload.appid ?? payload.azp;
    return typeof appId === 'string' ? appId : 'anonymous';
  } catch {
    return 'anonymous';
  }
}

const unauthorized = (message: string) =>
  new GraphError(401, 'InvalidAuthenticationToken', message, {
    'www-authenticate': 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"',
  });

export async function authenticate(ctx: EmulatorContext, req: EmuRequest): Promise<Principal> {
  const token = tokenFrom(req);
  if (!token) throw unauthorized('Access token is empty.');
  let claims: Record<string, unknown>;
  try {
    claims = (await ctx.signer.verify(token, { issuer: ctx.issuer, audience: ctx.graphAudiences }, ctx.now())) as Record<string, unknown>;
  } catch (error) {
    const e = error as { code?: string; claim?: string };
    if (e.code === 'ERR_JWT_EXPIRED' || e.claim === 'nbf' || e.claim === 'exp') throw unauthorized('Access token has expired or is not yet valid.');
    if (e.claim === 'aud') throw unauthorized('Access token validation failure. Invalid audience.');
    if (e.claim === 'iss') throw unauthorized('Access token validation failure. Invalid issuer.');
    throw unauthorized('Access token validation failure.');
  }
  const appId = String(claims.appid ?? claims.azp ?? '');
  const oid = String(claims.oid ?? '');
  if (typeof claims.scp === 'string') {
    const user = ctx.tenant.users.get(oid);
    return {
      kind: 'user',
      appId,
      objectId: oid,
      permissions: new Set(claims.scp.split(' ').filter(Boolean)),
      directoryRoles: user?._directoryRoles ?? [],
      ...(user ? { user } : {}),
    };
  }
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
  return {
    kind: 'app',
    appId,
    objectId: oid,
    permissions: new Set(roles),
    directoryRoles: ctx.tenant.apps.get(appId)?.directoryRoles ?? [],
  };
}

/**
 * The permissions that satisfy one call, by token kind, where Graph's page lists other ones than the
 * capability's (the per-method-type authentication-method permissions, whose application and
 * delegated lists differ; docs/graph-facts.md#authentication-method-permissions).
 */
export interface CallPermissions {
  application: readonly string[];
  delegated: readonly string[];
}

/**
 * May this caller use `capability` (on `target`, when the operation addresses one user)? App-only:
 * its roles. Delegated: the scope must cover it, and so must the signed-in user's own rights.
 * `permissions` replaces the capability's permission list for calls Graph documents on their own;
 * the signed-in user's roles are still the capability's.
 */
export function can(principal: Principal, capability: Capability, target?: UserRecord, permissions?: CallPermissions): boolean {
  const accepted = permissions ? (principal.kind === 'app' ? permissions.application : permissions.delegated) : PERMISSIONS[capability];
  const scoped = accepted.some((p) => principal.permissions.has(p) && (COMPANIONS[p]?.some((c) => principal.permissions.has(c)) ?? true));
  if (principal.kind === 'app') return scoped;
  const self = target !== undefined && target.id === principal.objectId;
  const scopeAllows =
    scoped ||
    (principal.permissions.has('Directory.AccessAsUser.All') && !NOT_AS_USER.has(capability)) ||
    (self && (SELF_PERMISSIONS[capability] ?? []).some((p) => principal.permissions.has(p)));
  return scopeAllows && userMay(principal, capability, self);
}

/** The signed-in user's own rights: self-service on their own object, the rest by directory role. */
function userMay(principal: Principal, capability: Capability, self: boolean): boolean {
  if (self && SELF_SERVICE.has(capability)) return true;
  const grant = ROLE_GRANTS[capability];
  // Guests get no directory-wide reads by default; members read the directory.
  if (grant === 'member') return principal.user?.userType === 'Member';
  return principal.directoryRoles.some((r) => grant.includes(r));
}

/**
 * The directoryObject types a relationship can hold, and the permissions that read each in full.
 * A caller that reaches a relationship but holds none of them still gets the objects of that type,
 * with `@odata.type` and `id` only ("Limited information returned for inaccessible member objects",
 * learn.microsoft.com/graph/permissions-overview; docs/graph-facts.md#manager-and-bulk-lookup).
 * Groups and directory roles: the memberOf page's rows (application Directory.Read.All or
 * Directory.ReadWrite.All, in every version; delegated also GroupMember.Read.All), which is also
 * what Microsoft's troubleshooting article on null memberOf properties prescribes ("at least
 * Directory.Read.All"); group-get's wider list (GroupMember.Read.All app-only, Group.Read.All) is
 * not taken, the stricter reading; nor is directoryrole-get's (RoleManagement.Read.Directory least) for
 * roles, alike. Devices: device-get (Device.Read.All, Directory.Read.All,
 * Directory.ReadWrite.All).
 */
export type DirectoryObjectType = 'group' | 'directoryRole' | 'device';

const TYPE_READERS: Record<DirectoryObjectType, CallPermissions> = {
  group: {
    application: ['Directory.Read.All', 'Directory.ReadWrite.All'],
    delegated: ['GroupMember.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'],
  },
  directoryRole: {
    application: ['Directory.Read.All', 'Directory.ReadWrite.All'],
    delegated: ['Directory.Read.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'],
  },
  device: {
    application: ['Device.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    delegated: ['Device.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'],
  },
};

/** Does the caller read objects of `type` in full (otherwise: type and id only)? */
export function canReadType(principal: Principal, type: DirectoryObjectType): boolean {
  const readers = principal.kind === 'app' ? TYPE_READERS[type].application : TYPE_READERS[type].delegated;
  return readers.some((p) => principal.permissions.has(p));
}

export function requireCapability(principal: Principal, capability: Capability, target?: UserRecord, permissions?: CallPermissions): void {
  if (!can(principal, capability, target, permissions)) throw forbidden();
}

/** Can an actor holding `actorRoles` perform a sensitive action on `target`? (docs/graph-facts.md#writes-and-permissions) */
export function outranks(actorRoles: readonly string[], target: UserRecord): boolean {
  if (actorRoles.includes(GLOBAL_ADMIN) || actorRoles.includes(PRIVILEGED_AUTH_ADMIN)) return true;
  const targetRoles = target._directoryRoles;
  const within = (allowed: string[]) => targetRoles.every((r) => LOW_ROLES.includes(r) || allowed.includes(r));
  if (actorRoles.includes(USER_ADMIN) && within(['Groups Administrator', HELPDESK_ADMIN, USER_ADMIN])) return true;
  if (actorRoles.includes(HELPDESK_ADMIN) && within([HELPDESK_ADMIN])) return true;
  if (actorRoles.includes(AUTH_ADMIN) && within([AUTH_ADMIN])) return true;
  if (actorRoles.includes(PASSWORD_ADMIN) && within([PASSWORD_ADMIN])) return true;
  return false;
}

/**
 * Sensitive actions on a target: a target holding any directory role needs an actor who outranks
 * it; `requireRole` (password profile, delete) also needs an admin role for ordinary targets.
 */
export function requireAuthorityOver(principal: Principal, target: UserRecord, options: { requireRole: boolean }): void {
  if (!options.requireRole && target._directoryRoles.length === 0) return;
  if (!outranks(principal.directoryRoles, target)) throw forbidden();
}

/**
 * Sensitive actions on administrators, delegated: user-delete and user-update (its note on sensitive
 * properties such as accountEnabled, mobilePhone and otherMails) say that for "users with privileged
 * administrator roles", in delegated scenarios "the app must be assigned the Directory.AccessAsUser.All
 * delegated permission" besides the signed-in user's higher role. Which roles count as privileged the
 * pages leave to "Who can perform sensitive actions": the emulator asks it for a target holding any
 * directory role, the stricter reading (docs/graph-facts.md#writes-and-permissions). App-only callers
 * are not concerned (their role is `requireAuthorityOver`'s question).
 */
export function requireAsUserForAdminTarget(principal: Principal, target: UserRecord): void {
  if (principal.kind === 'user' && target._directoryRoles.length > 0 && !principal.permissions.has('Directory.AccessAsUser.All')) throw forbidden();
}

/**
 * Delegated reads of another user's authentication methods: Global Reader, Privileged Authentication
 * Administrator and Global Administrator read every user's; an Authentication Administrator "can access
 * to view, set and reset authentication method information for any non-admin user" (Entra's
 * permissions reference), so only targets it outranks. App-only callers and a user reading their own
 * methods are not limited by roles (docs/graph-facts.md#authentication-method-reads).
 */
export function requireAuthMethodReadAuthority(principal: Principal, target: UserRecord): void {
  if (principal.kind !== 'user' || principal.objectId.toLowerCase() === target.id.toLowerCase()) return;
  if (readsEveryUsersAuthMethods(principal.directoryRoles)) return;
  if (!outranks(principal.directoryRoles, target)) throw forbidden();
}

/** Roles that read every user's authentication methods in full (no target limit, no masked phone numbers). */
const FULL_AUTH_METHOD_READERS: readonly string[] = [GLOBAL_READER, GLOBAL_ADMIN, PRIVILEGED_AUTH_ADMIN];

export function readsEveryUsersAuthMethods(roles: readonly string[]): boolean {
  return roles.some((role) => FULL_AUTH_METHOD_READERS.includes(role));
}
