import type { AuthMethodKind, GraphDirectoryObject } from './api.js';

/**
 * The `@odata.type` of each per-type authentication-method collection's items. Graph may leave the
 * annotation out of those items, the type being the collection's own: the List pages of phone,
 * email, FIDO2, password and Temporary Access Pass methods show them without it, the Microsoft
 * Authenticator page with it (docs/graph-facts.md#authentication-method-reads). The mixed
 * `/authentication/methods` collection names each item's type.
 */
const COLLECTION_TYPE: Record<Exclude<AuthMethodKind, 'all'>, string> = {
  password: '#microsoft.graph.passwordAuthenticationMethod',
  email: '#microsoft.graph.emailAuthenticationMethod',
  phone: '#microsoft.graph.phoneAuthenticationMethod',
  fido2: '#microsoft.graph.fido2AuthenticationMethod',
  microsoftAuthenticator: '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod',
  softwareOath: '#microsoft.graph.softwareOathAuthenticationMethod',
  windowsHelloForBusiness: '#microsoft.graph.windowsHelloForBusinessAuthenticationMethod',
  temporaryAccessPass: '#microsoft.graph.temporaryAccessPassAuthenticationMethod',
  external: '#microsoft.graph.externalAuthenticationMethod',
  platformCredential: '#microsoft.graph.platformCredentialAuthenticationMethod',
};

/**
 * The methods of a collection of `kind`, each with its `@odata.type`: an item of a per-type
 * collection that came without one is of the collection's type. Items of `all` (and any that name
 * their type) are returned as they are.
 */
export function typedAuthMethods(kind: AuthMethodKind, items: readonly GraphDirectoryObject[]): GraphDirectoryObject[] {
  if (kind === 'all') return [...items];
  const type = COLLECTION_TYPE[kind];
  return items.map((item) => (item['@odata.type'] === undefined ? { ...item, '@odata.type': type } : item));
}
