import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { EmulatorContext } from '../context.js';
import type { AppRegistration, UserRecord } from '../model.js';
import type { AuthenticatedClient } from './client-auth.js';
import { audienceFor, responseScope, type RequestedScopes } from './scopes.js';
import { REFRESH_TOKEN_LIFETIME_MS, identityState, opaqueToken } from './state.js';

/**
 * Token minting: v2.0 access tokens (app-only with `roles`, delegated with `scp`), id tokens, and
 * the token response bodies msal-node consumes (it builds its account from `id_token` and
 * `client_info`).
 */
export const ACCESS_TOKEN_LIFETIME_SECONDS = 3600;

function nowSeconds(ctx: EmulatorContext): number {
  return Math.floor(ctx.now() / 1000);
}

/** Entra's `sub` is pairwise: stable per user and app, different across apps. */
function pairwiseSubject(userId: string, appId: string): string {
  return createHash('sha256').update(`${userId}:${appId}`).digest('base64url').slice(0, 43);
}

/** The claims every access token carries, in Entra's order; callers append their own (`roles`, `scp`, ...). */
function accessTokenClaims(
  ctx: EmulatorContext,
  app: AppRegistration,
  audience: string,
  acr: AuthenticatedClient['acr'],
  principal: { oid: string; sub: string; idtyp: 'app' | 'user' },
): JWTPayload {
  return {
    aud: audience,
    iss: ctx.issuer,
    tid: ctx.tenant.tenantId,
    oid: principal.oid,
    sub: principal.sub,
    appid: app.appId,
    azp: app.appId,
    appidacr: acr,
    azpacr: acr,
    idtyp: principal.idtyp,
  };
}

export async function signAppOnlyAccessToken(
  ctx: EmulatorContext,
  app: AppRegistration,
  audience: string,
  roles: string[],
  acr: AuthenticatedClient['acr'],
): Promise<string> {
  const claims: JWTPayload = {
    ...accessTokenClaims(ctx, app, audience, acr, { oid: app.servicePrincipalId, sub: app.servicePrincipalId, idtyp: 'app' }),
    ver: '2.0',
  };
  if (roles.length > 0) claims.roles = roles;
  return ctx.signer.sign(claims, ACCESS_TOKEN_LIFETIME_SECONDS, nowSeconds(ctx));
}

export async function signDelegatedAccessToken(
  ctx: EmulatorContext,
  app: AppRegistration,
  user: UserRecord,
  audience: string,
  scp: string[],
  acr: AuthenticatedClient['acr'],
): Promise<string> {
  const claims: JWTPayload = {
    ...accessTokenClaims(ctx, app, audience, acr, { oid: user.id, sub: pairwiseSubject(user.id, app.appId), idtyp: 'user' }),
    name: user.displayName,
    upn: user.userPrincipalName,
    preferred_username: user.userPrincipalName,
    scp: scp.join(' '),
    ver: '2.0',
  };
  return ctx.signer.sign(claims, ACCESS_TOKEN_LIFETIME_SECONDS, nowSeconds(ctx));
}

export async function signIdToken(ctx: EmulatorContext, app: AppRegistration, user: UserRecord, nonce: string | undefined): Promise<string> {
  const claims: JWTPayload = {
    aud: app.appId,
    iss: ctx.issuer,
    tid: ctx.tenant.tenantId,
    oid: user.id,
    sub: pairwiseSubject(user.id, app.appId),
    name: user.displayName,
    preferred_username: user.userPrincipalName,
    ver: '2.0',
  };
  if (nonce) claims.nonce = nonce;
  return ctx.signer.sign(claims, ACCESS_TOKEN_LIFETIME_SECONDS, nowSeconds(ctx));
}

/** base64url JSON `{uid, utid}`: msal's home account id is `uid.utid`. */
export function clientInfo(ctx: EmulatorContext, user: UserRecord): string {
  return Buffer.from(JSON.stringify({ uid: user.id, utid: ctx.tenant.tenantId })).toString('base64url');
}

export function issueRefreshToken(ctx: EmulatorContext, appId: string, userId: string, scopes: RequestedScopes): string {
  const token = opaqueToken('1.A');
  identityState(ctx.tenant).refreshTokens.set(token, { appId, userId, scopes, issuedAtMs: ctx.now(), spent: false });
  return token;
}

export function refreshTokenExpired(ctx: EmulatorContext, issuedAtMs: number): boolean {
  return ctx.now() - issuedAtMs > REFRESH_TOKEN_LIFETIME_MS;
}

export async function appOnlyTokenResponse(
  ctx: EmulatorContext,
  client: AuthenticatedClient,
  scopes: RequestedScopes,
  roles: string[],
): Promise<Record<string, unknown>> {
  const accessToken = await signAppOnlyAccessToken(ctx, client.app, audienceFor(ctx, scopes), roles, client.acr);
  return { token_type: 'Bearer', expires_in: ACCESS_TOKEN_LIFETIME_SECONDS, ext_expires_in: ACCESS_TOKEN_LIFETIME_SECONDS, access_token: accessToken };
}

export async function delegatedTokenResponse(
  ctx: EmulatorContext,
  client: AuthenticatedClient,
  user: UserRecord,
  scopes: RequestedScopes,
  granted: string[],
  options: { nonce?: string | undefined; allowRefreshToken: boolean },
): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: responseScope(scopes, granted),
    expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
    ext_expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
    access_token: await signDelegatedAccessToken(ctx, client.app, user, audienceFor(ctx, scopes), granted, client.acr),
  };
  if (options.allowRefreshToken && scopes.oidc.includes('offline_access')) {
    body.refresh_token = issueRefreshToken(ctx, client.app.appId, user.id, scopes);
  }
  if (scopes.oidc.includes('openid')) body.id_token = await signIdToken(ctx, client.app, user, options.nonce);
  body.client_info = clientInfo(ctx, user);
  return body;
}
