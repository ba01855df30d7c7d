/**
 * Observes when the in-process emulator finishes each Graph request, to count round trips as waves
 * (see countWaves). It wraps `recordRequest` of this one emulator instance's statistics, which the
 * emulator calls once per upstream HTTP request (a `$batch` once) after the injected latency; it
 * changes nothing the emulator answers.
 */
import type { EmulatorStats } from '../../src/emulator/stats.js';

export interface UpstreamTrace {
  start(): void;
  /** Completion times (ms, performance.now) of Graph requests since `start`. */
  stop(): number[];
}

export function traceUpstream(stats: EmulatorStats): UpstreamTrace {
  let times: number[] | undefined;
  const original = stats.recordRequest.bind(stats);
  stats.recordRequest = (route, status, kind) => {
    if (times && kind === 'graph') times.push(performance.now());
    original(route, status, kind);
  };
  return {
    start: () => {
      times = [];
    },
    stop: () => {
      const out = times ?? [];
      times = undefined;
      return out;
    },
  };
}
