import { randomUUID } from 'node:crypto';
import type { EmulatorContext } from '../context.js';
import type { EmuRequest, EmuResponse } from '../http.js';
import type { AppRegistration, UserRecord } from '../model.js';
import { findClientApp } from './client-auth.js';
import { aadErrorResponse, isAadError, type AadError } from './errors.js';
import { grantDelegated, parseScopes } from './scopes.js';
import { identityState, opaqueToken } from './state.js';
import { findUserBySignInName } from './users.js';

/**
 * `GET /{tenant}/oauth2/v2.0/authorize`: sandbox consent without a login page. Once client and
 * redirect URI are trusted, the admin user (or the `login_hint` user) is signed in and consents
 * at once, and the browser goes straight back with a code. Before the redirect URI is trusted,
 * errors are shown here (never sent to an unverified URI), as Entra does.
 */
const ROUTE = 'GET /{tenant}/oauth2/v2.0/authorize';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function isLoopbackHttp(uri: URL): boolean {
  return uri.protocol === 'http:' && LOOPBACK_HOSTS.has(uri.hostname);
}

/**
 * Exact match with a registered URI, or, like Entra's loopback rule (RFC 8252 §7.3), any http
 * loopback URI (any port, any path) when the app registered a loopback URI at all.
 */
export function redirectUriAllowed(app: AppRegistration, redirectUri: string): boolean {
  if (app.redirectUris.includes(redirectUri)) return true;
  let parsed: URL;
  try {
    parsed = new URL(redirectUri);
  } catch {
    return false;
  }
  if (!isLoopbackHttp(parsed)) return false;
  return app.redirectUris.some((registered) => {
    try {
      return isLoopbackHttp(new URL(registered));
    } catch {
      return false;
    }
  });
}

type RedirectError =
  'invalid_request' | 'unsupported_response_type' | 'invalid_scope' | 'consent_required' | 'access_denied' | 'server_error' | 'invalid_resource';

function redirectTo(redirectUri: string, responseMode: string, params: Record<string, string>): EmuResponse {
  if (responseMode === 'form_post') {
    const escape = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    const inputs = Object.entries(params)
      .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}"/>`)
      .join('');
    const html = `<html><head><title>Working...</title></head><body onload="document.forms[0].submit()"><form method="POST" action="${escape(redirectUri)}">${inputs}<noscript><input type="submit" value="Continue"/></noscript></form></body></html>`;
    return { status: 200, route: ROUTE, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body: html };
  }
  const location = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) location.searchParams.set(name, value);
  return { status: 302, route: ROUTE, headers: { location: location.toString(), 'cache-control': 'no-store' } };
}

export async function authorize(ctx: EmulatorContext, req: EmuRequest): Promise<EmuResponse> {
  const q = req.url.searchParams;
  const showError = (error: AadError) => aadErrorResponse(ctx, req, error, ROUTE);
  const app = findClientApp(ctx, q.get('client_id'));
  if (isAadError(app)) return showError(app);
  const redirectUri = q.get('redirect_uri');
  if (!redirectUri)
    return showError({ kind: 'invalid_request', code: 900144, message: "The request body must contain the following parameter: 'redirect_uri'." });
  if (!redirectUriAllowed(app, redirectUri)) {
    return showError({
      kind: 'invalid_request',
      code: 50011,
      message: `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${app.appId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.`,
    });
  }
  const responseMode = q.get('response_mode') ?? 'query';
  const state = q.get('state');
  const fail = (error: RedirectError, aad: Pick<AadError, 'code' | 'message'>) => {
    const params: Record<string, string> = {
      error,
      error_description: `AADSTS${aad.code}: ${aad.message}\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${req.headers['client-request-id'] ?? randomUUID()}\r\nTimestamp: ${new Date(ctx.now()).toISOString()}`,
      error_uri: `${ctx.origin}/error?code=${aad.code}`,
    };
    if (state !== null) params.state = state;
    return redirectTo(redirectUri, responseMode === 'form_post' ? 'form_post' : 'query', params);
  };
  if (responseMode !== 'query' && responseMode !== 'form_post') {
    return fail('invalid_request', { code: 900144, message: `The response_mode '${responseMode}' is not supported by this emulator; use query or form_post.` });
  }
  const responseType = q.get('response_type');
  if (responseType !== 'code') {
    return fail('unsupported_response_type', { code: 700054, message: `response_type '${responseType ?? ''}' is not enabled for the application.` });
  }
  const scopes = parseScopes(ctx, q.get('scope'));
  if (isAadError(scopes))
    return fail(scopes.kind === 'invalid_resource' ? 'invalid_resource' : scopes.kind === 'invalid_request' ? 'invalid_request' : 'invalid_scope', scopes);
  const granted = grantDelegated(ctx, app, scopes);
  if (isAadError(granted)) return fail('consent_required', granted);
  const codeChallenge = q.get('code_challenge') ?? undefined;
  const method = q.get('code_challenge_method') ?? (codeChallenge ? 'plain' : undefined);
  if (codeChallenge !== undefined && method !== 'S256') {
    return fail('invalid_request', { code: 5000751, message: `The code_challenge_method '${method ?? ''}' is not supported by this emulator; use S256.` });
  }
  if (codeChallenge !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) {
    return fail('invalid_request', { code: 501491, message: 'Invalid size of Code_Challenge parameter.' });
  }
  const user = signInUser(ctx, q.get('login_hint'));
  if (!user) return fail('server_error', { code: 50034, message: 'The sandbox tenant has no admin user to sign in.' });
  if (!user.accountEnabled) return fail('access_denied', { code: 50057, message: 'The user account is disabled.' });

  const code = opaqueToken('0.A');
  identityState(ctx.tenant).codes.set(code, {
    appId: app.appId,
    userId: user.id,
    redirectUri,
    scopes,
    codeChallenge,
    nonce: q.get('nonce') ?? undefined,
    issuedAtMs: ctx.now(),
    redeemed: false,
  });
  const params: Record<string, string> = { code, client_info: Buffer.from(JSON.stringify({ uid: user.id, utid: ctx.tenant.tenantId })).toString('base64url') };
  if (state !== null) params.state = state;
  params.session_state = randomUUID();
  return redirectTo(redirectUri, responseMode, params);
}

/** The `login_hint` user when it names one, the tenant's admin otherwise. */
function signInUser(ctx: EmulatorContext, loginHint: string | null): UserRecord | undefined {
  if (loginHint) {
    const hinted = findUserBySignInName(ctx.tenant, loginHint);
    if (hinted) return hinted;
  }
  return ctx.tenant.users.get(ctx.tenant.wellKnown.adminUserId);
}

/** `GET /{tenant}/oauth2/v2.0/logout`: there is no browser session to end; just go back. */
export function logout(req: EmuRequest): EmuResponse {
  const route = 'GET /{tenant}/oauth2/v2.0/logout';
  const target = req.url.searchParams.get('post_logout_redirect_uri');
  if (target) {
    try {
      return { status: 302, route, headers: { location: new URL(target).toString() } };
    } catch {
      // fall through to the signed-out page
    }
  }
  return { status: 200, route, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'You have signed out of the emulator tenant.' };
}
