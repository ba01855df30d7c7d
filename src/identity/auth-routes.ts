import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import { isGatewayError } from '../errors.js';
import type { AuthRouteHandler, GraphIdentity } from './types.js';
import { isAuthorizationCodeIdentity } from './authorization-code.js';

/**
 * `GET /auth/login` (302 to the authorize URL, state + PKCE kept server-side) and
 * `GET /auth/callback` (redeems the code). Only with the authorization-code flow; otherwise the
 * handler declines (returns false, the server answers 404). Pages never echo the code or state.
 */
export function createAuthRoutes(identity: GraphIdentity, deps: { logger: Logger; redirectUri?: string }): AuthRouteHandler {
  const log = deps.logger.child({ component: 'auth-routes' });
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (url.pathname !== '/auth/login' && url.pathname !== '/auth/callback') return false;
    if (!isAuthorizationCodeIdentity(identity)) return false;
    if (req.method !== 'GET') {
      send(res, req, 405, 'Method not allowed', 'Use GET.');
      return true;
    }
    if (url.pathname === '/auth/login') {
      // The configured REDIRECT_URI when set (it must be registered on the app), else this gateway's own callback.
      const redirectUri = deps.redirectUri ?? identity.redirectUri ?? `${url.origin}/auth/callback`;
      try {
        const location = await identity.beginLogin(redirectUri);
        res.writeHead(302, { location, 'cache-control': 'no-store' });
        res.end();
      } catch (error) {
        log.warn({ err: isGatewayError(error) ? error.message : 'unexpected' }, 'could not start sign-in');
        send(res, req, 500, 'Sign-in could not start', isGatewayError(error) ? error.message : 'Unexpected error; see the gateway log.');
      }
      return true;
    }
    const error = url.searchParams.get('error');
    if (error) {
      // Entra's error_description is shown in its first line only (it has no secrets, but trace ids clutter).
      const description = (url.searchParams.get('error_description') ?? '').split(/\r?\n/)[0]!.slice(0, 300);
      send(res, req, 400, 'Sign-in failed', `${error}: ${description}`);
      return true;
    }
    const code = url.searchParams.get('code');
    const state = url.searchParams.get('state');
    if (!code || !state) {
      send(res, req, 400, 'Sign-in failed', 'The callback needs both code and state. Start again at /auth/login.');
      return true;
    }
    try {
      const { username } = await identity.completeLogin({ code, state });
      send(res, req, 200, 'Signed in', `The gateway now calls Microsoft Graph as ${username}. You can close this window.`);
    } catch (err) {
      const message = isGatewayError(err) ? err.message : 'Unexpected error; see the gateway log.';
      log.warn({ reason: message }, 'sign-in callback failed');
      send(res, req, isGatewayError(err) && err.code === 'BAD_USER_INPUT' ? 400 : 502, 'Sign-in failed', message);
    }
    return true;
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small HTML page for browsers, JSON for everything else. */
function send(res: ServerResponse, req: IncomingMessage, status: number, title: string, message: string): void {
  const wantsHtml = (req.headers.accept ?? '').includes('text/html');
  res.setHeader('cache-control', 'no-store');
  if (wantsHtml) {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'" });
    res.end(
      `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`,
    );
  } else {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ ok: status < 400, title, message }));
  }
}
