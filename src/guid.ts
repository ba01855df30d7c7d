/**
 * Entra object ids, tenant ids and application (client) ids are GUIDs; anything else in their
 * place is a name (a userPrincipalName, a verified domain, an Application ID URI).
 */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: unknown): boolean {
  return typeof value === 'string' && GUID.test(value);
}
