/**
 * Graph entity types the emulator serves (user, group, device): their JSON projection, property
 * names, default `$select` set and `$filter` capabilities (docs/graph-facts.md#user-properties, #listing-users).
 */
import type { DeviceRecord, GroupRecord, UserRecord } from '../model.js';
import { newUserRecord } from '../user-record.js';
import { badRequest, unknownProperty, unsupportedQuery } from './errors.js';
import type { FilterNode } from './odata-filter.js';

/** d = default query, a = advanced query only; an operator left out is refused even as an advanced query. */
type Level = 'd' | 'a';
export interface FilterCaps {
  eq?: Level;
  /**
   * `in`; when left out it follows `eq` (aad-advanced-queries: "The `in` operator is supported by
   * default whenever `eq` operator is supported by default").
   */
  in?: Level;
  startsWith?: Level;
  endsWith?: Level;
  /** ge/le (gt/lt are always advanced). */
  range?: Level;
  /** `eq null` / `ne null` (the table's "eq Null" column). */
  eqNull?: Level;
  /** A collection filtered through `any()`, with the element's capabilities. */
  element?: FilterCaps;
}

export interface EntityType<R> {
  typeName: string;
  odataType: string;
  /** Name in Graph's UnsupportedQuery messages ("... of resource 'User'"). */
  resourceName: string;
  /** The full JSON object (every property Graph can return). */
  toGraph(record: R): Record<string, unknown>;
  /** Canonical property names, selectable with `$select`. */
  properties: readonly string[];
  defaultSelect: readonly string[];
  filterCaps: Readonly<Record<string, FilterCaps>>;
  /** Properties a list request cannot select (501). */
  singleGetOnly?: ReadonlySet<string>;
}

export const USER_DEFAULT_SELECT = [
  'businessPhones',
  'displayName',
  'givenName',
  'id',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
] as const;

const USER_SINGLE_GET_ONLY = [
  'aboutMe',
  'birthday',
  'hireDate',
  'interests',
  'mySite',
  'pastProjects',
  'preferredName',
  'responsibilities',
  'schools',
  'skills',
  'mailboxSettings',
];

function extensionAttributes(): Record<string, null> {
  const out: Record<string, null> = {};
  for (let i = 1; i <= 15; i += 1) out[`extensionAttribute${i}`] = null;
  return out;
}

export function userToGraph(u: UserRecord): Record<string, unknown> {
  return {
    id: u.id,
    accountEnabled: u.accountEnabled,
    ageGroup: null,
    assignedLicenses: [],
    assignedPlans: [],
    businessPhones: [...u.businessPhones],
    city: u.city,
    companyName: u.companyName,
    consentProvidedForMinor: null,
    country: u.country,
    createdDateTime: u.createdDateTime,
    creationType: null,
    deletedDateTime: null,
    department: u.department,
    displayName: u.displayName,
    employeeHireDate: null,
    employeeId: u.employeeId,
    employeeLeaveDateTime: null,
    employeeType: u.employeeType,
    externalUserState: u.userType === 'Guest' ? 'Accepted' : null,
    externalUserStateChangeDateTime: null,
    faxNumber: null,
    givenName: u.givenName,
    identities: [
      u.userType === 'Guest'
        ? { signInType: 'federated', issuer: 'ExternalAzureAD', issuerAssignedId: null }
        : { signInType: 'userPrincipalName', issuer: u.userPrincipalName.split('@')[1] ?? '', issuerAssignedId: u.userPrincipalName },
    ],
    imAddresses: u.mail ? [u.mail] : [],
    isResourceAccount: null,
    jobTitle: u.jobTitle,
    lastPasswordChangeDateTime: u.createdDateTime,
    legalAgeGroupClassification: null,
    licenseAssignmentStates: [],
    mail: u.mail,
    mailNickname: u.mailNickname,
    mobilePhone: u.mobilePhone,
    officeLocation: u.officeLocation,
    onPremisesDistinguishedName: null,
    onPremisesDomainName: null,
    onPremisesExtensionAttributes: extensionAttributes(),
    onPremisesImmutableId: u.onPremisesImmutableId,
    onPremisesLastSyncDateTime: u.onPremisesSyncEnabled ? u.createdDateTime : null,
    onPremisesSamAccountName: null,
    onPremisesSecurityIdentifier: null,
    onPremisesSyncEnabled: u.onPremisesSyncEnabled,
    onPremisesUserPrincipalName: null,
    otherMails: [...u.otherMails],
    passwordPolicies: null,
    passwordProfile: { password: null, ...u.passwordProfile },
    postalCode: null,
    preferredDataLocation: null,
    preferredLanguage: u.preferredLanguage,
    provisionedPlans: [],
    proxyAddresses: u.mail ? [`SMTP:${u.mail}`] : [],
    securityIdentifier: `S-1-12-1-${parseInt(u.id.slice(0, 8), 16)}`,
    showInAddressList: null,
    signInSessionsValidFromDateTime: u.signInSessionsValidFromDateTime,
    state: null,
    streetAddress: null,
    surname: u.surname,
    usageLocation: u.usageLocation,
    userPrincipalName: u.userPrincipalName,
    userType: u.userType,
    // Single-GET-only properties (a list that selects them gets 501).
    aboutMe: null,
    birthday: '0001-01-01T00:00:00Z',
    hireDate: '0001-01-01T00:00:00Z',
    interests: [],
    mySite: null,
    pastProjects: [],
    preferredName: null,
    responsibilities: [],
    schools: [],
    skills: [],
    mailboxSettings: null,
  };
}

/** Any user: its Graph shape names every property the entity has (the `$select` vocabulary). */
const sampleUser = userToGraph(
  newUserRecord({ id: '00000000-0000-0000-0000-000000000000', displayName: '', userPrincipalName: 'x@y', createdMs: 0, password: '' }),
);

const D: FilterCaps = { eq: 'd', startsWith: 'd' };
/** eq and startsWith by default, `eq null` advanced: most string rows of the user table. */
const DN: FilterCaps = { eq: 'd', startsWith: 'd', eqNull: 'a' };
/** eq, startsWith and `eq null` advanced only. */
const AN: FilterCaps = { eq: 'a', startsWith: 'a', eqNull: 'a' };
// extensionAttribute1-15: eq and `eq null` advanced; startsWith is "not supported" in the 2022 and
// 2023 tables and advanced in the current one, so refused (the stricter).
const extensionCaps: Record<string, FilterCaps> = {};
for (let i = 1; i <= 15; i += 1) extensionCaps[`onPremisesExtensionAttributes/extensionAttribute${i}`] = { eq: 'a', eqNull: 'a' };

/**
 * Per-property `$filter` support for users: the user table of learn.microsoft.com/graph/aad-advanced-queries
 * (docs/graph-facts.md#listing-users, which lists the versions read). Microsoft has published four
 * versions of it; where they disagree on a cell the stricter one is taken:
 * - `state` startsWith: default in 2021 and 2022, left out since 2023, so refused;
 * - `employeeId` startsWith: default in 2021, left out since 2022, so refused;
 * - `onPremisesImmutableId eq`, `onPremisesLastSyncDateTime` eq/ge/le: advanced in 2021, default
 *   since 2022, so advanced;
 * - `businessPhones`: plain `eq` by default in 2021, `any()` eq/startsWith advanced since 2022, so advanced;
 * - `createdDateTime in`: advanced in 2021 (its `in` column), default by the "in follows eq" rule
 *   since, so advanced (eq/ge/le are default in every version);
 * - ge/le on string properties (city, givenName, jobTitle, ... in 2021; the `otherMails` and
 *   `proxyAddresses` lambdas in 2022) is left out of the later versions, so refused;
 * - `eq null`: refused where a version says "not supported" (`onPremisesImmutableId` in 2022 and
 *   2023, `accountEnabled`, `userPrincipalName`, ...) or leaves it out, advanced elsewhere.
 * The 2021 table's blank cells are not read as refusals: its page says `in` works wherever `eq`
 * does, yet leaves `in` blank for `id`; a property missing from a version is not refused either
 * (`id` is missing from the 2022 and later tables; resources/user lists `$filter (eq, ne, not, in)`).
 */
const USER_FILTER_CAPS: Record<string, FilterCaps> = {
  id: { eq: 'd' },
  accountEnabled: { eq: 'd' },
  ageGroup: { eq: 'd' },
  consentProvidedForMinor: { eq: 'd' },
  creationType: { eq: 'd' },
  isResourceAccount: { eq: 'd' },
  userType: { eq: 'd', eqNull: 'a' },
  displayName: DN,
  givenName: DN,
  surname: DN,
  mail: { ...DN, endsWith: 'a' },
  mailNickname: DN,
  userPrincipalName: { ...D, endsWith: 'a' },
  jobTitle: DN,
  department: DN,
  city: DN,
  country: DN,
  state: { eq: 'd', eqNull: 'a' },
  usageLocation: DN,
  employeeId: { eq: 'd', eqNull: 'a' },
  employeeType: { eq: 'a' },
  onPremisesSyncEnabled: { eq: 'd', eqNull: 'a' },
  onPremisesImmutableId: { eq: 'a' },
  onPremisesSamAccountName: { eq: 'a', startsWith: 'a' },
  onPremisesLastSyncDateTime: { eq: 'a', range: 'a' },
  preferredLanguage: AN,
  companyName: AN,
  mobilePhone: AN,
  officeLocation: AN,
  postalCode: AN,
  streetAddress: AN,
  faxNumber: AN,
  showInAddressList: { eq: 'a' },
  employeeHireDate: { eq: 'a', range: 'a' },
  'passwordProfile/forceChangePasswordNextSignIn': { eq: 'a', eqNull: 'a' },
  'passwordProfile/forceChangePasswordNextSignInWithMfa': { eq: 'a', eqNull: 'a' },
  createdDateTime: { eq: 'd', in: 'a', range: 'd', eqNull: 'a' },
  businessPhones: { element: { eq: 'a', startsWith: 'a' } },
  imAddresses: { element: D },
  otherMails: { element: { ...D, endsWith: 'a' } },
  proxyAddresses: { element: { ...D, endsWith: 'a' } },
  ...extensionCaps,
};

export const userEntity: EntityType<UserRecord> = {
  typeName: 'microsoft.graph.user',
  odataType: '#microsoft.graph.user',
  resourceName: 'User',
  toGraph: userToGraph,
  properties: Object.keys(sampleUser),
  defaultSelect: USER_DEFAULT_SELECT,
  singleGetOnly: new Set(USER_SINGLE_GET_ONLY),
  filterCaps: USER_FILTER_CAPS,
};

export const groupEntity: EntityType<GroupRecord> = {
  typeName: 'microsoft.graph.group',
  odataType: '#microsoft.graph.group',
  resourceName: 'Group',
  toGraph: (g) => ({
    id: g.id,
    deletedDateTime: null,
    description: g.description,
    displayName: g.displayName,
    groupTypes: [...g.groupTypes],
    mail: g.mail,
    mailEnabled: g.mailEnabled,
    mailNickname: g.displayName.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
    securityEnabled: g.securityEnabled,
    isAssignableToRole: g.isAssignableToRole ?? false,
  }),
  properties: [
    'id',
    'deletedDateTime',
    'description',
    'displayName',
    'groupTypes',
    'isAssignableToRole',
    'mail',
    'mailEnabled',
    'mailNickname',
    'securityEnabled',
  ],
  defaultSelect: ['id', 'deletedDateTime', 'description', 'displayName', 'groupTypes', 'mail', 'mailEnabled', 'mailNickname', 'securityEnabled'],
  filterCaps: {
    id: { eq: 'd' },
    displayName: DN,
    // description: eq and startsWith advanced in every version of the group table; `eq null`
    // "not supported" in 2022, advanced since: refused (the stricter).
    description: { eq: 'a', startsWith: 'a' },
    mail: DN,
    mailNickname: DN,
    mailEnabled: { eq: 'd' },
    securityEnabled: { eq: 'd' },
    groupTypes: { element: { eq: 'd' } },
  },
};

export const deviceEntity: EntityType<DeviceRecord> = {
  typeName: 'microsoft.graph.device',
  odataType: '#microsoft.graph.device',
  resourceName: 'Device',
  toGraph: (d) => ({
    id: d.id,
    accountEnabled: d.accountEnabled,
    approximateLastSignInDateTime: d.approximateLastSignInDateTime,
    deviceId: d.deviceId,
    displayName: d.displayName,
    operatingSystem: d.operatingSystem,
    operatingSystemVersion: d.operatingSystemVersion,
    trustType: d.trustType,
  }),
  properties: ['id', 'accountEnabled', 'approximateLastSignInDateTime', 'deviceId', 'displayName', 'operatingSystem', 'operatingSystemVersion', 'trustType'],
  defaultSelect: ['id', 'accountEnabled', 'approximateLastSignInDateTime', 'deviceId', 'displayName', 'operatingSystem', 'operatingSystemVersion', 'trustType'],
  filterCaps: {
    id: { eq: 'd' },
    deviceId: { eq: 'd' },
    displayName: DN,
    operatingSystem: DN,
    operatingSystemVersion: DN,
    accountEnabled: { eq: 'd' },
    trustType: { eq: 'd' },
    approximateLastSignInDateTime: { range: 'd', eq: 'a', eqNull: 'a' },
  },
};

/** Canonical spelling of a property (Graph matches names case-insensitively). */
export function canonicalProperty<R>(entity: EntityType<R>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return entity.properties.find((p) => p.toLowerCase() === lower);
}

/**
 * Whether `$search` takes a property (docs/graph-facts.md#listing-users): search-query-parameter says
 * "Any property that can be used in `$filter` can also be used inside `$search`" and that properties
 * other than displayName and description "default to `$filter` with startsWith behavior", so the
 * property needs `startsWith` in the entity's filter table (default or advanced): the stricter
 * reading of the two sentences.
 */
export function isSearchableProperty<R>(entity: EntityType<R>, property: string): boolean {
  return capsFor(entity, property)?.startsWith !== undefined;
}

/** Reads a `/`-separated property path of a Graph JSON object, case-insensitively. */
export function readPath(obj: Record<string, unknown>, path: string): unknown {
  let current: unknown = obj;
  for (const part of path.split('/')) {
    if (current === null || typeof current !== 'object') return undefined;
    const lower = part.toLowerCase();
    const key = Object.keys(current).find((k) => k.toLowerCase() === lower);
    current = key === undefined ? undefined : (current as Record<string, unknown>)[key];
  }
  return current;
}

function capsFor<R>(entity: EntityType<R>, path: string): FilterCaps | undefined {
  const lower = path.toLowerCase();
  const key = Object.keys(entity.filterCaps).find((k) => k.toLowerCase() === lower);
  return key ? entity.filterCaps[key] : undefined;
}

/**
 * Checks a filter against the entity's capabilities and says whether it needs an advanced query.
 * Throws Graph's errors for unknown properties (Request_BadRequest) and unsupported clauses
 * (Request_UnsupportedQuery).
 */
export function analyzeFilter<R>(entity: EntityType<R>, node: FilterNode): { advanced: boolean; reason?: string } {
  let advanced = false;
  let reason: string | undefined;
  const markAdvanced = (why: string) => {
    advanced = true;
    reason ??= why;
  };
  const unsupported = (property: string) =>
    unsupportedQuery(`Unsupported or invalid query filter clause specified for property '${property}' of resource '${entity.resourceName}'.`);
  const need = (level: Level | undefined, property: string) => {
    if (!level) throw unsupported(property);
    if (level === 'a') markAdvanced(`Property '${property}'`);
  };
  const lookup = (property: string, scope: Map<string, FilterCaps>): FilterCaps => {
    const scoped = scope.get(property);
    if (scoped) return scoped;
    const caps = capsFor(entity, property);
    if (caps) return caps;
    const root = property.split('/')[0]!;
    if (!canonicalProperty(entity, root)) throw unknownProperty(root, entity.typeName);
    throw unsupported(property);
  };
  const visit = (n: FilterNode, scope: Map<string, FilterCaps>): void => {
    switch (n.type) {
      case 'and':
      case 'or':
        visit(n.left, scope);
        visit(n.right, scope);
        return;
      case 'not':
        // aad-advanced-queries documents `not` per property ("All properties that support the eq operator
        // also support the ne or not operators"; its examples negate one clause) and never over a group of
        // clauses: the stricter reading refuses `not (a and b)` (docs/graph-facts.md#listing-users, "`not`").
        if (n.operand.type === 'and' || n.operand.type === 'or' || n.operand.type === 'not') {
          throw unsupportedQuery("Operator 'not' is supported on a single property clause only, not on a group of clauses.");
        }
        // The same page ties `not` to `eq` ("All properties that support the eq operator also support the ne
        // or not operators") and shows it over eq, startsWith and lambdas, never over a range; the current
        // user table lists createdDateTime with ge/le and no eq at all. The stricter reading refuses `not`
        // over ge/le/gt/lt (docs/graph-facts.md#listing-users, "`not`").
        if (n.operand.type === 'compare' && n.operand.op !== 'eq' && n.operand.op !== 'ne') {
          throw unsupportedQuery(
            `Operator 'not' is supported on equality clauses only, not on a '${n.operand.op}' comparison of property '${n.operand.property}'.`,
          );
        }
        markAdvanced("Operator 'not'");
        visit(n.operand, scope);
        return;
      case 'compare': {
        const caps = lookup(n.property, scope);
        if (n.op === 'eq' || n.op === 'ne') {
          // `eq null` has its own column in the table; `ne null` is its negation and needs it too.
          if (n.value === null) need(caps.eqNull, n.property);
          else need(caps.eq, n.property);
          if (n.op === 'ne') markAdvanced("Operator 'ne'");
          else if (n.value === null) markAdvanced("Comparison with 'null'");
        } else {
          need(caps.range, n.property);
          if (n.op === 'gt' || n.op === 'lt') markAdvanced(`Operator '${n.op}'`);
        }
        return;
      }
      case 'in': {
        const caps = lookup(n.property, scope);
        need(caps.in ?? caps.eq, n.property);
        return;
      }
      case 'func': {
        const caps = lookup(n.property, scope);
        const level = n.name === 'startswith' ? caps.startsWith : caps.endsWith;
        if (!level) throw unsupported(n.property);
        if (level === 'a') markAdvanced(`Operator '${n.name === 'startswith' ? 'startsWith' : 'endsWith'}'`);
        return;
      }
      case 'any': {
        const caps = lookup(n.property, scope);
        if (!caps.element) throw unsupported(n.property);
        visit(n.body, new Map([...scope, [n.variable, caps.element]]));
        return;
      }
      default: {
        const exhaustive: never = n;
        throw badRequest(`Invalid filter clause ${String(exhaustive)}`);
      }
    }
  };
  visit(node, new Map());
  return reason === undefined ? { advanced } : { advanced, reason };
}
