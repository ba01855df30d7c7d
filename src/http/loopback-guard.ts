import type { IncomingHttpHeaders } from 'node:http';

/**
 * With CALLER_AUTH=none the only credential is "the request came over loopback". A web page can
 * borrow that credential through DNS rebinding (its own name resolving to 127.0.0.1: the browser
 * then treats the gateway as that page's origin and sends `Host: attacker.example`), or simply by
 * sending a cross-origin request from the user's browser. So in that mode a request is served only
 * when its `Host` is a loopback name with the port it arrived on, and, if a browser sent an
 * `Origin`, when that origin is the gateway itself or one listed in CORS_ORIGINS.
 * A `*` in CORS_ORIGINS does not count here: it would hand the loopback credential to every page.
 * A request carrying a forwarding header (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`) was relayed
 * by a proxy, for a client that is not on this host: refused too (a reverse proxy on the same host
 * would otherwise hand the loopback credential to everyone it serves; the configuration refuses
 * CALLER_AUTH=none with TRUSTED_PROXIES, this catches a proxy nobody declared).
 */
export type LoopbackRefusal = { reason: 'HOST_NOT_ALLOWED' | 'ORIGIN_NOT_ALLOWED' | 'FORWARDED_REQUEST'; message: string };

const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export function loopbackHostsFor(port: number): string[] {
  const withPort = LOOPBACK_NAMES.map((name) => `${name}:${port}`);
  // Port 80 may be left out of Host (RFC 9110 §7.2: the default port of http).
  return port === 80 ? [...withPort, ...LOOPBACK_NAMES] : withPort;
}

export function checkLoopbackRequest(headers: IncomingHttpHeaders, localPort: number | undefined, corsOrigins: readonly string[]): LoopbackRefusal | undefined {
  if (FORWARDING_HEADERS.some((name) => headers[name] !== undefined)) {
    return {
      reason: 'FORWARDED_REQUEST',
      message:
        'Without caller authentication (CALLER_AUTH=none) the gateway only answers callers on its own host, and this request was relayed by a proxy; configure CALLER_AUTH=api-key or CALLER_AUTH=entra to serve through one.',
    };
  }
  const host = (headers.host ?? '').toLowerCase();
  const allowedHosts = localPort === undefined ? [] : loopbackHostsFor(localPort);
  if (!allowedHosts.includes(host)) {
    return {
      reason: 'HOST_NOT_ALLOWED',
      message: `Without caller authentication (CALLER_AUTH=none) the gateway only answers requests addressed to ${allowedHosts.join(', ') || 'its loopback address'}; configure CALLER_AUTH=api-key or CALLER_AUTH=entra to serve other names.`,
    };
  }
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  if (origin === `http://${host}` || corsOrigins.includes(origin)) return undefined;
  return {
    reason: 'ORIGIN_NOT_ALLOWED',
    message: 'Without caller authentication (CALLER_AUTH=none) browser requests are only accepted from the gateway itself or an origin listed in CORS_ORIGINS.',
  };
}
