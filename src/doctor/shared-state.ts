import { createClient } from '@keyv/redis';
import type { Config } from '../config-types.js';
import { redactUrl } from '../store/keyv-store.js';
import { closeRedisConnection, failFastRedisOptions } from '../store/redis-connection.js';
import { redisErrorSummary } from '../store/redis-error.js';
import { cacheUrlCarriesPassword, evictsKeys, parseMemoryPolicy, REDIS_WITHOUT_PASSWORD_ADVICE } from '../store/redis-eviction.js';
import type { Check } from './report.js';

/** How long the doctor waits for the Redis of CACHE_URL to connect, and for each command. */
const CONNECT_TIMEOUT_MS = 5_000;
const COMMAND_TIMEOUT_MS = 5_000;

/**
 * The Redis of CACHE_URL as the gateway will use it (docs/operations.md#redis): reachable with the
 * URL's credentials, protected by a password, and refusing writes rather than evicting keys when
 * full. The gateway only warns about an evicting policy at start-up (and says nothing of a missing
 * password); the doctor is where an operator looks before going live, so both are failures here.
 * Nothing of the URL but its scheme, host and port is printed: its userinfo is the password.
 */
export async function sharedStateChecks(config: Config): Promise<Check[]> {
  if (config.cache.kind !== 'redis') return [];
  const url = config.cache.url;
  const where = `Redis ${redactUrl(url)} (CACHE_URL)`;
  let firstError: unknown;
  const client = createClient(failFastRedisOptions({ url, commandTimeoutMs: COMMAND_TIMEOUT_MS, connectTimeoutMs: CONNECT_TIMEOUT_MS }));
  client.on('error', (error: unknown) => (firstError ??= error));
  try {
    try {
      const connecting = client.connect();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        connecting,
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS))),
      ]).finally(() => clearTimeout(timer));
      await client.ping();
    } catch (error) {
      const why = redisErrorSummary(firstError ?? error).message ?? 'no reason given';
      return [{ id: 'shared-state:redis', status: 'failed', message: `shared state: ${where} could not be used: ${why}` }];
    }
    const checks: Check[] = [passwordCheck(url, where)];
    checks.push(await evictionCheck(client));
    return checks;
  } finally {
    await closeRedisConnection(client);
  }
}

function passwordCheck(url: string, where: string): Check {
  // It answered PING: with no password in the URL, Redis takes commands from anyone who reaches it.
  if (cacheUrlCarriesPassword(url)) return { id: 'shared-state:redis', status: 'ok', message: `shared state: ${where} answers, with a password` };
  return { id: 'shared-state:redis', status: 'failed', message: `shared state: ${where} takes commands without a password: ${REDIS_WITHOUT_PASSWORD_ADVICE}` };
}

async function evictionCheck(client: { sendCommand(args: string[]): Promise<unknown> }): Promise<Check> {
  let info: string;
  try {
    info = String(await client.sendCommand(['INFO', 'memory']));
  } catch (error) {
    return {
      id: 'shared-state:eviction',
      status: 'unchecked',
      message: `shared state: Redis did not answer INFO memory (${redisErrorSummary(error).message ?? 'no reason given'}): its eviction policy is unknown; check by hand that maxmemory-policy is noeviction (docs/operations.md#redis)`,
    };
  }
  const memory = parseMemoryPolicy(info);
  if (!memory)
    return {
      id: 'shared-state:eviction',
      status: 'unchecked',
      message: 'shared state: Redis named no maxmemory-policy in INFO memory; check by hand that maxmemory-policy is noeviction (docs/operations.md#redis)',
    };
  if (evictsKeys(memory))
    return {
      id: 'shared-state:eviction',
      status: 'failed',
      message: `shared state: Redis evicts keys when full (maxmemory-policy ${memory.policy}): spent sign-in links and failed-authentication counts could be dropped silently, so a link could be used twice and a guesser start over; set maxmemory-policy noeviction (docs/operations.md#redis)`,
    };
  return {
    id: 'shared-state:eviction',
    status: 'ok',
    message:
      memory.maxmemoryBytes === 0
        ? `shared state: Redis has no maxmemory, so it never evicts keys (maxmemory-policy ${memory.policy} would apply only with one)`
        : `shared state: Redis refuses writes when full (maxmemory-policy noeviction) rather than dropping spent sign-in links and failed-authentication counts`,
  };
}
