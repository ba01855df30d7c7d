import { describe, expect, it } from 'vitest';
import { judgeTargets, markdownTable, svgChart, textTable } from '../../bench/lib/report.js';
import type { BenchReport, CellResult, ContenderName } from '../../bench/lib/results.js';

function cell(scenario: string, contender: ContenderName, fields: Partial<CellResult> = {}): CellResult {
  return {
    scenario,
    scenarioNumber: Number(scenario[1]),
    title: scenario,
    contender,
    concurrency: 1,
    latencyMs: 20,
    ops: 30,
    errors: 0,
    upstreamRequestsPerOp: 1,
    batchItemsPerOp: 0,
    tokenRequests: 0,
    roundTrips: 1,
    documented: null,
    samples: 30,
    p25Ms: 21,
    p50Ms: 22,
    p75Ms: 23.5,
    p95Ms: 25,
    p99Ms: 30,
    meanMs: 23,
    opsPerSecond: 40,
    cpuMsPerOp: contender === 'floor' ? null : 1,
    peakRssMb: contender === 'floor' ? null : 90,
    ...fields,
  };
}

const allScenarios = ['s1', 's2', 's3-c64', 's4', 's5'];

function run(gateway: Partial<CellResult> = {}, byScenario: Record<string, Partial<CellResult>> = {}): CellResult[] {
  return allScenarios.flatMap((s) => [
    cell(s, 'gateway', { ...gateway, ...byScenario[s] }),
    cell(s, 'naive', { upstreamRequestsPerOp: 10, roundTrips: 2, p50Ms: 60 }),
    cell(s, 'floor'),
  ]);
}

describe('judgeTargets', () => {
  const overhead = (gateway: Partial<CellResult> = {}, naive: Partial<CellResult> = {}) => [
    cell('s3-c1', 'gateway', { latencyMs: 0, p50Ms: 1.2, ...gateway }),
    cell('s3-c1', 'naive', { latencyMs: 0, p50Ms: 0.8, ...naive }),
    cell('s3-c64', 'gateway', { latencyMs: 0, opsPerSecond: 900 }),
    cell('s3-c64', 'naive', { latencyMs: 0, opsPerSecond: 1000 }),
  ];

  it('passes a gateway that matches the floor', () => {
    const cells = [...run(), ...overhead()];
    const verdicts = judgeTargets(cells, 20);
    expect(verdicts.map((v) => v.target)).toEqual([
      'upstream requests ≤ floor in scenarios 1, 2, 4, 5',
      'round trips = floor in every scenario',
      'p50 ≤ 1.10 × floor + 2 ms at 20 ms latency',
      'single lookup c1 at 0 ms: p50 ≤ naive + 0.5 ms',
      'single lookup c64 at 0 ms: ops/s ≥ 0.8 × naive',
      'every cell has ≥ 25 samples',
      'gateway peak RSS < 200 MB',
    ]);
    expect(verdicts.map((v) => v.verdict)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass']);
  });

  it('judges p50 against 1.10 × floor + 2 ms: 26.2 ms passes a 22 ms floor, 26.3 ms does not', () => {
    expect(judgeTargets(run({ p50Ms: 26.2 }), 20)[2]).toMatchObject({ verdict: 'pass' });
    expect(judgeTargets(run({ p50Ms: 26.3 }), 20)[2]).toMatchObject({ verdict: 'fail', detail: expect.stringContaining('s1: 26.3 ms vs limit 26.2 ms') });
  });

  it('fails each target it misses, naming the scenario and both figures', () => {
    const cells = [
      ...run({}, { s2: { upstreamRequestsPerOp: 7 }, s4: { roundTrips: 3, p50Ms: 80, samples: 12 } }),
      cell('s3-c1', 'gateway', { latencyMs: 0, p50Ms: 2.1 }),
      cell('s3-c1', 'naive', { latencyMs: 0, p50Ms: 0.8 }),
      cell('s3-c64', 'gateway', { latencyMs: 0, opsPerSecond: 700, peakRssMb: 250 }),
      cell('s3-c64', 'naive', { latencyMs: 0, opsPerSecond: 1000 }),
    ];
    const [requests, roundTrips, p50, c1, throughput, samples, rss] = judgeTargets(cells, 20);
    expect(requests).toMatchObject({ verdict: 'fail', detail: 's2: 7.00 vs 1.00' });
    expect(roundTrips).toMatchObject({ verdict: 'fail', detail: 's4: 3 vs 1' });
    expect(p50!.verdict).toBe('fail');
    expect(p50!.detail).toContain('s4: 80.0 ms');
    expect(c1).toMatchObject({ verdict: 'fail', detail: '2.10 vs 0.80 ms (limit 1.30 ms)' });
    expect(throughput).toMatchObject({ verdict: 'fail' });
    expect(throughput!.detail).toContain('0.70x');
    expect(samples).toMatchObject({ verdict: 'fail', detail: 's4@20 gateway: 12' });
    expect(rss).toMatchObject({ verdict: 'fail', detail: '250 MB' });
  });

  it('says n/a rather than pass when the gateway did not run or the pass is missing', () => {
    const withoutGateway = run().filter((c) => c.contender !== 'gateway');
    expect(judgeTargets(withoutGateway, 20).every((v) => v.verdict === 'n/a')).toBe(true);
    const verdicts = judgeTargets(run(), 0);
    expect(verdicts[2]).toMatchObject({ verdict: 'n/a', detail: 'this run used 0 ms' });
    expect(verdicts[3]).toMatchObject({ verdict: 'n/a' });
    expect(verdicts[4]).toMatchObject({ verdict: 'n/a' });
  });
});

describe('tables and chart', () => {
  const cells = run({ upstreamRequestsPerOp: 2 });
  it('print one row per contender with ratios against naive and floor', () => {
    const text = textTable(cells);
    expect(text.split('\n')).toHaveLength(2 + cells.length);
    const gatewayS1 = text.split('\n').find((l) => l.startsWith('s1') && l.includes('gateway'))!;
    expect(gatewayS1).toContain('0.20x'); // 2 vs naive's 10 requests
    expect(gatewayS1).toContain('2.00x'); // 2 vs floor's 1 request
    // Sample count and the p25–p75 spread beside p50.
    expect(text.split('\n')[0]).toMatch(/\bn\s+p50 ms\s+p25–p75 ms/);
    expect(gatewayS1).toContain('21.0–23.5');
    const md = markdownTable(cells);
    expect(md.split('\n')[0]).toMatch(/^\| scenario \|/);
    expect(md.split('\n')).toHaveLength(2 + cells.length);
  });

  it('draws a bar per contender and scenario in a standalone SVG', () => {
    const report: BenchReport = {
      generatedAt: '2025-01-01T00:00:00.000Z',
      machine: {
        cpuModel: 'Test <CPU>',
        cpus: 2,
        node: 'v20',
        platform: 'linux x64',
        memoryGb: 4,
        loadAverage: { start: 0, end: 0 },
        speedProbeMs: { start: 1, end: 1 },
      },
      settings: { latencyMs: 20, quick: true, probeLatencyMs: 80, cellBudgetMs: 1, cellMaxOps: 1, rounds: 1, warmupMs: 1, gatewayCommand: null },
      problems: [],
      cells,
      targets: [],
      peakRssMb: {},
      durationSeconds: 1,
    };
    const svg = svgChart(report);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Test &lt;CPU&gt;');
    // Two panels × 5 scenarios × 3 contenders with cells, a legend swatch per contender measured, and the background.
    expect(svg.match(/<rect /g)).toHaveLength(2 * 5 * 3 + 3 + 1);
  });
});
