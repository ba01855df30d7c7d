import { timingSafeEqual } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, importX509, jwtVerify } from 'jose';
import type { EmulatorContext } from '../context.js';
import type { EmuRequest } from '../http.js';
import type { AppCertificate, AppRegistration } from '../model.js';
import { aadError, type AadError } from './errors.js';

/**
 * Confidential-client authentication at the token endpoint: a client secret (form body or HTTP
 * Basic, as RFC 6749 allows) or a certificate-signed client assertion (RFC 7523), the two
 * credentials msal-node can send. Every app of the tenant is a confidential (web) client.
 */
export interface AuthenticatedClient {
  app: AppRegistration;
  /** `appidacr`/`azpacr`: 1 = secret, 2 = certificate. */
  acr: '1' | '2';
}

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function basicCredentials(req: EmuRequest): { id: string; secret: string } | undefined {
  const header = req.headers.authorization;
  if (!header?.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
}

function secretMatches(candidate: string, secrets: string[]): boolean {
  const given = Buffer.from(candidate, 'utf8');
  let match = false;
  for (const secret of secrets) {
    const expected = Buffer.from(secret, 'utf8');
    if (expected.length === given.length && timingSafeEqual(expected, given)) match = true;
  }
  return match;
}

/** Resolves `client_id` to a registered app, or AADSTS700016. */
export function findClientApp(ctx: EmulatorContext, clientId: string | null | undefined): AppRegistration | AadError {
  if (!clientId) return aadError('invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
  const app = ctx.tenant.apps.get(clientId.toLowerCase()) ?? ctx.tenant.apps.get(clientId);
  if (!app) {
    return aadError(
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${ctx.tenant.domain}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }
  return app;
}

export async function authenticateClient(
  ctx: EmulatorContext,
  req: EmuRequest,
  form: URLSearchParams,
  acceptedAssertionAudiences: string[],
): Promise<AuthenticatedClient | AadError> {
  const basic = basicCredentials(req);
  const clientId = form.get('client_id') ?? basic?.id;
  const app = findClientApp(ctx, clientId);
  if ('kind' in app) return app;
  if (basic && basic.id !== clientId) {
    return aadError('invalid_request', 900023, 'The client_id in the request body does not match the client_id of the Authorization header.');
  }
  const secret = form.get('client_secret') ?? basic?.secret;
  const assertion = form.get('client_assertion');
  if (secret !== undefined && secret !== null && assertion) {
    return aadError('invalid_request', 90101, 'Only one client credential may be presented: client_secret or client_assertion.');
  }
  if (secret !== undefined && secret !== null) {
    if (!secretMatches(secret, app.secrets) && secretMatches(secret, app.expiredSecrets ?? [])) {
      // Entra's answer to a secret whose end date has passed (reference-error-codes:
      // InvalidClientSecretExpiredKeysProvided, "create new keys for your app").
      return aadError(
        'invalid_client',
        7000222,
        `The provided client secret keys for app '${app.appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
      );
    }
    if (!secretMatches(secret, app.secrets)) {
      return aadError(
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.appId}'.`,
      );
    }
    return { app, acr: '1' };
  }
  if (assertion) {
    if (form.get('client_assertion_type') !== JWT_BEARER_ASSERTION_TYPE) {
      return aadError(
        'invalid_request',
        900144,
        `The request body must contain the following parameter: 'client_assertion_type' with the value '${JWT_BEARER_ASSERTION_TYPE}'.`,
      );
    }
    const verified = await verifyClientAssertion(ctx, app, assertion, acceptedAssertionAudiences);
    return verified ?? { app, acr: '2' };
  }
  return aadError('invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
}

/** undefined when the assertion is valid, the AAD refusal otherwise. */
async function verifyClientAssertion(ctx: EmulatorContext, app: AppRegistration, assertion: string, audiences: string[]): Promise<AadError | undefined> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    return aadError('invalid_client', 50027, 'Invalid JWT token. Token format not valid.');
  }
  const alg = header.alg;
  if (alg !== 'RS256' && alg !== 'PS256') {
    return aadError(
      'invalid_client',
      5002738,
      `Invalid JWT token. '${String(alg)}' is not a supported signature algorithm. Supported signing algorithms are: 'RS256, PS256'.`,
    );
  }
  const sha256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
  const sha1 = typeof header.x5t === 'string' ? header.x5t : undefined;
  const certificate: AppCertificate | undefined = app.certificates.find(
    (c) => (sha256 !== undefined && c.thumbprintSha256 === sha256) || (sha1 !== undefined && c.thumbprintSha1 === sha1),
  );
  if (!certificate) {
    return aadError(
      'invalid_client',
      700027,
      `The certificate with identifier used to sign the client assertion is not registered on application '${app.appId}'. [Reason - The key was not found.]`,
    );
  }
  try {
    const key = await importX509(certificate.certificatePem, alg);
    const { payload } = await jwtVerify(assertion, key, {
      algorithms: [alg],
      audience: audiences,
      currentDate: new Date(ctx.now()),
      clockTolerance: 60,
      requiredClaims: ['exp', 'iss', 'sub', 'aud'],
    });
    if (payload.iss !== app.appId || payload.sub !== app.appId) {
      return aadError('invalid_client', 700021, "Client assertion application identifier doesn't match 'client_id' parameter.");
    }
    if (typeof payload.jti !== 'string' || payload.jti.length === 0) {
      return aadError('invalid_client', 50027, 'Invalid JWT token. The token does not contain a jti claim.');
    }
    return undefined;
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) return aadError('invalid_client', 700024, 'Client assertion is not within its valid time range.');
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) return aadError('invalid_client', 700027, 'Client assertion failed signature validation.');
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      if (error.claim === 'aud')
        return aadError(
          'invalid_client',
          700027,
          `Client assertion audience claim does not match the token endpoint. Expected one of: ${audiences.join(', ')}.`,
        );
      if (error.claim === 'nbf' || error.claim === 'iat') return aadError('invalid_client', 700024, 'Client assertion is not within its valid time range.');
      return aadError('invalid_client', 50027, `Invalid JWT token. Claim '${error.claim}' is invalid or missing.`);
    }
    return aadError('invalid_client', 50027, 'Invalid JWT token.');
  }
}
