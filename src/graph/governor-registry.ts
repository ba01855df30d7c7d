import type { Config } from '../config-types.js';
import type { Logger } from '../logger.js';
import type { GovernorHealth, GraphGovernor, GraphGovernorOptions } from './governor.js';
import { createLocalRateLimiter } from './rate-limiter.js';
import { openRedisRateStore, type RedisRateStore } from './redis-rate-budget.js';
import type { RedisConnection } from '../store/redis-connection.js';
import { createSharedRateLimiter, DEFAULT_HEARTBEAT_MS, type SharedRateLimiter } from './shared-rate-limiter.js';

/**
 * One governor per Graph tenant, for the whole process: Graph's directory limits are per app and
 * tenant (docs/graph-facts.md#throttling). Memory-only deployments keep a budget per process,
 * divided by GRAPH_REPLICAS when set; with a Redis CACHE_URL every replica of the same app and
 * tenant draws from one budget (src/graph/shared-rate-limiter.ts).
 */
export interface GraphGovernorRegistry {
  forTenant(tenantId: string): GraphGovernor;
  /** The worst state of any tenant's budget (fallback over shared over process), for /readyz. */
  health(): GovernorHealth;
  close(): Promise<void>;
}

export interface SharedGovernorSettings {
  store: RedisRateStore;
  /** The Graph app (client id) whose budget this is; with the tenant, the key of the shared budget. */
  appId: string;
  logger: Logger;
  heartbeatMs?: number;
}

export interface GovernorRegistryOptions extends GraphGovernorOptions {
  /** GRAPH_REPLICAS: replicas of this gateway. Memory-only: each keeps 1/replicas of the budget; shared: the fallback share. */
  replicas?: number;
}

export function createGraphGovernorRegistry(options: GovernorRegistryOptions = {}, shared?: SharedGovernorSettings): GraphGovernorRegistry {
  const { replicas, ...governorOptions } = options;
  const governors = new Map<string, GraphGovernor & Partial<Pick<SharedRateLimiter, 'health'>>>();
  const divisor = replicas ?? 1;
  const create = (tenantId: string) => {
    if (shared) {
      const heartbeatMs = shared.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
      return createSharedRateLimiter({
        ...governorOptions,
        ...(replicas !== undefined ? { replicas } : {}),
        logger: shared.logger.child({ tenantId }),
        heartbeatMs,
        openBudget: (limits) => shared.store.budgetFor({ appId: shared.appId, tenantId }, limits, heartbeatMs),
      });
    }
    if (divisor === 1) return createLocalRateLimiter(governorOptions);
    // Without a shared store, replicas that know how many they are still stay within the budget together.
    return createLocalRateLimiter({
      ...governorOptions,
      resourceUnitsPer10s: Math.max(1, (governorOptions.resourceUnitsPer10s ?? 3_500) / divisor),
      writesPer150s: Math.max(1, (governorOptions.writesPer150s ?? 3_000) / divisor),
    });
  };
  return {
    forTenant(tenantId) {
      const key = tenantId.toLowerCase();
      let governor = governors.get(key);
      if (!governor) {
        governor = create(key);
        governors.set(key, governor);
      }
      return governor;
    },
    health() {
      if (!shared) return { budget: 'process', replicas: divisor };
      let worst: GovernorHealth = { budget: 'shared', location: shared.store.location };
      for (const governor of governors.values()) {
        const health = governor.health?.();
        if (health?.budget === 'fallback') worst = health;
      }
      return worst;
    },
    async close() {
      for (const governor of governors.values()) governor.close();
      governors.clear();
      await shared?.store.close();
    },
  };
}

/** The governor settings of config.graphGovernor (docs/graph-facts.md#throttling defaults where it is absent). */
export function governorOptionsOf(config: Config): GovernorRegistryOptions {
  const g = config.graphGovernor;
  if (!g) return {};
  return {
    resourceUnitsPer10s: g.resourceUnitsPer10s,
    writesPer150s: g.writesPer150s,
    maxConcurrent: g.maxConcurrent,
    maxWaitMs: g.maxWaitMs,
    ...(g.replicas !== undefined ? { replicas: g.replicas } : {}),
  };
}

/**
 * The Graph app whose budget this process spends, as the Redis key of the shared budget names it:
 * the configured client id (not a secret: any token of the app carries it), or in hosted mode the
 * Graph identity's partition (`identityId`: `graphIdentityId`, given by the composition), `hosted-<digest>`
 * of BROKER_URL and BROKER_ID, the token store's. It was
 * `broker-<BROKER_ID>`, which showed the broker registration to anyone who can list the Redis's keys
 * (docs/security.md#one-redis-for-several-gateways); every replica of one deployment computes the
 * same digest, so they still share one bucket.
 */
export function graphAppOf(config: Config, identityId: string): string {
  if (config.selfDeployed) return config.selfDeployed.clientId;
  if (config.hosted) return identityId;
  return 'unconfigured';
}

/**
 * The process's registry from Config: shared through Redis when CACHE_URL is a Redis URL, else per
 * process. A Redis that does not answer at start does not stop the gateway: its governors start on
 * the fallback share and move to the shared budget once it answers.
 */
export async function openGovernorRegistry(
  config: Config,
  deps: { logger: Logger; redis?: RedisConnection; identityId: string },
): Promise<GraphGovernorRegistry> {
  const options = governorOptionsOf(config);
  if (config.cache.kind !== 'redis') return createGraphGovernorRegistry(options);
  const store = await openRedisRateStore({ url: config.cache.url, logger: deps.logger, ...(deps.redis ? { connection: deps.redis } : {}) });
  return createGraphGovernorRegistry(options, { store, appId: graphAppOf(config, deps.identityId), logger: deps.logger });
}
