import type DataLoader from 'dataloader';
import type { RoleGrants } from './role-grants.js';

/**
 * The contract between the GraphQL layer (src/graphql) and the Graph client (src/graph).
 * Resolvers speak in these domain calls; the Graph client owns URLs, auth headers, `$batch`,
 * retries, paging and error mapping. Property names are Graph's (`displayName`, ...).
 */

/** A Graph user object as returned with `$select` (only selected properties present). */
export interface GraphUser {
  id: string;
  [property: string]: unknown;
}

export interface GraphGroup {
  id: string;
  [property: string]: unknown;
}

export interface GraphDirectoryObject {
  id: string;
  '@odata.type'?: string;
  [property: string]: unknown;
}

/**
 * The `@odata.type` of users, lower case: `user` and its derived `agentUser` (resources/agentuser,
 * "Inherits from user"), which Graph lists among `/users` and which can manage and report to users
 * (docs/graph-facts.md#manager-and-bulk-lookup, "Agent users"). Compared in any letter case: the
 * agentUser list page spells the type both `agentUser` and `AgentUser`.
 */
const USER_TYPES: ReadonlySet<string> = new Set(['#microsoft.graph.user', '#microsoft.graph.agentuser']);

/**
 * Whether a directoryObject Graph returned is a user. A user's manager can be an organizational
 * contact and direct reports include contacts (`@odata.type` `#microsoft.graph.orgContact`,
 * docs/graph-facts.md#manager-and-bulk-lookup); the User type shows users only, agent users
 * included. An item without `@odata.type` is taken as what was asked for (a user).
 */
export function isUserObject(value: { readonly [property: string]: unknown }): boolean {
  const type = value['@odata.type'];
  return type === undefined || (typeof type === 'string' && USER_TYPES.has(type.toLowerCase()));
}

/** Whether a directoryObject of `memberOf` is a group (it also holds directory roles and administrative units). */
export function isGroupObject(value: { readonly [property: string]: unknown }): boolean {
  const type = value['@odata.type'];
  return type === undefined || type === '#microsoft.graph.group';
}

/**
 * Whether a directoryObject of `ownedDevices` is a device: Graph's API description lets the list hold
 * endpoints and appRoleAssignments too (docs/graph-facts.md#manager-and-bulk-lookup, "Owned devices
 * are not always devices").
 */
export function isDeviceObject(value: { readonly [property: string]: unknown }): boolean {
  const type = value['@odata.type'];
  return type === undefined || type === '#microsoft.graph.device';
}

/** Graph user properties the gateway can select (the User type's scalar fields). */
export type UserProperty = string;

/** One page of a Graph collection. `nextLink` is Graph's `@odata.nextLink` (absolute URL). */
export interface GraphPage<T> {
  items: T[];
  nextLink: string | null;
  /** `@odata.count`, only when it was asked for. */
  count: number | null;
}

/** Compiled list query: produced by the GraphQL layer's filter/search compiler. */
export interface UserListQuery {
  /** OData `$filter` text, already escaped. */
  filter?: string;
  /** OData `$search` text, already quoted/escaped. */
  search?: string;
  orderBy?: string;
  top: number;
  select: UserProperty[];
  /** `$expand=manager($select=...)` in the same request. */
  expandManager?: UserProperty[];
  /** Ask for `@odata.count`. */
  count: boolean;
  /** Needs `ConsistencyLevel: eventual` + `$count=true` (Graph advanced query). */
  advanced: boolean;
}

/**
 * Continuation of a collection: either the first page's query or a Graph nextLink. `fromGraph`: the
 * link is one Graph sent in this operation (a page filled from several), not a caller's cursor, so
 * a link the gateway will not follow is Graph's answer gone wrong (UPSTREAM_ERROR), not the caller's.
 */
export type PageRequest<Q> = { kind: 'first'; query: Q } | { kind: 'next'; nextLink: string; advanced: boolean; fromGraph?: boolean };

export interface RelationshipPageQuery {
  top: number;
  select: UserProperty[];
}

export type AuthMethodKind =
  | 'all'
  | 'email'
  | 'phone'
  | 'fido2'
  | 'microsoftAuthenticator'
  | 'softwareOath'
  | 'windowsHelloForBusiness'
  | 'temporaryAccessPass'
  | 'password'
  | 'external'
  | 'platformCredential';

/** The kinds the delete mutation may remove (docs/mutations.md): not the password (reset, never deleted). */
export type DeletableAuthMethodKind = Exclude<AuthMethodKind, 'all' | 'password'>;

export interface UserChangesPage {
  changed: GraphUser[];
  removed: Array<{ id: string; reason: 'changed' | 'deleted' }>;
  /** Set while more pages follow. */
  nextLink: string | null;
  /** Set on the last page: the token for the next round. */
  deltaLink: string | null;
}

/**
 * Per-request Graph client bound to one caller's Graph identity. Built by
 * `createGraphClient(deps)` in src/graph/client.ts. Every method maps Graph failures to
 * GatewayError (src/errors.ts) carrying Graph's request-id; `null` means Graph said 404.
 */
export interface GraphUsersClient {
  getUser(idOrUpn: string, select: UserProperty[], options?: { expandManager?: UserProperty[] }): Promise<GraphUser | null>;
  me(select: UserProperty[]): Promise<GraphUser | null>;
  listUsers(page: PageRequest<UserListQuery>): Promise<GraphPage<GraphUser>>;
  getManager(userIdOrUpn: string, select: UserProperty[]): Promise<GraphUser | null>;
  listDirectReports(userIdOrUpn: string, page: PageRequest<RelationshipPageQuery>): Promise<GraphPage<GraphUser>>;
  listMemberOf(userIdOrUpn: string, page: PageRequest<RelationshipPageQuery>): Promise<GraphPage<GraphGroup>>;
  listOwnedDevices(userIdOrUpn: string, page: PageRequest<RelationshipPageQuery & { filter?: string }>): Promise<GraphPage<GraphDirectoryObject>>;
  /**
   * The user's PIM eligibilities and active role assignments at any scope, as principal (by object
   * id; src/graph/role-grants.ts), and those of the role-assignable groups the user is a member of or
   * owns, and of the groups it is PIM-eligible for: one `$batch` (the user's grants, its groups), a
   * second for the groups' grants only when there are groups. The first `$batch` also carries the
   * directoryRole cast (the user's activated roles), counted in `activeRoles`. Throws a RoleGrantLookupFailure naming the lookup
   * Graph did not answer (the cast's first, when it failed and nothing was found), or past
   * MAX_GROUP_PRINCIPALS groups. (Additive.)
   */
  roleGrantsOf(principalId: string): Promise<RoleGrants>;
  /** Every page of the user's methods of that kind. */
  listAuthMethods(userIdOrUpn: string, kind: AuthMethodKind): Promise<GraphDirectoryObject[]>;
  /**
   * One stretch of a delta round: the first request when `deltaLink` is absent, else the given
   * nextLink or deltaLink; follows nextLinks until a deltaLink or until `maxPages` pages were read
   * (then `nextLink` says where the round continues).
   */
  userChanges(input: { deltaLink?: string; select: UserProperty[]; maxPages?: number }): Promise<UserChangesPage>;
}

/** Loader key for one user lookup; `select` sorted and deduplicated by the caller. */
export interface UserLookupKey {
  /** Object id (GUID) or userPrincipalName. */
  key: string;
  select: UserProperty[];
  /**
   * Also fetch the user's manager with these properties, in the same request
   * (`GET /users/{id}?$select=...&$expand=manager($select=...)`, batched 20 per `$batch`). Ask for
   * it when the operation selects `manager` under many looked-up users: 50 GUID lookups with
   * `manager { displayName }` then cost 3 requests instead of 1 getByIds + 3 manager batches.
   * The manager comes back as the user's `manager` property (absent when the user has none).
   * (Additive, Graph client.)
   */
  expandManager?: UserProperty[];
}

/** Per-request DataLoaders over the client (src/graph/loaders.ts `createGraphLoaders`). */
export interface GraphLoaders {
  /** GUIDs through getByIds or $batch (whichever needs fewer round trips), UPNs through $batch. */
  user: DataLoader<UserLookupKey, GraphUser | null, string>;
  /** Manager of a user, batched through $batch. */
  managerOf: DataLoader<UserLookupKey, GraphUser | null, string>;
  /** First page of direct reports, users only (contacts left out, as `listDirectReports` does), batched through $batch. */
  directReportsOf: DataLoader<UserLookupKey & { top: number }, GraphPage<GraphUser>, string>;
  /**
   * First page of a user's `memberOf`, groups only (directory roles and administrative units left
   * out, as `listMemberOf` does), batched through the same $batch run. Later pages go through
   * `GraphUsersClient.listMemberOf` with the page's nextLink. (Additive.)
   */
  membershipsOf: DataLoader<RelationshipPageKey, GraphPage<GraphGroup>, string>;
  /** First page of a user's owned devices, batched through the same $batch run. (Additive.) */
  ownedDevicesOf: DataLoader<RelationshipPageKey, GraphPage<GraphDirectoryObject>, string>;
  /**
   * Every authentication method of one kind of a user: the first pages of all users in one
   * $batch run, the rare further pages followed per user. (Additive.)
   */
  authMethodsOf: DataLoader<AuthMethodsKey, GraphDirectoryObject[], string>;
  /**
   * How many lookups by object id of one `$select` one Graph request answers for this Graph
   * identity right now: a getByIds (1000), or 20 once getByIds refused the identity and its
   * lookups ride `$batch` (src/graph/bulk-lookup-route.ts). The upstream budget counts with it.
   */
  idLookupsPerRequest(): number;
}

/** Loader key for the first page of a user's relationship collection. */
export interface RelationshipPageKey extends UserLookupKey {
  /** Page size (`$top`), part of the key: different sizes are different requests. */
  top: number;
}

/** Loader key for a user's authentication methods of one kind. */
export interface AuthMethodsKey {
  /** Object id (GUID) or userPrincipalName. */
  key: string;
  kind: AuthMethodKind;
}
