/**
 * `GET /v1.0/$metadata`: the service's CSDL (OData v4 EDMX XML) document, published at the service
 * root like Graph's (docs/graph-facts.md#user-properties). It describes what the emulator serves for
 * users, modelled on Graph's own document: Namespace `microsoft.graph` (alias `graph`), the abstract
 * `entity` with key `id`, `directoryObject` derived from it, `user` derived from `directoryObject`
 * with the properties the emulator returns and their Edm types, the `manager` (single) and
 * `directReports` (collection) navigation properties typed `graph.directoryObject` as Graph types
 * them, and the `users` entity set in the `GraphService` container. Tools that build a client from
 * a service's metadata (OData code generators, GraphQL Mesh's OData source) read this.
 */
import type { EmuResponse } from '../http.js';
import type { GraphCall } from './call.js';

/** One structural property: its Edm or `graph.` type, and whether Graph declares it non-nullable. */
export interface CsdlProperty {
  name: string;
  type: string;
  nullable?: false;
}

export interface CsdlNavigationProperty {
  name: string;
  type: string;
}

export interface CsdlEntityType {
  name: string;
  baseType?: string;
  abstract?: boolean;
  openType?: boolean;
  key?: string;
  properties: readonly CsdlProperty[];
  navigationProperties?: readonly CsdlNavigationProperty[];
}

export interface CsdlComplexType {
  name: string;
  properties: readonly CsdlProperty[];
}

export const CSDL_NAMESPACE = 'microsoft.graph';
export const CSDL_ALIAS = 'graph';
export const CSDL_CONTAINER = 'GraphService';

const str = (name: string): CsdlProperty => ({ name, type: 'Edm.String' });
const bool = (name: string): CsdlProperty => ({ name, type: 'Edm.Boolean' });
const time = (name: string): CsdlProperty => ({ name, type: 'Edm.DateTimeOffset' });
const strings = (name: string, nullable?: false): CsdlProperty => ({ name, type: 'Collection(Edm.String)', ...(nullable === false ? { nullable } : {}) });

/**
 * The user's properties as Graph's v1.0 document declares them (same names, types and
 * `Nullable="false"` facets), limited to those the emulator returns (`userEntity.properties`; a
 * test keeps the two lists equal).
 */
const USER_PROPERTIES: readonly CsdlProperty[] = [
  bool('accountEnabled'),
  str('ageGroup'),
  { name: 'assignedLicenses', type: 'Collection(graph.assignedLicense)', nullable: false },
  { name: 'assignedPlans', type: 'Collection(graph.assignedPlan)', nullable: false },
  strings('businessPhones', false),
  str('city'),
  str('companyName'),
  str('consentProvidedForMinor'),
  str('country'),
  time('createdDateTime'),
  str('creationType'),
  str('department'),
  str('displayName'),
  time('employeeHireDate'),
  str('employeeId'),
  time('employeeLeaveDateTime'),
  str('employeeType'),
  str('externalUserState'),
  time('externalUserStateChangeDateTime'),
  str('faxNumber'),
  str('givenName'),
  { name: 'identities', type: 'Collection(graph.objectIdentity)' },
  strings('imAddresses'),
  bool('isResourceAccount'),
  str('jobTitle'),
  time('lastPasswordChangeDateTime'),
  str('legalAgeGroupClassification'),
  { name: 'licenseAssignmentStates', type: 'Collection(graph.licenseAssignmentState)' },
  str('mail'),
  str('mailNickname'),
  str('mobilePhone'),
  str('officeLocation'),
  str('onPremisesDistinguishedName'),
  str('onPremisesDomainName'),
  { name: 'onPremisesExtensionAttributes', type: 'graph.onPremisesExtensionAttributes' },
  str('onPremisesImmutableId'),
  time('onPremisesLastSyncDateTime'),
  str('onPremisesSamAccountName'),
  str('onPremisesSecurityIdentifier'),
  bool('onPremisesSyncEnabled'),
  str('onPremisesUserPrincipalName'),
  strings('otherMails', false),
  str('passwordPolicies'),
  { name: 'passwordProfile', type: 'graph.passwordProfile' },
  str('postalCode'),
  str('preferredDataLocation'),
  str('preferredLanguage'),
  { name: 'provisionedPlans', type: 'Collection(graph.provisionedPlan)', nullable: false },
  strings('proxyAddresses', false),
  str('securityIdentifier'),
  bool('showInAddressList'),
  time('signInSessionsValidFromDateTime'),
  str('state'),
  str('streetAddress'),
  str('surname'),
  str('usageLocation'),
  str('userPrincipalName'),
  str('userType'),
  { name: 'mailboxSettings', type: 'graph.mailboxSettings' },
  str('aboutMe'),
  { name: 'birthday', type: 'Edm.DateTimeOffset', nullable: false },
  { name: 'hireDate', type: 'Edm.DateTimeOffset', nullable: false },
  strings('interests'),
  str('mySite'),
  strings('pastProjects'),
  str('preferredName'),
  strings('responsibilities'),
  strings('schools'),
  strings('skills'),
];

export const CSDL_ENTITY_TYPES: readonly CsdlEntityType[] = [
  { name: 'entity', abstract: true, key: 'id', properties: [{ name: 'id', type: 'Edm.String', nullable: false }] },
  { name: 'directoryObject', baseType: 'graph.entity', openType: true, properties: [time('deletedDateTime')] },
  {
    name: 'user',
    baseType: 'graph.directoryObject',
    openType: true,
    properties: USER_PROPERTIES,
    navigationProperties: [
      { name: 'directReports', type: 'Collection(graph.directoryObject)' },
      { name: 'manager', type: 'graph.directoryObject' },
    ],
  },
];

const extensionAttributes: CsdlProperty[] = Array.from({ length: 15 }, (_, i) => str(`extensionAttribute${i + 1}`));

/** The complex types the user's properties use, as Graph declares them (mailboxSettings: its string properties only). */
export const CSDL_COMPLEX_TYPES: readonly CsdlComplexType[] = [
  {
    name: 'assignedLicense',
    properties: [
      { name: 'disabledPlans', type: 'Collection(Edm.Guid)', nullable: false },
      { name: 'skuId', type: 'Edm.Guid' },
    ],
  },
  { name: 'assignedPlan', properties: [time('assignedDateTime'), str('capabilityStatus'), str('service'), { name: 'servicePlanId', type: 'Edm.Guid' }] },
  {
    name: 'licenseAssignmentState',
    properties: [
      str('assignedByGroup'),
      { name: 'disabledPlans', type: 'Collection(Edm.Guid)' },
      str('error'),
      time('lastUpdatedDateTime'),
      { name: 'skuId', type: 'Edm.Guid' },
      str('state'),
    ],
  },
  { name: 'mailboxSettings', properties: [str('archiveFolder'), str('dateFormat'), str('timeFormat'), str('timeZone')] },
  { name: 'objectIdentity', properties: [str('issuer'), str('issuerAssignedId'), str('signInType')] },
  { name: 'onPremisesExtensionAttributes', properties: extensionAttributes },
  { name: 'passwordProfile', properties: [bool('forceChangePasswordNextSignIn'), bool('forceChangePasswordNextSignInWithMfa'), str('password')] },
  { name: 'provisionedPlan', properties: [str('capabilityStatus'), str('provisioningStatus'), str('service')] },
];

export const CSDL_ENTITY_SETS = [{ name: 'users', entityType: `${CSDL_NAMESPACE}.user` }] as const;

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function propertyXml(p: CsdlProperty): string {
  return `<Property Name="${attr(p.name)}" Type="${attr(p.type)}"${p.nullable === false ? ' Nullable="false"' : ''}/>`;
}

function entityTypeXml(t: CsdlEntityType): string {
  const head = [`Name="${attr(t.name)}"`];
  if (t.baseType) head.push(`BaseType="${attr(t.baseType)}"`);
  if (t.abstract) head.push('Abstract="true"');
  if (t.openType) head.push('OpenType="true"');
  const key = t.key ? `<Key><PropertyRef Name="${attr(t.key)}"/></Key>` : '';
  const navigation = (t.navigationProperties ?? []).map((n) => `<NavigationProperty Name="${attr(n.name)}" Type="${attr(n.type)}"/>`).join('');
  return `<EntityType ${head.join(' ')}>${key}${t.properties.map(propertyXml).join('')}${navigation}</EntityType>`;
}

function complexTypeXml(t: CsdlComplexType): string {
  return `<ComplexType Name="${attr(t.name)}">${t.properties.map(propertyXml).join('')}</ComplexType>`;
}

/** The whole EDMX document (built once: it never changes while the emulator runs). */
export const CSDL_DOCUMENT =
  '<?xml version="1.0" encoding="utf-8"?>' +
  '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">' +
  '<edmx:DataServices>' +
  `<Schema Namespace="${CSDL_NAMESPACE}" Alias="${CSDL_ALIAS}" xmlns="http://docs.oasis-open.org/odata/ns/edm">` +
  CSDL_ENTITY_TYPES.map(entityTypeXml).join('') +
  CSDL_COMPLEX_TYPES.map(complexTypeXml).join('') +
  `<EntityContainer Name="${CSDL_CONTAINER}">` +
  CSDL_ENTITY_SETS.map((s) => `<EntitySet Name="${attr(s.name)}" EntityType="${attr(s.entityType)}"/>`).join('') +
  '</EntityContainer>' +
  '</Schema>' +
  '</edmx:DataServices>' +
  '</edmx:Edmx>';

/** Any valid token may read the document (no permission names it); the router has verified one. */
export function getMetadata(_call: GraphCall): EmuResponse {
  return { status: 200, headers: { 'content-type': 'application/xml', 'odata-version': '4.0' }, body: CSDL_DOCUMENT };
}
