import { createClient } from '@keyv/redis';
import type { Logger } from '../logger.js';

/**
 * A node-redis connection to CACHE_URL for the state replicas share besides the token cache: the
 * rate governor's budget (src/graph/redis-rate-budget.ts), the failed-authentication counts and
 * the spent sign-in links (src/identity/). node-redis is the client @keyv/redis is built on.
 *
 * Commands fail at once while disconnected (no offline queue) and after `commandTimeoutMs` when
 * Redis hangs, so no request waits on a dead Redis: each user of the connection has its fallback.
 * The client keeps reconnecting in the background, at most every 2 s.
 */
export interface RedisConnectionOptions {
  url: string;
  logger: Logger;
  /** Names the user in the log lines of connection errors. */
  component: string;
  /** How long one command may take before it fails. */
  commandTimeoutMs: number;
  /** How long the first connection may take before this resolves anyway (default 2 s). */
  connectTimeoutMs?: number;
}

/**
 * A command on the shared-state connection waits at most this long; then each user falls back: the
 * governor to its equal share, failure counts to memory, a sign-in link to "refused".
 */
export const SHARED_STATE_COMMAND_TIMEOUT_MS = 500;

/**
 * node-redis client options that never let a command wait on a Redis that is down or hangs: no
 * offline queue (fail at once while disconnected), a timeout per command, reconnection in the
 * background at most every 2 s. Every Redis client of the gateway is made with them (this module's
 * connection, the token store's in src/store/keyv-store.ts).
 */
export function failFastRedisOptions(input: { url: string; commandTimeoutMs: number; connectTimeoutMs: number }) {
  return {
    url: input.url,
    disableOfflineQueue: true,
    commandOptions: { timeout: input.commandTimeoutMs },
    socket: {
      connectTimeout: input.connectTimeoutMs,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), 2_000),
    },
  };
}

/** Connects, waiting at most `connectTimeoutMs` (+ 0.5 s): a Redis that is down does not stop start-up. */
// The return type is inferred: node-redis's client type depends on the options it was created with.
export async function openRedisConnection(options: RedisConnectionOptions) {
  const log = options.logger.child({ component: options.component });
  const connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
  const client = createClient(failFastRedisOptions({ url: options.url, commandTimeoutMs: options.commandTimeoutMs, connectTimeoutMs }));
  // Without a listener an 'error' event would end the process; the users log what it means for them.
  client.on('error', (error: unknown) => log.debug({ err: (error as Error | undefined)?.message }, 'Redis connection error'));
  const connecting = client.connect();
  connecting.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([connecting.then(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, connectTimeoutMs + 500)))]).catch(
    () => undefined,
  );
  clearTimeout(timer);
  return client;
}

export type RedisConnection = Awaited<ReturnType<typeof openRedisConnection>>;

/** Closes whether or not it ever connected. */
export async function closeRedisConnection(client: RedisConnection): Promise<void> {
  try {
    await client.close();
  } catch {
    client.destroy();
  }
}
