import type { IncomingHttpHeaders } from 'node:http';

/**
 * The URL of a request as this gateway was reached: its `Host` (when plain and valid, else
 * `gateway.invalid`) and the path and query of its request target. Undefined when the target is not
 * a path (origin-form, RFC 9112 §3.2.1), which the routes answer with 400.
 *
 * Built by concatenation, never `new URL(target, base)`: that resolves the target against the
 * base, so an absolute-form target (`GET http://evil.example/auth/login`) or a path starting with
 * `//` (`GET //evil.example/auth/login`, which a browser sends for `https://gateway//evil.example/...`)
 * replaced the host, and `/auth/login` sent Entra a `redirect_uri` on that host while
 * `POST /auth/login-link` handed out a link to it, past the check on `Host` below. And every target
 * or `Host` that the URL parser refuses (`//a:99999/`, `Host: 127.0.0.1:99999`: the pattern admits
 * five digits, the parser only ports up to 65535) threw out of the router: 500 and an `error` line
 * with a stack and the caller's text, for anyone, without credentials or a limit.
 */
export function requestUrl(target: string | undefined, headers: IncomingHttpHeaders): URL | undefined {
  if (target === undefined || !target.startsWith('/')) return undefined;
  const origin = `http://${plainHost(headers.host)}`;
  try {
    return new URL(`${origin}${target}`);
  } catch {
    return undefined;
  }
}

/** The `Host` header when it is a plain host name or address with an optional port that the URL parser accepts. */
function plainHost(host: string | undefined): string {
  if (typeof host !== 'string' || !/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)) return 'gateway.invalid';
  try {
    // Five digits may be past 65535, and a bracketed or dotted address may not be one (`[::::]`, `999.999.999.999`).
    new URL(`http://${host}/`);
    return host;
  } catch {
    return 'gateway.invalid';
  }
}

/** Headers a request may carry once only (docs/security.md#one-host-one-content-type). */
const SINGLE_HEADERS = new Set(['host', 'content-type']);

/**
 * The name of a header in SINGLE_HEADERS that the request carries more than once, if any. Node keeps
 * the first of two `Host` or `Content-Type` lines; a proxy or a WAF in front may route or inspect by
 * the last, so the two would judge one request by different values. RFC 9112 §3.2 has a server answer
 * 400 to more than one `Host`.
 */
export function repeatedSingleHeader(rawHeaders: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (!SINGLE_HEADERS.has(name)) continue;
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

/** What Node's HTTP server reads as a `100-continue` expectation (and hands to `checkContinue`). */
const CONTINUE_EXPECTATION = /(?:^|\W)100-continue(?:$|\W)/i;

/** Whether the client waits for `100 Continue` before it sends its body (RFC 9110 §10.1.1). */
export function expectsContinue(headers: IncomingHttpHeaders): boolean {
  return headers.expect !== undefined && CONTINUE_EXPECTATION.test(headers.expect);
}

/**
 * Whether the request carries an `Expect` header other than `100-continue`, which no route meets.
 * Node answers such a request itself, before any route, with a bare 417 that had none of the
 * headers every answer carries (docs/security.md#browser-facing-headers); the gateway now hands it
 * to its routes (`checkExpectation`), which answer it with this check.
 */
export function hasUnmetExpectation(headers: IncomingHttpHeaders): boolean {
  return headers.expect !== undefined && !CONTINUE_EXPECTATION.test(headers.expect);
}

/**
 * Header lines a request may carry. Browsers send about twenty, and proxies in front add a few more
 * each; Node's own default (2,000) let 2,000 empty lines push later ones out of sight.
 */
export const MAX_HEADER_LINES = 256;

/**
 * Whether the request carried more than MAX_HEADER_LINES header lines. Node keeps one line more than
 * that (the listener's `maxHeadersCount`, src/gateway.ts) and drops the rest, so a request that
 * filled every kept line had more: it is refused whole, never served by the lines Node kept.
 */
export function tooManyHeaderLines(rawHeaders: readonly string[]): boolean {
  return rawHeaders.length / 2 > MAX_HEADER_LINES;
}
