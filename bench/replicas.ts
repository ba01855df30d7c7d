/**
 * "3 replicas under the tenant budget" (docs/benchmark.md#replicas-under-the-tenant-budget): gateways
 * started as `npm start` composes them (src/app.ts, NODE_ENV=production) in front of one emulator
 * tenant that enforces Entra's directory budget per app+tenant (src/emulator/throttling.ts,
 * docs/graph-facts.md#throttling), driven by closed-loop clients spread over the replicas. It prints,
 * per setup, operations and failures, Graph requests and 429s, and the resource units Graph admitted
 * against what the gateway's budget allows in the same time:
 *
 * - 1 replica: today's single process (CACHE_URL=memory);
 * - 3 replicas, memory: each replica keeps its own budget, as before the shared governor;
 * - 3 replicas, Redis: one budget in Redis for all of them (docs/reliability.md#shared-rate-governor).
 *
 * `npm run bench` runs it after the contender table; `npx tsx bench/replicas.ts` runs it alone. The
 * multi-replica test (test/reliability/replicas-shared-budget.test.ts) drives the same fleet.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startApp, type App } from '../src/app.js';
import { hashApiKey, loadConfig } from '../src/config.js';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { createLogger } from '../src/logger.js';
import { createMetrics } from '../src/metrics.js';
import { REDIS_SERVER, startTestRedis, type TestRedis } from '../test/store/redis-server.js';
import { runLoad } from './lib/load.js';

/** The caller key every replica accepts (API_KEYS), with the permissions the load and the sign-in need. */
export const FLEET_API_KEY = 'replica-fleet-key-0123456789abcdef';
/** Share of Graph's limit the governor spends (src/graph/rate-limiter.ts DEFAULT_HEADROOM). */
const HEADROOM = 0.8;
const READ_WINDOW_S = 10;

export interface FleetOptions {
  emulator: RunningEmulator;
  replicas: number;
  /** A Redis URL: one shared budget (and token cache); absent: CACHE_URL=memory, each replica on its own. */
  redisUrl?: string;
  /** Graph's RU per 10 s for this app+tenant (GRAPH_RU_PER_10S, what the emulator enforces). */
  resourceUnitsPer10s: number;
  /** Extra environment (e.g. GRAPH_AUTH_FLOW, GRAPH_REPLICAS). */
  env?: Record<string, string>;
}

export interface Fleet {
  apps: App[];
  urls: string[];
  /** Every log line of every replica (JSON text), in order. */
  logLines: string[];
  close(): Promise<void>;
}

/** Shared by every replica of a fleet: what makes cursors and the token cache work across them. */
const CURSOR_KEY = randomBytes(32).toString('base64');
const TOKEN_CACHE_KEY = randomBytes(32).toString('base64');

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-fleet-'));
  const logLines: string[] = [];
  const apps: App[] = [];
  try {
    for (let i = 0; i < options.replicas; i++) {
      const config = loadConfig({
        NODE_ENV: 'production',
        SANDBOX: 'true',
        HOST: '127.0.0.1',
        PORT: '0',
        DATA_DIR: path.join(dataDir, `replica-${i}`),
        CACHE_URL: options.redisUrl ?? 'memory',
        TOKEN_CACHE_KEY,
        CURSOR_KEY,
        CALLER_AUTH: 'api-key',
        API_KEYS: `fleet:${hashApiKey(FLEET_API_KEY)}:Users.Read+Users.ReadChanges+Gateway.Admin`,
        GRAPH_RU_PER_10S: String(options.resourceUnitsPer10s),
        LOG_LEVEL: 'info',
        ...options.env,
      });
      const logger = createLogger({
        level: 'info',
        destination: new Writable({
          write(chunk: Buffer, _encoding, callback) {
            logLines.push(chunk.toString('utf8'));
            callback();
          },
        }),
      });
      apps.push(await startApp(config, { emulator: options.emulator, logger, metrics: createMetrics({ defaultMetrics: false }) }));
    }
  } catch (error) {
    await Promise.all(apps.map((app) => app.close()));
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    apps,
    urls: apps.map((app) => app.url),
    logLines,
    async close() {
      await Promise.all(apps.map((app) => app.close()));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One GraphQL operation against one replica with the fleet's key; throws on anything but a clean answer. */
export async function fleetGraphql<T = any>(url: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': FLEET_API_KEY },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  const body = (await res.json()) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  if (res.status !== 200 || body.errors?.length) {
    const first = body.errors?.[0];
    throw new Error(`HTTP ${res.status}: ${first ? `${first.extensions?.code ?? ''} ${first.message}` : 'no data'}`);
  }
  return body.data as T;
}

export interface BudgetFigures {
  replicas: number;
  setup: string;
  operations: number;
  failed: number;
  firstFailure?: string;
  /** Graph requests and `$batch` items the emulator priced, and those it answered 429. */
  graphRequests: number;
  graph429s: number;
  /** RU Graph admitted during the run. */
  resourceUnits: number;
  /** RU the gateway's budget (GRAPH_RU_PER_10S × headroom) allows in the same time: a full bucket plus its refill. */
  allowedResourceUnits: number;
  elapsedMs: number;
}

export interface LoadOptions {
  emulator: RunningEmulator;
  urls: string[];
  resourceUnitsPer10s: number;
  durationMs: number;
  /** Closed-loop clients per replica. */
  clientsPerReplica: number;
  setup: string;
  /** Called once the run is under way (e.g. to move the emulator's clock). */
  during?: { afterMs: number; run: () => void | Promise<void> };
}

const USER_QUERY = 'query($id: ID!) { user(id: $id) { id displayName } }';

/**
 * Closed-loop lookups of distinct users (1 RU each: `GET /users/{id}?$select=...`) spread evenly over
 * the replicas, with the emulator's budget reset (full) at the start. Graph's figures come from the
 * emulator's own accounting (stats.directory).
 */
export async function runBudgetLoad(options: LoadOptions): Promise<BudgetFigures> {
  const ids = [...options.emulator.tenant.users.keys()];
  const stats = options.emulator.context.stats;
  options.emulator.context.throttle.configure({ resourceUnitsPer10s: options.resourceUnitsPer10s });
  const before = stats.snapshot().directory;
  const clients = options.urls.length * options.clientsPerReplica;
  const timer = options.during ? setTimeout(() => void options.during!.run(), options.during.afterMs) : undefined;
  const load = await runLoad(
    async (i) => {
      const id = ids[i % ids.length]!;
      const data = await fleetGraphql<{ user: { id: string } | null }>(options.urls[i % options.urls.length]!, USER_QUERY, { id });
      if (data.user?.id !== id) throw new Error(`user ${id}: got ${JSON.stringify(data.user)}`);
    },
    { concurrency: clients, maxOps: Number.MAX_SAFE_INTEGER, budgetMs: options.durationMs, opTimeoutMs: 30_000 },
  );
  clearTimeout(timer);
  const after = stats.snapshot().directory;
  const capacity = Math.floor(options.resourceUnitsPer10s * HEADROOM);
  return {
    replicas: options.urls.length,
    setup: options.setup,
    operations: load.ops,
    failed: load.errors,
    ...(load.firstError ? { firstFailure: load.firstError } : {}),
    graphRequests: after.priced - before.priced,
    graph429s: after.throttled - before.throttled,
    resourceUnits: after.resourceUnits - before.resourceUnits,
    allowedResourceUnits: capacity + (capacity / READ_WINDOW_S) * (load.elapsedMs / 1000),
    elapsedMs: load.elapsedMs,
  };
}

export function figuresTable(rows: BudgetFigures[], resourceUnitsPer10s: number): string {
  const header = ['setup', 'replicas', 'ops', 'failed', 'Graph requests', '429s', 'RU admitted', 'RU budget allows', 'throughput vs budget'];
  const lines = rows.map((r) => [
    r.setup,
    String(r.replicas),
    String(r.operations),
    String(r.failed),
    String(r.graphRequests),
    `${r.graph429s} (${((100 * r.graph429s) / Math.max(1, r.graphRequests)).toFixed(1)} %)`,
    String(r.resourceUnits),
    r.allowedResourceUnits.toFixed(0),
    `${((100 * r.resourceUnits) / r.allowedResourceUnits).toFixed(0)} %`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [
    `3 replicas under the tenant budget: Graph allows ${resourceUnitsPer10s} RU per 10 s for the app+tenant; the gateway spends ${HEADROOM * 100} % of it.`,
    row(header),
    ...lines.map(row),
  ].join('\n');
}

/** The three setups, one after another on one emulator tenant: their figures and the table that shows them. */
export async function runReplicaBudgetBench(
  options: { durationMs?: number; resourceUnitsPer10s?: number; log?: (line: string) => void } = {},
): Promise<{ rows: BudgetFigures[]; table: string }> {
  const resourceUnitsPer10s = options.resourceUnitsPer10s ?? 60;
  const durationMs = options.durationMs ?? 10_000;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-replica-bench-'));
  const emulator = await startEmulator({ port: 0, userCount: 1000, dataDir });
  // Without redis-server the Redis setup is left out (and the table says so) rather than failing the whole bench.
  const redis: TestRedis | undefined = existsSync(REDIS_SERVER) ? await startTestRedis() : undefined;
  const rows: BudgetFigures[] = [];
  try {
    for (const setup of [
      { name: '1 replica', replicas: 1 },
      { name: '3 replicas, memory', replicas: 3 },
      ...(redis ? [{ name: '3 replicas, Redis', replicas: 3, redisUrl: redis.url }] : []),
    ]) {
      const fleet = await startFleet({ emulator, replicas: setup.replicas, resourceUnitsPer10s, ...(setup.redisUrl ? { redisUrl: setup.redisUrl } : {}) });
      try {
        // Every setup starts from full buckets: the emulator's (reset by runBudgetLoad) and the gateways' (new processes, a new Redis key).
        rows.push(await runBudgetLoad({ emulator, urls: fleet.urls, resourceUnitsPer10s, durationMs, clientsPerReplica: 6, setup: setup.name }));
        log(`replicas: ${setup.name} done`);
      } finally {
        await fleet.close();
      }
    }
  } finally {
    await redis?.stop();
    await emulator.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const table = figuresTable(rows, resourceUnitsPer10s);
  return { rows, table: redis ? table : `${table}\n(${REDIS_SERVER} is not installed: the Redis setup was left out)` };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runReplicaBudgetBench().then(
    ({ table }) => {
      process.stdout.write(`${table}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
