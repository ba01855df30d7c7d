import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import { redactUrl } from '../store/keyv-store.js';
import { closeRedisConnection, openRedisConnection, SHARED_STATE_COMMAND_TIMEOUT_MS, type RedisConnection } from '../store/redis-connection.js';
import type { ReserveRequest, ReserveResult, SharedBudgetLimits, SharedRateBudget } from './shared-rate-limiter.js';

/**
 * The shared rate budget in Redis (docs/reliability.md#shared-rate-governor): one hash per app+tenant
 * holding a token bucket of resource units, one of writes, and the pause-until of the last
 * Retry-After; a sorted set of replica heartbeats beside it. Every operation is one Lua script run
 * with EVALSHA, atomic in Redis, on Redis's own clock (`TIME`), so replicas with skewed clocks agree.
 *
 * Why a script of our own rather than rate-limiter-flexible's RateLimiterRedis (which the gateway
 * uses for failed authentications): that limiter counts points in fixed windows (INCRBY + expiry). Graph's
 * directory limits are a token bucket refilled continuously; a fixed window lets a full window's
 * worth through at the end of one window and again at the start of the next (twice the budget in a
 * second), it answers only "when does the window reset", not "when are N tokens mine", and it has
 * no reservations, so replicas polling for tokens would be served in no particular order. The
 * script reserves: it takes the tokens even when they are only free after the calls reserved before
 * (the bucket goes below zero, never by more than GRAPH_MAX_WAIT_MS of refill) and answers the
 * wait, so each call needs one round trip and calls from all replicas are served in the order they
 * asked.
 *
 * The client is the process's connection to CACHE_URL (src/store/redis-connection.ts), or one of its
 * own when none is given:
 * commands fail at once while disconnected and after SHARED_STATE_COMMAND_TIMEOUT_MS when Redis hangs, so a
 * Graph call never waits on a dead Redis; the caller falls back to its equal share.
 */

/** Keys outlive the longest window (writes: 150 s) so an idle tenant's bucket simply expires full. */
const KEY_TTL_MS = 300_000;
/** The share of the RU bucket (size and refill) that only calls carrying a write reserve (RESERVE says why). */
export const WRITE_LANE_SHARE = 0.1;
/** A replica missing this many heartbeats in a row no longer counts. */
const STALE_HEARTBEATS = 5;

const PRELUDE = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS[1] bucket hash. ARGV: ru, writes, ru capacity, ru per ms, write capacity, writes per ms,
 * max wait ms, key ttl ms, write lane share. Returns {granted, wait ms, paused for ms, ru left, writes left}.
 *
 * A call that carries a write does not queue behind the reads reserved before it (the RU bucket's
 * debt): when the bucket would make it wait, it may take its RU from a lane of its own instead,
 * WRITE_LANE_SHARE of the bucket's size and refill, which reads never reserve, whichever is sooner;
 * it still takes its RU from the bucket too (the reads after it wait that much longer), and waits
 * for its write token. Why: a caller holding only a read permission reserved GRAPH_MAX_WAIT_MS of
 * lookups and every terminateSession after it was refused THROTTLED. Writes alone keep the whole
 * bucket; the lane bounds what they can spend beyond it to a tenth, inside the 20 % headroom.
 */
const RESERVE = `${PRELUDE}
local ru, w = tonumber(ARGV[1]), tonumber(ARGV[2])
local ruCap, ruRate = tonumber(ARGV[3]), tonumber(ARGV[4])
local wCap, wRate = tonumber(ARGV[5]), tonumber(ARGV[6])
local maxWait, ttl = tonumber(ARGV[7]), tonumber(ARGV[8])
local laneCap, laneRate = ruCap * tonumber(ARGV[9]), ruRate * tonumber(ARGV[9])
local s = redis.call('HMGET', KEYS[1], 'ru', 'w', 'ts', 'pause', 'lane')
local ruT = tonumber(s[1]) or ruCap
local wT = tonumber(s[2]) or wCap
local ts = tonumber(s[3]) or now
local pause = tonumber(s[4]) or 0
local laneT = tonumber(s[5]) or laneCap
local elapsed = math.max(0, now - ts)
ruT = math.min(ruCap, ruT + elapsed * ruRate)
wT = math.min(wCap, wT + elapsed * wRate)
laneT = math.min(laneCap, laneT + elapsed * laneRate)
local pausedFor = math.max(0, pause - now)
local wait = 0
local laneRu = 0
if ru > ruT then wait = (ru - ruT) / ruRate end
if w > 0 then
  if wait > 0 then
    -- The bucket is spent or reserved ahead: the lane, when it is sooner.
    local fromLane = math.min(ru, laneCap)
    local laneWait = 0
    if fromLane > laneT then laneWait = (fromLane - laneT) / laneRate end
    if laneWait < wait then
      wait = laneWait
      laneRu = fromLane
    end
  end
  if w > wT then wait = math.max(wait, (w - wT) / wRate) end
end
wait = math.max(wait, pausedFor)
local granted = 0
if wait <= maxWait then
  granted = 1
  ruT = ruT - ru
  wT = wT - w
  laneT = laneT - laneRu
end
redis.call('HSET', KEYS[1], 'ru', string.format('%.6f', ruT), 'w', string.format('%.6f', wT), 'ts', now, 'lane', string.format('%.6f', laneT))
redis.call('PEXPIRE', KEYS[1], ttl)
return {granted, math.ceil(wait), math.ceil(pausedFor), math.floor(ruT), math.floor(wT)}
`;

/** KEYS[1] bucket hash. ARGV: pause ms, key ttl ms. Keeps the later of the stored and the new pause; returns what is left of it. */
const PAUSE = `${PRELUDE}
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'pause')) or 0
if untilMs > current then
  redis.call('HSET', KEYS[1], 'pause', untilMs)
  current = untilMs
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return math.max(0, current - now)
`;

/**
 * KEYS[1] heartbeat sorted set, KEYS[2] bucket hash. ARGV: replica id, stale after ms, key ttl ms,
 * leaving (1 removes the replica). Returns {live replicas, paused for ms}.
 */
const HEARTBEAT = `${PRELUDE}
if ARGV[4] == '1' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local pause = tonumber(redis.call('HGET', KEYS[2], 'pause')) or 0
return {redis.call('ZCARD', KEYS[1]), math.max(0, pause - now)}
`;

interface Script {
  source: string;
  sha1: string;
}

const script = (source: string): Script => ({ source, sha1: createHash('sha1').update(source, 'utf8').digest('hex') });
const SCRIPTS = { reserve: script(RESERVE), pause: script(PAUSE), heartbeat: script(HEARTBEAT) };

/** The part of a node-redis client the budget uses. */
interface ScriptClient {
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** One Redis connection for every app+tenant budget of the process. */
export interface RedisRateStore {
  readonly location: string;
  budgetFor(scope: { appId: string; tenantId: string }, limits: SharedBudgetLimits, heartbeatMs: number): SharedRateBudget;
  close(): Promise<void>;
}

export interface RedisRateStoreOptions {
  url: string;
  logger: Logger;
  /** How long the first connection may take before the governors start on their fallback share (default 2 s). */
  connectTimeoutMs?: number;
  /**
   * The process's connection to that Redis (src/store/redis-connection.ts), shared with the other
   * users of CACHE_URL; the store then borrows it and leaves closing it to its owner. Absent: the
   * store opens a connection of its own and closes it.
   */
  connection?: RedisConnection;
}

/**
 * Connects (bounded by `connectTimeoutMs`; the client keeps reconnecting in the background when that
 * fails, and the governors start on their fallback share until a heartbeat gets through).
 */
export async function openRedisRateStore(options: RedisRateStoreOptions): Promise<RedisRateStore> {
  const location = `Redis ${redactUrl(options.url)}`;
  const owned = options.connection === undefined;
  const client =
    options.connection ??
    (await openRedisConnection({
      url: options.url,
      logger: options.logger,
      component: 'rate-governor',
      commandTimeoutMs: SHARED_STATE_COMMAND_TIMEOUT_MS,
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    }));
  const scripts = client as unknown as ScriptClient;

  const run = async (which: Script, keys: string[], args: Array<string | number>): Promise<unknown> => {
    const call = { keys, arguments: args.map(String) };
    try {
      return await scripts.evalSha(which.sha1, call);
    } catch (error) {
      // A restarted (or flushed) Redis forgot the script: send it once, which also caches it again.
      if (/NOSCRIPT/.test((error as Error | undefined)?.message ?? '')) return scripts.eval(which.source, call);
      throw error;
    }
  };

  return {
    location,
    budgetFor(scope, limits, heartbeatMs) {
      // One hash tag per app+tenant: both keys land on the same slot of a Redis Cluster.
      const tag = `{${keyPart(scope.appId)}|${keyPart(scope.tenantId)}}`;
      const bucketKey = `mgug:governor:${tag}`;
      const replicasKey = `mgug:governor:${tag}:replicas`;
      const replicaId = randomUUID();
      const numbers = (reply: unknown): number[] => {
        if (!Array.isArray(reply)) throw new Error(`unexpected reply from the rate budget script: ${typeof reply}`);
        return reply.map(Number);
      };
      return {
        location,
        async reserve(request: ReserveRequest): Promise<ReserveResult> {
          const [granted, waitMs, pausedForMs, ruLeft, writesLeft] = numbers(
            await run(
              SCRIPTS.reserve,
              [bucketKey],
              [
                request.resourceUnits,
                request.writes,
                limits.resourceUnitCapacity,
                limits.resourceUnitsPerMs,
                limits.writeCapacity,
                limits.writesPerMs,
                request.maxWaitMs,
                KEY_TTL_MS,
                WRITE_LANE_SHARE,
              ],
            ),
          );
          return {
            granted: granted === 1,
            waitMs: waitMs ?? 0,
            pausedForMs: pausedForMs ?? 0,
            resourceUnitsLeft: ruLeft ?? 0,
            writesLeft: writesLeft ?? 0,
          };
        },
        async pause(ms) {
          return Number(await run(SCRIPTS.pause, [bucketKey], [Math.ceil(ms), KEY_TTL_MS]));
        },
        async heartbeat() {
          const [replicas, pausedForMs] = numbers(
            await run(SCRIPTS.heartbeat, [replicasKey, bucketKey], [replicaId, heartbeatMs * STALE_HEARTBEATS, KEY_TTL_MS, '0']),
          );
          return { replicas: replicas ?? 1, pausedForMs: pausedForMs ?? 0 };
        },
        async leave() {
          await run(SCRIPTS.heartbeat, [replicasKey, bucketKey], [replicaId, heartbeatMs * STALE_HEARTBEATS, KEY_TTL_MS, '1']);
        },
      };
    },
    close: () => (owned ? closeRedisConnection(client) : Promise.resolve()),
  };
}

/** Client and tenant ids are GUIDs or domain names; anything else is reduced to a safe key part. */
function keyPart(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9.:-]/g, '_');
}
