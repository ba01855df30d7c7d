/**
 * The client-credentials token both baseline contenders fetch once at start: one form POST to the
 * tenant's v2.0 token endpoint, for Graph's `.default` scope.
 */
import { request, type Dispatcher } from 'undici';

export interface ClientCredentials {
  authorityOrigin: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

/** The access token; a non-200 answer throws `<errorPrefix>token request failed with HTTP <status>`. */
export async function fetchClientCredentialsToken(credentials: ClientCredentials, dispatcher: Dispatcher, errorPrefix = ''): Promise<string> {
  const res = await request(`${credentials.authorityOrigin}/${credentials.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
      scope: 'https://graph.microsoft.com/.default',
    }).toString(),
  });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`${errorPrefix}token request failed with HTTP ${res.statusCode}`);
  }
  return ((await res.body.json()) as { access_token: string }).access_token;
}
