import type { FaultInjector } from './faults.js';
import type { TokenSigner } from './keys.js';
import type { TenantModel } from './model.js';
import type { EmulatorStats } from './stats.js';

/** Everything the emulator's route modules share. One per running emulator. */
export interface EmulatorContext {
  /** Replaced wholesale by `POST /_emulator/reset`. */
  tenant: TenantModel;
  signer: TokenSigner;
  stats: EmulatorStats;
  faults: FaultInjector;
  /** `https://127.0.0.1:PORT`: Graph, login and broker are all served on this origin. */
  origin: string;
  /** Token issuer: `${origin}/${tenantId}/v2.0`. */
  issuer: string;
  /** Audiences Graph accepts in access tokens (`origin` and Graph's well-known app id). */
  graphAudiences: string[];
  /** Injected clock (ms since epoch), so expiry can be tested without waiting. */
  now(): number;
}
