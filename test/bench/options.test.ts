import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BENCH_USAGE, BenchUsageError, parseBenchOptions, readBenchArgs } from '../../bench/lib/options.js';

/**
 * `npm run bench -- --help` used to start a full two-minute run (every argument it did not know was
 * ignored). The command line is now checked before anything starts: --help prints the usage, and an
 * unknown option, a stray argument or a missing value is refused with the usage and exit code 2.
 */
const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

describe('bench command line', () => {
  it('reads --help and -h, and accepts every documented option', () => {
    expect(readBenchArgs(['--help'])).toEqual({ help: true });
    expect(readBenchArgs(['-h', '--quick'])).toEqual({ help: true });
    expect(readBenchArgs(['--latency', '0', '--quick', '--contenders=gateway', '--scenarios', 's1', '--no-overhead-pass'])).toEqual({ help: false });
    for (const option of ['--latency', '--quick', '--contenders', '--scenarios', '--warmup', '--rounds', '--no-overhead-pass', '--help'])
      expect(BENCH_USAGE).toContain(option);
  });

  it('warms each cell up for 5 s by default (0.2 s in quick mode), and takes --warmup or BENCH_WARMUP_MS', () => {
    expect(parseBenchOptions([], {}).warmupMs).toBe(5000);
    expect(parseBenchOptions(['--quick'], {}).warmupMs).toBe(200);
    expect(parseBenchOptions(['--warmup', '0'], { BENCH_WARMUP_MS: '900' }).warmupMs).toBe(0);
    expect(parseBenchOptions([], { BENCH_WARMUP_MS: '900' }).warmupMs).toBe(900);
    expect(() => parseBenchOptions(['--warmup=-1'], {})).toThrow(/--warmup must be a number of milliseconds from 0 to 60000, received "-1"/);
    expect(() => parseBenchOptions([], { BENCH_WARMUP_MS: 'long' })).toThrow(BenchUsageError);
  });

  it('measures each cell in 3 interleaved slices by default (1 in quick mode), and takes --rounds or BENCH_ROUNDS', () => {
    expect(parseBenchOptions([], {}).rounds).toBe(3);
    expect(parseBenchOptions(['--quick'], {}).rounds).toBe(1);
    expect(parseBenchOptions(['--rounds', '5'], { BENCH_ROUNDS: '2' }).rounds).toBe(5);
    expect(parseBenchOptions([], { BENCH_ROUNDS: '2' }).rounds).toBe(2);
    for (const bad of ['0', '11', '1.5', 'many'])
      expect(() => parseBenchOptions([`--rounds=${bad}`], {})).toThrow(`--rounds must be a whole number from 1 to 10, received "${bad}"`);
  });

  it('refuses unknown options, stray arguments and missing values', () => {
    expect(() => readBenchArgs(['--latncy', '5'])).toThrow(new BenchUsageError('unknown option --latncy'));
    expect(() => readBenchArgs(['quick'])).toThrow(/unexpected argument "quick"/);
    expect(() => readBenchArgs(['--latency'])).toThrow(/--latency needs a value/);
    expect(() => readBenchArgs(['--latency', '--quick'])).toThrow(/--latency needs a value/);
    expect(() => readBenchArgs(['--quick=yes'])).toThrow(/--quick takes no value/);
    expect(() => parseBenchOptions(['--verbose'], {})).toThrow(BenchUsageError);
    expect(() => parseBenchOptions(['--latency', 'fast'], {})).toThrow(BenchUsageError);
  });

  it('npm run bench -- --help prints the usage and exits 0 without starting anything', async () => {
    const started = Date.now();
    const { stdout, stderr } = await run('npm', ['run', 'bench', '--silent', '--', '--help'], { cwd: root, timeout: 60_000 });
    expect(stdout).toBe(BENCH_USAGE);
    expect(stderr).not.toContain('[bench]');
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it('npm run bench with an unknown option or scenario exits 2 with the reason and the usage', async () => {
    for (const args of [['--bogus'], ['--scenarios', 's9']]) {
      const failure = await run('npm', ['run', 'bench', '--silent', '--', ...args], { cwd: root, timeout: 60_000 }).then(
        () => null,
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      expect(failure, args.join(' ')).not.toBeNull();
      expect(failure!.code).toBe(2);
      expect(failure!.stderr).toMatch(/^npm run bench: (unknown option --bogus|--scenarios: no scenario s9)/);
      expect(failure!.stderr).toContain('Usage: npm run bench');
      expect(failure!.stderr).not.toContain('[bench]');
    }
  }, 90_000);
});
