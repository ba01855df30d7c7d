/**
 * `npm run bench`: one emulator tenant (a child process, seeded, 1000 users), the gateway and the
 * naive server as child processes pointed at it, and the floor's REST calls from this process (which
 * is otherwise only the load generator). Every
 * scenario (docs/benchmark.md) runs for every contender at a fixed injected latency; the figures go to a
 * table, bench/results/latest.json, latest.svg and the results section of docs/benchmark.md.
 *
 * Options: `--latency <ms>` (default 20, env BENCH_LATENCY_MS), `--quick` (short cells, env
 * BENCH_QUICK=1), `--warmup <ms>` (per cell, default 5000, env BENCH_WARMUP_MS), `--contenders gateway,naive,floor`, `--scenarios s1,s3-c64`, `--no-overhead-pass`;
 * BENCH_KEEP_LOGS=1 keeps the children's logs; BENCH_GATEWAY_NODE_ARGS and BENCH_EMULATOR_NODE_ARGS add node flags to the gateway and the emulator.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, fetch as undiciFetch } from 'undici';
import type { StatsSnapshot } from '../src/emulator/stats.js';
import { connectFloorClient, type FloorClient } from './floor/client.js';
import type { BenchFixtures } from './lib/fixtures.js';
import { createGraphqlClient, type GraphqlClient } from './lib/graphql-client.js';
import { runLoad } from './lib/load.js';
import { BENCH_USAGE, BenchUsageError, DEFAULT_CONTENDERS, parseBenchOptions, readBenchArgs, type BenchOptions } from './lib/options.js';
import { onExit, startChild, waitForHttpOk, type ChildHandle } from './lib/processes.js';
import { judgeTargets, markdownTable, svgChart, textTable } from './lib/report.js';
import { startMesh } from './mesh/contender.js';
import type { BenchReport, CellResult, ContenderName, MachineInfo } from './lib/results.js';
import { MIN_SAMPLES_PER_CELL, countWaves, mode, summarize } from './lib/stats.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { speedProbeMs } from './lib/speed-probe.js';
import { runReplicaBudgetBench } from './replicas.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const DOC = path.join(ROOT, 'docs', 'benchmark.md');
const DOC_START = '<!-- bench:results:start -->';
const DOC_END = '<!-- bench:results:end -->';

/** What the emulator child reports when it is ready. */
interface EmulatorInfo {
  origin: string;
  graphEndpoint: string;
  authorityHost: string;
  tenantId: string;
  caFile: string;
  caCertPem: string;
  demoAppId: string;
  demoAppSecret: string;
  fixtures: BenchFixtures;
}

async function startEmulatorChild(tmp: string): Promise<{ child: ChildHandle; info: EmulatorInfo }> {
  const child = startChild(
    'emulator',
    process.execPath,
    // For profiling the emulator's share, e.g. BENCH_EMULATOR_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof-emulator".
    [...(process.env.BENCH_EMULATOR_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', path.join(ROOT, 'bench', 'emulator-child.ts')],
    { ...baseEnv(), NODE_ENV: 'production' },
    path.join(tmp, 'emulator.log'),
    { ipc: true },
  );
  try {
    const info = await child.ask<EmulatorInfo>({ type: 'hello' }, 'ready', 60_000);
    return { child, info };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

interface Contender {
  name: ContenderName;
  run(scenario: Scenario, i: number): Promise<void>;
  child?: ChildHandle;
  /** Why this contender cannot run a scenario (GraphQL Mesh has no containment); undefined when it can. */
  unsupported?(scenario: Scenario): string | undefined;
  close(): Promise<void>;
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function machineInfo(loadAtStart: number, speedAtStart: number): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux: keep os.cpus()'s model
  }
  return {
    cpuModel,
    cpus: cpus().length,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    loadAverage: { start: loadAtStart, end: loadavg()[0] ?? 0 },
    speedProbeMs: { start: speedAtStart, end: speedProbeMs() },
  };
}

/** Whether two lists of names hold the same names. */
function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name) => b.includes(name));
}

/** Only what a child needs, so the developer's own AZURE_* or proxy settings cannot leak in. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[name]) env[name] = process.env[name];
  return env;
}

function graphqlContender(name: 'gateway' | 'gateway-b' | 'naive', url: string, fixtures: BenchFixtures, child: ChildHandle): Contender {
  const client: GraphqlClient = createGraphqlClient(url);
  return {
    name,
    child,
    run: async (scenario, i) => scenario.check(await client.execute(scenario.graphql(fixtures, i)), fixtures, i),
    close: async () => {
      await client.close();
      await child.stop();
    },
  };
}

async function startNaive(emulator: EmulatorInfo, fixtures: BenchFixtures, tmp: string): Promise<Contender> {
  const child = startChild(
    'naive',
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'bench', 'naive', 'main.ts')],
    {
      ...baseEnv(),
      NODE_ENV: 'production',
      NAIVE_GRAPH_ORIGIN: emulator.graphEndpoint,
      NAIVE_AUTHORITY_ORIGIN: emulator.authorityHost,
      NAIVE_TENANT_ID: emulator.tenantId,
      NAIVE_CLIENT_ID: emulator.demoAppId,
      NAIVE_CLIENT_SECRET: emulator.demoAppSecret,
      NAIVE_CA_FILE: emulator.caFile,
    },
    path.join(tmp, 'naive.log'),
  );
  try {
    const url = await child.waitForLine((line) => {
      try {
        return (JSON.parse(line) as { listening?: string }).listening;
      } catch {
        return undefined;
      }
    }, 30_000);
    return graphqlContender('naive', url, fixtures, child);
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/**
 * The gateway of this checkout, or (`gateway-b`) the built gateway of another checkout with the same
 * settings: two builds taking turns in every cell of one run are compared on the same stretches of
 * a machine that drifts, which separate runs are not.
 */
async function startGateway(
  emulator: EmulatorInfo,
  fixtures: BenchFixtures,
  tmp: string,
  build: { name: 'gateway' } | { name: 'gateway-b'; root: string } = { name: 'gateway' },
): Promise<{ contender: Contender; command: string }> {
  const root = build.name === 'gateway' ? ROOT : path.resolve(build.root);
  const distMain = path.join(root, 'dist', 'src', 'main.js');
  const srcMain = path.join(ROOT, 'src', 'main.ts');
  let args: string[];
  // BENCH_GATEWAY_FROM=src measures the gateway as `npm start` runs it (through tsx) even when a build exists.
  if (build.name === 'gateway-b') {
    if (!existsSync(distMain)) throw new Error(`${distMain} does not exist: build that checkout first (npm run build there)`);
    args = [distMain];
  } else if (existsSync(distMain) && process.env.BENCH_GATEWAY_FROM !== 'src') args = [distMain];
  else if (existsSync(srcMain)) args = ['--import', 'tsx', srcMain];
  else throw new Error('neither dist/src/main.js nor src/main.ts exists');
  // For profiling the gateway under load, e.g. BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // The gateway's live heap stays far below this (it runs every scenario with a 96 MB cap); without a
  // cap V8 lets the old space grow lazily under the 0 ms throughput cells (peak RSS 255 MB, all of
  // it collectable). docs/benchmark.md explains; a later flag in BENCH_GATEWAY_NODE_ARGS wins.
  args = [GATEWAY_HEAP_FLAG, ...nodeArgs, ...args];
  const port = await freePort();
  const child = startChild(
    build.name,
    process.execPath,
    args,
    {
      ...baseEnv(),
      NODE_ENV: 'production',
      SANDBOX: 'false',
      DEPLOYMENT_MODE: 'self-deployed',
      GRAPH_AUTH_FLOW: 'client-credentials',
      AZURE_TENANT_ID: emulator.tenantId,
      AZURE_CLIENT_ID: emulator.demoAppId,
      AZURE_CLIENT_SECRET: emulator.demoAppSecret,
      GRAPH_ENDPOINT: emulator.graphEndpoint,
      AZURE_AUTHORITY_HOST: emulator.authorityHost,
      NODE_EXTRA_CA_CERTS: emulator.caFile,
      HOST: '127.0.0.1',
      PORT: String(port),
      CALLER_AUTH: 'none',
      CACHE_URL: 'memory',
      DATA_DIR: path.join(tmp, `${build.name}-data`),
      LOG_LEVEL: 'warn',
      // The table compares what each contender adds per operation: the tenant budget is raised out of
      // the way, since the emulator enforces none on the other contenders here (the floor sends
      // scenario 2 at ~5,000 RU/s; a 1000-user tenant allows 800). With the real one (8000 RU / 10 s,
      // used at 80 %; 3000 writes / 150 s) the gateway alone paced scenarios 2 and 5 and the cells
      // measured the pacing (docs/benchmark.md). The replica scenario measures the real budget.
      GRAPH_RU_PER_10S: process.env.BENCH_GRAPH_RU_PER_10S ?? '10000000',
      GRAPH_WRITES_PER_150S: process.env.BENCH_GRAPH_WRITES_PER_150S ?? '10000000',
      // Concurrency: the benchmark's widest cell has 64 operations in flight (20 containment
      // batches, 5 profile-card batches); 64 keeps the governor from queueing what Graph would serve.
      // Diagnostics only: extra gateway variables, e.g. BENCH_GATEWAY_ENV="COALESCE_WINDOW_MS=0 LOG_LEVEL=info".
      ...Object.fromEntries(
        (process.env.BENCH_GATEWAY_ENV ?? '')
          .split(' ')
          .filter((pair) => pair.includes('='))
          .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
      ),
      GRAPH_MAX_CONCURRENCY: '64',
    },
    path.join(tmp, `${build.name}.log`),
    { cwd: root },
  );
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForHttpOk(`${base}/readyz`, child, 60_000);
  } catch (error) {
    await child.stop();
    throw new Error(`${(error as Error).message}\n${tail(child.logFile)}`, { cause: error });
  }
  return {
    contender: graphqlContender(build.name, `${base}/graphql`, fixtures, child),
    command: `node ${args.map((a) => path.relative(ROOT, a) || a).join(' ')}`,
  };
}

/** The V8 old-space cap the gateway runs with here, as in production (see docs/benchmark.md). */
const GATEWAY_HEAP_FLAG = '--max-old-space-size=128';

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((l) => `    ${l}`)
      .join('\n');
  } catch {
    return '    (no log)';
  }
}

interface EmulatorAdmin {
  stats(): Promise<StatsSnapshot>;
  setLatency(ms: number): Promise<void>;
  close(): Promise<void>;
}

function emulatorAdmin(emulator: EmulatorInfo): EmulatorAdmin {
  const dispatcher = new Agent({ connect: { ca: emulator.caCertPem } });
  return {
    stats: async () => (await (await undiciFetch(`${emulator.origin}/_emulator/stats`, { dispatcher })).json()) as StatsSnapshot,
    setLatency: async (latencyMs) => {
      const res = await undiciFetch(`${emulator.origin}/_emulator/faults`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ latencyMs }),
      });
      if (!res.ok) throw new Error(`emulator refused latency ${latencyMs}: HTTP ${res.status}`);
      await res.body?.cancel();
    },
    close: () => dispatcher.close(),
  };
}

/** What one measured slice of a cell adds to the cell's figures. */
interface CellTally {
  latenciesMs: number[];
  ops: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  cpuMs: number | null;
  graphRequests: number;
  batchItems: number;
  tokenRequests: number;
}

/**
 * Every contender of one scenario, measured in interleaved slices: after each contender's warm-up,
 * `rounds` rounds in which every contender runs one slice of its cell (a short re-warm, then a third
 * of the cell's time budget and operation cap), the order rotating each round. The machine drifts
 * over seconds (a shared 2-core VM: the floor's p50 in scenario 2 ranged 31 to 40 ms between runs
 * minutes apart); measured one after another, each cell got its own stretch of that drift, and the
 * ratios to the floor and to the naive server carried it. Interleaved, every contender samples the
 * same stretches.
 */
async function measureScenario(
  contenders: readonly Contender[],
  scenario: Scenario,
  latencyMs: number,
  admin: EmulatorAdmin,
  options: BenchOptions,
  fixtures: BenchFixtures,
): Promise<CellResult[]> {
  if (contenders.length === 0) return [];
  const rounds = options.rounds;
  const tallies = new Map<Contender, CellTally>();
  for (const contender of contenders) {
    // Warm-up, not measured: connections, tokens, and V8's optimised code for the cell's hot paths
    // (a contender measured in baseline code spends several times the CPU per operation).
    await runLoad((i) => contender.run(scenario, i), {
      concurrency: scenario.concurrency,
      maxOps: options.cellMaxOps,
      budgetMs: Math.max(1, options.warmupMs),
      minOps: Math.max(4, scenario.concurrency * 2),
    });
    tallies.set(contender, {
      latenciesMs: [],
      ops: 0,
      errors: 0,
      elapsedMs: 0,
      cpuMs: contender.child ? 0 : null,
      graphRequests: 0,
      batchItems: 0,
      tokenRequests: 0,
    });
  }
  for (let round = 0; round < rounds; round++) {
    const order = contenders.map((_, k) => contenders[(k + round) % contenders.length]!);
    for (const contender of order) {
      const op = (i: number) => contender.run(scenario, i);
      // Back after the others' slices: its connections and caches are exercised again first.
      await runLoad(op, { concurrency: scenario.concurrency, maxOps: Math.max(4, scenario.concurrency * 2), budgetMs: 300 });
      const tally = tallies.get(contender)!;
      const before = await admin.stats();
      const cpuBefore = contender.child?.cpuMs() ?? null;
      const load = await runLoad(op, {
        concurrency: scenario.concurrency,
        maxOps: Math.ceil(options.cellMaxOps / rounds),
        budgetMs: options.cellBudgetMs / rounds,
        minOps: Math.ceil(MIN_SAMPLES_PER_CELL / rounds),
      });
      const cpuAfter = contender.child?.cpuMs() ?? null;
      const after = await admin.stats();
      tally.latenciesMs.push(...load.latenciesMs);
      tally.ops += load.ops;
      tally.errors += load.errors;
      if (load.firstError) tally.firstError ??= load.firstError;
      tally.elapsedMs += load.elapsedMs;
      if (tally.cpuMs !== null) tally.cpuMs = cpuBefore !== null && cpuAfter !== null ? tally.cpuMs + (cpuAfter - cpuBefore) : null;
      tally.graphRequests += after.graphRequests - before.graphRequests;
      tally.batchItems += after.batch.items - before.batch.items;
      tally.tokenRequests += after.tokenRequests - before.tokenRequests;
    }
  }
  return contenders.map((contender) => cellOf(contender, scenario, latencyMs, fixtures, tallies.get(contender)!));
}

function cellOf(contender: Contender, scenario: Scenario, latencyMs: number, fixtures: BenchFixtures, tally: CellTally): CellResult {
  const latency = summarize(tally.latenciesMs);
  const perOp = (n: number) => (tally.ops > 0 ? n / tally.ops : null);
  const documented = contender.name === 'naive' ? scenario.naive(fixtures) : contender.name === 'floor' ? scenario.minimum(fixtures) : null;
  return {
    scenario: scenario.key,
    scenarioNumber: scenario.number,
    title: scenario.title,
    contender: contender.name,
    concurrency: scenario.concurrency,
    latencyMs,
    ops: tally.ops,
    errors: tally.errors,
    ...(tally.firstError ? { firstError: tally.firstError } : {}),
    upstreamRequestsPerOp: perOp(tally.graphRequests),
    batchItemsPerOp: perOp(tally.batchItems),
    tokenRequests: tally.tokenRequests,
    roundTrips: null,
    documented,
    samples: latency.count,
    p25Ms: latency.p25Ms,
    p50Ms: latency.p50Ms,
    p75Ms: latency.p75Ms,
    p95Ms: latency.p95Ms,
    p99Ms: latency.p99Ms,
    meanMs: latency.meanMs,
    opsPerSecond: tally.elapsedMs > 0 ? (tally.ops - tally.errors) / (tally.elapsedMs / 1000) : 0,
    cpuMsPerOp: tally.cpuMs !== null && tally.ops > 0 ? tally.cpuMs / tally.ops : null,
    peakRssMb: contender.child?.peakRssMb() ?? null,
  };
}

/** Round trips of one operation, as waves of upstream completions at the probe latency (mode of 3). */
async function probeRoundTrips(contender: Contender, scenario: Scenario, emulator: ChildHandle, probeLatencyMs: number): Promise<number | null> {
  const waves: number[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    await emulator.ask({ type: 'trace-start' }, 'trace-started', 10_000);
    let ok = true;
    try {
      await contender.run(scenario, attempt);
    } catch {
      ok = false;
    }
    // Let late completions of this operation land (a failed item answered after the response).
    await new Promise((r) => setTimeout(r, 5));
    const { times } = await emulator.ask<{ times: number[] }>({ type: 'trace-stop' }, 'trace', 10_000);
    if (ok) waves.push(countWaves(times, probeLatencyMs / 2));
  }
  return mode(waves) ?? null;
}

function writeDoc(report: BenchReport): void {
  if (!existsSync(DOC)) return;
  const text = readFileSync(DOC, 'utf8');
  const start = text.indexOf(DOC_START);
  const end = text.indexOf(DOC_END);
  if (start < 0 || end < start) return;
  const m = report.machine;
  const section = [
    DOC_START,
    '',
    `Taken ${report.generatedAt} on ${m.cpuModel}, ${m.cpus} CPUs (\`nproc\`), ${m.memoryGb} GB, Node ${m.node} (${m.platform}); ` +
      `${report.settings.latencyMs} ms injected latency per upstream request${report.settings.quick ? ', quick mode' : ''}; gateway run as \`${report.settings.gatewayCommand ?? 'not run'}\`; ` +
      `the whole run took ${report.durationSeconds.toFixed(0)} s; 1-minute load average ${m.loadAverage.start.toFixed(1)} at the start and ${m.loadAverage.end.toFixed(1)} at the end ` +
      `(above ${m.cpus} means other work shared the machine and every figure is skewed); ` +
      `speed probe ${m.speedProbeMs.start.toFixed(2)} ms at the start and ${m.speedProbeMs.end.toFixed(2)} ms at the end (bench/lib/speed-probe.ts: the same JavaScript, lower is faster; ` +
      `the host of a virtual machine can slow it by half with a load average near 0). Each cell is measured in ${report.settings.rounds} slices, the contenders taking turns.`,
    '',
    ...(report.problems.length ? ['Problems in this run:', '', ...report.problems.map((p) => `- ${p.split('\n')[0]}`), ''] : []),
    markdownTable(report.cells),
    '',
    'Targets (judged on this run):',
    '',
    '| target | verdict | detail |',
    '| --- | --- | --- |',
    ...report.targets.map((t) => `| ${t.target} | ${t.verdict} | ${t.detail} |`),
    '',
    '![benchmark chart](../bench/results/latest.svg)',
    '',
    DOC_END,
  ].join('\n');
  writeFileSync(DOC, `${text.slice(0, start)}${section}${text.slice(end + DOC_END.length)}`);
}

/** The options, or exit: 0 after printing the usage for --help, 2 (usage error) for a command line it cannot run. */
function optionsOrExit(argv: readonly string[]): BenchOptions {
  try {
    if (readBenchArgs(argv).help) {
      process.stdout.write(BENCH_USAGE);
      process.exit(0);
    }
    const options = parseBenchOptions(argv, process.env);
    const unknown = options.scenarios.filter((key) => !SCENARIOS.some((s) => s.key === key));
    if (unknown.length > 0) throw new BenchUsageError(`--scenarios: no scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.key).join(', ')}`);
    return options;
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`npm run bench: ${error.message}\n\n${BENCH_USAGE}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const options = optionsOrExit(process.argv.slice(2));
  const startedAt = performance.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const speedAtStart = speedProbeMs();
  const tmp = mkdtempSync(path.join(tmpdir(), 'mgug-bench-'));
  if (process.env.BENCH_KEEP_LOGS !== '1') onExit(() => rmSync(tmp, { recursive: true, force: true }));
  const cleanups: Array<() => Promise<void>> = [];
  const problems: string[] = [];
  let gatewayCommand: string | null = null;
  try {
    const { child: emulatorChild, info: emulator } = await startEmulatorChild(tmp);
    cleanups.push(() => emulatorChild.stop());
    const admin = emulatorAdmin(emulator);
    cleanups.push(() => admin.close());
    const fixtures = emulator.fixtures;
    log(`emulator at ${emulator.origin}; org chart root has ${fixtures.orgChartReportIds.length} reports`);

    const contenders: Contender[] = [];
    if (options.contenders.includes('gateway')) {
      try {
        const gateway = await startGateway(emulator, fixtures, tmp);
        cleanups.push(() => gateway.contender.close());
        gatewayCommand = gateway.command;
        contenders.push(gateway.contender);
        log(`gateway started: ${gateway.command}`);
      } catch (error) {
        problems.push(`gateway could not start: ${(error as Error).message}`);
        log(problems.at(-1)!);
      }
    }
    if (options.contenders.includes('gateway-b') && options.gatewayBDir) {
      try {
        const other = await startGateway(emulator, fixtures, tmp, { name: 'gateway-b', root: options.gatewayBDir });
        cleanups.push(() => other.contender.close());
        contenders.push(other.contender);
        log(`gateway-b started: ${other.command}`);
      } catch (error) {
        problems.push(`gateway-b could not start: ${(error as Error).message}`);
        log(problems.at(-1)!);
      }
    }
    if (options.contenders.includes('naive')) {
      try {
        const naive = await startNaive(emulator, fixtures, tmp);
        cleanups.push(() => naive.close());
        contenders.push(naive);
        log('naive server started');
      } catch (error) {
        problems.push(`naive server could not start: ${(error as Error).message}`);
        log(problems.at(-1)!);
      }
    }
    if (options.contenders.includes('floor')) {
      const floorClient: FloorClient = await connectFloorClient({
        graphOrigin: emulator.graphEndpoint,
        authorityOrigin: emulator.authorityHost,
        tenantId: emulator.tenantId,
        clientId: emulator.demoAppId,
        clientSecret: emulator.demoAppSecret,
        caPem: emulator.caCertPem,
      });
      cleanups.push(() => floorClient.close());
      contenders.push({ name: 'floor', run: (scenario, i) => scenario.floor(floorClient, fixtures, i), close: () => floorClient.close() });
    }
    if (options.contenders.includes('mesh')) {
      try {
        const mesh = await startMesh({
          graphOrigin: emulator.graphEndpoint,
          authorityOrigin: emulator.authorityHost,
          tenantId: emulator.tenantId,
          clientId: emulator.demoAppId,
          clientSecret: emulator.demoAppSecret,
          caFile: emulator.caFile,
          caPem: emulator.caCertPem,
          fixtures,
          workDir: tmp,
          port: await freePort(),
          env: { ...baseEnv(), ...(process.env.BENCH_MESH_CLI ? { BENCH_MESH_CLI: process.env.BENCH_MESH_CLI } : {}) },
        });
        cleanups.push(() => mesh.close());
        contenders.push({ name: 'mesh', ...mesh });
        log('GraphQL Mesh started');
      } catch (error) {
        problems.push(`GraphQL Mesh could not start: ${(error as Error).message}`);
        log(problems.at(-1)!);
      }
    }

    const selected = options.scenarios.length ? SCENARIOS.filter((s) => options.scenarios.includes(s.key)) : SCENARIOS;
    if (selected.length === 0) throw new Error(`--scenarios matched none of ${SCENARIOS.map((s) => s.key).join(', ')}`);
    const passes: Array<{ latencyMs: number; scenarios: readonly Scenario[] }> = [{ latencyMs: options.latencyMs, scenarios: selected }];
    if (options.overheadPass) passes.push({ latencyMs: 0, scenarios: selected.filter((s) => s.number === 3) });
    const cells: CellResult[] = [];
    for (const pass of passes) {
      await admin.setLatency(pass.latencyMs);
      for (const scenario of pass.scenarios) {
        const running = contenders.filter((contender) => {
          const skip = contender.unsupported?.(scenario);
          if (skip && pass.latencyMs === options.latencyMs) problems.push(`${contender.name} does not run ${scenario.key}: ${skip}`);
          return !skip;
        });
        for (const cell of await measureScenario(running, scenario, pass.latencyMs, admin, options, fixtures)) {
          cells.push(cell);
          log(
            `${scenario.key} @${pass.latencyMs}ms ${cell.contender}: ${cell.ops} ops, ${cell.upstreamRequestsPerOp?.toFixed(2)} req/op, p50 ${cell.p50Ms.toFixed(1)} ms` +
              (cell.errors ? `, ${cell.errors} errors (first: ${cell.firstError})` : ''),
          );
        }
      }
    }

    await admin.setLatency(options.probeLatencyMs);
    const probed = new Map<string, number | null>();
    for (const scenario of selected) {
      for (const contender of contenders) {
        const key = `${scenario.number}/${contender.name}`;
        if (contender.unsupported?.(scenario)) continue;
        if (!probed.has(key)) probed.set(key, await probeRoundTrips(contender, scenario, emulatorChild, options.probeLatencyMs));
      }
    }
    await admin.setLatency(0);
    for (const cell of cells) cell.roundTrips = probed.get(`${cell.scenarioNumber}/${cell.contender}`) ?? null;

    const peakRssMb: BenchReport['peakRssMb'] = {};
    for (const c of contenders) if (c.child) peakRssMb[c.name] = c.child.peakRssMb();
    const report: BenchReport = {
      generatedAt: new Date().toISOString(),
      machine: machineInfo(loadAtStart, speedAtStart),
      settings: {
        latencyMs: options.latencyMs,
        quick: options.quick,
        probeLatencyMs: options.probeLatencyMs,
        cellBudgetMs: options.cellBudgetMs,
        cellMaxOps: options.cellMaxOps,
        rounds: options.rounds,
        warmupMs: options.warmupMs,
        gatewayCommand,
      },
      problems,
      cells,
      targets: judgeTargets(cells, options.latencyMs),
      peakRssMb,
      durationSeconds: (performance.now() - startedAt) / 1000,
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(path.join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(path.join(RESULTS_DIR, 'latest.svg'), svgChart(report));
    // Only a complete run speaks for the project in the README section.
    if (options.scenarios.length === 0 && sameSet(options.contenders, DEFAULT_CONTENDERS)) writeDoc(report);

    const speed = report.machine.speedProbeMs;
    process.stdout.write(`\nSpeed probe: ${speed.start.toFixed(2)} ms at the start, ${speed.end.toFixed(2)} ms at the end (lower is faster).\n`);
    process.stdout.write(`\n${textTable(cells)}\n\nTargets:\n`);
    for (const t of report.targets) process.stdout.write(`  [${t.verdict}] ${t.target}: ${t.detail}\n`);
    for (const p of problems) process.stdout.write(`\nPROBLEM: ${p}\n`);
    const errorCells = cells.filter((c) => c.errors > 0);
    for (const c of errorCells) process.stdout.write(`\nERRORS in ${c.scenario} ${c.contender}: ${c.errors}/${c.ops}, first: ${c.firstError}\n`);
    // "3 replicas under the tenant budget" (bench/replicas.ts): its own emulator, Redis and gateways, after the contenders.
    if (options.scenarios.length === 0) process.stdout.write(`\n${(await runReplicaBudgetBench({ log })).table}\n`);
    process.stdout.write(`\nWrote bench/results/latest.json and latest.svg in ${report.durationSeconds.toFixed(0)} s.\n`);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => log(`cleanup: ${(error as Error).message}`));
    if (process.env.BENCH_KEEP_LOGS === '1') log(`logs kept in ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
