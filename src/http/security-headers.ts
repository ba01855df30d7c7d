import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServedOverHttps } from './served-over-https.js';

/**
 * Headers every answer of the gateway carries, whatever the route and whoever answers (a route,
 * Apollo, a refusal, the 404): set before routing, so a route that writes its own headers keeps
 * them (writeHead merges). One set for every route: which of them a browser reads depends on how
 * the answer is used (a document, a no-cors load), not on the route, so none needs an exception
 * (docs/security.md#browser-facing-headers).
 *
 * - `X-Content-Type-Options: nosniff`: JSON, SDL and metrics are never read as HTML or script.
 * - `X-Frame-Options: DENY`: no page of the gateway may be framed. The HTML pages also say
 *   `frame-ancestors 'none'` in their CSP; browsers that predate CSP level 2 read only this one.
 * - `Referrer-Policy: no-referrer`: a page opened from the gateway, or the redirect to Entra ID
 *   that `/auth/login?link=…` answers, never learns the gateway's URL, which may hold a one-time
 *   sign-in link or a callback's code.
 * - `Cross-Origin-Opener-Policy: same-origin`: a page of the gateway (the playground, the sign-in
 *   pages) opened by another site's `window.open` is put in its own browsing context group, so
 *   that site holds no handle to it (no `opener`, no navigating it, no counting its frames). Only
 *   documents read it; the gateway's pages are never meant to be someone's popup.
 * - `Cross-Origin-Resource-Policy: same-origin`: another origin cannot load an answer as a no-cors
 *   subresource (`<script src>`, `<img>`, `fetch(…, {mode: 'no-cors'})`), which would put the
 *   answer in that page's process (Spectre-class reads). It does not apply to CORS requests
 *   (Fetch, "cross-origin resource policy check": only `no-cors` requests are checked), so the
 *   frontends of CORS_ORIGINS read the JSON API exactly as before.
 */
export const BASELINE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * `Strict-Transport-Security` of an answer that went out over HTTPS: one year, this host only.
 * Not `includeSubDomains` (the gateway does not speak for hosts under its own name) nor `preload`
 * (a decision for whoever owns the domain): a proxy that wants them sends its own header.
 * Never over plain HTTP, where RFC 6797 §7.2 forbids it (and §8.1 has the browser ignore it).
 */
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000';

export function setBaselineSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(BASELINE_SECURITY_HEADERS)) res.setHeader(name, value);
}

/** The baseline, plus HSTS when the request came over HTTPS (src/http/served-over-https.ts). */
export function securityHeaders(servedOverHttps: ServedOverHttps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    setBaselineSecurityHeaders(res);
    if (servedOverHttps(req)) res.setHeader('strict-transport-security', STRICT_TRANSPORT_SECURITY);
  };
}
