import type { Config } from '../config-types.js';
import type { UpstreamHttp } from '../http/upstream.js';
import type { Logger } from '../logger.js';
import { createKeyvStore } from '../store/index.js';
import { createCallerAuthenticator } from './caller-authenticator.js';
import { createCallerRevocations, revocationRecordsInKeyv, revocationRecordsInRedis, type SharedRevocationRecords } from './caller-revocations.js';
import type { CallerAuthenticator, CallerRevocations } from './types.js';

export interface CallerAuthentication {
  callerAuthenticator: CallerAuthenticator;
  /** The containments the mutations record and the authenticator reads; only with CALLER_AUTH=entra and a tenant. */
  callerRevocations?: CallerRevocations;
  /** Closes the store the records were opened on, if this opened one (SQLite). */
  close(): Promise<void>;
}

export interface CallerAuthenticationDeps {
  logger: Logger;
  upstream: UpstreamHttp;
  /** Tenant whose users' tokens are accepted (the sandbox's, the hosted broker's, or AZURE_TENANT_ID). */
  tenantId?: string;
  /** The shared-state Redis connection when CACHE_URL is Redis (src/app.ts). */
  sharedRedis?: { sendCommand(args: string[]): Promise<unknown> };
}

/**
 * Caller authentication and the containment records it checks, composed once: src/app.ts and the
 * test harness (test/support/gateway.ts) both call this, so a gateway a test composes refuses a
 * contained user's earlier tokens exactly as production does (docs/security.md#contained-users-caller-tokens).
 */
export async function openCallerAuthentication(config: Config, deps: CallerAuthenticationDeps): Promise<CallerAuthentication> {
  const { logger, upstream, tenantId, sharedRedis } = deps;
  let close = async () => undefined as void;
  // Only Entra caller tokens name a user whose tokens a containment can stop.
  let callerRevocations: CallerRevocations | undefined;
  if (config.callerAuth.mode === 'entra' && tenantId) {
    let shared: SharedRevocationRecords | undefined;
    if (sharedRedis) shared = revocationRecordsInRedis(sharedRedis);
    else if (config.cache.kind === 'sqlite') {
      // The processes that open the same file on one host share the records (and a restart keeps them).
      const backend = await createKeyvStore(config.cache, { dataDir: config.dataDir, keepsRefreshToken: true });
      close = () => backend.close();
      shared = revocationRecordsInKeyv(backend.keyv, 'SQLite');
    }
    callerRevocations = createCallerRevocations({ tenantId, logger, ...(shared ? { shared } : {}) });
  }
  let callerAuthenticator: CallerAuthenticator;
  try {
    callerAuthenticator = createCallerAuthenticator(config, {
      logger,
      upstream,
      ...(tenantId ? { tenantId } : {}),
      ...(callerRevocations ? { revocations: callerRevocations } : {}),
    });
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  return { callerAuthenticator, ...(callerRevocations ? { callerRevocations } : {}), close };
}
