import type { IncomingMessage, ServerResponse } from 'node:http';
import { auditCaller, type AuditCaller } from '../audit/event.js';
import type { AuditLog } from '../audit/log.js';
import { ErrorCode, GatewayError, httpStatusOf, isGatewayError } from '../errors.js';
import { correlationIdOf } from '../http/correlation-id.js';
import type { ServedOverHttps } from '../http/served-over-https.js';
import { printableUpstreamText } from '../http/upstream-text.js';
import type { Logger } from '../logger.js';
import { refusedCredential, type AuthenticationAttempt, type AuthenticationGuard } from './authentication-failures.js';
import { isAuthorizationCodeIdentity, SIGN_IN_STATE_UNKNOWN, type AuthorizationCodeIdentity, type PendingSignInCheck } from './authorization-code.js';
import type { SignInLinkCheck, SignInLinks } from './sign-in-link.js';
import { Permission, type AuthRouteHandler, type AuthRouteOutcome, type CallerAuthenticator, type GraphIdentity } from './types.js';
import { redisErrorSummary } from '../store/redis-error.js';
import { signInCookieFor } from './sign-in-cookie.js';

/**
 * `GET /auth/login` and `GET /auth/callback`: the authorization-code sign-in, which replaces the
 * Graph identity every caller is served as. That makes it an operator act (docs/security.md#sign-in-is-an-operator-act):
 *
 * - `/auth/login` needs an operator: a caller holding `Gateway.Admin` (an API key or an Entra app
 *   role; with CALLER_AUTH=none the loopback caller, who holds every permission), or a one-time
 *   sign-in link (`?link=`) from `npm run auth:login-url` or from `POST /auth/login-link` (which
 *   hands a Gateway.Admin caller a link to open in a browser, since a browser cannot send an API
 *   key). It answers 302 to the authorize URL and gives the browser a binding cookie.
 * - `/auth/callback` completes only with that cookie, once: a state started by someone else, in
 *   another browser, or replayed, is refused. A SIGN_IN_ACCOUNT pin refuses any other account
 *   and keeps the previous identity.
 * - Every completed or refused replacement writes an audit event naming the operator and the account.
 *
 * Only with the authorization-code flow; otherwise the handler declines (the server answers 404).
 * Pages never echo the code, the state or the link.
 */
export interface AuthRoutesDeps {
  logger: Logger;
  redirectUri?: string;
  callerAuthenticator: CallerAuthenticator;
  authGuard: AuthenticationGuard;
  auditLog: AuditLog;
  /** One-time links: minted by `npm run auth:login-url` (key from TOKEN_CACHE_KEY) or by `POST /auth/login-link`. */
  signInLinks: SignInLinks;
  /** The challenge of a 401 (`authenticationChallenge` of CALLER_AUTH); `Bearer` when absent. */
  challenge?: string;
  /**
   * Whether a request came over HTTPS through a trusted proxy (src/http/served-over-https.ts):
   * without REDIRECT_URI the callback URL is then https (docs/identity.md#the-callback-url).
   * Absent: never (every derived callback URL is http).
   */
  servedOverHttps?: ServedOverHttps;
}

const SIGN_IN_COOKIE_MAX_AGE_S = 10 * 60;

/** The hosts Entra accepts an http redirect URI for (docs/graph-facts.md#redirect-uris). */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** How a refused sign-in link is described to the browser that brought it. */
const LINK_PROBLEMS: Record<Exclude<Extract<SignInLinkCheck, { ok: false }>['problem'], 'unconfirmed'>, string> = {
  malformed: 'not valid',
  'bad-signature': 'not valid',
  expired: 'expired',
  used: 'already used',
  'before-record': "from before the gateway's record of spent links began (the gateway, or its Redis, restarted and forgot which links were used)",
};

export function createAuthRoutes(identity: GraphIdentity, deps: AuthRoutesDeps): AuthRouteHandler {
  const log = deps.logger.child({ component: 'auth-routes' });
  /**
   * This gateway's origin as the browser reached it, for the callback URL when REDIRECT_URI is not
   * set: the Host header, and https when a trusted proxy ended TLS for the browser. Believing the
   * proxy's scheme gives nothing to a stranger: the Host was already believed (Entra redirects only to
   * a registered URI, so a forged one ends at Entra's refusal, never elsewhere), X-Forwarded-Proto is
   * read only from TRUSTED_PROXIES, and https only makes the URI and its cookie stricter.
   */
  const originOf = (req: IncomingMessage, url: URL): string => (deps.servedOverHttps?.(req) ? new URL(`https://${url.host}`).origin : url.origin);
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<AuthRouteOutcome> => {
    if (!ROUTES.has(url.pathname)) return false;
    if (!isAuthorizationCodeIdentity(identity)) return false;
    const method = url.pathname === '/auth/login-link' ? 'POST' : 'GET';
    if (req.method !== method) {
      res.setHeader('allow', method);
      send(res, req, 405, 'Method not allowed', `Use ${method}.`);
      return 'handled';
    }
    const attempt: AuthenticationAttempt = {
      clientAddress: deps.authGuard.clientAddressOf(req),
      correlationId: correlationIdOf(req.headers),
      route: url.pathname,
    };
    try {
      await deps.authGuard.admit(attempt);
      if (url.pathname === '/auth/login') await login(identity, req, res, url, attempt);
      else if (url.pathname === '/auth/login-link') await loginLink(identity, req, res, url, attempt);
      else if ((await callback(identity, req, res, url, attempt)) === 'signed-in') return 'signed-in';
    } catch (error) {
      if (!isGatewayError(error)) throw error;
      if ((error.code === ErrorCode.THROTTLED || error.code === ErrorCode.UPSTREAM_UNAVAILABLE) && typeof error.extensions.retryAfterSeconds === 'number')
        res.setHeader('retry-after', String(error.extensions.retryAfterSeconds));
      if (error.code === ErrorCode.UNAUTHENTICATED) res.setHeader('www-authenticate', deps.challenge ?? 'Bearer');
      send(res, req, httpStatusOf[error.code], url.pathname === '/auth/callback' ? 'Sign-in failed' : 'Sign-in refused', error.message);
    }
    return 'handled';
  };

  /** Who is starting the sign-in: a one-time link, or a caller holding Gateway.Admin. */
  async function operatorOf(req: IncomingMessage, url: URL, attempt: AuthenticationAttempt): Promise<AuditCaller> {
    const link = url.searchParams.get('link');
    if (link !== null) {
      const checked = await deps.signInLinks.redeem(link);
      if (checked.ok) return { kind: 'sign-in-link', linkId: checked.linkId, issuedBy: checked.issuedBy };
      if (checked.problem === 'unconfirmed') {
        // Not a guess: the link may be good, but whether another replica spent it is unknown.
        log.warn(
          { correlationId: attempt.correlationId, err: redisErrorSummary(checked.cause) },
          'sign-in link refused: the shared record of spent links (Redis) did not answer or refused to record it',
        );
        throw new GatewayError(
          ErrorCode.UPSTREAM_UNAVAILABLE,
          'The gateway cannot record that this sign-in link is spent (its shared store, Redis, did not answer or refused the write), so it is not accepted now. Retry in a moment, or start the sign-in with an operator credential.',
          { retryAfterSeconds: 5 },
        );
      }
      await deps.authGuard.recordFailure('invalid_sign_in_link', attempt);
      throw new GatewayError(
        ErrorCode.UNAUTHENTICATED,
        `This sign-in link is ${LINK_PROBLEMS[checked.problem]}: links work once, within 5 minutes${checked.problem === 'before-record' ? ', and only where the record of spent links that was there when they were issued still is (the gateway process, or its Redis)' : ''}. Get a new one from npm run auth:login-url or POST /auth/login-link.`,
      );
    }
    return callerOperator(req, attempt);
  }

  /** A caller authenticated per CALLER_AUTH who holds Gateway.Admin. */
  async function callerOperator(req: IncomingMessage, attempt: AuthenticationAttempt): Promise<AuditCaller> {
    let caller;
    try {
      caller = await deps.callerAuthenticator.authenticate({ headers: req.headers, rawHeaders: req.rawHeaders, remoteAddress: req.socket.remoteAddress });
    } catch (error) {
      // The rule /graphql follows too (src/identity/authentication-failures.ts).
      const refusal = await refusedCredential(deps.authGuard, error, req.headers, attempt);
      if (refusal?.kind === 'refused') {
        throw new GatewayError(
          ErrorCode.UNAUTHENTICATED,
          `Signing the gateway in is an operator act: open a one-time link from npm run auth:login-url, or call with an operator credential (${Permission.GatewayAdmin}). ${refusal.error.message}`,
        );
      }
      throw refusal?.error ?? error;
    }
    const blocked = deps.authGuard.blockedNow(attempt);
    if (blocked) throw blocked;
    if (!caller.permissions.has(Permission.GatewayAdmin)) {
      await deps.authGuard.recordFailure('not_operator', attempt, { countsTowardsLimit: false });
      throw new GatewayError(ErrorCode.FORBIDDEN, `Signing the gateway in needs the ${Permission.GatewayAdmin} permission, which this caller does not hold.`);
    }
    if (caller.kind === 'anonymous') {
      // The loopback credential is ambient: any page the operator's browser visits could navigate it
      // here. Only a navigation the operator started (typed, bookmarked, or from the gateway's own pages) counts.
      const site = req.headers['sec-fetch-site'];
      if (site === 'cross-site' || site === 'same-site') {
        await deps.authGuard.recordFailure('not_operator', attempt, { countsTowardsLimit: false });
        throw new GatewayError(ErrorCode.FORBIDDEN, 'A sign-in cannot be started from another site: open /auth/login yourself.');
      }
    }
    return auditCaller(caller);
  }

  /**
   * A callback for no sign-in of this browser: a state that is unknown (a guess, a replay, an
   * expired sign-in) or bound to another browser. Counted like a wrong credential, so a stranger
   * repeating it is answered 429 past AUTH_FAILURE_LIMIT, and leaves one log line per counted
   * failure, not one per request. Throws THROTTLED when this address's budget is already spent.
   */
  async function refuseCallback(pending: Exclude<PendingSignInCheck, 'bound'>, attempt: AuthenticationAttempt): Promise<void> {
    // As on /graphql: a burst's own failures may have used up the budget since `admit`.
    const blocked = deps.authGuard.blockedNow(attempt);
    if (blocked) throw blocked;
    await deps.authGuard.recordFailure(pending === 'unknown' ? 'invalid_sign_in_state' : 'sign_in_not_bound', attempt);
  }

  async function login(identity: AuthorizationCodeIdentity, req: IncomingMessage, res: ServerResponse, url: URL, attempt: AuthenticationAttempt) {
    // The configured REDIRECT_URI when set (it must be registered on the app), else this gateway's own callback.
    const redirectUri = deps.redirectUri ?? identity.redirectUri ?? `${originOf(req, url)}/auth/callback`;
    const callback = new URL(redirectUri);
    if (callback.host !== url.host && callback.pathname.endsWith('/auth/callback') && !url.searchParams.has('moved')) {
      // The binding cookie must be set on the host the callback returns to (localhost and
      // 127.0.0.1 are different cookie jars); nothing is spent yet. `moved` stops a loop behind a
      // proxy that rewrites Host.
      const there = new URL(callback.pathname.replace(/callback$/, 'login'), callback.origin);
      for (const [name, value] of url.searchParams) there.searchParams.set(name, value);
      there.searchParams.set('moved', '1');
      res.writeHead(302, { location: there.toString(), 'cache-control': 'no-store' });
      res.end();
      return;
    }
    const operator = await operatorOf(req, url, attempt);
    if (callback.protocol === 'http:' && !LOOPBACK_HOSTS.has(callback.hostname)) {
      // Entra accepts http redirect URIs for localhost only: this sign-in will end at Entra's
      // refusal (AADSTS50011). Said to the operator, after the operator check, so strangers cannot write it.
      log.warn(
        { redirectUri, correlationId: attempt.correlationId },
        'sign-in callback URL is http on a host other than localhost, which Entra refuses: behind a TLS proxy set TRUSTED_PROXIES to its addresses (it sends X-Forwarded-Proto: https), or set REDIRECT_URI to the https callback URL registered on the app',
      );
    }
    let started: { location: string; binding: string };
    try {
      started = await identity.beginLogin(redirectUri, operator);
    } catch (error) {
      log.warn({ err: isGatewayError(error) ? error.message : 'unexpected' }, 'could not start sign-in');
      throw isGatewayError(error) ? error : new GatewayError(ErrorCode.INTERNAL_SERVER_ERROR, 'Sign-in could not start; see the gateway log.');
    }
    log.info({ operator, clientAddress: attempt.clientAddress, correlationId: attempt.correlationId }, 'sign-in started');
    res.writeHead(302, {
      location: started.location,
      'cache-control': 'no-store',
      // Named and marked for the callback's scheme: `__Host-` and Secure over https (src/identity/sign-in-cookie.ts).
      'set-cookie': signInCookieFor(redirectUri).set(started.binding, SIGN_IN_COOKIE_MAX_AGE_S),
    });
    res.end();
  }

  /** `POST /auth/login-link`: a Gateway.Admin caller gets a one-time link to open in a browser. */
  async function loginLink(identity: AuthorizationCodeIdentity, req: IncomingMessage, res: ServerResponse, url: URL, attempt: AuthenticationAttempt) {
    const operator = await callerOperator(req, attempt);
    const redirectUri = deps.redirectUri ?? identity.redirectUri;
    const callback = redirectUri ? new URL(redirectUri) : undefined;
    const loginUrl =
      callback && callback.pathname.endsWith('/auth/callback')
        ? new URL(callback.pathname.replace(/callback$/, 'login'), callback.origin).toString()
        : `${originOf(req, url)}/auth/login`;
    const link = deps.signInLinks.mint(loginUrl, describeOperator(operator));
    log.info({ operator, linkId: link.id, correlationId: attempt.correlationId }, 'sign-in link issued');
    res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ url: link.url, expiresAt: link.expiresAt.toISOString() }));
  }

  /** `signed-in` only when the callback replaced the Graph identity; every refusal throws or answers and returns `handled`. */
  async function callback(
    identity: AuthorizationCodeIdentity,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    attempt: AuthenticationAttempt,
  ): Promise<'handled' | 'signed-in'> {
    const error = url.searchParams.get('error');
    const state = url.searchParams.get('state');
    // The callback URL /auth/login chose (and moved the browser to its host for): the same cookie it set.
    // Only that name is read: a sign-in started by the previous version, under the old name, is
    // refused like any unbound one and started again (a sign-in lasts minutes; docs/security.md#sign-in-is-an-operator-act).
    const cookie = signInCookieFor(deps.redirectUri ?? identity.redirectUri ?? `${originOf(req, url)}/auth/callback`);
    const bindings = cookieValuesOf(req, cookie.name);
    if (error) {
      // Anyone can send a browser here with any text in these parameters: the page shows only what
      // has the shape of Entra's codes (an OAuth error code, an AADSTS number), never free text that
      // could pass for a message of the gateway's. The description's first line goes to the log only
      // when the redirect ends a sign-in this browser started (Entra sends its state back, RFC 6749
      // 4.1.2.1): otherwise any stranger wrote a log line of their own text per request, unbounded,
      // where the page tells the operator to read "Entra's description".
      const pending = state ? await identity.pendingSignIn({ state, bindings }) : 'unknown';
      const codes = (description: string) =>
        [/^[a-z_]{1,64}$/.test(error) ? error : 'error', /^AADSTS\d{4,8}\b/.exec(description)?.[0]].filter(Boolean).join(', ');
      // Entra's text, brought back by the browser: one printable line, bounded (src/http/upstream-text.ts).
      const description = printableUpstreamText((url.searchParams.get('error_description') ?? '').split(/\r?\n/)[0]!);
      if (pending !== 'bound') {
        await refuseCallback(pending, attempt);
        send(
          res,
          req,
          400,
          'Sign-in failed',
          `Entra ID refused the sign-in (${codes(description)}). No sign-in of this browser was waiting for it: start again at /auth/login.`,
        );
        return 'handled';
      }
      log.info({ error: printableUpstreamText(error, 64), description, correlationId: attempt.correlationId }, 'sign-in refused by the authority');
      send(res, req, 400, 'Sign-in failed', `Entra ID refused the sign-in (${codes(description)}). The gateway's log has Entra's description.`);
      return 'handled';
    }
    const code = url.searchParams.get('code');
    if (!code || !state) {
      send(res, req, 400, 'Sign-in failed', 'The callback needs both code and state. Start again at /auth/login.');
      return 'handled';
    }
    let outcome;
    try {
      outcome = await identity.completeLogin({ code, state, bindings });
    } catch (err) {
      const reason = isGatewayError(err) ? err.extensions.reason : undefined;
      if (reason === 'SIGN_IN_NOT_BOUND' || reason === SIGN_IN_STATE_UNKNOWN) {
        await refuseCallback(reason === SIGN_IN_STATE_UNKNOWN ? 'unknown' : 'not-bound', attempt);
      } else {
        log.warn({ reason: isGatewayError(err) ? err.message : 'unexpected', correlationId: attempt.correlationId }, 'sign-in callback failed');
      }
      if (isGatewayError(err) && err.code === ErrorCode.UNAUTHENTICATED && reason !== 'SIGN_IN_NOT_BOUND') {
        // A refused code (invalid_grant...) is Entra's answer, not the caller's credential.
        throw new GatewayError(ErrorCode.UPSTREAM_ERROR, err.message);
      }
      throw err;
    }
    // The binding is spent either way.
    res.setHeader('set-cookie', cookie.clear());
    deps.auditLog.emit({
      operation: 'signIn',
      operationName: null,
      outcome: outcome.outcome === 'signed-in' ? 'succeeded' : 'refused',
      ...(outcome.outcome === 'account-refused' ? { reason: ErrorCode.FORBIDDEN } : {}),
      caller: outcome.operator,
      ...((outcome.account.username ?? outcome.account.objectId) ? { targetUser: outcome.account.username ?? outcome.account.objectId } : {}),
      account: outcome.account,
      ...(outcome.previousAccount ? { previousAccount: outcome.previousAccount } : {}),
      ...(attempt.clientAddress ? { clientAddress: attempt.clientAddress } : {}),
      steps: [],
      requestIds: [],
      correlationId: attempt.correlationId,
    });
    if (outcome.outcome === 'account-refused') {
      const who = outcome.account.username ?? outcome.account.objectId ?? 'this account';
      throw new GatewayError(
        ErrorCode.FORBIDDEN,
        `This gateway only accepts a sign-in as the account named in SIGN_IN_ACCOUNT; ${who} was refused and the previous identity is kept.`,
      );
    }
    const who = outcome.account.username ?? outcome.account.objectId ?? 'the signed-in user';
    send(res, req, 200, 'Signed in', `The gateway now calls Microsoft Graph as ${who}. You can close this window.`);
    return 'signed-in';
  }
}

const ROUTES = new Set(['/auth/login', '/auth/login-link', '/auth/callback']);

/** Who minted a link, as the audit event of the sign-in it starts will name it. */
function describeOperator(operator: AuditCaller): string {
  switch (operator.kind) {
    case 'api-key':
      return `api-key:${operator.keyId}`;
    case 'entra':
      return `entra:${operator.subject}`;
    case 'anonymous':
      return 'loopback';
    case 'sign-in-link':
      return `sign-in-link:${operator.linkId}`;
    case 'unknown':
      return 'unknown';
    default: {
      const unreachable: never = operator;
      return String(unreachable);
    }
  }
}

/**
 * Every value the browser sent under `name`, at most MAX_COOKIE_VALUES. A browser sends one cookie
 * per path and domain that matches, most specific path first: whoever controls a sibling subdomain
 * (or plain-http traffic) can plant a `mgug_sign_in` with a longer path or a parent domain, and taking
 * the first value let that refuse the operator's own callback (and count it as a failed guess).
 * Over https the name is `__Host-mgug_sign_in`, which the browser lets nobody else plant; on loopback
 * http it is not (src/identity/sign-in-cookie.ts), so every value is still looked at.
 */
function cookieValuesOf(req: IncomingMessage, name: string): string[] {
  const values: string[] = [];
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) values.push(value.join('='));
    if (values.length === MAX_COOKIE_VALUES) break;
  }
  return values;
}

/** Values of one cookie looked at: each costs a hash; a browser holds a handful under one name at most. */
const MAX_COOKIE_VALUES = 8;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small HTML page for browsers, JSON for everything else. */
function send(res: ServerResponse, req: IncomingMessage, status: number, title: string, message: string): void {
  const wantsHtml = (req.headers.accept ?? '').includes('text/html');
  res.setHeader('cache-control', 'no-store');
  if (wantsHtml) {
    // default-src does not cover frame-ancestors: without it the page could be framed (clickjacking a sign-in page).
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    });
    res.end(
      `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`,
    );
  } else {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ ok: status < 400, title, message }));
  }
}
