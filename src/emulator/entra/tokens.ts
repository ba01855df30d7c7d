import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { EmulatorContext } from '../context.js';
import type { AppRegistration, UserRecord } from '../model.js';
import type { AuthenticatedClient } from './client-auth.js';
import { accessTokenShape, responseScope, type RequestedScopes } from './scopes.js';
import { GUEST_HOME_TENANT_ID } from '../seed.js';
import { REFRESH_TOKEN_LIFETIME_MS, identityState, opaqueToken } from './state.js';

/**
 * Token minting: access tokens in the version their resource asks for (docs/graph-facts.md#caller-tokens),
 * app-only with `roles`, delegated with `scp`; id tokens; and the token response bodies msal-node
 * consumes (it builds its account from `id_token` and `client_info`).
 *
 * - v1.0 (every Graph token, custom APIs with requestedAccessTokenVersion null or 1): `iss` on the
 *   STS host, `aud` the resource as requested, `appid`/`appidacr`, `upn`/`unique_name`.
 * - v2.0 (custom APIs with requestedAccessTokenVersion 2): `iss` `{authority}/{tid}/v2.0`, `aud`
 *   the API's client id, `azp`/`azpacr`, `preferred_username`.
 *
 * `idtyp` is an optional claim an API must configure: Graph's tokens carry it, custom APIs' do not.
 */
export const ACCESS_TOKEN_LIFETIME_SECONDS = 3600;

type TokenVersion = '1.0' | '2.0';

function nowSeconds(ctx: EmulatorContext): number {
  return Math.floor(ctx.now() / 1000);
}

/** Entra's `sub` is pairwise: stable per user and app, different across apps. */
function pairwiseSubject(userId: string, appId: string): string {
  return createHash('sha256').update(`${userId}:${appId}`).digest('base64url').slice(0, 43);
}

interface AccessTokenTarget {
  version: TokenVersion;
  audience: string;
  /** Graph tokens carry `idtyp`; a custom API gets it only as an optional claim. */
  withIdtyp: boolean;
}

function targetOf(ctx: EmulatorContext, scopes: RequestedScopes): AccessTokenTarget {
  return { ...accessTokenShape(ctx, scopes), withIdtyp: scopes.resource === 'graph' };
}

/** The client claims: `appid`/`appidacr` in v1.0, `azp`/`azpacr` in v2.0. */
function clientClaims(version: TokenVersion, app: AppRegistration, acr: AuthenticatedClient['acr']): JWTPayload {
  return version === '1.0' ? { appid: app.appId, appidacr: acr } : { azp: app.appId, azpacr: acr };
}

function issuerOf(ctx: EmulatorContext, version: TokenVersion): string {
  return version === '1.0' ? ctx.issuer : ctx.issuerV2;
}

export async function signAppOnlyAccessToken(
  ctx: EmulatorContext,
  app: AppRegistration,
  target: AccessTokenTarget,
  roles: string[],
  acr: AuthenticatedClient['acr'],
): Promise<string> {
  const claims: JWTPayload = {
    aud: target.audience,
    iss: issuerOf(ctx, target.version),
    ...clientClaims(target.version, app, acr),
    ...(target.withIdtyp ? { idtyp: 'app' } : {}),
    // App-only: the service principal is both `oid` and `sub`.
    oid: app.servicePrincipalId,
    sub: app.servicePrincipalId,
    tid: ctx.tenant.tenantId,
    ver: target.version,
  };
  if (roles.length > 0) claims.roles = roles;
  return ctx.signer.sign(claims, ACCESS_TOKEN_LIFETIME_SECONDS, nowSeconds(ctx));
}

/** An app-only v1.0 Graph token (the hosted broker hands these out). */
export function graphAppOnlyTarget(audience: string): AccessTokenTarget {
  return { version: '1.0', audience, withIdtyp: true };
}

export async function signDelegatedAccessToken(
  ctx: EmulatorContext,
  app: AppRegistration,
  user: UserRecord,
  target: AccessTokenTarget,
  scp: string[],
  acr: AuthenticatedClient['acr'],
): Promise<string> {
  const userClaims: JWTPayload =
    target.version === '1.0'
      ? {
          amr: ['pwd'],
          ...(user.surname ? { family_name: user.surname } : {}),
          ...(user.givenName ? { given_name: user.givenName } : {}),
          name: user.displayName,
          unique_name: user.userPrincipalName,
          upn: user.userPrincipalName,
        }
      : { name: user.displayName, preferred_username: user.userPrincipalName };
  const claims: JWTPayload = {
    aud: target.audience,
    iss: issuerOf(ctx, target.version),
    ...(target.version === '1.0' ? { acr: '1' } : {}),
    ...clientClaims(target.version, app, acr),
    ...(target.withIdtyp ? { idtyp: 'user' } : {}),
    ...userClaims,
    // `idp` is the identity provider that authenticated the user; Entra writes it only when that is
    // not the issuer, "guests, for instance" (docs/graph-facts.md#caller-tokens): a B2B guest
    // signs in at its home tenant's STS.
    ...(user.userType === 'Guest' ? { idp: `https://sts.windows.net/${GUEST_HOME_TENANT_ID}/` } : {}),
    oid: user.id,
    scp: scp.join(' '),
    sub: pairwiseSubject(user.id, app.appId),
    tid: ctx.tenant.tenantId,
    ver: target.version,
  };
  return ctx.signer.sign(claims, ACCESS_TOKEN_LIFETIME_SECONDS, nowSeconds(ctx));
}

/** Id tokens come from the v2.0 endpoint, so they carry the v2.0 issuer. */
export async function signIdToken(ctx: EmulatorContext, app: AppRegistration, user: UserRecord, nonce: string | undefined): Promise<string> {
  const claims: JWTPayload = {
    aud: app.appId,
    iss: ctx.issuerV2,
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
  const accessToken = await signAppOnlyAccessToken(ctx, client.app, targetOf(ctx, scopes), roles, client.acr);
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
    access_token: await signDelegatedAccessToken(ctx, client.app, user, targetOf(ctx, scopes), granted, client.acr),
  };
  if (options.allowRefreshToken && scopes.oidc.includes('offline_access')) {
    body.refresh_token = issueRefreshToken(ctx, client.app.appId, user.id, scopes);
  }
  if (scopes.oidc.includes('openid')) body.id_token = await signIdToken(ctx, client.app, user, options.nonce);
  body.client_info = clientInfo(ctx, user);
  return body;
}
