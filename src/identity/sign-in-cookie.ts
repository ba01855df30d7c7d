/**
 * The cookie that binds a sign-in to the browser that started it (src/identity/auth-routes.ts):
 * set by `/auth/login`, read and cleared by `/auth/callback`. Which name and attributes depend on
 * the scheme of the callback, the page the browser comes back to
 * (docs/security.md#sign-in-is-an-operator-act):
 *
 * - an `https` callback (every real deployment: Entra accepts plain-http redirect URIs only on
 *   loopback): `__Host-mgug_sign_in`, `Secure`. The browser then refuses the name from anywhere but
 *   this very host over HTTPS, with `Path=/` and no `Domain`, so a sibling subdomain, or whoever
 *   controls a plain-http request to the host, can no longer plant cookies of that name that the
 *   callback would read first (and refuse the operator's own callback with).
 * - an `http` callback, which Entra allows only on loopback (the sandbox, a local operator):
 *   `mgug_sign_in` without `Secure`. Chromium and Firefox accept `Secure`, and so the prefix, from
 *   http://localhost and http://127.0.0.1, but Safari drops such a cookie, and the sign-in would
 *   fail there; on loopback there is no sibling host nor network to plant a cookie from, which is
 *   what the prefix guards against.
 *
 * `HttpOnly`; `SameSite=Lax`: sent on the top-level GET navigation back from Entra, never on
 * cross-site subrequests.
 */
export interface SignInCookie {
  name: string;
  /** The `Set-Cookie` value that gives the browser `binding` for `maxAgeSeconds`. */
  set(binding: string, maxAgeSeconds: number): string;
  /** The `Set-Cookie` value that removes it (the same name and attributes, or the browser ignores it). */
  clear(): string;
}

export const SIGN_IN_COOKIE = 'mgug_sign_in';
export const HOST_SIGN_IN_COOKIE = `__Host-${SIGN_IN_COOKIE}`;

export function signInCookieFor(callbackUrl: string): SignInCookie {
  const secure = new URL(callbackUrl).protocol === 'https:';
  const name = secure ? HOST_SIGN_IN_COOKIE : SIGN_IN_COOKIE;
  const attributes = (maxAgeSeconds: number) => `Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  return {
    name,
    set: (binding, maxAgeSeconds) => `${name}=${binding}; ${attributes(maxAgeSeconds)}`,
    clear: () => `${name}=; ${attributes(0)}`,
  };
}
