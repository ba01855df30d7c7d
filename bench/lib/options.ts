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
  /** Latency used while counting round trips, and the gap that separates two waves. */
  probeLatencyMs: number;
  /** Scenario keys to run (`s1`, `s3-c64`, ...); empty means all. */
  scenarios: string[];
  /** Contenders to run (all by default). */
  contenders: Array<'gateway' | 'naive' | 'floor'>;
}

export function parseBenchOptions(argv: readonly string[], env: Record<string, string | undefined>): BenchOptions {
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
    throw new Error(`--latency must be a number of milliseconds from 0 to 1000, received ${JSON.stringify(latencyText)}`);
  }
  const quick = flag('quick') || env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const contendersText = value('contenders') ?? env.BENCH_CONTENDERS ?? 'gateway,naive,floor';
  const contenders = contendersText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const c of contenders) {
    if (c !== 'gateway' && c !== 'naive' && c !== 'floor') throw new Error(`--contenders takes gateway, naive and floor, received ${JSON.stringify(c)}`);
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
    cellMaxOps: quick ? 150 : 3_000,
    probeLatencyMs: 80,
    contenders: contenders as BenchOptions['contenders'],
  };
}
