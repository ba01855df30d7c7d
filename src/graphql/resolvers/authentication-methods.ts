import type { AuthMethodKind, DeletableAuthMethodKind, GraphDirectoryObject } from '../../graph/api.js';
import type { AuthenticationMethodResolvers, AuthenticationMethodType, Resolvers } from '../../generated/graphql.js';

/** The schema's object types that implement AuthenticationMethod. */
type AuthenticationMethodTypename = NonNullable<Awaited<ReturnType<AuthenticationMethodResolvers['__resolveType']>>>;

/** Graph `@odata.type` → schema enum and object type. */
const BY_ODATA_TYPE: Record<string, { type: AuthenticationMethodType; typename: AuthenticationMethodTypename }> = {
  '#microsoft.graph.passwordAuthenticationMethod': { type: 'PASSWORD', typename: 'PasswordAuthenticationMethod' },
  '#microsoft.graph.emailAuthenticationMethod': { type: 'EMAIL', typename: 'EmailAuthenticationMethod' },
  '#microsoft.graph.phoneAuthenticationMethod': { type: 'PHONE', typename: 'PhoneAuthenticationMethod' },
  '#microsoft.graph.fido2AuthenticationMethod': { type: 'FIDO2', typename: 'Fido2AuthenticationMethod' },
  '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod': { type: 'MICROSOFT_AUTHENTICATOR', typename: 'MicrosoftAuthenticatorAuthenticationMethod' },
  '#microsoft.graph.softwareOathAuthenticationMethod': { type: 'SOFTWARE_OATH', typename: 'SoftwareOathAuthenticationMethod' },
  '#microsoft.graph.windowsHelloForBusinessAuthenticationMethod': {
    type: 'WINDOWS_HELLO_FOR_BUSINESS',
    typename: 'WindowsHelloForBusinessAuthenticationMethod',
  },
  '#microsoft.graph.temporaryAccessPassAuthenticationMethod': { type: 'TEMPORARY_ACCESS_PASS', typename: 'TemporaryAccessPassAuthenticationMethod' },
  '#microsoft.graph.externalAuthenticationMethod': { type: 'EXTERNAL', typename: 'ExternalAuthenticationMethod' },
  '#microsoft.graph.platformCredentialAuthenticationMethod': { type: 'PLATFORM_CREDENTIAL', typename: 'PlatformCredentialAuthenticationMethod' },
  '#microsoft.graph.qrCodePinAuthenticationMethod': { type: 'QR_CODE_PIN', typename: 'QrCodePinAuthenticationMethod' },
};

/**
 * The same table keyed by lower-cased `@odata.type`: OData names are case-sensitive, but a type
 * annotation that differs only in letter case names no other type, and dropping the method would
 * hide it from the review this field serves.
 */
const BY_ODATA_TYPE_LOWER = new Map(Object.entries(BY_ODATA_TYPE).map(([odataType, entry]) => [odataType.toLowerCase(), entry]));

function entryOf(method: GraphDirectoryObject) {
  const odataType = method['@odata.type'];
  return typeof odataType === 'string' ? BY_ODATA_TYPE_LOWER.get(odataType.toLowerCase()) : undefined;
}

/**
 * Schema enum → the Graph collection a `type` filter reads (one request per user either way). QR code
 * PIN has no collection: Graph's `qrCodePinMethod` is a single object (qrcodepinauthenticationmethod-get),
 * whose answer for a user without one is not documented, so the filter reads `/authentication/methods`
 * and keeps that type (docs/graph-facts.md#authentication-method-reads).
 */
const READ_KIND: Record<AuthenticationMethodType, AuthMethodKind> = {
  PASSWORD: 'password',
  EMAIL: 'email',
  PHONE: 'phone',
  FIDO2: 'fido2',
  MICROSOFT_AUTHENTICATOR: 'microsoftAuthenticator',
  SOFTWARE_OATH: 'softwareOath',
  WINDOWS_HELLO_FOR_BUSINESS: 'windowsHelloForBusiness',
  TEMPORARY_ACCESS_PASS: 'temporaryAccessPass',
  EXTERNAL: 'external',
  PLATFORM_CREDENTIAL: 'platformCredential',
  QR_CODE_PIN: 'all',
};

/** The Graph collection `authenticationMethods(type:)` reads. */
export function authMethodReadKind(type: AuthenticationMethodType | null | undefined): AuthMethodKind {
  return type ? READ_KIND[type] : 'all';
}

/**
 * The kind a delete mutation may remove, or undefined: a type with a collection of its own (its
 * methods are deleted at `.../{collection}/{id}`), not the password (reset, never deleted). QR code
 * PIN has none: Graph deletes it at `.../qrCodePinMethod`, without a method id, so the id the caller
 * names could not be checked without another read (docs/mutations.md).
 */
export function deletableAuthMethodKind(type: string): DeletableAuthMethodKind | undefined {
  if (!Object.hasOwn(READ_KIND, type)) return undefined;
  const kind = READ_KIND[type as AuthenticationMethodType];
  return kind === 'all' || kind === 'password' ? undefined : kind;
}

/** The method's schema type, or null for a type this schema does not model (Graph adds new ones). */
export function authMethodTypeOf(method: GraphDirectoryObject): AuthenticationMethodType | null {
  return entryOf(method)?.type ?? null;
}

const typeField = { type: (m: GraphDirectoryObject) => authMethodTypeOf(m) ?? 'PASSWORD' } as const;

export const authenticationMethodResolvers: Pick<
  Resolvers,
  | 'AuthenticationMethod'
  | 'PasswordAuthenticationMethod'
  | 'EmailAuthenticationMethod'
  | 'PhoneAuthenticationMethod'
  | 'Fido2AuthenticationMethod'
  | 'MicrosoftAuthenticatorAuthenticationMethod'
  | 'SoftwareOathAuthenticationMethod'
  | 'WindowsHelloForBusinessAuthenticationMethod'
  | 'TemporaryAccessPassAuthenticationMethod'
  | 'ExternalAuthenticationMethod'
  | 'PlatformCredentialAuthenticationMethod'
  | 'QrCodePinAuthenticationMethod'
> = {
  AuthenticationMethod: {
    __resolveType: (method) => entryOf(method)?.typename ?? null,
  },
  PasswordAuthenticationMethod: typeField,
  EmailAuthenticationMethod: typeField,
  PhoneAuthenticationMethod: typeField,
  Fido2AuthenticationMethod: typeField,
  MicrosoftAuthenticatorAuthenticationMethod: typeField,
  SoftwareOathAuthenticationMethod: typeField,
  WindowsHelloForBusinessAuthenticationMethod: typeField,
  TemporaryAccessPassAuthenticationMethod: typeField,
  ExternalAuthenticationMethod: typeField,
  PlatformCredentialAuthenticationMethod: {
    ...typeField,
    // Sources disagree: the resource names createdDateTime, the List page's example creationDateTime
    // (docs/graph-facts.md#authentication-method-reads); either is read.
    createdDateTime: (m) => (typeof m.createdDateTime === 'string' ? m.createdDateTime : typeof m.creationDateTime === 'string' ? m.creationDateTime : null),
  },
  QrCodePinAuthenticationMethod: typeField,
};
