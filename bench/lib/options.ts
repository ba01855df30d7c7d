/** Benchmark options from argv and environment (argv wins). */
export interface BenchOptions {
  /** Latency the emulator adds to every upstream HTTP request in the main pass. */
  latencyMs: number;
  quick: boolean;
  /** Also measure scenario 3 at 0 ms latency (pure overhead; the throughput target needs it). */
  overheadPass: boolean;
  /** Per cell: time budget and operation cap (both bound every loop). */
  cellBudgetMs: number;
  cellMaxOps: number;
  /**
   * Per scenario: every contender's cell is measured in this many slices, the contenders taking
   * turns (bench/run.ts measureScenario), so that all of them sample the same stretches of a
   * machine that drifts. The cell's budget and cap are split between its slices.
   */
  rounds: number;
  /**
   * Per cell: the unmeasured warm-up before it, at least this long (and 2 × concurrency operations).
   * Long enough for V8 to optimise the contender's hot code at the cell's own rate: a few operations
   * leave a gateway at 20 ms latency and concurrency 1 (~40 operations a second) in baseline code.
   */
  warmupMs: number;
  /** Latency used while counting round trips, and the gap that separates two waves. */
  probeLatencyMs: number;
  /** Scenario keys to run (`s1`, `s3-c64`, ...); empty means all. */
  scenarios: string[];
  /** Contenders to run (all by default). */
  contenders: Array<'gateway' | 'gateway-b' | 'naive' | 'floor' | 'mesh'>;
  /** With the `gateway-b` contender: the checkout whose built gateway (dist/src/main.js) it runs. */
  gatewayBDir: string | null;
}

/** What a run measures when no contender is named: the set the committed results speak for. */
export const DEFAULT_CONTENDERS = ['gateway', 'naive', 'floor', 'mesh'] as const;

export const BENCH_USAGE = `Usage: npm run bench [-- options]

Runs the benchmark (docs/benchmark.md): an emulator tenant, the gateway, the naive server and the
floor and GraphQL Mesh (when installed), every scenario at a fixed injected latency; writes bench/results/latest.json, latest.svg and
the results section of docs/benchmark.md (full runs only). About five minutes with the replica scenario.

Options (the environment variable in brackets is used when the option is absent):
  --latency <ms>           injected latency per upstream request, 0 to 1000 (default 20) [BENCH_LATENCY_MS]
  --quick                  short cells: a smoke run of under a minute [BENCH_QUICK=1]
  --contenders <list>      gateway,naive,floor,mesh (default all four), and gateway-b [BENCH_CONTENDERS]
  --scenarios <list>       scenario keys such as s1,s3-c64 (default all) [BENCH_SCENARIOS]
  --no-overhead-pass       skip the extra 0 ms pass of scenario 3
  --warmup <ms>            unmeasured warm-up before each cell, 0 to 60000 (default 5000, quick 200) [BENCH_WARMUP_MS]
  --rounds <n>             slices each cell is measured in, contenders taking turns, 1 to 10 (default 3, quick 1) [BENCH_ROUNDS]
  -h, --help               print this and exit

Also: BENCH_KEEP_LOGS=1 keeps the children's logs; BENCH_GATEWAY_NODE_ARGS adds node flags to the gateway;
BENCH_MESH_CLI points at a GraphQL Mesh CLI (@graphql-mesh/cli/cjs/bin.js) outside the project.
BENCH_GATEWAY_FROM=src runs the gateway from src/main.ts as \`npm start\` does, even when dist/ is built.
BENCH_GATEWAY_B_DIR=<checkout> with the contender gateway-b runs that checkout's built gateway (its dist/src/main.js)
beside this one, with the same settings, taking turns in every cell: two builds compared in one run.
`;

/** A command line the benchmark cannot run: the message says what was wrong; print it with BENCH_USAGE. */
export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

const VALUE_OPTIONS = new Set(['latency', 'contenders', 'scenarios', 'warmup', 'rounds']);
const FLAG_OPTIONS = new Set(['quick', 'no-overhead-pass', 'help']);

/**
 * Checks the command line before anything starts: `--help` asks for the usage, and an unknown
 * option, a stray argument or an option without its value is refused (a typo must not start a
 * two-minute run with defaults).
 */
export function readBenchArgs(argv: readonly string[]): { help: boolean } {
  let help = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    const match = /^--([a-z-]+)(=(.*))?$/.exec(arg);
    if (!match) throw new BenchUsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const name = match[1]!;
    if (FLAG_OPTIONS.has(name)) {
      if (match[2] !== undefined) throw new BenchUsageError(`--${name} takes no value`);
      continue;
    }
    if (!VALUE_OPTIONS.has(name)) throw new BenchUsageError(`unknown option --${name}`);
    if (match[2] !== undefined) continue;
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new BenchUsageError(`--${name} needs a value`);
    i += 1;
  }
  return { help };
}

export function parseBenchOptions(argv: readonly string[], env: Record<string, string | undefined>): BenchOptions {
  readBenchArgs(argv);
  const flag = (name: string) => argv.includes(`--${name}`);
  const value = (name: string): string | undefined => {
    const at = argv.indexOf(`--${name}`);
    if (at >= 0) return argv[at + 1];
    const inline = argv.find((a) => a.startsWith(`--${name}=`));
    return inline?.slice(name.length + 3);
  };
  const latencyText = value('latency') ?? env.BENCH_LATENCY_MS ?? '20';
  const latencyMs = Number(latencyText);
  if (!Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > 1000) {
    throw new BenchUsageError(`--latency must be a number of milliseconds from 0 to 1000, received ${JSON.stringify(latencyText)}`);
  }
  const quick = flag('quick') || env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const warmupText = value('warmup') ?? env.BENCH_WARMUP_MS ?? (quick ? '200' : '5000');
  const warmupMs = Number(warmupText);
  if (!Number.isFinite(warmupMs) || warmupMs < 0 || warmupMs > 60_000) {
    throw new BenchUsageError(`--warmup must be a number of milliseconds from 0 to 60000, received ${JSON.stringify(warmupText)}`);
  }
  const roundsText = value('rounds') ?? env.BENCH_ROUNDS ?? (quick ? '1' : '3');
  const rounds = Number(roundsText);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10) {
    throw new BenchUsageError(`--rounds must be a whole number from 1 to 10, received ${JSON.stringify(roundsText)}`);
  }
  const contendersText = value('contenders') ?? env.BENCH_CONTENDERS ?? DEFAULT_CONTENDERS.join(',');
  const contenders = contendersText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const c of contenders) {
    if (c !== 'gateway' && c !== 'gateway-b' && c !== 'naive' && c !== 'floor' && c !== 'mesh')
      throw new BenchUsageError(`--contenders takes gateway, gateway-b, naive, floor and mesh, received ${JSON.stringify(c)}`);
  }
  const gatewayBDir = env.BENCH_GATEWAY_B_DIR?.trim() || null;
  if (contenders.includes('gateway-b') && !gatewayBDir) {
    throw new BenchUsageError('--contenders gateway-b needs BENCH_GATEWAY_B_DIR, the checkout of the other build (with dist/ built)');
  }
  const scenarios = (value('scenarios') ?? env.BENCH_SCENARIOS ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  return {
    latencyMs,
    scenarios,
    quick,
    overheadPass: latencyMs > 0 && !flag('no-overhead-pass'),
    cellBudgetMs: quick ? 600 : 3_000,
    warmupMs,
    cellMaxOps: quick ? 150 : 3_000,
    rounds,
    probeLatencyMs: 80,
    contenders: contenders as BenchOptions['contenders'],
    gatewayBDir,
  };
}
