import { graphPaths } from './paths.js';
import type { GraphRequest, GraphResult } from './types.js';

/**
 * External (B2B) users and what revoking their sessions does.
 *
 * Graph's revokeSignInSessions "doesn't revoke sign-in sessions for external users, because
 * external users sign in through their home tenant" (docs/graph-facts.md#revoking-sessions): the
 * call succeeds and their sessions live on. A containment that reported success for such a user
 * would be false assurance, so every revocation asks in the same `$batch` who the user is and
 * says so when the revocation cannot reach their sessions.
 */

/**
 * Read alongside the revocation (an independent `$batch` item: no extra round trip). An invited
 * user carries `#EXT#` in its userPrincipalName and `externalUserState` (PendingAcceptance,
 * Accepted); Graph returns the latter only when selected.
 */
export function externalUserLookup(user: string): GraphRequest {
  // Not repeated: a timed-out lookup would otherwise hold back the answer about the revocation.
  return { method: 'GET', path: graphPaths.user(user), query: { $select: 'id,userPrincipalName,externalUserState' }, repeat: false };
}

export function isExternalUser(user: { userPrincipalName?: unknown; externalUserState?: unknown }): boolean {
  const upn = typeof user.userPrincipalName === 'string' ? user.userPrincipalName : '';
  return upn.toUpperCase().includes('#EXT#') || (typeof user.externalUserState === 'string' && user.externalUserState.length > 0);
}

export interface SessionsReach {
  /** False when the user is external: Graph's revocation does not reach their sessions. */
  revoked: boolean;
  /** Why a revocation Graph applied may not end the user's sessions; absent when it does. */
  caveat?: string;
}

const EXTERNAL =
  'The user is an external (B2B) user: Microsoft Graph does not revoke the sign-in sessions of external users, who sign in through their home tenant. ' +
  'Disabling the account blocks their access to this tenant; ask the home tenant to revoke their sessions.';

/** What a successful revocation did, read from the lookup that rode beside it. */
export function sessionsReach(lookup: GraphResult | undefined): SessionsReach {
  if (lookup?.ok) {
    const body = (lookup.body ?? {}) as { userPrincipalName?: unknown; externalUserState?: unknown };
    return isExternalUser(body) ? { revoked: false, caveat: EXTERNAL } : { revoked: true };
  }
  // The revocation was applied; only the question "is this an external user?" went unanswered
  // (e.g. an identity granted User.RevokeSessions.All without User.Read.All).
  const why = lookup ? ` (${lookup.error.code})` : '';
  return {
    revoked: true,
    caveat: `Whether the user is an external (B2B) user could not be checked${why}: Microsoft Graph does not revoke the sign-in sessions of external users.`,
  };
}
