/** Turns cell results into the printed table, the markdown table, the target verdicts and the SVG. */
import type { BenchReport, CellResult, ContenderName, TargetVerdict } from './results.js';
import { MIN_SAMPLES_PER_CELL, formatNumber, formatRatio, ratio } from './stats.js';

export const CONTENDERS: readonly ContenderName[] = ['gateway', 'gateway-b', 'naive', 'floor', 'mesh'];

function find(cells: readonly CellResult[], scenario: string, latencyMs: number, contender: ContenderName): CellResult | undefined {
  return cells.find((c) => c.scenario === scenario && c.latencyMs === latencyMs && c.contender === contender);
}

/** Distinct (scenario, latency) pairs in run order. */
function groups(cells: readonly CellResult[]): Array<{ scenario: string; latencyMs: number; title: string; concurrency: number }> {
  const seen = new Map<string, { scenario: string; latencyMs: number; title: string; concurrency: number }>();
  for (const c of cells) {
    const k = `${c.scenario}@${c.latencyMs}`;
    if (!seen.has(k)) seen.set(k, { scenario: c.scenario, latencyMs: c.latencyMs, title: c.title, concurrency: c.concurrency });
  }
  return [...seen.values()];
}

const HEADER = [
  'scenario',
  'lat',
  'conc',
  'contender',
  'req/op',
  'RT',
  'n',
  'p50 ms',
  'p25–p75 ms',
  'p95 ms',
  'p99 ms',
  'ops/s',
  'CPU ms/op',
  'RSS MB',
  'req ÷naive',
  'req ÷floor',
  'p50 ÷naive',
  'p50 ÷floor',
  'errors',
];

function rows(cells: readonly CellResult[]): string[][] {
  const out: string[][] = [];
  for (const g of groups(cells)) {
    const naive = find(cells, g.scenario, g.latencyMs, 'naive');
    const floor = find(cells, g.scenario, g.latencyMs, 'floor');
    for (const name of CONTENDERS) {
      const c = find(cells, g.scenario, g.latencyMs, name);
      if (!c) continue;
      out.push([
        c.scenario,
        `${c.latencyMs}`,
        `${c.concurrency}`,
        name,
        formatNumber(c.upstreamRequestsPerOp, 2),
        c.roundTrips === null ? '—' : String(c.roundTrips),
        String(c.samples),
        formatNumber(c.p50Ms),
        `${formatNumber(c.p25Ms)}–${formatNumber(c.p75Ms)}`,
        formatNumber(c.p95Ms),
        formatNumber(c.p99Ms),
        formatNumber(c.opsPerSecond, 0),
        formatNumber(c.cpuMsPerOp, 2),
        formatNumber(c.peakRssMb, 0),
        formatRatio(ratio(c.upstreamRequestsPerOp, naive?.upstreamRequestsPerOp)),
        formatRatio(ratio(c.upstreamRequestsPerOp, floor?.upstreamRequestsPerOp)),
        formatRatio(ratio(c.p50Ms, naive?.p50Ms)),
        formatRatio(ratio(c.p50Ms, floor?.p50Ms)),
        c.errors ? `${c.errors}/${c.ops}` : '0',
      ]);
    }
  }
  return out;
}

export function textTable(cells: readonly CellResult[]): string {
  const all = [HEADER, ...rows(cells)];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((v, i) => (i < 4 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...rows(cells).map(line)].join('\n');
}

export function markdownTable(cells: readonly CellResult[]): string {
  const r = rows(cells);
  return [`| ${HEADER.join(' | ')} |`, `|${HEADER.map((_, i) => (i < 4 ? ' --- ' : ' ---: ')).join('|')}|`, ...r.map((x) => `| ${x.join(' | ')} |`)].join('\n');
}

/** p50 target at 20 ms injected latency: gateway p50 ≤ P50_FLOOR_FACTOR × floor p50 + P50_FLOOR_SLACK_MS. */
export const P50_FLOOR_FACTOR = 1.1;
export const P50_FLOOR_SLACK_MS = 2;
/** Lone-lookup overhead target: scenario 3 at concurrency 1 and 0 ms latency, gateway p50 ≤ naive p50 + this. */
export const C1_NAIVE_SLACK_MS = 0.5;

/** The project's targets, judged on this run's figures (benchmarks, not tests). */
export function judgeTargets(cells: readonly CellResult[], mainLatencyMs: number): TargetVerdict[] {
  const verdicts: TargetVerdict[] = [];
  const gatewayRan = cells.some((c) => c.contender === 'gateway' && c.ops > c.errors);
  const na = (target: string, detail: string) => verdicts.push({ target, verdict: 'n/a', detail });
  const requestTarget = 'upstream requests ≤ floor in scenarios 1, 2, 4, 5';
  const rtTarget = 'round trips = floor in every scenario';
  const p50Target = `p50 ≤ ${P50_FLOOR_FACTOR.toFixed(2)} × floor + ${P50_FLOOR_SLACK_MS} ms at 20 ms latency`;
  const c1Target = `single lookup c1 at 0 ms: p50 ≤ naive + ${C1_NAIVE_SLACK_MS} ms`;
  const tputTarget = 'single lookup c64 at 0 ms: ops/s ≥ 0.8 × naive';
  const samplesTarget = `every cell has ≥ ${MIN_SAMPLES_PER_CELL} samples`;
  const rssTarget = 'gateway peak RSS < 200 MB';
  if (!gatewayRan) {
    for (const t of [requestTarget, rtTarget, p50Target, c1Target, tputTarget, samplesTarget, rssTarget]) na(t, 'the gateway did not run');
    return verdicts;
  }
  const main = groups(cells).filter((g) => g.latencyMs === mainLatencyMs);
  const pairs = main.map((g) => ({ g, gw: find(cells, g.scenario, g.latencyMs, 'gateway'), fl: find(cells, g.scenario, g.latencyMs, 'floor') }));

  const reqMisses = pairs
    .filter((p) => ['s1', 's2', 's4', 's5'].includes(p.g.scenario))
    .filter(
      (p) =>
        !p.gw ||
        !p.fl ||
        p.gw.upstreamRequestsPerOp === null ||
        p.fl.upstreamRequestsPerOp === null ||
        p.gw.upstreamRequestsPerOp > p.fl.upstreamRequestsPerOp + 1e-9,
    )
    .map((p) => `${p.g.scenario}: ${formatNumber(p.gw?.upstreamRequestsPerOp, 2)} vs ${formatNumber(p.fl?.upstreamRequestsPerOp, 2)}`);
  verdicts.push({ target: requestTarget, verdict: reqMisses.length ? 'fail' : 'pass', detail: reqMisses.join('; ') || 'all equal or lower' });

  const rtMisses = pairs
    .filter((p) => !p.gw || !p.fl || p.gw.roundTrips === null || p.fl.roundTrips === null || p.gw.roundTrips > p.fl.roundTrips)
    .map((p) => `${p.g.scenario}: ${p.gw?.roundTrips ?? '—'} vs ${p.fl?.roundTrips ?? '—'}`);
  verdicts.push({ target: rtTarget, verdict: rtMisses.length ? 'fail' : 'pass', detail: rtMisses.join('; ') || 'all equal' });

  if (mainLatencyMs !== 20) na(p50Target, `this run used ${mainLatencyMs} ms`);
  else {
    const misses = pairs
      .filter((p) => !p.gw || !p.fl || !(p.gw.p50Ms <= p50Limit(p.fl.p50Ms)))
      .map((p) => `${p.g.scenario}: ${formatNumber(p.gw?.p50Ms)} ms vs limit ${formatNumber(p.fl ? p50Limit(p.fl.p50Ms) : null)} ms`);
    verdicts.push({ target: p50Target, verdict: misses.length ? 'fail' : 'pass', detail: misses.join('; ') || 'all within' });
  }

  const gw1 = find(cells, 's3-c1', 0, 'gateway');
  const nv1 = find(cells, 's3-c1', 0, 'naive');
  if (!gw1 || !nv1) na(c1Target, 'no 0 ms pass of scenario 3 at concurrency 1 in this run');
  else {
    verdicts.push({
      target: c1Target,
      verdict: gw1.p50Ms <= nv1.p50Ms + C1_NAIVE_SLACK_MS ? 'pass' : 'fail',
      detail: `${formatNumber(gw1.p50Ms, 2)} vs ${formatNumber(nv1.p50Ms, 2)} ms (limit ${formatNumber(nv1.p50Ms + C1_NAIVE_SLACK_MS, 2)} ms)`,
    });
  }

  const gw0 = find(cells, 's3-c64', 0, 'gateway');
  const nv0 = find(cells, 's3-c64', 0, 'naive');
  if (!gw0 || !nv0) na(tputTarget, 'no 0 ms pass of scenario 3 in this run');
  else {
    const r = ratio(gw0.opsPerSecond, nv0.opsPerSecond);
    verdicts.push({
      target: tputTarget,
      verdict: r !== null && r >= 0.8 ? 'pass' : 'fail',
      detail: `${formatNumber(gw0.opsPerSecond, 0)} vs ${formatNumber(nv0.opsPerSecond, 0)} ops/s (${formatRatio(r)})`,
    });
  }

  const thin = cells.filter((c) => c.samples < MIN_SAMPLES_PER_CELL).map((c) => `${c.scenario}@${c.latencyMs} ${c.contender}: ${c.samples}`);
  verdicts.push({ target: samplesTarget, verdict: thin.length ? 'fail' : 'pass', detail: thin.join('; ') || 'all' });

  const peak = Math.max(...cells.filter((c) => c.contender === 'gateway').map((c) => c.peakRssMb ?? 0));
  verdicts.push({ target: rssTarget, verdict: peak > 0 && peak < 200 ? 'pass' : peak === 0 ? 'n/a' : 'fail', detail: `${formatNumber(peak, 0)} MB` });
  return verdicts;
}

function p50Limit(floorP50Ms: number): number {
  return P50_FLOOR_FACTOR * floorP50Ms + P50_FLOOR_SLACK_MS;
}

const COLORS: Record<ContenderName, string> = { gateway: '#2b6cb0', 'gateway-b': '#2f855a', naive: '#c05621', floor: '#718096', mesh: '#6b46c1' };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Two grouped bar charts on a log scale (upstream requests per operation, p50 latency), one group
 * per scenario of the main pass. Hand-built SVG: no chart library.
 */
export function svgChart(report: BenchReport): string {
  const main = groups(report.cells).filter((g) => g.latencyMs === report.settings.latencyMs);
  const panels: Array<{ title: string; value: (c: CellResult) => number | null; unit: string }> = [
    { title: 'Upstream Graph requests per operation (log scale, lower is better)', value: (c) => c.upstreamRequestsPerOp, unit: '' },
    { title: `p50 latency in ms at ${report.settings.latencyMs} ms injected latency (log scale, lower is better)`, value: (c) => c.p50Ms, unit: ' ms' },
  ];
  // The legend and the bars name the contenders this run measured (five with gateway-b).
  const shown = CONTENDERS.filter((name) => report.cells.some((c) => c.contender === name));
  const groupWidth = 140;
  const barWidth = shown.length > 4 ? 24 : 30;
  const left = 60;
  const panelHeight = 220;
  const top = 60;
  const width = left + main.length * groupWidth + 20;
  const height = top + panels.length * (panelHeight + 70) + 10;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">msgraph-user-gateway benchmark: gateway vs naive vs floor vs GraphQL Mesh</text>`,
    `<text x="${left}" y="38" fill="#4a5568">${escapeXml(`${report.machine.cpuModel}, ${report.machine.cpus} CPUs, Node ${report.machine.node}, ${report.generatedAt.slice(0, 10)}`)}</text>`,
  ];
  shown.forEach((name, i) => {
    const x = width - 5 - (shown.length - i) * 85;
    parts.push(`<rect x="${x}" y="10" width="12" height="12" fill="${COLORS[name]}"/><text x="${x + 16}" y="20">${name}</text>`);
  });
  panels.forEach((panel, p) => {
    const y0 = top + p * (panelHeight + 70);
    const values = report.cells
      .filter((c) => c.latencyMs === report.settings.latencyMs)
      .map(panel.value)
      .filter((v): v is number => v !== null && v > 0);
    const maxLog = Math.log10(Math.max(10, ...values)) + 0.1;
    // A little below the smallest decade, so a bar of exactly 1 still shows.
    const minLog = Math.min(0, Math.floor(Math.log10(Math.min(1, ...values)))) - 0.3;
    const yOf = (v: number) => y0 + 20 + panelHeight - ((Math.log10(v) - minLog) / (maxLog - minLog)) * panelHeight;
    parts.push(`<text x="${left}" y="${y0 + 10}" font-weight="bold">${escapeXml(panel.title)}</text>`);
    for (let e = Math.ceil(minLog); e <= Math.floor(maxLog); e++) {
      const y = yOf(10 ** e);
      parts.push(
        `<line x1="${left}" x2="${width - 10}" y1="${y}" y2="${y}" stroke="#e2e8f0"/><text x="${left - 6}" y="${y + 4}" text-anchor="end" fill="#4a5568">${10 ** e}</text>`,
      );
    }
    main.forEach((g, gi) => {
      const gx = left + gi * groupWidth + 10;
      shown.forEach((name, ci) => {
        const cell = find(report.cells, g.scenario, g.latencyMs, name);
        const v = cell ? panel.value(cell) : null;
        if (v === null || !(v > 0)) return;
        const x = gx + ci * (barWidth + 2);
        const y = yOf(Math.max(v, 10 ** minLog));
        const base = y0 + 20 + panelHeight;
        parts.push(
          `<rect x="${x}" y="${y.toFixed(1)}" width="${barWidth}" height="${Math.max(1, base - y).toFixed(1)}" fill="${COLORS[name]}"><title>${name} ${g.scenario}: ${formatNumber(v, 2)}${panel.unit}</title></rect>`,
        );
        parts.push(`<text x="${x + barWidth / 2}" y="${(y - 3).toFixed(1)}" text-anchor="middle" font-size="9">${formatNumber(v, v < 10 ? 1 : 0)}</text>`);
      });
      parts.push(`<text x="${gx + (shown.length * (barWidth + 2)) / 2}" y="${y0 + panelHeight + 36}" text-anchor="middle">${escapeXml(g.scenario)}</text>`);
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
