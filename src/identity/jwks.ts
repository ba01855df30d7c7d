import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWSHeaderParameters, type FlattenedJWSInput } from 'jose';
import { ErrorCode, GatewayError } from '../errors.js';
import type { UpstreamHttp } from '../http/upstream.js';
import { originOf } from './authority.js';

export type JwksKeyResolver = ReturnType<typeof createLocalJWKSet>;

/** How long a failed fetch of the keys is answered from memory before the authority is asked again. */
const FAILURE_COOLDOWN_MS = 10_000;
/**
 * How old the keys held may grow before they are fetched again, whatever tokens arrive: Entra rolls
 * its keys over "on a periodic basis and, in an emergency, ... immediately" (docs/graph-facts.md#signing-keys),
 * and a key it withdrew (a leaked one) must stop verifying tokens. The same day as the tenant
 * metadata's reload (tenant-metadata.ts).
 */
export const KEYS_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * The signing keys at one `jwks_uri`, fetched through our HTTP layer (jose's createRemoteJWKSet
 * cannot take our CA or proxy). Keys are refetched when a token names an unknown `kid` (Entra
 * rotates keys), at most once per cool-down so a flood of forged kids cannot hammer the authority.
 *
 * Keys that cannot be fetched are the authority's outage, not the caller's fault: the resolver
 * throws UPSTREAM_UNAVAILABLE (503, like a tenant metadata document that cannot be loaded), which
 * the failed-authentication limit does not count. Answered as an invalid token, every valid caller
 * was counted as guessing and, behind one proxy address, all of them were locked out for the
 * limit's window after the authority came back. A failed fetch is remembered for 10 s.
 *
 * Keys older than KEYS_MAX_AGE_MS are fetched again before the next verification, so a key the
 * authority withdrew stops verifying within a day (before, never, while the process ran). When that
 * fetch fails, the keys held keep serving and the fetch is tried again every 10 s, without holding
 * requests up: an outage of the authority does not lock out callers whose tokens the keys held verify.
 */
export function createJwksResolver(options: {
  upstream: UpstreamHttp;
  /** The `jwks_uri` an OpenID metadata document names. */
  jwksUri: string;
  cooldownMs?: number;
  now?: () => number;
  /** Told each failed fetch of stale keys (the keys held keep serving): the operator's warning. */
  onStaleRefreshFailure?: (error: unknown) => void;
}): JwksKeyResolver & { refresh(): Promise<void> } {
  const cooldownMs = options.cooldownMs ?? 60_000;
  const now = options.now ?? Date.now;
  let local: JwksKeyResolver | undefined;
  /** When the keys held were fetched. */
  let loadedAt = Number.NEGATIVE_INFINITY;
  let lastFetch = Number.NEGATIVE_INFINITY;
  let lastFailure = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;

  const unavailable = (cause?: unknown) =>
    new GatewayError(
      ErrorCode.UPSTREAM_UNAVAILABLE,
      "Caller tokens cannot be verified right now: the authority's signing keys could not be loaded.",
      { retryAfterSeconds: Math.ceil(FAILURE_COOLDOWN_MS / 1000) },
      cause === undefined ? undefined : { cause },
    );

  const load = async () => {
    lastFetch = now();
    try {
      const response = await options.upstream.fetch(options.jwksUri, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(15_000) });
      // The origin only: a v2.0 `jwks_uri` holds the tenant id (originOf), and JSON.parse's own
      // message quotes the start of the body.
      const what = `the signing keys at ${originOf(options.jwksUri)}`;
      if (!response.ok) throw new Error(`GET ${what} answered HTTP ${response.status}`);
      const keys = (await response.json().catch(() => {
        throw new Error(`${what} are not JSON`);
      })) as JSONWebKeySet;
      local = createLocalJWKSet(keys);
      loadedAt = now();
    } catch (error) {
      lastFailure = now();
      throw unavailable(error);
    }
  };

  const refresh = (): Promise<void> => {
    inFlight ??= load().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  const resolver = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    if (!local) {
      if (now() - lastFailure < FAILURE_COOLDOWN_MS) throw unavailable();
      await refresh();
    } else if (now() - loadedAt >= KEYS_MAX_AGE_MS && now() - lastFailure >= FAILURE_COOLDOWN_MS) {
      // Stale keys: fetched again; on failure the keys held keep serving until the next attempt.
      const attempt = refresh().catch((error: unknown) => options.onStaleRefreshFailure?.(error));
      // The first attempt past the age is awaited, so a withdrawn key verifies nothing once the
      // authority answers. After a failure the next attempts run beside the requests, which the keys
      // held serve without waiting up to 15 s on an authority that hangs.
      if (lastFailure < loadedAt) await attempt;
    }
    try {
      return await local!(header, token);
    } catch (error) {
      if (error instanceof joseErrors.JWKSNoMatchingKey && now() - lastFetch >= cooldownMs) {
        await refresh();
        return local!(header, token);
      }
      throw error;
    }
  };
  return Object.assign(resolver, { refresh }) as JwksKeyResolver & { refresh(): Promise<void> };
}
