import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWSHeaderParameters, type FlattenedJWSInput } from 'jose';
import type { UpstreamHttp } from '../http/upstream.js';

export type JwksKeyResolver = ReturnType<typeof createLocalJWKSet>;

/**
 * The authority's signing keys, fetched through our HTTP layer (jose's createRemoteJWKSet cannot
 * take our CA or proxy). Keys are refetched when a token names an unknown `kid` (Entra rotates
 * keys), at most once per cool-down so a flood of forged kids cannot hammer the authority.
 */
export function createJwksResolver(options: {
  upstream: UpstreamHttp;
  /** The issuer; its openid-configuration names the jwks_uri. */
  issuer: string;
  cooldownMs?: number;
  now?: () => number;
}): JwksKeyResolver & { refresh(): Promise<void> } {
  const cooldownMs = options.cooldownMs ?? 60_000;
  const now = options.now ?? Date.now;
  let local: JwksKeyResolver | undefined;
  let lastFetch = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;

  const fetchJson = async (url: string): Promise<unknown> => {
    const response = await options.upstream.fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(15_000) });
    if (!response.ok) throw new Error(`GET ${url} answered HTTP ${response.status}`);
    return response.json();
  };

  const load = async () => {
    lastFetch = now();
    const discovery = (await fetchJson(`${options.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`)) as { jwks_uri?: unknown };
    if (typeof discovery.jwks_uri !== 'string') throw new Error('the openid-configuration has no jwks_uri');
    const jwks = (await fetchJson(discovery.jwks_uri)) as JSONWebKeySet;
    local = createLocalJWKSet(jwks);
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
