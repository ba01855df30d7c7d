import type { FaultInjector } from './faults.js';
import type { TokenSigner } from './keys.js';
import type { TenantModel } from './model.js';
import type { GraphSettings } from './graph-settings.js';
import type { EmulatorStats } from './stats.js';
import type { DirectoryThrottle } from './throttling.js';

/**
 * Entra refresh tokens stay valid after use (docs/graph-facts.md#refresh-tokens); with
 * `singleUseRefreshTokens` a redeemed one answers invalid_grant, which proves that a client
 * never redeems the same refresh token twice (single-flight refresh, shared refresh lock).
 */
export interface IdentitySettings {
  singleUseRefreshTokens: boolean;
  /**
   * Token requests one app may make per grant type in a sliding minute before Entra's server
   * throttling answers (src/emulator/entra/token-throttle.ts); `null` (the default) never throttles.
   */
  tokenRequestsPerMinute: number | null;
}

/** Everything the emulator's route modules share. One per running emulator. */
export interface EmulatorContext {
  /** Replaced wholesale by `POST /_emulator/reset`. */
  tenant: TenantModel;
  signer: TokenSigner;
  stats: EmulatorStats;
  faults: FaultInjector;
  /** Entra's directory limits per app+tenant, when enforced (src/emulator/throttling.ts). */
  throttle: DirectoryThrottle;
  /** Switches of the Graph surface between readings of Graph's documentation (src/emulator/graph-settings.ts). */
  graph: GraphSettings;
  /** `https://127.0.0.1:PORT`: Graph, login and broker are all served on this origin. */
  origin: string;
  /**
   * Issuer of v1.0 access tokens, `${stsHost}/${tenantId}/`: every Graph token, and tokens for
   * custom APIs whose manifest leaves requestedAccessTokenVersion null or 1. Entra's STS host is
   * not the login host (https://sts.windows.net/ in the public cloud), so neither is ours.
   */
  issuer: string;
  /** Issuer of v2.0 tokens, `${origin}/${tenantId}/v2.0`: id tokens and tokens for v2.0 APIs. */
  issuerV2: string;
  /** Switches that make the emulator's Entra ID stricter than the real one for one test. */
  identity: IdentitySettings;
  /** Audiences Graph accepts in access tokens (`origin` and Graph's well-known app id). */
  graphAudiences: string[];
  /** Injected clock (ms since epoch), so expiry can be tested without waiting. */
  now(): number;
}
