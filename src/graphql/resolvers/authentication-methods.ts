import type { AuthMethodKind, GraphDirectoryObject } from '../../graph/api.js';
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
};

/** Schema enum → the Graph client's method kind (one Graph endpoint family each). */
export const AUTH_METHOD_KIND: Record<AuthenticationMethodType, Exclude<AuthMethodKind, 'all'>> = {
  PASSWORD: 'password',
  EMAIL: 'email',
  PHONE: 'phone',
  FIDO2: 'fido2',
  MICROSOFT_AUTHENTICATOR: 'microsoftAuthenticator',
  SOFTWARE_OATH: 'softwareOath',
  WINDOWS_HELLO_FOR_BUSINESS: 'windowsHelloForBusiness',
  TEMPORARY_ACCESS_PASS: 'temporaryAccessPass',
};

/** The kind a delete mutation may remove, or undefined (the password cannot be deleted, only reset). */
export function deletableAuthMethodKind(type: string): Exclude<AuthMethodKind, 'all' | 'password'> | undefined {
  if (!Object.hasOwn(AUTH_METHOD_KIND, type)) return undefined;
  const kind = AUTH_METHOD_KIND[type as AuthenticationMethodType];
  return kind === 'password' ? undefined : kind;
}

export function authMethodTypeOf(method: GraphDirectoryObject): AuthenticationMethodType | null {
  return BY_ODATA_TYPE[method['@odata.type'] ?? '']?.type ?? null;
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
> = {
  AuthenticationMethod: {
    __resolveType: (method) => BY_ODATA_TYPE[method['@odata.type'] ?? '']?.typename ?? null,
  },
  PasswordAuthenticationMethod: typeField,
  EmailAuthenticationMethod: typeField,
  PhoneAuthenticationMethod: typeField,
  Fido2AuthenticationMethod: typeField,
  MicrosoftAuthenticatorAuthenticationMethod: typeField,
  SoftwareOathAuthenticationMethod: typeField,
  WindowsHelloForBusinessAuthenticationMethod: typeField,
  TemporaryAccessPassAuthenticationMethod: typeField,
};
