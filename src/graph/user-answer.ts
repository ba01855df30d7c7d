import { isGuid } from '../guid.js';
import type { GraphUser } from './api.js';
import { malformedResponse } from './errors.js';

/**
 * Graph's answer to `GET /users/{id | userPrincipalName}` (alone, or a `$batch` item) is the user
 * the key names (docs/graph-facts.md#addressing-users-and-encoding): asked by object id, its `id` is
 * that id (GUIDs compared in any letter case); asked by userPrincipalName, its `userPrincipalName`
 * is that UPN in any letter case (Entra treats UPNs so) or, for a key that is an id after all, its
 * `id`. A user object that is another user is Graph's answer gone wrong (a confused or hostile
 * upstream), served before as the user asked for: now it is UPSTREAM_ERROR for that lookup only
 * (docs/security.md#a-lookup-answers-the-user-it-names). The requests always `$select` `id`, and a
 * UPN lookup `userPrincipalName` too (`userRequest`), so the compare never lacks what it reads. One
 * or two string compares per user.
 */
export function answeredUser(key: string, body: unknown, requestId: string | undefined): GraphUser {
  const user = body as Partial<GraphUser> | null | undefined;
  const id = typeof user?.id === 'string' ? user.id : undefined;
  if (id !== undefined && (sameText(id, key) || (!isGuid(key) && typeof user!.userPrincipalName === 'string' && sameText(user!.userPrincipalName, key)))) {
    return user as GraphUser;
  }
  throw malformedResponse('a user other than the one asked for', requestId);
}

function sameText(a: string, b: string): boolean {
  return a.length === b.length && a.toLowerCase() === b.toLowerCase();
}
