import { decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { ErrorCode, GatewayError } from '../errors.js';
import type { UpstreamHttp } from '../http/upstream.js';
import { createJwksResolver, type JwksKeyResolver } from './jwks.js';
import { createTenantMetadataSource, type TenantIssuer, type TokenVersion } from './tenant-metadata.js';
import { isGuid } from '../guid.js';

/**
 * Verifies an Entra access token issued for the gateway's API (docs/graph-facts.md#caller-tokens):
 *
 * - the issuer is one the tenant's v1.0 or v2.0 OpenID metadata names, and the signature checks
 *   against that document's `jwks_uri` (so a token of another tenant, or of another cloud, fails);
 * - `ver` matches the issuer, and `tid` is the tenant's;
 * - it names its client application (`appid` in v1.0, `azp` in v2.0): an ID token does not;
 * - `aud` is one of API_AUDIENCE, and a v2.0 token's `aud` is a client id: Entra always puts the
 *   API's client id in v2.0 tokens, so one carrying an App ID URI is not Entra's and is refused;
 * - RS256/PS256 only, `exp` required, 60 s clock skew.
 */
export const ALLOWED_ALGORITHMS = ['RS256', 'PS256'];
export const CLOCK_SKEW_SECONDS = 60;

/** A refusal the caller can act on; the message never contains the token. */
export class CallerTokenRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'CallerTokenRejected';
  }
}

export interface VerifiedCallerToken {
  payload: JWTPayload;
  version: TokenVersion;
  tenantId: string;
  /**
   * The user is not an account of the tenant (a B2B guest, a personal account invited in): the
   * token says another identity provider authenticated it, or that it is a guest. Entra gives such
   * users less of the directory than members (docs/security.md#guests-and-delegated-scopes).
   */
  accountOfAnotherDirectory: boolean;
}

/**
 * Whether a token's user is not a member of the tenant (docs/graph-facts.md#caller-tokens). The
 * optional claim `acct` says so when the API's registration asks for it: 0 for a member, 1 for a
 * guest; it decides, so an operator can let external *members* (B2B users made members, e.g. by
 * cross-tenant synchronization) read by adding it. Without it, `idp`, "identical to the value of the
 * issuer claim unless the user account isn't in the same tenant as the issuer - guests, for
 * instance", naming another identity provider than the tenant's issuers makes the user a guest: the
 * stricter reading, since the answer only ever takes permissions away.
 */
export function isAccountOfAnotherDirectory(payload: JWTPayload, tenantIssuers: readonly string[]): boolean {
  if (payload.acct !== undefined) return payload.acct !== 0;
  return payload.idp !== undefined && !(typeof payload.idp === 'string' && tenantIssuers.includes(payload.idp));
}

export interface CallerTokenVerifier {
  /** Throws CallerTokenRejected, a jose error (bad signature, expiry, audience...) or GatewayError(UPSTREAM_UNAVAILABLE). */
  verify(token: string): Promise<VerifiedCallerToken>;
  /** The accepted audiences, for messages. */
  readonly audiences: readonly string[];
}

export function createCallerTokenVerifier(options: {
  upstream: UpstreamHttp;
  authorityHost: string;
  tenant: string;
  audiences: readonly string[];
  /**
   * Hosted mode: the tenant id is the broker's Token (BROKER_TOKEN), a secret, so a refusal does not
   * name the issuers (the tenant id is in them). A self-deployed tenant's id is public: any domain's
   * OpenID metadata names it, and the issuers tell the caller which tenant to get a token from.
   */
  tenantIsSecret?: boolean;
  now?: () => number;
  /** A fetch of signing keys past their age failed; the keys held keep serving (src/identity/jwks.ts). */
  onStaleKeysRefreshFailure?: (error: unknown) => void;
}): CallerTokenVerifier {
  const now = options.now ?? Date.now;
  const metadata = createTenantMetadataSource({ upstream: options.upstream, authorityHost: options.authorityHost, tenant: options.tenant, now });
  const resolvers = new Map<string, JwksKeyResolver>();
  const keysOf = (issuer: TenantIssuer): JwksKeyResolver => {
    let resolver = resolvers.get(issuer.jwksUri);
    if (!resolver) {
      resolver = createJwksResolver({
        upstream: options.upstream,
        jwksUri: issuer.jwksUri,
        now,
        ...(options.onStaleKeysRefreshFailure ? { onStaleRefreshFailure: options.onStaleKeysRefreshFailure } : {}),
      });
      resolvers.set(issuer.jwksUri, resolver);
    }
    return resolver;
  };
  const audiences = [...options.audiences];
  let reportedFailure: unknown;

  return {
    audiences,
    async verify(token) {
      let claimedIssuer: unknown;
      try {
        claimedIssuer = decodeJwt(token).iss;
      } catch {
        throw new CallerTokenRejected('the bearer token is not a valid signed JWT');
      }
      let tenant;
      try {
        tenant = await metadata.get();
      } catch (error) {
        // The cause goes with the first refusal of each failed load only (the source answers the
        // same error for 10 s), so the authenticator's warning says what failed once per attempt.
        const fresh = error !== reportedFailure;
        reportedFailure = error;
        throw new GatewayError(
          ErrorCode.UPSTREAM_UNAVAILABLE,
          "Caller tokens cannot be verified right now: the tenant's OpenID metadata could not be loaded from the authority.",
          { retryAfterSeconds: 10 },
          fresh ? { cause: error } : undefined,
        );
      }
      const issuer = tenant.issuers.find((i) => i.issuer === claimedIssuer);
      if (!issuer) {
        const expected = options.tenantIsSecret ? "the v1.0 or v2.0 issuer of the gateway's tenant" : tenant.issuers.map((i) => i.issuer).join(' or ');
        throw new CallerTokenRejected(`the bearer token has the wrong issuer (expected ${expected})`);
      }
      const { payload } = await jwtVerify(token, keysOf(issuer), {
        issuer: issuer.issuer,
        audience: audiences,
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: new Date(now()),
        requiredClaims: ['exp'],
      });
      if (payload.ver !== issuer.version) {
        throw new CallerTokenRejected(
          `the bearer token's version (ver ${JSON.stringify(payload.ver ?? null)}) does not match its issuer (a v${issuer.version} issuer)`,
        );
      }
      if (typeof payload.tid !== 'string' || payload.tid.toLowerCase() !== tenant.tenantId) {
        throw new CallerTokenRejected('the bearer token was issued for another tenant');
      }
      // An access token names the client application that asked for it (`appid` in v1.0, `azp` in
      // v2.0); an ID token has neither, and its `aud` is that client's id, which API_AUDIENCE may hold
      // (docs/graph-facts.md#caller-tokens). ID tokens prove a sign-in to the client; they do not
      // authorize calls to an API, and are often kept where access tokens are not (browser storage).
      const client = issuer.version === '2.0' ? payload.azp : payload.appid;
      if (typeof client !== 'string' || client.length === 0) {
        throw new CallerTokenRejected(
          `the bearer token is not an access token: it names no client application (${issuer.version === '2.0' ? 'azp' : 'appid'}); send an access token for this API, not an ID token`,
        );
      }
      const audience = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (issuer.version === '2.0' && !audience.every((a) => isGuid(a))) {
        throw new CallerTokenRejected(
          "the bearer token is a v2.0 token whose audience is not a client id (Entra puts the API's client id in every v2.0 token)",
        );
      }
      return {
        payload,
        version: issuer.version,
        tenantId: tenant.tenantId,
        accountOfAnotherDirectory: isAccountOfAnotherDirectory(
          payload,
          tenant.issuers.map((i) => i.issuer),
        ),
      };
    },
  };
}
