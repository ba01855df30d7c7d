import { describe, expect, it } from 'vitest';
import { parseBenchOptions } from '../../bench/lib/options.js';
import { runLoad } from '../../bench/lib/load.js';
import { countWaves, cpuMsFromProcStat, formatRatio, mode, percentile, ratio, summarize, vmFromProcStatus } from '../../bench/lib/stats.js';

describe('percentile (nearest rank)', () => {
  it('picks the smallest sample with at least p% at or below it', () => {
    const samples = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(samples, 50)).toBe(5);
    expect(percentile(samples, 95)).toBe(10);
    expect(percentile(samples, 99)).toBe(10);
    expect(percentile(samples, 10)).toBe(1);
    expect(percentile(samples, 0)).toBe(1);
    expect(percentile(samples, 100)).toBe(10);
  });
  it('works on one sample, is NaN on none, and rejects p outside 0..100', () => {
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(/between 0 and 100/);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
  it('does not reorder the caller’s array', () => {
    const samples = [3, 1, 2];
    percentile(samples, 50);
    expect(samples).toEqual([3, 1, 2]);
  });
});

describe('summarize', () => {
  it('gives count, mean, percentiles and max', () => {
    const s = summarize(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(s).toMatchObject({ count: 100, meanMs: 50.5, p25Ms: 25, p50Ms: 50, p75Ms: 75, p95Ms: 95, p99Ms: 99, maxMs: 100 });
  });
});

describe('countWaves', () => {
  it('counts groups of completions separated by more than the gap', () => {
    // Three waves 80 ms apart, each with a few ms of spread.
    expect(countWaves([0, 1, 3, 82, 84, 85, 86, 165], 40)).toBe(3);
  });
  it('treats a long run of close completions as one wave even when its total spread exceeds the gap', () => {
    expect(
      countWaves(
        Array.from({ length: 100 }, (_, i) => i * 2),
        40,
      ),
    ).toBe(1);
  });
  it('is order-independent and 0 for no requests', () => {
    expect(countWaves([165, 0, 82], 40)).toBe(3);
    expect(countWaves([], 40)).toBe(0);
    expect(() => countWaves([1], 0)).toThrow(RangeError);
  });
});

describe('mode, ratio, formatting', () => {
  it('mode picks the most frequent value, the smallest on ties', () => {
    expect(mode([2, 3, 3, 2, 1])).toBe(2);
    expect(mode([3, 3, 1])).toBe(3);
    expect(mode([])).toBeUndefined();
  });
  it('ratio is null when it cannot be computed', () => {
    expect(ratio(10, 5)).toBe(2);
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(null, 5)).toBeNull();
    expect(ratio(Number.NaN, 5)).toBeNull();
  });
  it('formats ratios with precision by magnitude', () => {
    expect(formatRatio(1)).toBe('1.00x');
    expect(formatRatio(30)).toBe('30.0x');
    expect(formatRatio(101)).toBe('101x');
    expect(formatRatio(null)).toBe('—');
  });
});

describe('/proc parsing', () => {
  it('reads utime + stime even when the command name has spaces and parentheses', () => {
    const stat = '4242 (node (bench) x) S 1 4242 4242 0 -1 4194304 1000 0 0 0 250 50 0 0 20 0 11 0 100 1000000 5000';
    expect(cpuMsFromProcStat(stat)).toBe(3000);
    expect(cpuMsFromProcStat(stat, 250)).toBe(1200);
    expect(() => cpuMsFromProcStat('garbage')).toThrow(/stat/);
  });
  it('reads VmHWM and VmRSS in MB', () => {
    const status = 'Name:\tnode\nVmPeak:\t 999 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n';
    expect(vmFromProcStatus(status, 'VmHWM')).toBe(200);
    expect(vmFromProcStatus(status, 'VmRSS')).toBe(100);
    expect(vmFromProcStatus('Name: x', 'VmHWM')).toBeNull();
  });
});

describe('runLoad', () => {
  it('stops at maxOps, runs each index once and counts failures with the first message', async () => {
    const seen: number[] = [];
    const result = await runLoad(
      async (i) => {
        seen.push(i);
        if (i % 5 === 4) throw new Error(`op ${i} failed`);
      },
      { concurrency: 4, maxOps: 20, budgetMs: 60_000 },
    );
    expect(result.ops).toBe(20);
    expect(result.errors).toBe(4);
    expect(result.latenciesMs).toHaveLength(16);
    expect(result.firstError).toBe('op 4 failed');
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
  it('counts an operation that exceeds its timeout as an error and moves on', async () => {
    const result = await runLoad(() => new Promise<void>(() => undefined), { concurrency: 2, maxOps: 2, budgetMs: 60_000, opTimeoutMs: 20 });
    expect(result).toMatchObject({ ops: 2, errors: 2 });
    expect(result.firstError).toMatch(/timed out/);
  });
  it('keeps going past its time budget until minOps operations have started, and no further than maxOps', async () => {
    const slow = () => new Promise<void>((resolve) => setTimeout(resolve, 5));
    const result = await runLoad(slow, { concurrency: 1, maxOps: 100, budgetMs: 1, minOps: 25 });
    expect(result.ops).toBe(25);
    expect(result.latenciesMs).toHaveLength(25);
    const capped = await runLoad(slow, { concurrency: 1, maxOps: 10, budgetMs: 1, minOps: 25 });
    expect(capped.ops).toBe(10);
  });
  it('rejects unbounded settings', async () => {
    await expect(runLoad(async () => undefined, { concurrency: 0, maxOps: 1, budgetMs: 1 })).rejects.toThrow(RangeError);
  });
});

describe('parseBenchOptions', () => {
  it('defaults to 20 ms, a 0 ms overhead pass and every contender', () => {
    const o = parseBenchOptions([], {});
    expect(o).toMatchObject({ latencyMs: 20, quick: false, overheadPass: true, contenders: ['gateway', 'naive', 'floor', 'mesh'] });
  });
  it('takes argv over env, and --latency 0 needs no separate overhead pass', () => {
    expect(parseBenchOptions(['--latency', '0', '--quick'], { BENCH_LATENCY_MS: '50' })).toMatchObject({ latencyMs: 0, quick: true, overheadPass: false });
    expect(parseBenchOptions(['--latency=35'], {}).latencyMs).toBe(35);
    expect(parseBenchOptions([], { BENCH_LATENCY_MS: '50', BENCH_QUICK: '1' })).toMatchObject({ latencyMs: 50, quick: true });
  });
  it('rejects a bad latency or contender with a message naming the option', () => {
    expect(() => parseBenchOptions(['--latency', 'fast'], {})).toThrow(/--latency .*"fast"/);
    expect(() => parseBenchOptions(['--contenders', 'gateway,apollo'], {})).toThrow(/--contenders .*"apollo"/);
  });
  it('runs a second gateway build only from a checkout named by BENCH_GATEWAY_B_DIR', () => {
    expect(() => parseBenchOptions(['--contenders', 'gateway,gateway-b,floor'], {})).toThrow(/gateway-b needs BENCH_GATEWAY_B_DIR/);
    expect(parseBenchOptions(['--contenders', 'gateway,gateway-b,floor'], { BENCH_GATEWAY_B_DIR: '/tmp/other' })).toMatchObject({
      contenders: ['gateway', 'gateway-b', 'floor'],
      gatewayBDir: '/tmp/other',
    });
    expect(parseBenchOptions([], { BENCH_GATEWAY_B_DIR: '/tmp/other' }).contenders).toEqual(['gateway', 'naive', 'floor', 'mesh']);
  });
});
