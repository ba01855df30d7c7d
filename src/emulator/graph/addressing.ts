/**
 * Graph's user addressing: `/users/{id | userPrincipalName}`, `/users('{upn}')`, `/me`. The path
 * is split on the raw `/` before percent-decoding, so `%23EXT%23` and encoded apostrophes work; a
 * key starting with `$` only works in the parenthesised form (docs/graph-facts.md#addressing-users-and-encoding).
 */
import type { UserRecord } from '../model.js';
import { badRequest, notFound } from './errors.js';
import type { GraphCall } from './call.js';

export type UserKey = { kind: 'me' } | { kind: 'key'; value: string };

/** Decodes raw path segments; malformed percent-encoding is Graph's 400. */
export function decodeSegments(rawPath: string): string[] {
  return rawPath
    .split('/')
    .filter((s, i, all) => s !== '' || (i > 0 && i < all.length - 1))
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw badRequest(`Bad Request - Invalid URL segment '${s}'.`, 'BadRequest');
      }
    });
}

/** `users('key')` with doubled quotes inside. */
export function parenthesisedKey(segment: string): string | undefined {
  const m = /^users\('(.*)'\)$/s.exec(segment);
  return m ? m[1]!.replace(/''/g, "'") : undefined;
}

export function resolveUser(call: GraphCall, key: UserKey): UserRecord {
  const tenant = call.ctx.tenant;
  if (key.kind === 'me') {
    // An app-only token: 400 BadRequest with Graph's text (docs/graph-facts.md#delegated-permissions).
    if (call.principal.kind !== 'user') throw badRequest('/me request is only valid with delegated authentication flow.', 'BadRequest');
    const me = tenant.users.get(call.principal.objectId);
    if (!me) throw notFound(call.principal.objectId);
    return me;
  }
  const byId = tenant.users.get(key.value.toLowerCase()) ?? tenant.users.get(key.value);
  if (byId) return byId;
  const lower = key.value.toLowerCase();
  for (const user of tenant.users.values()) if (user.userPrincipalName.toLowerCase() === lower) return user;
  throw notFound(key.value);
}

export function findUserByUpn(users: Iterable<UserRecord>, upn: string): UserRecord | undefined {
  const lower = upn.toLowerCase();
  for (const user of users) if (user.userPrincipalName.toLowerCase() === lower) return user;
  return undefined;
}
