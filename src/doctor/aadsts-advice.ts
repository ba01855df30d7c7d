/**
 * What an operator should do about the Entra error codes a Graph token request commonly fails
 * with (the codes and their meaning: learn.microsoft.com/entra/identity-platform/reference-error-codes;
 * docs/graph-facts.md#msal-node, docs/graph-facts.md#refresh-tokens).
 */
const ADVICE: Readonly<Record<string, string>> = {
  '7000215': "the client secret is wrong: set AZURE_CLIENT_SECRET to the secret's Value (not its Secret ID) from Certificates & secrets",
  '7000222': 'the client secret has expired: create a new one under Certificates & secrets and update AZURE_CLIENT_SECRET',
  '7000218': 'no credential reached Entra: set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH',
  '700016':
    'no app with AZURE_CLIENT_ID exists in this tenant: check AZURE_CLIENT_ID and AZURE_TENANT_ID (and AZURE_CLOUD), and that an administrator consented to the app in this tenant',
  '90002': 'the tenant in AZURE_TENANT_ID does not exist in this cloud: check AZURE_TENANT_ID and AZURE_CLOUD',
  '900023': 'AZURE_TENANT_ID is not a valid tenant id or domain',
  '700027':
    'the certificate assertion was refused: upload this certificate to the app (Certificates & secrets → Certificates) and check the PEM file holds the matching key',
  '700024': 'the certificate assertion is outside its validity window: check the clock of this machine',
  '50027': 'the client assertion is malformed: check the certificate PEM file',
  '65001': 'the permissions were never consented: an administrator must grant admin consent under API permissions',
  '500011': 'Microsoft Graph is not known in this tenant for the requested resource: check GRAPH_ENDPOINT / AZURE_CLOUD',
  // Which events revoke a confidential client's refresh token (docs/graph-facts.md#refresh-tokens): a
  // revocation of the user's sessions or an admin reset in the Entra admin center, not a password change by the user.
  '50173':
    'the signed-in grant was revoked (the sign-in sessions were revoked, or an administrator reset the password in the Entra admin center): run `npm run auth:reset` and sign in again at /auth/login',
  '700082': 'the refresh token expired after inactivity: run `npm run auth:reset` and sign in again at /auth/login',
  '70008':
    'the refresh token or the authorization code expired: for the stored sign-in, run `npm run auth:reset` and sign in again at /auth/login; for AUTH_CODE, set a fresh one (or sign in at /auth/login), no reset needed',
  '54005': 'the authorization code was already redeemed (a code works once): set a fresh AUTH_CODE or sign in at /auth/login; no reset needed',
  '50076': 'multi-factor authentication is required: sign in interactively at /auth/login',
  '50079': 'the user must register for multi-factor authentication, then sign in again at /auth/login',
  '53003': 'Conditional Access blocked the token: exclude the app (or its service principal) from the policy, or meet its conditions',
  '50013': 'the caller token given with --caller-token-file was refused for on-behalf-of (expired, or not issued for this API)',
  '50126': 'invalid user name or password',
  '50057': 'the user account is disabled',
  '50053': 'the account is locked after too many sign-in attempts',
};

/** The AADSTS number in a message, and the advice for it. */
export function aadstsAdvice(message: string): { code: string; advice: string } | undefined {
  const code = /AADSTS(\d+)/.exec(message)?.[1];
  if (!code) return undefined;
  const advice = ADVICE[code];
  return advice ? { code: `AADSTS${code}`, advice } : undefined;
}
