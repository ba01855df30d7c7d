import { createHash, randomUUID } from 'node:crypto';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { EmulatorContext } from '../context.js';
import type { AuthMethodType, UserRecord } from '../model.js';
import { readFormBody, type EmuRequest, type EmuResponse } from '../http.js';
import { authenticateClient, type AuthenticatedClient } from './client-auth.js';
import { aadError, aadErrorResponse, isAadError, type AadError } from './errors.js';
import { grantApplication, grantDelegated, parseScopes, type RequestedScopes } from './scopes.js';
import { AUTHORIZATION_CODE_LIFETIME_MS, identityState } from './state.js';
import { tenantEndpoints, type TenantSegment } from './tenant-segment.js';
import { throttledTokenRequest } from './token-throttle.js';
import { appOnlyTokenResponse, delegatedTokenResponse, refreshTokenExpired } from './tokens.js';
import { findUserBySignInName, sessionsRevokedSince, signInBlocked } from './users.js';

/**
 * `POST /{tenant}/oauth2/v2.0/token`: client credentials, authorization code (with PKCE), refresh
 * token, password (ROPC) and on-behalf-of. Every grant authenticates the client first: all apps of
 * the tenant are confidential clients. A refresh returns a new refresh token and, as Entra, leaves
 * the redeemed one valid (docs/graph-facts.md#refresh-tokens) unless `singleUseRefreshTokens` is on.
 */
export const TOKEN_ROUTE = 'POST /{tenant}/oauth2/v2.0/token';

const GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token', 'password', 'urn:ietf:params:oauth:grant-type:jwt-bearer'] as const;
type GrantType = (typeof GRANT_TYPES)[number];

type Body = Record<string, unknown>;

function missing(name: string): AadError {
  return aadError('invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
}

/** A token request refused by Entra's server throttling, answered as it is (not an AAD error body). */
class Throttled {
  constructor(readonly response: EmuResponse) {}
}

export async function tokenEndpoint(ctx: EmulatorContext, req: EmuRequest, segment: TenantSegment): Promise<EmuResponse> {
  const result = await handleTokenRequest(ctx, req, segment);
  if (isAadError(result)) return aadErrorResponse(ctx, req, result, TOKEN_ROUTE);
  if (result instanceof Throttled) return result.response;
  return {
    status: 200,
    route: TOKEN_ROUTE,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store, no-cache',
      pragma: 'no-cache',
      'x-ms-request-id': randomUUID(),
      'client-request-id': req.headers['client-request-id'] ?? randomUUID(),
    },
    body: result,
  };
}

async function handleTokenRequest(ctx: EmulatorContext, req: EmuRequest, segment: TenantSegment): Promise<Body | AadError | Throttled> {
  if (req.method !== 'POST') return aadError('invalid_request', 900561, 'The endpoint only accepts POST requests. Received a GET request.');
  const form = readFormBody(req);
  const grantType = form.get('grant_type');
  if (!grantType) return missing('grant_type');
  if (!(GRANT_TYPES as readonly string[]).includes(grantType)) {
    return aadError('unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
  }
  const grant = grantType as GrantType;
  if (segment.kind === 'multi' && grant === 'client_credentials') {
    return aadError('invalid_request', 50059, 'No tenant-identifying information found in either the request or implied by any provided credentials.');
  }
  const endpoints = [tenantEndpoints(ctx).token, tenantEndpoints(ctx, ctx.tenant.domain).token, `${ctx.origin}${req.url.pathname}`, ctx.issuerV2];
  const client = await authenticateClient(ctx, req, form, endpoints);
  if (isAadError(client)) return client;
  const throttled = throttledTokenRequest(ctx, req, client.app.appId, grant, TOKEN_ROUTE);
  if (throttled) return new Throttled(throttled);
  switch (grant) {
    case 'client_credentials':
      return clientCredentials(ctx, client, form);
    case 'authorization_code':
      return authorizationCode(ctx, client, form);
    case 'refresh_token':
      return refreshToken(ctx, client, form);
    case 'password':
      return password(ctx, client, form);
    case 'urn:ietf:params:oauth:grant-type:jwt-bearer':
      return onBehalfOf(ctx, client, form);
    default: {
      const unreachable: never = grant;
      return aadError('unsupported_grant_type', 70003, `The app requested an unsupported grant type '${String(unreachable)}'.`);
    }
  }
}

async function clientCredentials(ctx: EmulatorContext, client: AuthenticatedClient, form: URLSearchParams): Promise<Body | AadError> {
  const scopeParam = form.get('scope');
  const scopes = parseScopes(ctx, scopeParam);
  if (isAadError(scopes)) return scopes;
  const roles = grantApplication(ctx, client.app, scopes, scopeParam ?? '');
  if (isAadError(roles)) return roles;
  return appOnlyTokenResponse(ctx, client, scopes, roles);
}

/** PKCE S256: base64url(SHA-256(verifier)) must equal the challenge sent to /authorize. */
function pkceMatches(verifier: string, challenge: string): boolean {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url') === challenge;
}

/** Adds the OIDC scopes of a token request to the scopes a grant carries (msal repeats them). */
function withRequestOidc(ctx: EmulatorContext, scopes: RequestedScopes, scopeParam: string | null): RequestedScopes {
  const requested = parseScopes(ctx, scopeParam);
  if (isAadError(requested)) return scopes;
  return { ...scopes, oidc: [...new Set([...scopes.oidc, ...requested.oidc])] };
}

async function authorizationCode(ctx: EmulatorContext, client: AuthenticatedClient, form: URLSearchParams): Promise<Body | AadError> {
  const code = form.get('code');
  if (!code) return missing('code');
  const redirectUri = form.get('redirect_uri');
  if (!redirectUri) return missing('redirect_uri');
  const entry = identityState(ctx.tenant).codes.get(code);
  if (!entry || entry.appId !== client.app.appId) {
    return aadError('invalid_grant', 70000, "The provided value for the 'code' parameter is not valid.");
  }
  if (entry.redeemed) {
    return aadError(
      'invalid_grant',
      54005,
      'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
    );
  }
  if (ctx.now() - entry.issuedAtMs > AUTHORIZATION_CODE_LIFETIME_MS) {
    return aadError(
      'invalid_grant',
      70008,
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
    );
  }
  if (redirectUri !== entry.redirectUri) {
    return aadError(
      'invalid_grant',
      70000,
      "The provided value for the 'redirect_uri' is not valid. The value must exactly match the redirect URI used to obtain the authorization code.",
    );
  }
  if (entry.codeChallenge !== undefined) {
    const verifier = form.get('code_verifier');
    if (!verifier || !pkceMatches(verifier, entry.codeChallenge)) {
      return aadError('invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.');
    }
  }
  entry.redeemed = true;
  const blocked = signInBlocked(ctx.tenant, entry.userId);
  if (blocked) return blocked;
  const user = ctx.tenant.users.get(entry.userId)!;
  const scopes = withRequestOidc(ctx, entry.scopes, form.get('scope'));
  const granted = grantDelegated(ctx, client.app, scopes);
  if (isAadError(granted)) return granted;
  return delegatedTokenResponse(ctx, client, user, scopes, granted, { nonce: entry.nonce, allowRefreshToken: true });
}

async function refreshToken(ctx: EmulatorContext, client: AuthenticatedClient, form: URLSearchParams): Promise<Body | AadError> {
  const token = form.get('refresh_token');
  if (!token) return missing('refresh_token');
  const entry = identityState(ctx.tenant).refreshTokens.get(token);
  if (!entry) return aadError('invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid. The refresh token is not valid.');
  if (entry.appId !== client.app.appId) {
    return aadError('invalid_grant', 70000, 'The provided grant is invalid: the refresh token was issued to a different client.');
  }
  if (entry.spent && ctx.identity.singleUseRefreshTokens) {
    return aadError(
      'invalid_grant',
      70008,
      'The refresh token has already been redeemed (emulator switch singleUseRefreshTokens): use the refresh token from the latest token response.',
    );
  }
  if (refreshTokenExpired(ctx, entry.issuedAtMs)) {
    return aadError(
      'invalid_grant',
      70008,
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
    );
  }
  const blocked = signInBlocked(ctx.tenant, entry.userId);
  if (blocked) return blocked;
  const user = ctx.tenant.users.get(entry.userId)!;
  if (sessionsRevokedSince(user, entry.issuedAtMs)) {
    return aadError(
      'invalid_grant',
      50173,
      `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${new Date(entry.issuedAtMs).toISOString()}' and the TokensValidFrom date (before which tokens are not valid) for this user is '${user.signInSessionsValidFromDateTime}'.`,
    );
  }
  let scopes = entry.scopes;
  const scopeParam = form.get('scope');
  if (scopeParam) {
    const requested = parseScopes(ctx, scopeParam);
    if (isAadError(requested)) return requested;
    scopes = requested;
  }
  // A refresh always answers with a new refresh token, whatever the scope says.
  if (!scopes.oidc.includes('offline_access')) scopes = { ...scopes, oidc: [...scopes.oidc, 'offline_access'] };
  const granted = grantDelegated(ctx, client.app, scopes);
  if (isAadError(granted)) return granted;
  entry.spent = true;
  return delegatedTokenResponse(ctx, client, user, scopes, granted, { allowRefreshToken: true });
}

async function password(ctx: EmulatorContext, client: AuthenticatedClient, form: URLSearchParams): Promise<Body | AadError> {
  const username = form.get('username');
  if (!username) return missing('username');
  const secret = form.get('password');
  if (secret === null) return missing('password');
  const scopes = parseScopes(ctx, form.get('scope'));
  if (isAadError(scopes)) return scopes;
  const user = findUserBySignInName(ctx.tenant, username);
  if (!user)
    return aadError(
      'invalid_grant',
      50034,
      `The user account does not exist in the ${ctx.tenant.domain} directory. To sign into this application, the account must be added to the directory.`,
    );
  if (user._password !== secret) return aadError('invalid_grant', 50126, 'Error validating credentials due to invalid username or password.');
  if (!user.accountEnabled) return aadError('invalid_grant', 50057, 'The user account is disabled.');
  // v2-oauth-ropc: "If users need to use multifactor authentication (MFA) to log in to the application,
  // they will be blocked instead." The flow has no way to prove a second factor, so a user under the
  // Conditional Access policy on Graph gets the same refusal as an exchange without `mfa` in `amr`
  // (docs/graph-facts.md#password-grant).
  const challenge = conditionalAccessChallenge(user, scopes, {});
  if (challenge) return challenge;
  const granted = grantDelegated(ctx, client.app, scopes);
  if (isAadError(granted)) return granted;
  return delegatedTokenResponse(ctx, client, user, scopes, granted, { allowRefreshToken: true });
}

/** Claims of a verified on-behalf-of assertion. */
type Assertion = JWTPayload & { oid?: unknown; scp?: unknown; idtyp?: unknown };

/**
 * Verifies an on-behalf-of assertion as Entra does: a token this tenant issued (v1.0 or v2.0
 * issuer, the tenant's key), still valid, and issued for the very app that presents it: its `aud`
 * is that app's client id or one of its App ID URIs. A token for another app is AADSTS500131
 * (older answers used AADSTS50013 for the same case; docs/graph-facts.md#caller-tokens).
 */
async function verifyUserAssertion(ctx: EmulatorContext, client: AuthenticatedClient, assertion: string): Promise<Assertion | AadError> {
  let payload: Assertion;
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(ctx.signer.jwks), {
      issuer: [ctx.issuer, ctx.issuerV2],
      algorithms: ['RS256'],
      currentDate: new Date(ctx.now()),
      clockTolerance: 5,
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) return aadError('invalid_grant', 500133, 'Assertion is not within its valid time range.');
    if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'iss') {
      return aadError('invalid_grant', 50013, 'Assertion failed validation: it was not issued by this tenant.');
    }
    return aadError('invalid_grant', 50013, 'Assertion failed signature validation.');
  }
  const app = client.app;
  const accepted = [app.appId, ...(app.api?.identifierUris ?? [])];
  const audience = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
  if (typeof audience !== 'string' || !accepted.includes(audience)) {
    return aadError(
      'invalid_grant',
      500131,
      `Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '${String(audience)}' and the expected audience is '${app.appId}' or one of the Application Uris of this application with App ID '${app.appId}'(${app.displayName}). The downstream client must request a token for the expected audience (the application that made the OBO request) and this application should use that token as the assertion.`,
    );
  }
  return payload;
}

async function onBehalfOf(ctx: EmulatorContext, client: AuthenticatedClient, form: URLSearchParams): Promise<Body | AadError> {
  const assertion = form.get('assertion');
  if (!assertion) return missing('assertion');
  if (form.get('requested_token_use') !== 'on_behalf_of') return missing('requested_token_use');
  const scopes = parseScopes(ctx, form.get('scope'));
  if (isAadError(scopes)) return scopes;
  const payload = await verifyUserAssertion(ctx, client, assertion);
  if (isAadError(payload)) return payload;
  // A user token has a pairwise `sub`; an app-only token has `sub` = `oid` and no `scp`.
  if (typeof payload.scp !== 'string' || typeof payload.oid !== 'string' || payload.oid === payload.sub || payload.idtyp === 'app') {
    return aadError('invalid_grant', 50013, 'Assertion is an app-only token; on-behalf-of needs a token issued to a user.');
  }
  if (payload.tid !== ctx.tenant.tenantId) return aadError('invalid_grant', 50013, 'Assertion failed validation: it was not issued by this tenant.');
  const blocked = signInBlocked(ctx.tenant, payload.oid);
  if (blocked) return blocked;
  const user = ctx.tenant.users.get(payload.oid)!;
  const challenge = conditionalAccessChallenge(user, scopes, payload);
  if (challenge) return challenge;
  const granted = grantDelegated(ctx, client.app, scopes);
  if (isAadError(granted)) return granted;
  return delegatedTokenResponse(ctx, client, user, scopes, granted, { allowRefreshToken: true });
}

/** The id of the emulator's one Conditional Access policy, named in its claims challenges. */
const MFA_POLICY_ID = '9ab03e19-ed42-4168-b6b7-7001fb3e933a';

/** Methods that can answer a multifactor prompt: a user holding one must use it, not enroll. */
const SECOND_FACTORS: ReadonlySet<AuthMethodType> = new Set(['phone', 'fido2', 'microsoftAuthenticator', 'softwareOath', 'windowsHelloForBusiness']);

/**
 * A Conditional Access policy on Graph that the caller's token does not satisfy, with a `claims`
 * challenge the middle tier must hand back to its client (docs/graph-facts.md#caller-tokens).
 * Satisfied by an assertion whose `amr` says `mfa`. A user with a second factor must use it:
 * AADSTS50076 (UserStrongAuthClientAuthNRequired), which Entra sends as `invalid_grant` with
 * `suberror` `basic_action` and `capolids` in the claims (the raw body in
 * AzureAD/microsoft-authentication-library-for-js#5491). A user without one must enroll: the OBO
 * page's "Error response example", `interaction_required` AADSTS50079.
 */
function conditionalAccessChallenge(user: UserRecord, scopes: RequestedScopes, assertion: JWTPayload): AadError | undefined {
  if (scopes.resource !== 'graph' || user._graphRequiresMfa !== true) return undefined;
  if (Array.isArray(assertion.amr) && assertion.amr.includes('mfa')) return undefined;
  if (user.authMethods.some((m) => SECOND_FACTORS.has(m.type))) {
    return aadError(
      'invalid_grant',
      50076,
      "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.",
      undefined,
      { suberror: 'basic_action', claims: JSON.stringify({ access_token: { capolids: { essential: true, values: [MFA_POLICY_ID] } } }) },
    );
  }
  return aadError(
    'interaction_required',
    50079,
    "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multifactor authentication to access '00000003-0000-0000-c000-000000000000'.",
    undefined,
    { claims: JSON.stringify({ access_token: { polids: { essential: true, values: [MFA_POLICY_ID] } } }) },
  );
}
