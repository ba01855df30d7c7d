/** The shape of bench/results/latest.json. */
/** `gateway-b`: a second gateway build (BENCH_GATEWAY_B_DIR) measured beside the first, for comparing two builds in one run. */
export type ContenderName = 'gateway' | 'gateway-b' | 'naive' | 'floor' | 'mesh';

export interface CellResult {
  scenario: string;
  scenarioNumber: number;
  title: string;
  contender: ContenderName;
  concurrency: number;
  latencyMs: number;
  ops: number;
  errors: number;
  firstError?: string;
  /** Graph requests per operation (a `$batch` counts once), from `/_emulator/stats` deltas. */
  upstreamRequestsPerOp: number | null;
  /** `$batch` items per operation. */
  batchItemsPerOp: number | null;
  /** Token endpoint requests during the measured operations (a warm contender makes none). */
  tokenRequests: number | null;
  /** Observed waves of upstream requests for one operation (see docs/benchmark.md). */
  roundTrips: number | null;
  /** What the scenario documents for this contender (naive: by construction; floor: Graph minimum). */
  documented: { requests: number; roundTrips: number } | null;
  /** Successful operations measured (the latency samples). */
  samples: number;
  p25Ms: number;
  p50Ms: number;
  p75Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
  opsPerSecond: number;
  /** CPU time of the contender's process per operation (null for the floor: it runs in the bench process). */
  cpuMsPerOp: number | null;
  /** Peak resident set (VmHWM) of the contender's process so far. */
  peakRssMb: number | null;
}

export interface TargetVerdict {
  target: string;
  verdict: 'pass' | 'fail' | 'n/a';
  detail: string;
}

export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  node: string;
  platform: string;
  memoryGb: number;
  /** 1-minute load average when the run started and ended: other work on the machine skews every figure. */
  loadAverage: { start: number; end: number };
  /** bench/lib/speed-probe.ts at the start and the end of the run: ms per pass, lower is faster. */
  speedProbeMs: { start: number; end: number };
}

export interface BenchReport {
  generatedAt: string;
  machine: MachineInfo;
  settings: {
    latencyMs: number;
    quick: boolean;
    probeLatencyMs: number;
    cellBudgetMs: number;
    cellMaxOps: number;
    /** Interleaved slices per cell (bench/run.ts measureScenario). */
    rounds: number;
    warmupMs: number;
    gatewayCommand: string | null;
  };
  /** Why a contender could not run, if it could not. */
  problems: string[];
  cells: CellResult[];
  targets: TargetVerdict[];
  peakRssMb: Partial<Record<ContenderName, number | null>>;
  durationSeconds: number;
}
