import type { Config } from '../../src/config-types.js';

/**
 * The limits of a Config the identity tests build by hand (in-process, and in the replica worker's
 * own process): loadConfig's defaults (src/config/limits.ts), which the identity tests do not exercise.
 */
export const TEST_LIMITS: Config['limits'] = {
  maxDepth: 10,
  maxAliases: 100,
  maxTokens: 5000,
  maxDirectives: 50,
  maxBodyBytes: 1_000_000,
  maxUpstreamRequests: 50,
  upstreamTimeoutMs: 15_000,
  operationTimeoutMs: 30_000,
  maxRetries: 3,
  maxConnections: 10_000,
};
