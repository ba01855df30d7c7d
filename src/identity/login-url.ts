import type { Config } from '../config-types.js';
import { authorityUrl, graphDefaultScope } from './authority.js';

/**
 * The authorize URL an operator opens to obtain AUTH_CODE (the original's generate-login-url,
 * fixed): the configured cloud's login host, the redirect URI percent-encoded, `offline_access`
 * so a refresh token comes back. No PKCE here: the code is pasted into AUTH_CODE and redeemed
 * with the client credential (PKCE needs the verifier kept by whoever started the sign-in; use
 * /auth/login for that).
 */
export function buildLoginUrl(config: Config): string {
  const sd = config.selfDeployed;
  if (!sd) throw new Error('the login URL needs a self-deployed app: set AZURE_TENANT_ID, AZURE_CLIENT_ID and a credential');
  if (!sd.redirectUri)
    throw new Error('REDIRECT_URI is missing: the redirect URI registered on your app (e.g. REDIRECT_URI=http://localhost:4000/auth/callback)');
  const url = new URL(`${authorityUrl(config.authorityHost, sd.tenantId)}/oauth2/v2.0/authorize`);
  url.searchParams.set('client_id', sd.clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('response_mode', 'query');
  url.searchParams.set('redirect_uri', sd.redirectUri);
  url.searchParams.set('scope', `offline_access openid profile ${graphDefaultScope(config.graphEndpoint)}`);
  // URLSearchParams writes spaces as '+'; Entra accepts both, '%20' is the unambiguous form.
  return url.toString().replace(/\+/g, '%20');
}
