/**
 * The emulator tenant's data model: what Entra ID stores. Graph routes project these records to
 * Graph's JSON; identity routes read apps, users' passwords and session validity from them.
 * Fields prefixed with `_` are internal to the emulator and never appear in a Graph response.
 */
import type { TemporaryAccessPassPolicy } from './tap-policy.js';

export type AuthMethodType =
  | 'password'
  | 'email'
  | 'phone'
  | 'fido2'
  | 'microsoftAuthenticator'
  | 'softwareOath'
  | 'windowsHelloForBusiness'
  | 'temporaryAccessPass'
  | 'external'
  | 'platformCredential'
  | 'qrCodePin';

export interface AuthMethodRecord {
  id: string;
  type: AuthMethodType;
  /** Graph properties of the method resource, without `id` and `@odata.type`. */
  data: Record<string, unknown>;
}

/** A role (a built-in role's name) at a directory scope: `/` (the tenant) or `/administrativeUnits/{id}`. */
export interface RoleGrantRecord {
  role: string;
  directoryScopeId: string;
}

export interface UserRecord {
  id: string;
  displayName: string;
  givenName: string | null;
  surname: string | null;
  userPrincipalName: string;
  mail: string | null;
  mailNickname: string;
  otherMails: string[];
  jobTitle: string | null;
  department: string | null;
  officeLocation: string | null;
  mobilePhone: string | null;
  businessPhones: string[];
  accountEnabled: boolean;
  userType: 'Member' | 'Guest';
  createdDateTime: string;
  employeeId: string | null;
  employeeType: string | null;
  companyName: string | null;
  city: string | null;
  country: string | null;
  preferredLanguage: string | null;
  /** ISO 3166 alpha-2 code, needed to assign licences (resources/user). */
  usageLocation: string | null;
  onPremisesSyncEnabled: boolean | null;
  onPremisesImmutableId: string | null;
  signInSessionsValidFromDateTime: string;
  passwordProfile: { forceChangePasswordNextSignIn: boolean; forceChangePasswordNextSignInWithMfa: boolean };
  /** A user's or an organizational contact's object id. */
  managerId: string | null;
  memberOf: string[];
  ownedDevices: string[];
  authMethods: AuthMethodRecord[];
  /** Emulator-internal: the password that signs this user in (ROPC / sandbox consent). */
  _password: string;
  /** Emulator-internal: Entra directory roles, e.g. `Global Administrator`, `User Administrator`. */
  _directoryRoles: string[];
  /**
   * Emulator-internal: the userPrincipalNames this user had before, oldest first, each with the time
   * (emulator clock, ms) it stopped being the user's; read by advanced queries under an index lag
   * (GraphSettings.advancedQueryIndexLagSeconds). Unset: never renamed.
   */
  _previousUpns?: Array<{ upn: string; untilMs: number }>;
  /**
   * Emulator-internal: when (emulator clock, ms) the user joined a group of `memberOf` (keyed by the
   * group id) or was granted a role of `_directoryRoles` (keyed `role:{name}`), for recent ones;
   * advanced queries under an index lag (GraphSettings.advancedQueryIndexLagSeconds) do not list it
   * until the lag has passed, other reads (getMemberObjects, the role lists) do
   * (docs/graph-facts.md#writes-and-permissions, "Recent memberships"). Not listed here: held by the
   * index all along. Unset: none recent.
   */
  _joinedAtMs?: Record<string, number>;
  /**
   * Emulator-internal: roles the user is only eligible for through Privileged Identity Management
   * (not activated, so not in `_directoryRoles` nor memberOf), listed by
   * `/roleManagement/directory/roleEligibilityScheduleInstances`. Unset: none.
   */
  _eligibleRoles?: RoleGrantRecord[];
  /**
   * Emulator-internal: active role assignments scoped to an administrative unit (not in
   * `_directoryRoles` nor memberOf, which hold tenant-wide roles only), listed by
   * `/roleManagement/directory/roleAssignments`. Unset: none.
   */
  _scopedRoles?: RoleGrantRecord[];
  /**
   * Emulator-internal: groups the user is eligible for through PIM for Groups, as a member or an
   * owner (not activated, so not in `memberOf`), listed by
   * `/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances`. Unset: none.
   */
  _eligibleGroups?: Array<{ groupId: string; accessId: 'member' | 'owner' }>;
  /**
   * Emulator-internal: the id of the method (one of `authMethods`) that is the user's default
   * multifactor authentication method, or null. Graph refuses to delete it
   * (docs/graph-facts.md#deleting-authentication-methods); v1.0 does not expose it.
   */
  _defaultMfaMethodId: string | null;
  /**
   * Emulator-internal: a Conditional Access policy asks this user for multifactor authentication to
   * reach Microsoft Graph, so an on-behalf-of exchange of a token without `mfa` in `amr` is refused
   * with `interaction_required` and a claims challenge (docs/graph-facts.md#caller-tokens). Unset: none.
   */
  _graphRequiresMfa?: boolean;
  /**
   * Set on an agent user (resources/agentuser: "Inherits from user"; `identityParentId` names its parent
   * agent identity): Graph types it `#microsoft.graph.agentUser` where it lists directory objects, as
   * someone's manager or direct report (docs/graph-facts.md#manager-and-bulk-lookup, "Agent users").
   * None are seeded; tests set it. Unset: a user.
   */
  identityParentId?: string;
}

/**
 * An organizational contact (Graph's `orgContact`): a mail contact in the directory, not a user.
 * It can be a user's manager and a user's direct report (docs/graph-facts.md#manager-and-bulk-lookup).
 */
export interface ContactRecord {
  kind: 'orgContact';
  id: string;
  displayName: string;
  givenName: string | null;
  surname: string | null;
  mail: string | null;
  mailNickname: string | null;
  jobTitle: string | null;
  department: string | null;
  companyName: string | null;
  /** The user (object id) this contact reports to, if any. */
  managerId: string | null;
}

export interface GroupRecord {
  id: string;
  displayName: string;
  description: string | null;
  mail: string | null;
  mailEnabled: boolean;
  securityEnabled: boolean;
  groupTypes: string[];
  /**
   * Created as role-assignable (immutable in Graph): only such a group can be granted a directory
   * role (docs/graph-facts.md#writes-and-permissions, "Roles held through a group"). Unset: false.
   */
  isAssignableToRole?: boolean;
  /**
   * The group's standing owners (user object ids): Graph's `owners` relationship, at most 100
   * (resources/group). An owner manages the membership, so an owner of a role-assignable group can
   * add themselves and hold its roles (docs/graph-facts.md#writes-and-permissions, "Roles held
   * through a group"). Unset: none.
   */
  owners?: string[];
  /** Emulator-internal: PIM eligibilities held by this (role-assignable) group as principal. Unset: none. */
  _eligibleRoles?: RoleGrantRecord[];
  /** Emulator-internal: active assignments scoped to an administrative unit held by this group as principal. Unset: none. */
  _scopedRoles?: RoleGrantRecord[];
}

export interface DeviceRecord {
  id: string;
  deviceId: string;
  displayName: string;
  operatingSystem: string;
  operatingSystemVersion: string;
  accountEnabled: boolean;
  trustType: string | null;
  approximateLastSignInDateTime: string | null;
}

/**
 * An `endpoint` object (resources/endpoint): a URL of a resource published for a directory object.
 * Graph's API description lets a user's `ownedDevices` hold endpoints and appRoleAssignments besides
 * devices (docs/graph-facts.md#manager-and-bulk-lookup, "Owned devices are not always devices").
 * None are seeded; `POST /_emulator/endpoints` adds one to a user's ownedDevices.
 */
export interface EndpointRecord {
  kind: 'endpoint';
  id: string;
  capability: string;
  providerId: string | null;
  providerName: string | null;
  providerResourceId: string | null;
  uri: string;
}

export interface AppCertificate {
  /** base64url SHA-256 thumbprint of the DER certificate (x5t#S256). */
  thumbprintSha256: string;
  /** base64url SHA-1 thumbprint (x5t), for older clients. */
  thumbprintSha1: string;
  certificatePem: string;
}

export interface AppRegistration {
  appId: string;
  /** Service principal object id (the `oid` of app-only tokens). */
  servicePrincipalId: string;
  displayName: string;
  secrets: string[];
  /**
   * Client secrets past their end date: still the app's, so Entra names them, answering AADSTS7000222
   * instead of a wrong secret's AADSTS7000215 (docs/graph-facts.md#refresh-tokens). Tests move a
   * secret here to expire it.
   */
  expiredSecrets?: string[];
  certificates: AppCertificate[];
  /** Graph application permissions granted with admin consent (become `roles`). */
  graphAppRoles: string[];
  /** Graph delegated permissions consented for the tenant (become `scp`). */
  graphDelegatedScopes: string[];
  redirectUris: string[];
  /** Entra directory roles assigned to the app's service principal. */
  directoryRoles: string[];
  /**
   * Permissions this app holds as a client of the tenant's custom APIs (app roles with client
   * credentials, delegated scopes for a signed-in user), matched by name against what each API
   * defines (`api.appRoles`, `api.scopes`): the gateway's API defines Users.Read, Users.Write...
   */
  gatewayApiRoles: string[];
  /** The web API this registration exposes ("Expose an API"), if any. */
  api?: ExposedApi;
}

/**
 * A custom API of an app registration (docs/graph-facts.md#caller-tokens): its App ID URIs, the
 * access token version its manifest asks for (`requestedAccessTokenVersion`: null or 1 give v1.0
 * tokens, 2 gives v2.0 tokens), and the delegated scopes and app roles it defines.
 */
export interface ExposedApi {
  identifierUris: string[];
  requestedAccessTokenVersion: 1 | 2 | null;
  scopes: string[];
  appRoles: string[];
}

export interface BrokerRegistration {
  /** The "ID" the operator got from the consent flow. */
  id: string;
  /** The "Token": for Graph User it is the tenant id. */
  token: string;
  /** The "Key": base64 of a 32-byte AES-256-GCM key. */
  key: string;
  /** The app whose tokens the broker hands out (the hosted, multi-tenant app). */
  appId: string;
}

/** A change recorded for `/users/delta`. */
export interface UserChange {
  seq: number;
  userId: string;
  kind: 'changed' | 'removed-soft' | 'removed-hard';
  at: number;
  /** Graph properties a `changed` entry changed; absent: the whole object (a new user). */
  properties?: readonly string[];
  /** The manager a manager removal took away (for `manager@delta`). */
  formerManagerId?: string;
}

export interface TenantModel {
  tenantId: string;
  /** The verified default domain, e.g. `contoso.example`. */
  domain: string;
  users: Map<string, UserRecord>;
  /** Soft-deleted users (restorable). */
  deletedUsers: Map<string, UserRecord>;
  groups: Map<string, GroupRecord>;
  devices: Map<string, DeviceRecord>;
  /** Organizational contacts; none are seeded, `POST /_emulator/contacts` adds them. */
  contacts: Map<string, ContactRecord>;
  /** Endpoint objects a user owns (listed in ownedDevices); none are seeded, `POST /_emulator/endpoints` adds them. */
  endpoints: Map<string, EndpointRecord>;
  apps: Map<string, AppRegistration>;
  brokerRegistrations: Map<string, BrokerRegistration>;
  /** The Temporary Access Pass authentication method policy (src/emulator/tap-policy.ts). */
  temporaryAccessPassPolicy: TemporaryAccessPassPolicy;
  /** Monotonic change log for delta queries. */
  changes: UserChange[];
  changeSeq: number;
  /** Well-known ids tests and docs rely on. */
  wellKnown: {
    /** A Global Administrator who signs in for the sandbox's delegated flows. */
    adminUserId: string;
    adminPassword: string;
    /** The self-deployed demo app: every Graph permission the gateway uses. */
    demoAppId: string;
    demoAppSecret: string;
    /** An app with only User.Read.All (for 403 tests). */
    readOnlyAppId: string;
    readOnlyAppSecret: string;
    /** The hosted (broker) app id and the seeded broker registration. */
    hostedAppId: string;
    brokerRegistrationId: string;
    /** The App ID URI of the gateway's own API, exposed by the demo app (audience of v1.0 caller tokens). */
    gatewayApiAudience: string;
    /** The App ID URI of another API in the tenant (a v2.0 API the caller apps hold no permission on). */
    otherApiAudience: string;
    /** A caller service app holding every gateway API role, and one holding only Users.Read. */
    callerAppId: string;
    callerAppSecret: string;
    readerCallerAppId: string;
    readerCallerAppSecret: string;
  };
}
