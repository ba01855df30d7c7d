import { decodeJwt } from 'jose';

/**
 * What a Graph access token says about itself, read WITHOUT verifying it: diagnostic only. The
 * doctor decodes the token the gateway's own identity just obtained to show which permissions
 * Entra put in it; Graph (the token's audience) is the only party that validates it, and nothing
 * here is used to decide access. Both token shapes are read: v1.0 (`appid`, `upn`/`unique_name`)
 * and v2.0 (`azp`, `preferred_username`) (docs/graph-facts.md#caller-tokens).
 */
export interface TokenClaims {
  /** `app`: app-only (application permissions in `roles`); `user`: delegated (scopes in `scp`). */
  kind: 'app' | 'user';
  /** Application permissions (app-only tokens). */
  roles: string[];
  /** Delegated scopes (user tokens). */
  scopes: string[];
  appId: string | undefined;
  /** Object id of the service principal (app-only) or of the signed-in user (delegated). */
  objectId: string | undefined;
  tenantId: string | undefined;
  /** The signed-in user's name (delegated). */
  username: string | undefined;
  audience: string | undefined;
  expiresAt: Date | undefined;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** Undefined when the token is not a JWT (Graph tokens are; a broker could hand out something else). */
export function readTokenClaims(token: string): TokenClaims | undefined {
  let payload: Record<string, unknown>;
  try {
    payload = decodeJwt(token);
  } catch {
    return undefined;
  }
  const scopes = (str(payload.scp) ?? '').split(' ').filter(Boolean);
  const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
  const kind = payload.idtyp === 'user' || scopes.length > 0 ? 'user' : 'app';
  const aud = Array.isArray(payload.aud) ? str(payload.aud[0]) : str(payload.aud);
  return {
    kind,
    roles,
    scopes,
    appId: str(payload.appid) ?? str(payload.azp),
    objectId: str(payload.oid),
    tenantId: str(payload.tid),
    username: str(payload.upn) ?? str(payload.preferred_username) ?? str(payload.unique_name),
    audience: aud,
    expiresAt: typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : undefined,
  };
}
