import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET_API_KEY, fleetGraphql, runBudgetLoad, startFleet, type Fleet } from '../../bench/replicas.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { redisSkipReason, startTestRedis, type TestRedis } from '../store/redis-server.js';

/**
 * Three gateways (src/app.ts as `npm start` composes it, NODE_ENV=production, API-key callers, a
 * delegated Graph identity) on one real redis-server, in front of one emulator tenant that enforces
 * Entra's directory budget per app+tenant (docs/graph-facts.md#throttling): the replicas share one
 * budget through Redis (docs/reliability.md#shared-rate-governor), the token cache (a single-use
 * refresh token rotated under load never answers invalid_grant), and cursors and delta tokens (one
 * CURSOR_KEY). With Redis gone each replica spends an equal share and says so.
 *
 * The budget is tiny (60 RU per 10 s; the gateway spends 80 % of it) so the run is short and the
 * load always exceeds it, whatever else the machine is doing. Before the shared governor each
 * replica spent 80 % of the budget on its own: 240 % together, and Graph answered 429.
 */
const skipRedis = redisSkipReason();
const BUDGET = 60;
const CAPACITY = BUDGET * 0.8;
let emulator: TestEmulator;
let redis: TestRedis | undefined;
let fleet: Fleet;
let clockOffsetMs = 0;

beforeAll(async () => {
  if (skipRedis) return;
  // Single-use refresh tokens (an emulator switch; Entra keeps them valid): a refresh token redeemed
  // twice, by two replicas racing, would answer invalid_grant.
  emulator = await startTestEmulator({
    userCount: 200,
    singleUseRefreshTokens: true,
    throttling: { resourceUnitsPer10s: BUDGET },
    now: () => Date.now() + clockOffsetMs,
  });
  redis = await startTestRedis();
  fleet = await startFleet({
    emulator,
    replicas: 3,
    redisUrl: redis.url,
    resourceUnitsPer10s: BUDGET,
    env: { DEPLOYMENT_MODE: 'self-deployed', GRAPH_AUTH_FLOW: 'authorization-code' },
  });
  await signIn(fleet.urls[0]!);
}, 60_000);

afterAll(async () => {
  if (skipRedis) return;
  await fleet?.close();
  await redis?.stop();
  await emulator?.close();
});

/** An operator (Gateway.Admin key) signs replica 0 in; the others find the account in the shared token cache. */
async function signIn(url: string): Promise<void> {
  const login = await fetch(`${url}/auth/login`, { redirect: 'manual', headers: { 'x-api-key': FLEET_API_KEY } });
  expect(login.status).toBe(302);
  const consent = await emulator.fetch(login.headers.get('location')!, { redirect: 'manual' });
  expect(consent.status).toBe(302);
  const done = await fetch(consent.headers.get('location')!, { headers: { cookie: login.headers.get('set-cookie') ?? '' } });
  expect(done.status).toBe(200);
}

async function readyz(
  url: string,
): Promise<{ status: number; body: { status: string; checks: Array<{ name: string; ok: boolean; degraded?: boolean; reason?: string }> } }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as any };
}

describe.skipIf(!!skipRedis)('three replicas on one Redis under the tenant budget', () => {
  it('share one budget: no failed operation, Graph 429s at most 1 %, throughput at least 90 % of the budget', { timeout: 60_000 }, async () => {
    const figures = await runBudgetLoad({
      emulator,
      urls: fleet.urls,
      resourceUnitsPer10s: BUDGET,
      durationMs: 8_000,
      clientsPerReplica: 6,
      setup: '3 replicas, Redis',
    });
    expect(figures.firstFailure).toBeUndefined();
    expect(figures.failed).toBe(0);
    expect(figures.graphRequests).toBeGreaterThan(0);
    expect(figures.graph429s).toBeLessThanOrEqual(figures.graphRequests * 0.01);
    // The run starts with (nearly) full buckets: the budget allows the bucket plus its refill.
    expect(figures.resourceUnits).toBeGreaterThanOrEqual(0.9 * figures.allowedResourceUnits);
    // ... and never more than Graph's own bucket plus its refill (the check that each replica on its own budget fails).
    expect(figures.resourceUnits).toBeLessThanOrEqual(BUDGET + (BUDGET / 10) * (figures.elapsedMs / 1000));
    for (const url of fleet.urls) {
      const { status, body } = await readyz(url);
      expect(status).toBe(200);
      expect(body.status).toBe('ready');
      expect(body.checks.find((c) => c.name === 'rate-governor')).toEqual({ name: 'rate-governor', ok: true });
    }
  });

  it('rotates the single-use refresh token under load across replicas without invalid_grant', { timeout: 60_000 }, async () => {
    const tokenRequestsBefore = (await emulator.stats()).tokenRequests;
    // Two hours on in Entra's clock: every access token the replicas hold is now expired, and Graph answers 401 until they renew.
    const figures = await runBudgetLoad({
      emulator,
      urls: fleet.urls,
      resourceUnitsPer10s: BUDGET,
      durationMs: 6_000,
      clientsPerReplica: 4,
      setup: 'rotation',
      during: { afterMs: 2_000, run: () => void (clockOffsetMs += 2 * 3_600_000) },
    });
    expect(figures.firstFailure).toBeUndefined();
    expect(figures.failed).toBe(0);
    const stats = await emulator.stats();
    // Graph refused the expired tokens, the replicas renewed (the refresh token was redeemed and replaced) ...
    expect(stats.byStatus['401'] ?? 0).toBeGreaterThan(0);
    expect(stats.tokenRequests).toBeGreaterThan(tokenRequestsBefore);
    // ... each redemption under the shared lock: a second redemption of the same refresh token would be invalid_grant (400).
    expect(stats.byStatus['400'] ?? 0).toBe(0);
    // A few renewals for the whole fleet, not one per operation that met a 401.
    expect(stats.tokenRequests - tokenRequestsBefore).toBeLessThanOrEqual(2 * fleet.urls.length);
    expect(figures.graph429s).toBeLessThanOrEqual(figures.graphRequests * 0.01);
  });

  it('accepts on every replica the cursors and delta tokens another issued (one CURSOR_KEY)', { timeout: 60_000 }, async () => {
    const [a, b, c] = fleet.urls as [string, string, string];
    type Page = { users: { nodes: Array<{ id: string }>; pageInfo: { endCursor: string; hasNextPage: boolean } } };
    const PAGE = 'query($after: String) { users(first: 5, after: $after) { nodes { id } pageInfo { endCursor hasNextPage } } }';
    const first = await fleetGraphql<Page>(a, PAGE);
    expect(first.users.pageInfo.hasNextPage).toBe(true);
    const onB = await fleetGraphql<Page>(b, PAGE, { after: first.users.pageInfo.endCursor });
    const onC = await fleetGraphql<Page>(c, PAGE, { after: first.users.pageInfo.endCursor });
    const ten = await fleetGraphql<{ users: { nodes: Array<{ id: string }> } }>(a, '{ users(first: 10) { nodes { id } } }');
    expect(onB.users.nodes.map((n) => n.id)).toEqual(ten.users.nodes.slice(5).map((n) => n.id));
    expect(onC.users.nodes).toEqual(onB.users.nodes);

    type Changes = { userChanges: { kind: string; complete: boolean; nextDeltaToken: string; changed: Array<{ id: string }> } };
    const CHANGES = 'query($t: String) { userChanges(deltaToken: $t) { kind complete nextDeltaToken changed { id } } }';
    // The full sync continues on whichever replica the caller lands on.
    let token: string | undefined;
    for (let call = 0; call < 50; call++) {
      const round = await fleetGraphql<Changes>(fleet.urls[call % 3]!, CHANGES, token ? { t: token } : {});
      token = round.userChanges.nextDeltaToken;
      if (round.userChanges.complete) break;
    }
    const changes = await fleetGraphql<Changes>(c, CHANGES, { t: token });
    expect(changes.userChanges.kind).toBe('CHANGES');
  });

  it("holds every replica for a 429's Retry-After that one of them met", { timeout: 60_000 }, async () => {
    const [a, b] = fleet.urls as [string, string];
    const ids = [...emulator.tenant.users.keys()];
    const USER = 'query($id: ID!) { user(id: $id) { id } }';
    await emulator.resetStats();
    // Graph throttles the app (Retry-After 2 s): replica a meets the 429 and records the pause in Redis.
    await emulator.setFaults({ throttleRate: 1, retryAfterSeconds: 2 });
    const onA = fleetGraphql(a, USER, { id: ids[10] });
    for (let i = 0; i < 100 && ((await emulator.stats()).byStatus['429'] ?? 0) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await emulator.setFaults({ throttleRate: 0 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Replica b has not met a 429 itself, yet waits out the pause instead of calling Graph (which would answer 429 again until it has passed).
    const started = Date.now();
    const onB = await fleetGraphql<{ user: { id: string } }>(b, USER, { id: ids[11] });
    expect(onB.user.id).toBe(ids[11]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    await onA;
    expect((await emulator.stats()).byStatus['429']).toBe(1);
  });

  it('falls back to an equal share each when Redis is gone: warn log, /readyz degraded but ready, still no failed operation', { timeout: 60_000 }, async () => {
    await redis!.stop();
    // Within a heartbeat or two every replica notices.
    for (let i = 0; i < 50; i++) {
      const states = await Promise.all(fleet.urls.map(readyz));
      if (states.every((s) => s.body.status === 'degraded')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (const url of fleet.urls) {
      const { status, body } = await readyz(url);
      expect(status).toBe(200);
      expect(body.status).toBe('degraded');
      const check = body.checks.find((c) => c.name === 'rate-governor');
      expect(check).toMatchObject({ ok: true, degraded: true });
      // Three replicas were heartbeating: each takes a third.
      expect(check!.reason).toMatch(/unreachable.*1\/3.*replicas last seen in Redis/);
    }
    const warnings = fleet.logLines
      .flatMap((line) => line.split('\n'))
      .filter((line) => line.includes('rate governor: Redis is unreachable'))
      .map((line) => JSON.parse(line) as { level: string; replicas: number; replicasSource: string });
    expect(warnings.length).toBeGreaterThanOrEqual(3);
    for (const warning of warnings) expect(warning).toMatchObject({ level: 'warn', replicas: 3, replicasSource: 'heartbeats' });

    const figures = await runBudgetLoad({
      emulator,
      urls: fleet.urls,
      resourceUnitsPer10s: BUDGET,
      durationMs: 5_000,
      clientsPerReplica: 3,
      setup: 'fallback',
    });
    expect(figures.firstFailure).toBeUndefined();
    expect(figures.failed).toBe(0);
    expect(figures.graph429s).toBeLessThanOrEqual(figures.graphRequests * 0.01);
    // Three thirds, each starting empty: never more than the budget's refill.
    expect(figures.resourceUnits).toBeLessThanOrEqual((CAPACITY / 10) * (figures.elapsedMs / 1000) + 3);
    expect(figures.resourceUnits).toBeGreaterThan(0);
  });
});
