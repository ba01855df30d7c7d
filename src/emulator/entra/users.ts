import type { TenantModel, UserRecord } from '../model.js';
import { aadError, type AadError } from './errors.js';

/** Sign-in name lookup: UPN (case-insensitive) or object id. */
export function findUserBySignInName(tenant: TenantModel, name: string): UserRecord | undefined {
  const byId = tenant.users.get(name);
  if (byId) return byId;
  const lower = name.toLowerCase();
  for (const user of tenant.users.values()) if (user.userPrincipalName.toLowerCase() === lower) return user;
  return undefined;
}

/** Why a user may not get new tokens right now, if any: missing or disabled. */
export function signInBlocked(tenant: TenantModel, userId: string): AadError | undefined {
  const user = tenant.users.get(userId);
  if (!user) return aadError('invalid_grant', 50034, `The user account does not exist in the ${tenant.domain} directory.`);
  if (!user.accountEnabled) return aadError('invalid_grant', 50057, 'The user account is disabled.');
  return undefined;
}

/**
 * True when the user's sessions were revoked after `issuedAtMs` (revokeSignInSessions, password
 * reset). Graph shows `signInSessionsValidFromDateTime` in whole seconds, so a second-precision
 * value means "revoked at some point in that second": a grant issued in it counts as revoked,
 * otherwise a token issued a few milliseconds before the revocation would survive it.
 */
export function sessionsRevokedSince(user: UserRecord, issuedAtMs: number): boolean {
  const raw = user.signInSessionsValidFromDateTime;
  const validFrom = Date.parse(raw);
  if (!Number.isFinite(validFrom)) return false;
  const wholeSeconds = !/\.\d+Z?$/.test(raw) && !/\.\d+[+-]/.test(raw);
  return wholeSeconds ? issuedAtMs < validFrom + 1000 : validFrom > issuedAtMs;
}
