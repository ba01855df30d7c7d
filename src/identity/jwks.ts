import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWSHeaderParameters, type FlattenedJWSInput } from 'jose';
import type { UpstreamHttp } from '../http/upstream.js';

export type JwksKeyResolver = ReturnType<typeof createLocalJWKSet>;

/**
 * The signing keys at one `jwks_uri`, fetched through our HTTP layer (jose's createRemoteJWKSet
 * cannot take our CA or proxy). Keys are refetched when a token names an unknown `kid` (Entra
 * rotates keys), at most once per cool-down so a flood of forged kids cannot hammer the authority.
 */
export function createJwksResolver(options: {
  upstream: UpstreamHttp;
  /** The `jwks_uri` an OpenID metadata document names. */
  jwksUri: string;
  cooldownMs?: number;
  now?: () => number;
}): JwksKeyResolver & { refresh(): Promise<void> } {
  const cooldownMs = options.cooldownMs ?? 60_000;
  const now = options.now ?? Date.now;
  let local: JwksKeyResolver | undefined;
  let lastFetch = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;

  const load = async () => {
    lastFetch = now();
    const response = await options.upstream.fetch(options.jwksUri, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(15_000) });
    if (!response.ok) throw new Error(`GET ${options.jwksUri} answered HTTP ${response.status}`);
    local = createLocalJWKSet((await response.json()) as JSONWebKeySet);
  };

  const refresh = (): Promise<void> => {
    inFlight ??= load().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  const resolver = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    if (!local) await refresh();
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
