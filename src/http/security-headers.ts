import type { ServerResponse } from 'node:http';

/**
 * Headers every answer of the gateway carries, whatever the route and whoever answers (a route,
 * Apollo, a refusal, the 404): set before routing, so a route that writes its own headers keeps
 * them (writeHead merges).
 *
 * - `X-Content-Type-Options: nosniff`: JSON, SDL and metrics are never read as HTML or script.
 * - `X-Frame-Options: DENY`: no page of the gateway may be framed. The HTML pages also say
 *   `frame-ancestors 'none'` in their CSP; browsers that predate CSP level 2 read only this one.
 * - `Referrer-Policy: no-referrer`: a page opened from the gateway, or the redirect to Entra ID
 *   that `/auth/login?link=…` answers, never learns the gateway's URL, which may hold a one-time
 *   sign-in link or a callback's code.
 */
export const BASELINE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export function setBaselineSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(BASELINE_SECURITY_HEADERS)) res.setHeader(name, value);
}
