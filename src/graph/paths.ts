import { badInput } from '../errors.js';
import type { AuthMethodKind } from './api.js';

/**
 * The only place Graph URLs are built. Every id or userPrincipalName goes through
 * `addressSegment`, which refuses what Graph cannot address and percent-encodes the rest
 * (docs/graph-facts.md#addressing-users-and-encoding), so `/`, `?`, `#` and `%` in an id can never change which resource is called.
 */

declare const graphPathBrand: unique symbol;

/** A Graph path relative to the version root (`/v1.0`), with the route template for metrics. */
export interface GraphPath {
  /** Encoded path, e.g. `/users/adele%23EXT%23@contoso.com/manager`. */
  readonly path: string;
  /** Route template without ids, e.g. `/users/{id}/manager`. */
  readonly template: string;
  /** Query string carried over from a validated nextLink (already encoded, with `?`). */
  readonly rawQuery?: string;
  readonly [graphPathBrand]: true;
}

function graphPath(path: string, template: string, rawQuery?: string): GraphPath {
  return (rawQuery === undefined ? { path, template } : { path, template, rawQuery }) as GraphPath;
}

/** Longest id or UPN the gateway sends: UPNs are at most 113 characters, object ids 36. */
export const MAX_ADDRESS_LENGTH = 256;

// C0 and C1 controls, DEL, and the Unicode line/paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Refuses ids Graph cannot address (with BAD_USER_INPUT, before anything is sent): empty, too
 * long, control characters, dot segments (`.`/`..` are resolved away by URL parsers even when
 * percent-encoded) and consecutive dots (never valid in a UPN or an object id).
 */
export function assertAddressable(value: string, what = 'user id'): void {
  if (typeof value !== 'string' || value.length === 0 || value.trim().length === 0) {
    throw badInput(`The ${what} must not be empty.`);
  }
  if (value.length > MAX_ADDRESS_LENGTH) {
    throw badInput(`The ${what} is ${value.length} characters long; at most ${MAX_ADDRESS_LENGTH} are allowed.`);
  }
  if (CONTROL_CHARACTERS.test(value)) throw badInput(`The ${what} must not contain control characters.`);
  if (value === '.' || value.includes('..')) throw badInput(`The ${what} must not contain '..'.`);
  if (LONE_SURROGATE.test(value)) throw badInput(`The ${what} must be valid Unicode text.`);
}

/** encodeURIComponent, keeping `@` and `$` readable (both are legal in a path segment). */
function encodeSegment(value: string): string {
  return encodeURIComponent(value).replace(/%40/g, '@').replace(/%24/g, '$');
}

/**
 * The path segment(s) addressing one user: `/users/{encoded}` or, for a UPN starting with `$`
 * (which Graph would read as a system segment), `/users('{encoded, quotes doubled}')`.
 */
function userBase(idOrUpn: string): string {
  assertAddressable(idOrUpn);
  const encoded = encodeSegment(idOrUpn);
  if (idOrUpn.startsWith('$')) return `/users('${encoded.replace(/'/g, "''")}')`;
  return `/users/${encoded}`;
}

/** Fixed sub-resources of a user; literal strings only, never caller text. */
export type UserSubresource =
  | 'manager'
  | 'manager/$ref'
  | 'directReports'
  | 'memberOf'
  | 'transitiveMemberOf/microsoft.graph.directoryRole'
  | 'transitiveMemberOf/microsoft.graph.group'
  | 'getMemberObjects'
  | 'ownedDevices'
  | 'revokeSignInSessions'
  | 'authentication/methods'
  | `authentication/${string}Methods`;

const AUTH_METHOD_COLLECTION: Record<AuthMethodKind, UserSubresource> = {
  all: 'authentication/methods',
  email: 'authentication/emailMethods',
  phone: 'authentication/phoneMethods',
  fido2: 'authentication/fido2Methods',
  microsoftAuthenticator: 'authentication/microsoftAuthenticatorMethods',
  softwareOath: 'authentication/softwareOathMethods',
  windowsHelloForBusiness: 'authentication/windowsHelloForBusinessMethods',
  temporaryAccessPass: 'authentication/temporaryAccessPassMethods',
  password: 'authentication/passwordMethods',
  // Named differently from the others (authentication-list-externalauthenticationmethods,
  // platformcredentialauthenticationmethod-list).
  external: 'authentication/externalAuthenticationMethods',
  platformCredential: 'authentication/platformCredentialMethods',
};

export const graphPaths = {
  users: (): GraphPath => graphPath('/users', '/users'),
  usersDelta: (): GraphPath => graphPath('/users/delta', '/users/delta'),
  me: (): GraphPath => graphPath('/me', '/me'),
  getByIds: (): GraphPath => graphPath('/directoryObjects/getByIds', '/directoryObjects/getByIds'),
  batch: (): GraphPath => graphPath('/$batch', '/$batch'),
  /** `/users/{id | upn}`. Throws BAD_USER_INPUT for ids Graph cannot address. */
  user: (idOrUpn: string): GraphPath => graphPath(userBase(idOrUpn), '/users/{id}'),
  /** `/users/{id | upn}/<fixed sub-resource>`. */
  userSub: (idOrUpn: string, sub: UserSubresource): GraphPath => graphPath(`${userBase(idOrUpn)}/${sub}`, `/users/{id}/${sub}`),
  /** The collection holding a user's authentication methods of one kind. */
  userAuthMethods: (idOrUpn: string, kind: AuthMethodKind): GraphPath => graphPaths.userSub(idOrUpn, AUTH_METHOD_COLLECTION[kind]),
  /**
   * One authentication method, optionally with an action (`resetPassword`) or `$ref` (an external
   * method is deleted there: authentication-delete-externalauthenticationmethods).
   */
  userAuthMethod: (idOrUpn: string, kind: AuthMethodKind, methodId: string, action?: 'resetPassword' | '$ref'): GraphPath => {
    assertAddressable(methodId, 'authentication method id');
    const sub = AUTH_METHOD_COLLECTION[kind];
    const tail = action ? `/${action}` : '';
    return graphPath(`${userBase(idOrUpn)}/${sub}/${encodeSegment(methodId)}${tail}`, `/users/{id}/${sub}/{methodId}${tail}`);
  },
  /** `/servicePrincipals(appId='{appId}')`: an app's service principal in the tenant (`npm run doctor`). */
  servicePrincipalByAppId: (appId: string): GraphPath => {
    assertAddressable(appId, 'application id');
    return graphPath(`/servicePrincipals(appId='${encodeSegment(appId).replace(/'/g, "''")}')`, "/servicePrincipals(appId='{appId}')");
  },
  /** Directory role assignments (`npm run doctor` reads the app's own). */
  directoryRoleAssignments: (): GraphPath => graphPath('/roleManagement/directory/roleAssignments', '/roleManagement/directory/roleAssignments'),
  /** PIM role eligibilities (the administrator-target check lists a user's own, src/graph/role-grants.ts). */
  roleEligibilityInstances: (): GraphPath =>
    graphPath('/roleManagement/directory/roleEligibilityScheduleInstances', '/roleManagement/directory/roleEligibilityScheduleInstances'),
  /** PIM for Groups eligibilities (the administrator-target check lists a user's own, src/graph/role-grants.ts). */
  groupEligibilityInstances: (): GraphPath =>
    graphPath(
      '/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances',
      '/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances',
    ),
  /** The tenant's groups (the administrator-target check lists the role-assignable ones with their owners, src/graph/role-grants.ts). */
  groups: (): GraphPath => graphPath('/groups', '/groups'),
  /** A group's owners, by its object id (a GUID the caller never typed: taken from Graph's own answer). */
  groupOwners: (groupId: string): GraphPath => {
    assertAddressable(groupId, 'group id');
    return graphPath(`/groups/${encodeSegment(groupId)}/owners`, '/groups/{id}/owners');
  },
  /** The ids of every group, administrative unit and directory role a user is a member of, transitively (a POST function that reads). */
  userMemberObjects: (id: string): GraphPath => graphPaths.userSub(id, 'getMemberObjects'),
  /** A user's activated directory roles, direct or through groups (an OData cast: an advanced query). */
  userDirectoryRoles: (idOrUpn: string): GraphPath => graphPaths.userSub(idOrUpn, 'transitiveMemberOf/microsoft.graph.directoryRole'),
  /** The signed-in user's directory roles, direct or through groups (an OData cast: an advanced query). */
  myDirectoryRoles: (): GraphPath => graphPath('/me/transitiveMemberOf/microsoft.graph.directoryRole', '/me/transitiveMemberOf/microsoft.graph.directoryRole'),
  /** Rebuilds a path from a nextLink/deltaLink already checked by `validateContinuationLink`. */
  continuation: (path: string, template: string, rawQuery: string): GraphPath => graphPath(path, template, rawQuery),
};

/** Characters encodeURIComponent keeps, plus the OData punctuation `encodeQuery` leaves readable. */
const NOTHING_TO_ENCODE = /^[A-Za-z0-9\-_.!~*'(),$:=;@]*$/;

/**
 * Query string for OData parameters: keys as they are (`$select`), values percent-encoded with
 * the OData punctuation Graph documents left readable (`,` `$` `:` `=` `;` `@`). Anything else a
 * value holds (`&`, `#`, `+`, `%`, quotes, spaces) is encoded.
 */
export function encodeQuery(query: Record<string, string | undefined> | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    // Most values ($select lists, $expand, $top) hold nothing to encode: skip the six replaces.
    if (NOTHING_TO_ENCODE.test(value)) {
      parts.push(`${key}=${value}`);
      continue;
    }
    const encoded = encodeURIComponent(value)
      .replace(/%2C/g, ',')
      .replace(/%24/g, '$')
      .replace(/%3A/g, ':')
      .replace(/%3D/g, '=')
      .replace(/%3B/g, ';')
      .replace(/%40/g, '@');
    parts.push(`${key}=${encoded}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** `path` + query, relative to the version root: the form a `$batch` item's `url` takes. */
export function relativeUrl(path: GraphPath, query?: Record<string, string | undefined>): string {
  const own = encodeQuery(query);
  if (path.rawQuery) return `${path.path}${path.rawQuery}${own ? `&${own.slice(1)}` : ''}`;
  return `${path.path}${own}`;
}
