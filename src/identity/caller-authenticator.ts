import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { errors as joseErrors, type JWTPayload } from 'jose';
import type { Config } from '../config-types.js';
import { ErrorCode, GatewayError, isGatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { UpstreamHttp } from '../http/upstream.js';
import { ALL_PERMISSIONS, Permission } from '../permissions.js';
import type { Caller, CallerAuthenticator, CallerRevocations } from './types.js';
import { issuedBefore } from './caller-revocations.js';
import { ALLOWED_ALGORITHMS, CallerTokenRejected, createCallerTokenVerifier } from './caller-token-verifier.js';
import { assertOneCredential, type CredentialHeader } from './credential-headers.js';
import { removeKnownSecrets } from '../http/upstream-text.js';

/**
 * The headers each mode reads a credential from. With `entra`, `x-api-key` is not a credential and
 * is ignored (an API management layer in front may add its own); a second `Authorization` is
 * refused. With `api-key`, an `Authorization` of another scheme than ApiKey or Bearer (Basic, for
 * an authenticating proxy in front) is no credential beside `x-api-key`.
 */
const ENTRA_CREDENTIAL_HEADERS: readonly CredentialHeader[] = [{ name: 'Authorization' }];
const API_KEY_CREDENTIAL_HEADERS: readonly CredentialHeader[] = [{ name: 'x-api-key' }, { name: 'Authorization', schemes: ['ApiKey', 'Bearer'] }];

export interface CallerAuthenticatorDeps {
  upstream: UpstreamHttp;
  logger: Logger;
  now?: () => number;
  /** Tenant whose tokens are accepted when Config has no self-deployed tenant (sandbox, hosted). */
  tenantId?: string;
  /** Containments made through the gateway: a user's tokens issued before are refused (docs/security.md#contained-users-caller-tokens). */
  revocations?: CallerRevocations;
}

/** `extensions.reason` of the refusal of a token issued before its user was contained. */
export const TOKEN_ISSUED_BEFORE_CONTAINMENT = 'TOKEN_ISSUED_BEFORE_CONTAINMENT';

/** The refusal of a genuine token whose user was contained after it was issued: not a guessed credential. */
export function isRevokedCallerToken(error: unknown): boolean {
  return isGatewayError(error) && error.code === ErrorCode.UNAUTHENTICATED && error.extensions.reason === TOKEN_ISSUED_BEFORE_CONTAINMENT;
}

const unauthenticated = (message: string) => new GatewayError(ErrorCode.UNAUTHENTICATED, message);

type Headers = Record<string, string | string[] | undefined>;
function header(headers: Headers, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}

/**
 * The permissions a delegated scope grants when the gateway calls Graph as its own identity (client
 * credentials, a signed-in operator, the hosted broker): reading profiles, which every member of a
 * tenant may do in Entra by default (a guest may not: its scopes grant nothing). A scope is consent given to the client app, for every user of
 * it (an admin's consent covers them all): it says the app may act for the user, not that the user
 * may disable accounts. The rest needs the user's own app role (`roles`). On behalf of the caller,
 * Graph itself checks what the user may do, so every scope counts (docs/security.md#permissions).
 */
const SCOPES_FOR_EVERY_USER: ReadonlySet<Permission> = new Set([Permission.UsersRead]);

/**
 * Gateway permissions named in app roles (`roles`) and delegated scopes (`scp`). `scopes: 'read'`
 * (the gateway acts as itself) keeps of `scp` only what SCOPES_FOR_EVERY_USER holds; `scopes: 'none'`
 * (the gateway acts as itself for a guest) keeps nothing of `scp`.
 */
export function permissionsFromClaims(payload: JWTPayload, options: { scopes: 'all' | 'read' | 'none' }): Set<Permission> {
  const names = new Set<string>();
  if (Array.isArray(payload.roles)) for (const r of payload.roles) if (typeof r === 'string') names.add(r);
  if (typeof payload.scp === 'string' && options.scopes !== 'none')
    for (const s of payload.scp.split(' ')) if (options.scopes === 'all' || SCOPES_FOR_EVERY_USER.has(s as Permission)) names.add(s);
  return new Set(ALL_PERMISSIONS.filter((p) => names.has(p)));
}

/** Why jose rejected a token, in words a caller can act on, never echoing the token. */
function describeJoseError(error: unknown, expected: { audience: string }): string {
  if (error instanceof joseErrors.JWTExpired) return 'the bearer token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return `the bearer token was not issued for this API (expected audience ${expected.audience})`;
    if (error.claim === 'iss') return 'the bearer token has the wrong issuer';
    if (error.claim === 'nbf') return 'the bearer token is not valid yet';
    return `the bearer token's "${error.claim}" claim is invalid`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return `the bearer token uses an unsupported algorithm (allowed: ${ALLOWED_ALGORITHMS.join(', ')})`;
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'the bearer token is signed with an unknown key id (kid)';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the bearer token signature is invalid';
  if (error instanceof joseErrors.JWTInvalid || error instanceof joseErrors.JWSInvalid) return 'the bearer token is not a valid signed JWT';
  if (error instanceof joseErrors.JOSENotSupported) return 'the bearer token uses an unsupported algorithm or key type';
  return 'the bearer token could not be verified';
}

/**
 * App-only or delegated? `idtyp` says so when the API's registration asks for it (an optional
 * claim); otherwise an app-only token has `oid` equal to `sub` (both the service principal),
 * while a user's `sub` is pairwise per app (docs/graph-facts.md#caller-tokens). The absence of
 * `scp` alone proves nothing: a user token may carry only `roles`.
 */
export function principalOf(payload: JWTPayload): 'user' | 'app' {
  if (payload.idtyp === 'app' || payload.idtyp === 'user') return payload.idtyp;
  return typeof payload.oid === 'string' && payload.oid === payload.sub ? 'app' : 'user';
}

function createEntraAuthenticator(config: Config, audiences: readonly string[], deps: CallerAuthenticatorDeps): CallerAuthenticator {
  const tenant = config.selfDeployed?.tenantId ?? deps.tenantId;
  if (!tenant) throw new Error('CALLER_AUTH=entra needs the tenant of the caller tokens (AZURE_TENANT_ID) to know their issuers');
  // In hosted mode the tenant id is the broker's Token (docs/security.md#the-broker-token-is-a-secret).
  const tenantIsSecret = config.deploymentMode === 'hosted';
  const log = deps.logger.child({ component: 'caller-auth' });
  const secretTenant = tenantIsSecret ? [tenant] : [];
  const verifier = createCallerTokenVerifier({
    upstream: deps.upstream,
    authorityHost: config.authorityHost,
    tenant,
    audiences,
    tenantIsSecret,
    ...(deps.now ? { now: deps.now } : {}),
    // The error names the authority's origin only (jwks.ts); the Token is scrubbed all the same.
    onStaleKeysRefreshFailure: (error) =>
      log.warn(
        { err: removeKnownSecrets(((error as GatewayError).originalError ?? (error as Error)).message, secretTenant) },
        'the signing keys could not be fetched again: the keys held (a day old) keep verifying caller tokens',
      ),
  });
  // Only on behalf of the caller does Graph see (and limit) the user; otherwise the gateway's own identity acts.
  const scopes = config.selfDeployed?.flow === 'on-behalf-of' ? 'all' : 'read';
  return {
    async authenticate(request) {
      const { headers } = request;
      assertOneCredential(request, ENTRA_CREDENTIAL_HEADERS);
      const authorization = header(headers, 'authorization');
      if (!authorization) throw unauthenticated('Authentication required: send an Entra access token for this API as `Authorization: Bearer <token>`.');
      const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
      if (!match) throw unauthenticated('The Authorization header must be `Bearer <token>`.');
      const token = match[1]!;
      let payload: JWTPayload;
      let tenantId: string;
      let accountOfAnotherDirectory: boolean;
      try {
        ({ payload, tenantId, accountOfAnotherDirectory } = await verifier.verify(token));
      } catch (error) {
        if (isGatewayError(error)) {
          // The authority's outage (its signing keys could not be fetched): said once per failed fetch.
          // In hosted mode not the tenant id (the broker's Token) in the URL it names: a v2.0 issuer's keys are the tenant's.
          if (error.originalError) log.warn({ err: removeKnownSecrets(error.originalError.message, secretTenant) }, error.message);
          throw error;
        }
        const reason = error instanceof CallerTokenRejected ? error.reason : describeJoseError(error, { audience: audiences.join(', ') });
        log.info({ reason }, 'caller token rejected');
        throw unauthenticated(`Invalid bearer token: ${reason}.`);
      }
      const subject = typeof payload.oid === 'string' ? payload.oid : payload.sub;
      if (!subject) throw unauthenticated('Invalid bearer token: it names no subject (oid).');
      const principal = principalOf(payload);
      // Containments act on users; an app-only token has no user to contain.
      if (deps.revocations && principal === 'user') {
        const revokedAtMs = await deps.revocations.revokedAt(subject);
        if (revokedAtMs !== undefined && issuedBefore(payload.iat, revokedAtMs)) {
          // No line here: the failure guard writes one per address and minute (a refusal that is not a guess comes unbounded).
          throw new GatewayError(
            ErrorCode.UNAUTHENTICATED,
            `Invalid bearer token: it was issued before this user's sessions were revoked through the gateway (${new Date(revokedAtMs).toISOString()}); sign in again for a new token.`,
            { reason: TOKEN_ISSUED_BEFORE_CONTAINMENT },
          );
        }
      }
      return {
        kind: 'entra',
        subject,
        tenantId,
        ...(tenantIsSecret ? { tenantIsSecret: true as const } : {}),
        principal,
        // SCOPES_FOR_EVERY_USER rests on what every member may read; a guest may not enumerate the
        // directory (docs/security.md#guests-and-delegated-scopes), so while the gateway acts as
        // itself a guest's scopes grant nothing. Its app roles still count: an operator assigned them.
        permissions: permissionsFromClaims(payload, { scopes: scopes === 'read' && accountOfAnotherDirectory ? 'none' : scopes }),
        assertion: token,
      };
    },
  };
}

function createApiKeyAuthenticator(keys: Config['callerAuth'] & { mode: 'api-key' }): CallerAuthenticator {
  const entries = keys.keys.map((entry) => ({
    ...entry,
    digest: entry.sha256.length === 32 ? entry.sha256 : Buffer.from(entry.sha256.toString('utf8'), 'hex'),
  }));
  return {
    async authenticate(request) {
      const { headers } = request;
      // Both headers, or one twice: which one to believe would be a guess (docs/security.md#one-credential-per-request).
      assertOneCredential(request, API_KEY_CREDENTIAL_HEADERS);
      const authorization = header(headers, 'authorization');
      const presented = header(headers, 'x-api-key') ?? (authorization ? /^ApiKey\s+(\S+)$/i.exec(authorization.trim())?.[1] : undefined);
      if (!presented) throw unauthenticated('Authentication required: send your API key as `x-api-key: <key>` or `Authorization: ApiKey <key>`.');
      // Header values are bytes, which Node hands over as latin1 text: hashing that text as latin1
      // hashes the bytes that arrived, the UTF-8 of a key typed outside ASCII included (as UTF-8 it
      // was hashed twice encoded and never matched). The same for every ASCII key.
      const digest = createHash('sha256').update(presented, 'latin1').digest();
      // Compare against every entry (no early exit) so timing says nothing about which key matched.
      let found: (typeof entries)[number] | undefined;
      for (const entry of entries) if (entry.digest.length === digest.length && timingSafeEqual(entry.digest, digest)) found ??= entry;
      if (!found) throw unauthenticated('Invalid API key.');
      return { kind: 'api-key', keyId: found.id, permissions: found.permissions };
    },
  };
}

/**
 * The challenge of a 401 (RFC 9110 §11.6.1: a 401 carries at least one): the scheme the gateway's
 * callers authenticate with. `ApiKey` with CALLER_AUTH=api-key (`Authorization: ApiKey <key>`, or the
 * `x-api-key` header); `Bearer` for Entra tokens, and with CALLER_AUTH=none, whose 401 (a caller off
 * loopback) no credential answers. Before, every 401 said `Bearer`, which sent API-key clients looking
 * for a token.
 */
export function authenticationChallenge(callerAuth: Config['callerAuth']): string {
  return callerAuth.mode === 'api-key' ? 'ApiKey' : 'Bearer';
}

/** Establishes who calls the gateway, per CALLER_AUTH. */
export function createCallerAuthenticator(config: Config, deps: CallerAuthenticatorDeps): CallerAuthenticator {
  const auth = config.callerAuth;
  switch (auth.mode) {
    case 'none':
      return {
        async authenticate({ remoteAddress }) {
          if (!isLoopbackAddress(remoteAddress)) {
            throw unauthenticated('CALLER_AUTH=none only admits callers on loopback; configure CALLER_AUTH=entra or CALLER_AUTH=api-key.');
          }
          return { kind: 'anonymous', permissions: new Set(ALL_PERMISSIONS) } satisfies Caller;
        },
      };
    case 'entra':
      return createEntraAuthenticator(config, auth.audiences, deps);
    case 'api-key':
      return createApiKeyAuthenticator(auth);
    default: {
      const unreachable: never = auth;
      throw new Error(`unknown CALLER_AUTH ${JSON.stringify(unreachable)}`);
    }
  }
}
