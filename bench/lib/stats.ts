/**
 * Statistics helpers of the benchmark. Pure functions, so they are unit-tested on their own
 * (test/bench/stats.test.ts) and the figures in the README can be trusted to mean what they say.
 */

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be between 0 and 100, received ${p}`);
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  // Nearest rank: the smallest value with at least p% of the samples at or below it.
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** Fewest successful operations a cell reports on: below this a p50 (let alone a p25–p75 spread) says little. */
export const MIN_SAMPLES_PER_CELL = 25;

export interface LatencySummary {
  count: number;
  meanMs: number;
  /** Lower and upper quartile: the spread around p50 (a p50 verdict within it is not yet a difference). */
  p25Ms: number;
  p50Ms: number;
  p75Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarize(samplesMs: readonly number[]): LatencySummary {
  const count = samplesMs.length;
  const sum = samplesMs.reduce((a, b) => a + b, 0);
  return {
    count,
    meanMs: count ? sum / count : Number.NaN,
    p25Ms: percentile(samplesMs, 25),
    p50Ms: percentile(samplesMs, 50),
    p75Ms: percentile(samplesMs, 75),
    p95Ms: percentile(samplesMs, 95),
    p99Ms: percentile(samplesMs, 99),
    maxMs: count ? Math.max(...samplesMs) : Number.NaN,
  };
}

/**
 * Round trips observed from upstream request completion times (ms). With a fixed latency L added to
 * every upstream request, requests that could be sent together complete together; a request that had
 * to wait for another completes at least L later. So a gap longer than `gapMs` (about L/2) between
 * consecutive completions starts a new wave. 0 for no requests.
 */
export function countWaves(completionTimesMs: readonly number[], gapMs: number): number {
  if (!(gapMs > 0)) throw new RangeError(`gapMs must be positive, received ${gapMs}`);
  if (completionTimesMs.length === 0) return 0;
  const sorted = [...completionTimesMs].sort((a, b) => a - b);
  let waves = 1;
  for (let i = 1; i < sorted.length; i++) if (sorted[i]! - sorted[i - 1]! > gapMs) waves += 1;
  return waves;
}

/** Most frequent value (smallest on ties); undefined for none. Used to settle repeated probes. */
export function mode(values: readonly number[]): number | undefined {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: number | undefined;
  let bestCount = 0;
  for (const [v, c] of [...counts].sort((a, b) => a[0] - b[0])) {
    if (c > bestCount) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

/** `value / reference`, or null when either is missing or the reference is 0. */
export function ratio(value: number | null | undefined, reference: number | null | undefined): number | null {
  if (value === null || value === undefined || reference === null || reference === undefined) return null;
  if (!Number.isFinite(value) || !Number.isFinite(reference) || reference === 0) return null;
  return value / reference;
}

/** Ratio as the table prints it: `1.00x`, `—` when unknown. */
export function formatRatio(r: number | null): string {
  if (r === null) return '—';
  return r >= 100 ? `${r.toFixed(0)}x` : r >= 10 ? `${r.toFixed(1)}x` : `${r.toFixed(2)}x`;
}

/** Number for a table cell with sensible precision; `—` for null/NaN. */
export function formatNumber(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 1000) return value.toFixed(0);
  return value.toFixed(digits);
}

/** CPU milliseconds from /proc/<pid>/stat text (utime + stime, fields 14 and 15, in clock ticks). */
export function cpuMsFromProcStat(statText: string, clockTicksPerSecond = 100): number {
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const close = statText.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line: no command name in parentheses');
  const fields = statText
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state), so utime (14) is fields[11] and stime (15) is fields[12].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('not a /proc/<pid>/stat line: utime/stime missing');
  return ((utime + stime) * 1000) / clockTicksPerSecond;
}

/** A `Vm*:` figure from /proc/<pid>/status in megabytes (VmHWM = peak resident set). */
export function vmFromProcStatus(statusText: string, field: 'VmHWM' | 'VmRSS'): number | null {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(statusText);
  return match ? Number(match[1]) / 1024 : null;
}
