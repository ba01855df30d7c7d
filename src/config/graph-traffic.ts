import type { Config } from '../config-types.js';
import type { EnvReader } from './env-reader.js';

/** Directory RU per 10 s for an app in a tenant of `users` users (docs/graph-facts.md#throttling). */
export function directoryTierOf(users: number): number {
  return users < 50 ? 3_500 : users <= 500 ? 5_000 : 8_000;
}

/** The pace of the gateway's Graph calls: the tenant's rate limits and how many calls are in flight at once. */
export function readGraphGovernor(env: EnvReader, sandbox: boolean): NonNullable<Config['graphGovernor']> {
  return {
    // The sandbox tenant's size is known, so its tier is too (docs/graph-facts.md#throttling); a real tenant starts at the smallest.
    resourceUnitsPer10s: env.int(
      'GRAPH_RU_PER_10S',
      sandbox ? directoryTierOf(Number(env.get('SANDBOX_USERS') ?? 1000) || 1000) : 3_500,
      1,
      10_000_000,
      "the Graph tenant's directory resource units per 10 s (3500 below 50 users, 5000 up to 500, 8000 above)",
    ),
    writesPer150s: env.int('GRAPH_WRITES_PER_150S', 3_000, 1, 10_000_000, "the Graph tenant's directory writes per 150 s"),
    maxConcurrent: env.int('GRAPH_MAX_CONCURRENCY', 16, 1, 10_000, 'Graph calls in flight at once per tenant'),
    maxWaitMs: env.int('GRAPH_MAX_WAIT_MS', 10_000, 0, 600_000, 'how long a Graph call may queue for rate capacity before the caller gets THROTTLED, in ms'),
    // Replicas of this gateway (docs/reliability.md#shared-rate-governor): with a Redis CACHE_URL the share each takes while Redis is unreachable, without one the share each always takes.
    ...(env.get('GRAPH_REPLICAS') !== undefined
      ? { replicas: env.int('GRAPH_REPLICAS', 1, 1, 1_000, 'how many replicas of this gateway share the Graph budget of one app and tenant') }
      : {}),
  };
}

/** How long a user lookup by id waits for concurrent lookups of other operations to share one Graph call. */
export function readCoalesceWindowMs(env: EnvReader): number {
  return env.int(
    'COALESCE_WINDOW_MS',
    1,
    0,
    10,
    'how long a user lookup by id waits, while other lookups are in flight, for lookups of other operations to share one Graph call, in ms (a lone lookup does not wait; 0 turns coalescing off)',
  );
}
