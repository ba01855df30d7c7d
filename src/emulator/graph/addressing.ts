/**
 * Graph's user addressing: `/users/{id | userPrincipalName}`, `/users('{upn}')`, `/me`. The path
 * is split on the raw `/` before percent-decoding, so `%23EXT%23` and encoded apostrophes work; a
 * key starting with `$` only works in the parenthesised form (docs/graph-facts.md#addressing-users-and-encoding).
 */
import type { UserRecord } from '../model.js';
import { badRequest, notFound } from './errors.js';
import { isEventual, type GraphCall } from './call.js';

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
  const lagMs = isEventual(call) ? call.ctx.graph.advancedQueryIndexLagSeconds * 1000 : 0;
  if (lagMs > 0) return resolveInIndex(call, key.value, call.ctx.now() - lagMs);
  const byId = tenant.users.get(key.value.toLowerCase()) ?? tenant.users.get(key.value);
  if (byId) return byId;
  const lower = key.value.toLowerCase();
  for (const user of tenant.users.values()) if (user.userPrincipalName.toLowerCase() === lower) return user;
  throw notFound(key.value);
}

/**
 * An advanced query's user as the lagging index holds it (GraphSettings.advancedQueryIndexLagSeconds):
 * the users created by `asOfMs`, each under the userPrincipalName it had then.
 */
function resolveInIndex(call: GraphCall, value: string, asOfMs: number): UserRecord {
  const indexed = (user: UserRecord) => Date.parse(user.createdDateTime) <= asOfMs;
  const byId = call.ctx.tenant.users.get(value.toLowerCase()) ?? call.ctx.tenant.users.get(value);
  if (byId && indexed(byId)) return byId;
  const lower = value.toLowerCase();
  for (const user of call.ctx.tenant.users.values()) {
    if (!indexed(user)) continue;
    const then = user._previousUpns?.find((p) => p.untilMs > asOfMs)?.upn ?? user.userPrincipalName;
    if (then.toLowerCase() === lower) return user;
  }
  throw notFound(value);
}

export function findUserByUpn(users: Iterable<UserRecord>, upn: string): UserRecord | undefined {
  const lower = upn.toLowerCase();
  for (const user of users) if (user.userPrincipalName.toLowerCase() === lower) return user;
  return undefined;
}
