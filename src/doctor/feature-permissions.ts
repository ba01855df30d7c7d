/**
 * The one table of what each gateway feature asks of Microsoft Graph: the Graph calls it makes, the
 * permissions that satisfy each call (application and delegated, least privileged first), and the
 * Entra admin roles the acting identity needs. `npm run doctor` checks a tenant against it, and the
 * permissions table in docs/operations.md is rendered from it (a test keeps the two equal), so the
 * documentation and the doctor cannot drift. Facts: docs/graph-facts.md#writes-and-permissions,
 * docs/graph-facts.md#delegated-permissions, docs/graph-facts.md#manager-and-bulk-lookup.
 *
 * `source` names the Microsoft Learn page whose permissions table each row follows; where the page
 * and its older text differ, both names are accepted (the newer, narrower one is suggested).
 */
import type { Permission } from '../identity/types.js';

/** All permissions of one set are needed together; most sets hold one permission. */
export type PermissionSet = readonly string[];

/** Graph refuses the call for this permission type whatever is granted. */
export const NOT_SUPPORTED = 'not-supported' as const;

export interface GraphOperation {
  /** Method and route template, as the doctor prints it. */
  readonly call: string;
  /** Sets that satisfy the call app-only, least privileged first; or Graph does not support app-only. */
  readonly application: readonly PermissionSet[] | typeof NOT_SUPPORTED;
  /** Sets that satisfy the call for a signed-in user, least privileged first. */
  readonly delegated: readonly PermissionSet[];
  /** The Microsoft Learn page whose permissions table this follows. */
  readonly source: string;
  /**
   * Sets the gateway also works with, by another, costlier route (said in the doctor's line and the
   * table), when none of the call's own sets is held.
   */
  readonly fallback?: { readonly sets: readonly PermissionSet[]; readonly route: string };
  /**
   * Sets Graph also asks of a signed-in user's token when the target holds an admin role (one must be
   * held besides `delegated`); without one the call reaches users without admin roles only.
   */
  readonly delegatedAdminTargets?: readonly PermissionSet[];
}

/**
 * Built-in Entra roles the doctor reasons about, with their tenant-independent template ids
 * (https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference).
 */
export const DIRECTORY_ROLE_TEMPLATES = {
  'Global Administrator': '62e90394-69f5-4237-9190-012177145e10',
  'Privileged Authentication Administrator': '7be44c8a-adaf-4e2a-84d6-ab2649e08a13',
  'User Administrator': 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  'Helpdesk Administrator': '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  'Password Administrator': '966707d0-3269-4727-9be2-8c3a10f19b9d',
  'Authentication Administrator': 'c4e39bd9-1100-46d3-8c65-fb160da0071f',
  'Privileged Role Administrator': 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  'Global Reader': 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
  'Directory Readers': '88d8e3e3-8f55-4a1e-953a-9b9898b8876b',
  'Groups Administrator': 'fdd7a751-b60b-444a-984c-02652fe8fa1c',
} as const;
export type DirectoryRoleName = keyof typeof DIRECTORY_ROLE_TEMPLATES;

/**
 * Entra roles an identity needs for a feature: `allTargets` lets it act on every user, administrators
 * included; `nonAdminTargets` only on users without an admin role (docs/graph-facts.md#writes-and-permissions,
 * "who can act on whom"). Empty lists mean no role is needed.
 */
export interface RoleRequirement {
  readonly allTargets: readonly DirectoryRoleName[];
  readonly nonAdminTargets: readonly DirectoryRoleName[];
  readonly source: string;
}

const NO_ROLE: RoleRequirement = { allTargets: [], nonAdminTargets: [], source: '' };

/* Read permissions shared by most user reads: the gateway selects more than the basic profile, so User.ReadBasic.All is not enough. */
const USER_READ: readonly PermissionSet[] = [['User.Read.All'], ['User.ReadWrite.All'], ['Directory.Read.All'], ['Directory.ReadWrite.All']];
const USER_READ_DELEGATED: readonly PermissionSet[] = [...USER_READ, ['Directory.AccessAsUser.All']];

/** What a signed-in user's token also needs to act on administrators (user-update, user-delete). */
const AS_USER_FOR_ADMINS: readonly PermissionSet[] = [['Directory.AccessAsUser.All']];

export const GRAPH_OPERATIONS = {
  listUsers: {
    call: 'GET /users',
    application: USER_READ,
    delegated: USER_READ_DELEGATED,
    source: 'https://learn.microsoft.com/graph/api/user-list#permissions',
  },
  getUser: {
    call: 'GET /users/{id}',
    application: USER_READ,
    delegated: USER_READ_DELEGATED,
    source: 'https://learn.microsoft.com/graph/api/user-get#permissions',
  },
  getManager: {
    call: 'GET /users/{id}/manager',
    application: USER_READ,
    delegated: USER_READ_DELEGATED,
    source: 'https://learn.microsoft.com/graph/api/user-list-manager#permissions',
  },
  listDirectReports: {
    call: 'GET /users/{id}/directReports',
    application: USER_READ,
    delegated: USER_READ_DELEGATED,
    source: 'https://learn.microsoft.com/graph/api/user-list-directreports#permissions',
  },
  userDelta: {
    call: 'GET /users/delta',
    application: USER_READ,
    delegated: USER_READ_DELEGATED,
    source: 'https://learn.microsoft.com/graph/api/user-delta#permissions',
  },
  getByIds: {
    call: 'POST /directoryObjects/getByIds',
    // The page names Directory.Read.All and "higher: not available"; Directory.ReadWrite.All reads the
    // directory too, and the page's older text added delegated Directory.AccessAsUser.All.
    application: [['Directory.Read.All'], ['Directory.ReadWrite.All']],
    delegated: [['Directory.Read.All'], ['Directory.ReadWrite.All'], ['Directory.AccessAsUser.All']],
    source: 'https://learn.microsoft.com/graph/api/directoryobject-getbyids#permissions',
    // Refused getByIds, the gateway sends the lookups as GETs in $batch (src/graph/bulk-lookup-route.ts).
    fallback: { sets: [['User.Read.All'], ['User.ReadWrite.All']], route: '$batch of GET /users/{id} (20 ids per request instead of 1,000)' },
  },
  // Relationships answer callers that cannot read the objects' type too, with type and id only
  // (docs/graph-facts.md#manager-and-bulk-lookup, "Limited information"): these are the sets that
  // get the groups and devices in full, which the gateway needs (src/graph/limited-information.ts).
  listMemberOf: {
    call: 'GET /users/{id}/memberOf',
    // The page's application row, in every version, and Microsoft's troubleshooting article: Directory.Read.All.
    application: [['Directory.Read.All'], ['Directory.ReadWrite.All']],
    delegated: [['GroupMember.Read.All'], ['Directory.Read.All'], ['Directory.ReadWrite.All'], ['Directory.AccessAsUser.All']],
    source: 'https://learn.microsoft.com/graph/api/user-list-memberof#permissions',
  },
  listOwnedDevices: {
    call: 'GET /users/{id}/ownedDevices',
    // The page lists User.Read.All and the Directory permissions; devices in full also need what reads devices (device-get).
    application: [['User.Read.All', 'Device.Read.All'], ['User.ReadWrite.All', 'Device.Read.All'], ['Directory.Read.All'], ['Directory.ReadWrite.All']],
    delegated: [
      ['User.Read.All', 'Device.Read.All'],
      ['User.ReadWrite.All', 'Device.Read.All'],
      ['Directory.Read.All'],
      ['Directory.ReadWrite.All'],
      ['Directory.AccessAsUser.All'],
    ],
    source: 'https://learn.microsoft.com/graph/api/user-list-owneddevices#permissions',
  },
  listAuthMethods: {
    call: 'GET /users/{id}/authentication/methods',
    application: [['UserAuthenticationMethod.Read.All'], ['UserAuthenticationMethod.ReadWrite.All']],
    delegated: [['UserAuthenticationMethod.Read.All'], ['UserAuthenticationMethod.ReadWrite.All']],
    source: 'https://learn.microsoft.com/graph/api/authentication-list-methods#permissions',
  },
  revokeSignInSessions: {
    call: 'POST /users/{id}/revokeSignInSessions',
    // Newer pages: User.RevokeSessions.All; older ones: User.ReadWrite.All, Directory.ReadWrite.All.
    application: [['User.RevokeSessions.All'], ['User.ReadWrite.All'], ['Directory.ReadWrite.All']],
    delegated: [['User.RevokeSessions.All'], ['User.ReadWrite.All'], ['Directory.ReadWrite.All'], ['Directory.AccessAsUser.All']],
    source: 'https://learn.microsoft.com/graph/api/user-revokesigninsessions#permissions',
  },
  setAccountEnabled: {
    call: 'PATCH /users/{id} {accountEnabled}',
    application: [['User.EnableDisableAccount.All', 'User.Read.All'], ['User.ReadWrite.All'], ['Directory.ReadWrite.All']],
    delegated: [['User.EnableDisableAccount.All', 'User.Read.All'], ['User.ReadWrite.All'], ['Directory.ReadWrite.All'], ['Directory.AccessAsUser.All']],
    // "To update sensitive user properties, such as accountEnabled, mobilePhone, and otherMails for users with
    // privileged administrator roles", delegated, "the app must be assigned the Directory.AccessAsUser.All
    // delegated permission" (user-update; docs/graph-facts.md#writes-and-permissions).
    delegatedAdminTargets: AS_USER_FOR_ADMINS,
    source: 'https://learn.microsoft.com/graph/api/user-update#permissions',
  },
  setPasswordProfile: {
    call: 'PATCH /users/{id} {passwordProfile}',
    // Not User.ReadWrite.All ("except for their passwordProfile") nor Directory.ReadWrite.All ("No rights to
    // reset user passwords"): the permissions reference (docs/graph-facts.md#writes-and-permissions).
    application: [['User-PasswordProfile.ReadWrite.All']],
    delegated: [['User-PasswordProfile.ReadWrite.All'], ['Directory.AccessAsUser.All']],
    // Administrators, delegated: user-update's note on sensitive properties (see setAccountEnabled).
    delegatedAdminTargets: AS_USER_FOR_ADMINS,
    source: 'https://learn.microsoft.com/graph/api/user-update#permissions',
  },
  resetPassword: {
    call: 'POST /users/{id}/authentication/methods/{id}/resetPassword',
    application: NOT_SUPPORTED,
    // The page lists delegated UserAuthenticationMethod.ReadWrite.All alone ("higher: not available").
    delegated: [['UserAuthenticationMethod.ReadWrite.All']],
    source: 'https://learn.microsoft.com/graph/api/authenticationmethod-resetpassword#permissions',
  },
  createUser: {
    call: 'POST /users',
    application: [['User.Create'], ['User.ReadWrite.All'], ['Directory.ReadWrite.All']],
    delegated: [['User.Create'], ['User.ReadWrite.All'], ['Directory.ReadWrite.All'], ['Directory.AccessAsUser.All']],
    source: 'https://learn.microsoft.com/graph/api/user-post-users#permissions',
  },
  updateUser: {
    call: 'PATCH /users/{id}',
    application: [['User.ReadUpdate.All'], ['User.ReadWrite.All'], ['Directory.ReadWrite.All']],
    delegated: [['User.ReadUpdate.All'], ['User.ReadWrite.All'], ['Directory.ReadWrite.All'], ['Directory.AccessAsUser.All']],
    source: 'https://learn.microsoft.com/graph/api/user-update#permissions',
  },
  setPhones: {
    call: 'PATCH /users/{id} {businessPhones, mobilePhone}',
    // user-update, "Permissions for specific scenarios": User-Phone.ReadWrite.All is the least privileged
    // permission for the phone properties (docs/graph-facts.md#writes-and-permissions); User.ReadUpdate.All
    // is not named for them, so it is not suggested.
    application: [['User-Phone.ReadWrite.All'], ['User.ReadWrite.All'], ['Directory.ReadWrite.All']],
    delegated: [['User-Phone.ReadWrite.All'], ['User.ReadWrite.All'], ['Directory.ReadWrite.All'], ['Directory.AccessAsUser.All']],
    // Administrators, delegated: user-update's note on sensitive properties (see setAccountEnabled).
    delegatedAdminTargets: AS_USER_FOR_ADMINS,
    source: 'https://learn.microsoft.com/graph/api/user-update#permissions',
  },
  deleteUser: {
    call: 'DELETE /users/{id}',
    // Directory.ReadWrite.All does not allow deleting users (its description says so).
    application: [['User.ReadWrite.All']],
    delegated: [['User.ReadWrite.All'], ['Directory.AccessAsUser.All']],
    // "To delete users with privileged administrator roles in delegated scenarios, the app must be assigned the
    // Directory.AccessAsUser.All delegated permission" (user-delete; docs/graph-facts.md#writes-and-permissions).
    delegatedAdminTargets: AS_USER_FOR_ADMINS,
    source: 'https://learn.microsoft.com/graph/api/user-delete#permissions',
  },
  setManager: {
    call: 'PUT or DELETE /users/{id}/manager/$ref',
    application: [['User.ReadWrite.All'], ['Directory.ReadWrite.All']],
    delegated: [['User.ReadWrite.All'], ['Directory.ReadWrite.All'], ['Directory.AccessAsUser.All']],
    source: 'https://learn.microsoft.com/graph/api/user-post-manager#permissions',
  },
  // deleteAuthenticationMethod: one DELETE per method type, each with its own page
  // (docs/graph-facts.md#authentication-method-permissions). The pages list
  // UserAuthenticationMethod.ReadWrite.All as least privileged and the type's own permission as
  // higher; self-only permissions (no `.All`) do not reach other users and are left out.
  deleteEmailMethod: {
    call: 'DELETE /users/{id}/authentication/emailMethods/{id}',
    application: [['UserAuthenticationMethod.ReadWrite.All'], ['UserAuthMethod-Email.ReadWrite.All']],
    delegated: [['UserAuthenticationMethod.ReadWrite.All'], ['UserAuthMethod-Email.ReadWrite.All']],
    source: 'https://learn.microsoft.com/graph/api/emailauthenticationmethod-delete#permissions',
  },
  deletePhoneMethod: {
    call: 'DELETE /users/{id}/authentication/phoneMethods/{id}',
    // No UserAuthMethod-Phone permission is listed for delete (it is for update).
    application: [['UserAuthenticationMethod.ReadWrite.All']],
    delegated: [['UserAuthenticationMethod.ReadWrite.All']],
    source: 'https://learn.microsoft.com/graph/api/phoneauthenticationmethod-delete#permissions',
  },
  deleteFido2Method: {
    call: 'DELETE /users/{id}/authentication/fido2Methods/{id}',
    // App-only the page lists UserAuthMethod-Passkey.ReadWrite.All, then UserAuthenticationMethod.ReadWrite.All;
    // one version of its generated table lists the Passkey permission alone. Only it works under both.
    application: [['UserAuthMethod-Passkey.ReadWrite.All']],
    delegated: [['UserAuthenticationMethod.ReadWrite.All'], ['UserAuthMethod-Passkey.ReadWrite.All']],
    source: 'https://learn.microsoft.com/graph/api/fido2authenticationmethod-delete#permissions',
  },
  deleteMicrosoftAuthenticatorMethod: {
    call: 'DELETE /users/{id}/authentication/microsoftAuthenticatorMethods/{id}',
    application: [['UserAuthenticationMethod.ReadWrite.All'], ['UserAuthMethod-MicrosoftAuthApp.ReadWrite.All']],
    delegated: [['UserAuthenticationMethod.ReadWrite.All'], ['UserAuthMethod-MicrosoftAuthApp.ReadWrite.All']],
    source: 'https://learn.microsoft.com/graph/api/microsoftauthenticatorauthenticationmethod-delete#permissions',
  },
  deleteSoftwareOathMethod: {
    call: 'DELETE /users/{id}/authentication/softwareOathMethods/{id}',
    application: [['UserAuthenticationMethod.ReadWrite.All'], ['UserAuthMethod-SoftwareOATH.ReadWrite.All']],
    delegated: [['UserAuthenticationMethod.ReadWrite.All'], ['UserAuthMethod-SoftwareOATH.ReadWrite.All']],
    source: 'https://learn.microsoft.com/graph/api/softwareoathauthenticationmethod-delete#permissions',
  },
  deleteWindowsHelloMethod: {
    call: 'DELETE /users/{id}/authentication/windowsHelloForBusinessMethods/{id}',
    application: [['UserAuthenticationMethod.ReadWrite.All'], ['UserAuthMethod-WindowsHello.ReadWrite.All']],
    delegated: [['UserAuthenticationMethod.ReadWrite.All'], ['UserAuthMethod-WindowsHello.ReadWrite.All']],
    source: 'https://learn.microsoft.com/graph/api/windowshelloforbusinessauthenticationmethod-delete#permissions',
  },
  deleteTemporaryAccessPassMethod: {
    call: 'DELETE /users/{id}/authentication/temporaryAccessPassMethods/{id}',
    application: [['UserAuthenticationMethod.ReadWrite.All'], ['UserAuthMethod-TAP.ReadWrite.All']],
    delegated: [['UserAuthenticationMethod.ReadWrite.All'], ['UserAuthMethod-TAP.ReadWrite.All']],
    source: 'https://learn.microsoft.com/graph/api/temporaryaccesspassauthenticationmethod-delete#permissions',
  },
  deletePlatformCredentialMethod: {
    call: 'DELETE /users/{id}/authentication/platformCredentialMethods/{id}',
    application: [['UserAuthenticationMethod.ReadWrite.All'], ['UserAuthMethod-PlatformCred.ReadWrite.All']],
    delegated: [['UserAuthenticationMethod.ReadWrite.All'], ['UserAuthMethod-PlatformCred.ReadWrite.All']],
    source: 'https://learn.microsoft.com/graph/api/platformcredentialauthenticationmethod-delete#permissions',
  },
  deleteExternalMethod: {
    call: 'DELETE /users/{id}/authentication/externalAuthenticationMethods/{id}/$ref',
    // This page names the type's own permission as least privileged, UserAuthenticationMethod.ReadWrite.All higher.
    application: [['UserAuthMethod-External.ReadWrite.All'], ['UserAuthenticationMethod.ReadWrite.All']],
    delegated: [['UserAuthMethod-External.ReadWrite.All'], ['UserAuthenticationMethod.ReadWrite.All']],
    source: 'https://learn.microsoft.com/graph/api/authentication-delete-externalauthenticationmethods#permissions',
  },
  temporaryAccessPass: {
    call: 'POST or DELETE /users/{id}/authentication/temporaryAccessPassMethods',
    // Both calls take UserAuthMethod-TAP.ReadWrite.All or UserAuthenticationMethod.ReadWrite.All; the
    // create page's generated table also names read-only permissions, which are not suggested.
    application: [['UserAuthMethod-TAP.ReadWrite.All'], ['UserAuthenticationMethod.ReadWrite.All']],
    delegated: [['UserAuthMethod-TAP.ReadWrite.All'], ['UserAuthenticationMethod.ReadWrite.All']],
    source: 'https://learn.microsoft.com/graph/api/authentication-post-temporaryaccesspassmethods#permissions',
  },
} as const satisfies Record<string, GraphOperation>;
export type OperationId = keyof typeof GRAPH_OPERATIONS;

/** Sensitive user changes (accountEnabled, passwordProfile, delete): who may act on whom. */
const SENSITIVE_USER_CHANGE: RoleRequirement = {
  allTargets: ['Privileged Authentication Administrator', 'Global Administrator'],
  nonAdminTargets: ['User Administrator'],
  source: 'https://learn.microsoft.com/graph/api/user-update#who-can-perform-sensitive-actions',
};
const PASSWORD_CHANGE_DELEGATED: RoleRequirement = {
  allTargets: ['Privileged Authentication Administrator', 'Global Administrator'],
  nonAdminTargets: ['User Administrator', 'Helpdesk Administrator', 'Password Administrator'],
  source: 'https://learn.microsoft.com/graph/api/user-update#who-can-perform-sensitive-actions',
};
const AUTH_METHOD_ADMIN: RoleRequirement = {
  allTargets: ['Privileged Authentication Administrator', 'Global Administrator'],
  nonAdminTargets: ['Authentication Administrator'],
  source: 'https://learn.microsoft.com/graph/api/resources/authenticationmethods-overview',
};
/**
 * Reading another user's methods: Global Reader or Privileged Authentication Administrator (and Global
 * Administrator, on the older pages) read every user's, an Authentication Administrator non-admin users'
 * only (docs/graph-facts.md#authentication-method-reads).
 */
const AUTH_METHOD_READER: RoleRequirement = {
  allTargets: ['Global Reader', 'Privileged Authentication Administrator', 'Global Administrator'],
  nonAdminTargets: ['Authentication Administrator'],
  source: 'https://learn.microsoft.com/graph/api/authentication-list-methods#permissions',
};
const USER_ADMIN: RoleRequirement = {
  allTargets: ['User Administrator', 'Global Administrator'],
  nonAdminTargets: [],
  source: 'https://learn.microsoft.com/graph/api/user-post-users#permissions',
};

export type FeatureId =
  | 'readUsers'
  | 'bulkLookupById'
  | 'groupMemberships'
  | 'ownedDevices'
  | 'authMethodsRead'
  | 'terminateSession'
  | 'revokeSignInSessions'
  | 'disableAccount'
  | 'enableAccount'
  | 'changePassword'
  | 'changePasswordOnPremises'
  | 'createUser'
  | 'updateUser'
  | 'updateUserPhones'
  | 'deleteUser'
  | 'manager'
  | 'deleteAuthenticationMethod'
  | 'temporaryAccessPass';

export interface Feature {
  readonly id: FeatureId;
  /** What an operator would call it. */
  readonly title: string;
  /** The GraphQL fields that use it (Query.* / User.* / Mutation.*). */
  readonly fields: readonly string[];
  /** The gateway permission a caller needs for those fields. */
  readonly callerPermission: Permission;
  /** `self-deployed`: refused in hosted mode (the schema's `@deployment(requires: SELF_DEPLOYED)`). */
  readonly modes: 'both' | 'self-deployed';
  readonly operations: readonly OperationId[];
  /** Entra roles of the app's service principal (app-only) or of the signed-in user (delegated). */
  readonly roles: { readonly application: RoleRequirement; readonly delegated: RoleRequirement };
}

export const FEATURES: readonly Feature[] = [
  {
    id: 'readUsers',
    title: 'read users, managers and direct reports',
    fields: ['Query.user', 'Query.users', 'Query.userChanges', 'User.manager', 'User.directReports'],
    callerPermission: 'Users.Read',
    modes: 'both',
    operations: ['listUsers', 'getUser', 'getManager', 'listDirectReports', 'userDelta'],
    roles: { application: NO_ROLE, delegated: NO_ROLE },
  },
  {
    id: 'bulkLookupById',
    title: 'look users up by id in bulk (getByIds, or $batch without Directory.Read.All)',
    fields: ['Query.user', 'Query.users(filter: {ids})', 'User.manager'],
    callerPermission: 'Users.Read',
    modes: 'both',
    operations: ['getByIds'],
    roles: { application: NO_ROLE, delegated: NO_ROLE },
  },
  {
    id: 'groupMemberships',
    title: 'group memberships',
    fields: ['User.memberOf'],
    callerPermission: 'Users.Read',
    modes: 'both',
    operations: ['listMemberOf'],
    roles: { application: NO_ROLE, delegated: NO_ROLE },
  },
  {
    id: 'ownedDevices',
    title: 'owned devices',
    fields: ['User.ownedDevices'],
    callerPermission: 'Users.Read',
    modes: 'both',
    operations: ['listOwnedDevices'],
    roles: { application: NO_ROLE, delegated: NO_ROLE },
  },
  {
    id: 'authMethodsRead',
    title: 'read authentication methods',
    fields: ['User.authenticationMethods'],
    callerPermission: 'Users.Read',
    modes: 'both',
    operations: ['listAuthMethods'],
    roles: { application: NO_ROLE, delegated: AUTH_METHOD_READER },
  },
  {
    id: 'terminateSession',
    title: 'terminate sessions (revoke + disable)',
    fields: ['Mutation.terminateSession'],
    callerPermission: 'Users.Terminate',
    modes: 'self-deployed',
    operations: ['revokeSignInSessions', 'setAccountEnabled'],
    roles: { application: SENSITIVE_USER_CHANGE, delegated: SENSITIVE_USER_CHANGE },
  },
  {
    id: 'revokeSignInSessions',
    title: 'revoke sign-in sessions',
    fields: ['Mutation.revokeSignInSessions'],
    callerPermission: 'Users.Terminate',
    modes: 'self-deployed',
    operations: ['revokeSignInSessions'],
    roles: { application: NO_ROLE, delegated: PASSWORD_CHANGE_DELEGATED },
  },
  {
    id: 'disableAccount',
    title: 'disable accounts',
    fields: ['Mutation.disableAccount'],
    callerPermission: 'Users.Terminate',
    modes: 'self-deployed',
    operations: ['setAccountEnabled'],
    roles: { application: SENSITIVE_USER_CHANGE, delegated: SENSITIVE_USER_CHANGE },
  },
  {
    id: 'enableAccount',
    title: 'enable accounts',
    fields: ['Mutation.enableAccount'],
    callerPermission: 'Users.Terminate',
    modes: 'both',
    operations: ['setAccountEnabled'],
    roles: { application: SENSITIVE_USER_CHANGE, delegated: SENSITIVE_USER_CHANGE },
  },
  {
    id: 'changePassword',
    title: 'change passwords (cloud)',
    fields: ['Mutation.changePassword', 'Mutation.forceResetPassword'],
    callerPermission: 'Users.ChangePassword',
    modes: 'self-deployed',
    operations: ['setPasswordProfile'],
    roles: { application: SENSITIVE_USER_CHANGE, delegated: PASSWORD_CHANGE_DELEGATED },
  },
  {
    id: 'changePasswordOnPremises',
    title: 'reset passwords written back on-premises',
    fields: ['Mutation.changePasswordOnPremises'],
    callerPermission: 'Users.ChangePassword',
    modes: 'self-deployed',
    operations: ['resetPassword'],
    roles: { application: NO_ROLE, delegated: AUTH_METHOD_ADMIN },
  },
  {
    id: 'createUser',
    title: 'create users',
    fields: ['Mutation.createUser'],
    callerPermission: 'Users.Write',
    modes: 'both',
    operations: ['createUser'],
    roles: { application: NO_ROLE, delegated: USER_ADMIN },
  },
  {
    id: 'updateUser',
    title: 'update user properties',
    fields: ['Mutation.updateUser'],
    callerPermission: 'Users.Write',
    modes: 'both',
    operations: ['updateUser'],
    roles: { application: NO_ROLE, delegated: USER_ADMIN },
  },
  {
    // Phones are sensitive properties ("who can perform sensitive actions"): an admin's phones need a
    // role that outranks the admin, app-only too.
    id: 'updateUserPhones',
    title: 'update phone numbers',
    fields: ['Mutation.updateUser(mobilePhone, businessPhones)'],
    callerPermission: 'Users.Write',
    modes: 'both',
    operations: ['setPhones'],
    roles: { application: SENSITIVE_USER_CHANGE, delegated: SENSITIVE_USER_CHANGE },
  },
  {
    id: 'deleteUser',
    title: 'delete users',
    fields: ['Mutation.deleteUser'],
    callerPermission: 'Users.Write',
    modes: 'both',
    operations: ['deleteUser'],
    roles: { application: SENSITIVE_USER_CHANGE, delegated: SENSITIVE_USER_CHANGE },
  },
  {
    id: 'manager',
    title: 'assign and remove managers',
    fields: ['Mutation.assignManager', 'Mutation.removeManager'],
    callerPermission: 'Users.Write',
    modes: 'both',
    operations: ['setManager'],
    roles: { application: NO_ROLE, delegated: USER_ADMIN },
  },
  {
    id: 'deleteAuthenticationMethod',
    title: 'delete authentication methods',
    fields: ['Mutation.deleteAuthenticationMethod'],
    callerPermission: 'Users.ManageAuthMethods',
    modes: 'both',
    // Any type may be asked for: the feature works when every type's DELETE does.
    operations: [
      'deleteEmailMethod',
      'deletePhoneMethod',
      'deleteFido2Method',
      'deleteMicrosoftAuthenticatorMethod',
      'deleteSoftwareOathMethod',
      'deleteWindowsHelloMethod',
      'deleteTemporaryAccessPassMethod',
      'deletePlatformCredentialMethod',
      'deleteExternalMethod',
    ],
    roles: { application: NO_ROLE, delegated: AUTH_METHOD_ADMIN },
  },
  {
    id: 'temporaryAccessPass',
    title: 'create and delete Temporary Access Passes',
    fields: ['Mutation.createTemporaryAccessPass', 'Mutation.deleteTemporaryAccessPass'],
    callerPermission: 'Users.ManageAuthMethods',
    modes: 'both',
    operations: ['temporaryAccessPass'],
    roles: { application: NO_ROLE, delegated: AUTH_METHOD_ADMIN },
  },
];

/** Permissions the doctor itself uses to read role assignments; missing ones make the role check "could not check". */
export const ROLE_READ_OPERATIONS = {
  servicePrincipal: {
    call: "GET /servicePrincipals(appId='{appId}')",
    // "A service principal can retrieve its own application and service principal details without being granted any application permissions."
    application: [[]],
    delegated: [['Application.Read.All'], ['Application.ReadWrite.All'], ['Directory.Read.All'], ['Directory.ReadWrite.All']],
    source: 'https://learn.microsoft.com/graph/api/serviceprincipal-get#permissions',
  },
  roleAssignments: {
    call: "GET /roleManagement/directory/roleAssignments?$filter=principalId eq '{id}'",
    application: [
      ['RoleManagement.Read.Directory'],
      ['RoleManagement.Read.All'],
      ['Directory.Read.All'],
      ['RoleManagement.ReadWrite.Directory'],
      ['Directory.ReadWrite.All'],
    ],
    delegated: [
      ['RoleManagement.Read.Directory'],
      ['RoleManagement.Read.All'],
      ['Directory.Read.All'],
      ['RoleManagement.ReadWrite.Directory'],
      ['Directory.ReadWrite.All'],
    ],
    source: 'https://learn.microsoft.com/graph/api/rbacapplication-list-roleassignments#permissions',
  },
  myDirectoryRoles: {
    call: 'GET /me/transitiveMemberOf/microsoft.graph.directoryRole',
    application: NOT_SUPPORTED,
    delegated: [['User.Read'], ['User.Read.All'], ['GroupMember.Read.All'], ['Group.Read.All'], ['Directory.Read.All'], ['Directory.ReadWrite.All']],
    source: 'https://learn.microsoft.com/graph/api/user-list-transitivememberof#permissions',
  },
} as const satisfies Record<string, GraphOperation>;

export type GrantKind = 'application' | 'delegated';

/** Graph permission names compare case-insensitively. */
function holds(granted: ReadonlySet<string>, permission: string): boolean {
  if (granted.has(permission)) return true;
  const lower = permission.toLowerCase();
  for (const g of granted) if (g.toLowerCase() === lower) return true;
  return false;
}

/** The first set fully held, or undefined. */
export function satisfyingSet(sets: readonly PermissionSet[], granted: ReadonlySet<string>): PermissionSet | undefined {
  return sets.find((set) => set.every((p) => holds(granted, p)));
}

/** What to grant when nothing satisfies: the least privileged set, minus what is already held. */
export function leastToGrant(sets: readonly PermissionSet[], granted: ReadonlySet<string>): readonly string[] {
  const least = sets[0] ?? [];
  return least.filter((p) => !holds(granted, p));
}

/** The role name of a template id, when it is one the doctor knows. */
export function roleNameOfTemplate(templateId: string): DirectoryRoleName | undefined {
  const lower = templateId.toLowerCase();
  return (Object.keys(DIRECTORY_ROLE_TEMPLATES) as DirectoryRoleName[]).find((name) => DIRECTORY_ROLE_TEMPLATES[name] === lower);
}

/** Every operation of a feature with its definition. */
export function operationsOf(feature: Feature): Array<{ id: OperationId; operation: GraphOperation }> {
  return feature.operations.map((id) => ({ id, operation: GRAPH_OPERATIONS[id] }));
}

/** The permissions table of docs/operations.md, rendered from the table above. */
export function renderPermissionsMarkdown(): string {
  const setText = (sets: readonly PermissionSet[] | typeof NOT_SUPPORTED, fallback?: GraphOperation['fallback']): string =>
    sets === NOT_SUPPORTED
      ? 'not supported'
      : `${sets.map((s) => s.map((p) => `\`${p}\``).join(' + ')).join(', ')}${fallback ? `; without them ${setText(fallback.sets)} through ${fallback.route}` : ''}`;
  const adminText = (operation: GraphOperation): string =>
    operation.delegatedAdminTargets ? `; on administrators also ${setText(operation.delegatedAdminTargets)}` : '';
  const rolesText = (r: RoleRequirement) => {
    if (r.allTargets.length === 0 && r.nonAdminTargets.length === 0) return 'none';
    const all = r.allTargets.join(' or ');
    return r.nonAdminTargets.length > 0 ? `${r.nonAdminTargets.join(' or ')} (non-admin users); ${all} (all users)` : all;
  };
  const lines = [
    '| feature | GraphQL fields | mode | Graph call | application permissions (least first) | delegated permissions (least first) | Entra role, app-only | Entra role, delegated |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const feature of FEATURES) {
    for (const [index, { operation }] of operationsOf(feature).entries()) {
      const first = index === 0;
      lines.push(
        `| ${first ? `\`${feature.id}\`` : ''} | ${first ? feature.fields.map((f) => `\`${f}\``).join(', ') : ''} | ${first ? feature.modes : ''} | \`${operation.call}\` | ${setText(operation.application, operation.fallback)} | ${setText(operation.delegated, operation.fallback)}${adminText(operation)} | ${first ? rolesText(feature.roles.application) : ''} | ${first ? rolesText(feature.roles.delegated) : ''} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
