import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphGovernorRegistry } from '../../src/graph/governor-registry.js';
import { openRedisRateStore, type RedisRateStore } from '../../src/graph/redis-rate-budget.js';
import { createSharedRateLimiter, type SharedRateLimiter } from '../../src/graph/shared-rate-limiter.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { freePort } from '../support/net.js';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';

/**
 * The shared rate governor against a real redis-server (docs/reliability.md#shared-rate-governor):
 * several limiters stand for several replicas of one app+tenant, each with its own Redis connection,
 * as separate processes would have.
 */
const skipRedis = redisSkipReason();
let redis: (TestRedis & { port: number }) | undefined;
const stores: RedisRateStore[] = [];
const limiters: SharedRateLimiter[] = [];
let tenant = 0;

beforeAll(async () => {
  if (!skipRedis) redis = await startTestRedis();
});

afterAll(async () => {
  for (const limiter of limiters) limiter.close();
  await Promise.all(stores.map((store) => store.close()));
  await redis?.stop();
});

function capture(): { logger: Logger; lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, any>);
        callback();
      },
    }),
  });
  return { logger, lines };
}

/** `count` replicas of one (fresh) app+tenant on `url`, each with its own connection. */
async function replicas(count: number, options: { url?: string; resourceUnitsPer10s?: number; maxWaitMs?: number; replicas?: number; logger?: Logger } = {}) {
  const tenantId = `tenant-${tenant++}`;
  const logger = options.logger ?? capture().logger;
  const out: SharedRateLimiter[] = [];
  for (let i = 0; i < count; i++) {
    const store = await openRedisRateStore({ url: options.url ?? redis!.url, logger, connectTimeoutMs: 300 });
    stores.push(store);
    const limiter = createSharedRateLimiter({
      resourceUnitsPer10s: options.resourceUnitsPer10s ?? 10,
      headroom: 1,
      maxWaitMs: options.maxWaitMs ?? 10_000,
      heartbeatMs: 100,
      logger,
      ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
      openBudget: (limits) => store.budgetFor({ appId: 'app-1', tenantId }, limits, 100),
    });
    limiters.push(limiter);
    out.push(limiter);
  }
  return out;
}

const until = async (condition: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe.skipIf(!!skipRedis)('shared rate governor on Redis', () => {
  it('spends one bucket across replicas: the full bucket goes at once, whoever asks, and the next call waits for the refill', async () => {
    const [a, b, c] = (await replicas(3, { resourceUnitsPer10s: 10, maxWaitMs: 0 })) as [SharedRateLimiter, SharedRateLimiter, SharedRateLimiter];
    for (let i = 0; i < 10; i++) ((await [a, b, c][i % 3]!.acquire(1)) as { release(): void }).release();
    // The bucket (10) is spent by the three together: a fourth call on any replica would wait, and with GRAPH_MAX_WAIT_MS=0 it is refused.
    for (const limiter of [a, b, c]) await expect(limiter.acquire(1)).rejects.toMatchObject({ extensions: { code: 'THROTTLED' } });
    expect(a.health()).toMatchObject({ budget: 'shared' });
  });

  it('paces calls from all replicas at the refill rate, one RU after another', async () => {
    const [a, b] = (await replicas(2, { resourceUnitsPer10s: 100 })) as [SharedRateLimiter, SharedRateLimiter];
    (await a.acquire(100)).release();
    const started = Date.now();
    // 1 RU per 100 ms: the calls are served about 100, 200 and 300 ms on, whichever replica asked.
    const waits = await Promise.all([b.acquire(1), a.acquire(1), b.acquire(1)].map((p) => p.then((permit) => (permit.release(), Date.now() - started))));
    waits.sort((x, y) => x - y);
    expect(waits[0]!).toBeGreaterThanOrEqual(50);
    expect(waits[1]!).toBeGreaterThanOrEqual(150);
    expect(waits[2]!).toBeGreaterThanOrEqual(250);
    expect(waits[2]!).toBeLessThan(1_500);
  });

  it('serves a write at once though reads on another replica reserved the bucket GRAPH_MAX_WAIT_MS ahead (its own RU lane)', async () => {
    // 1,000 RU per 10 s: 0.1 RU a millisecond. The bucket is spent, then two 100-RU reads reserve its next 2 s.
    const [reader, responder] = (await replicas(2, { resourceUnitsPer10s: 1_000, maxWaitMs: 2_000 })) as [SharedRateLimiter, SharedRateLimiter];
    (await reader.acquire(1_000)).release();
    const reads = [reader.acquire(100), reader.acquire(100)];
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(reader.acquire(100)).rejects.toMatchObject({ extensions: { code: 'THROTTLED' } });
    // A containment $batch (3 RU, 2 writes): before, it waited behind the reads' 2 s and was refused.
    const started = Date.now();
    (await responder.acquire(3, { writes: 2 })).release();
    expect(Date.now() - started).toBeLessThan(1_000);
    // The lane is a tenth of the bucket (100 RU, refilled at 0.01 RU/ms): writes past it wait for its refill.
    (await responder.acquire(100, { writes: 1 })).release(); // the 3 RU taken above refill in 0.3 s
    await expect(responder.acquire(100, { writes: 1 })).rejects.toMatchObject({ extensions: { code: 'THROTTLED' } }); // 10 s
    for (const permit of await Promise.all(reads)) permit.release();
  });

  it('leaves writes the whole bucket when no read reserved it (the lane is an addition, not a limit)', async () => {
    const [responder] = (await replicas(1, { resourceUnitsPer10s: 1_000, maxWaitMs: 2_000 })) as [SharedRateLimiter];
    const started = Date.now();
    // Mass containment: ten 100-RU write batches spend the bucket at once, not at the lane's tenth.
    for (let i = 0; i < 10; i++) (await responder.acquire(100, { writes: 1 })).release();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("shares a 429's Retry-After: a pause recorded by one replica holds the others", async () => {
    const [a, b] = (await replicas(2, { resourceUnitsPer10s: 1_000 })) as [SharedRateLimiter, SharedRateLimiter];
    (await b.acquire(1)).release();
    a.pause(1);
    // Recorded in Redis at once; b learns it on its next reservation.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    (await b.acquire(1)).release();
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect(b.snapshot().pausedForMs).toBe(0);
  });

  it('refuses at once (THROTTLED, retry hint) when a shared pause is longer than GRAPH_MAX_WAIT_MS', async () => {
    const [a, b] = (await replicas(2, { resourceUnitsPer10s: 1_000, maxWaitMs: 1_000 })) as [SharedRateLimiter, SharedRateLimiter];
    a.pause(30);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(b.acquire(1)).rejects.toMatchObject({ extensions: { code: 'THROTTLED', retryAfterSeconds: 30 } });
  });

  it('counts live replicas by their heartbeats; one that leaves stops counting', async () => {
    const three = await replicas(3, { resourceUnitsPer10s: 100 });
    // Redis down now would leave each a third (replicas seen in heartbeats); visible only in fallback, so check the store directly.
    const store = stores.at(-1)!;
    const budget = store.budgetFor(
      { appId: 'app-1', tenantId: `tenant-${tenant - 1}` },
      { resourceUnitCapacity: 100, resourceUnitsPerMs: 0.01, writeCapacity: 10, writesPerMs: 0.001 },
      100,
    );
    expect((await budget.heartbeat()).replicas).toBe(4);
    three[0]!.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await budget.heartbeat()).replicas).toBe(3);
    await budget.leave();
  });

  it('Redis unreachable: each replica takes an equal share (GRAPH_REPLICAS), warns once, and returns to the shared budget when Redis is back', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const { logger, lines } = capture();
    const [a] = (await replicas(1, { url, resourceUnitsPer10s: 30, replicas: 3, maxWaitMs: 0, logger })) as [SharedRateLimiter];
    await until(() => a.health().budget === 'fallback');
    expect(a.health()).toEqual({ budget: 'fallback', location: `Redis redis://127.0.0.1:${port}`, replicas: 3, replicasSource: 'GRAPH_REPLICAS' });
    const warnings = lines.filter((l) => l.level === 'warn' && /Redis is unreachable/.test(l.msg));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ replicas: 3, replicasSource: 'GRAPH_REPLICAS', resourceUnitsPer10s: 10 });
    // The share (30 / 3 = 10 per 10 s, 1 RU per second) starts empty: this replica was spending from the shared bucket.
    await expect(a.acquire(1)).rejects.toMatchObject({ extensions: { code: 'THROTTLED' } });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    (await a.acquire(1)).release();

    const back = await startTestRedis(port);
    try {
      await until(() => a.health().budget === 'shared', 10_000);
      expect(lines.some((l) => l.level === 'info' && /reachable again/.test(l.msg))).toBe(true);
      // The shared bucket (30) is full again.
      for (let i = 0; i < 30; i++) (await a.acquire(1)).release();
      await expect(a.acquire(1)).rejects.toMatchObject({ extensions: { code: 'THROTTLED' } });
    } finally {
      a.close();
      await back.stop();
    }
  });

  it('never shows the password of CACHE_URL in its health (/readyz) or its logs', async () => {
    const port = await freePort();
    const { logger, lines } = capture();
    const [a] = (await replicas(1, { url: `redis://gateway:s3cret-redis-pass@127.0.0.1:${port}`, logger })) as [SharedRateLimiter];
    await until(() => a.health().budget === 'fallback');
    expect(a.health()).toMatchObject({ location: `Redis redis://127.0.0.1:${port}`, replicasSource: 'assumed' });
    expect(lines.some((l) => l.level === 'warn' && /no replica count is known \(set GRAPH_REPLICAS\)/.test(l.msg))).toBe(true);
    expect(JSON.stringify(lines)).not.toContain('s3cret-redis-pass');
    a.close();
  });

  it('memory-only deployments keep a budget per process, divided by GRAPH_REPLICAS when set', async () => {
    const whole = createGraphGovernorRegistry({ resourceUnitsPer10s: 30, maxWaitMs: 0 });
    const third = createGraphGovernorRegistry({ resourceUnitsPer10s: 30, maxWaitMs: 0, replicas: 3 });
    expect(whole.health()).toEqual({ budget: 'process', replicas: 1 });
    expect(third.health()).toEqual({ budget: 'process', replicas: 3 });
    // Headroom 0.8: 24 RU, or 8 for a third.
    expect(whole.forTenant('t').snapshot().resourceUnits).toBe(24);
    expect(third.forTenant('t').snapshot().resourceUnits).toBe(8);
    await whole.close();
    await third.close();
  });
});
