/**
 * Upstream request accounting (contract: `GET /_emulator/stats`). Tests and benchmarks read it to
 * prove batching: requests by method and route template, and how many items `$batch` carried.
 */
export interface StatsSnapshot {
  /** Every HTTP request the emulator received (Graph, login, broker), admin routes excluded. */
  totalRequests: number;
  /** Graph requests only (`/v1.0/...`, `/beta/...`), counting a `$batch` as one. */
  graphRequests: number;
  /** Token endpoint requests (all grants). */
  tokenRequests: number;
  /** Keyed `METHOD /route/{template}`. */
  byRoute: Record<string, number>;
  /** Keyed by HTTP status. */
  byStatus: Record<string, number>;
  batch: { requests: number; items: number; itemsByRoute: Record<string, number> };
  faults: { throttled: number; unavailable: number; timeouts: number; dropped: number };
}

export class EmulatorStats {
  private data: StatsSnapshot = EmulatorStats.empty();

  private static empty(): StatsSnapshot {
    return {
      totalRequests: 0,
      graphRequests: 0,
      tokenRequests: 0,
      byRoute: {},
      byStatus: {},
      batch: { requests: 0, items: 0, itemsByRoute: {} },
      faults: { throttled: 0, unavailable: 0, timeouts: 0, dropped: 0 },
    };
  }

  recordRequest(route: string, status: number, kind: 'graph' | 'token' | 'other'): void {
    this.data.totalRequests += 1;
    if (kind === 'graph') this.data.graphRequests += 1;
    if (kind === 'token') this.data.tokenRequests += 1;
    this.data.byRoute[route] = (this.data.byRoute[route] ?? 0) + 1;
    this.data.byStatus[String(status)] = (this.data.byStatus[String(status)] ?? 0) + 1;
  }

  recordBatch(itemRoutes: string[]): void {
    this.data.batch.requests += 1;
    this.data.batch.items += itemRoutes.length;
    for (const r of itemRoutes) this.data.batch.itemsByRoute[r] = (this.data.batch.itemsByRoute[r] ?? 0) + 1;
  }

  recordFault(kind: keyof StatsSnapshot['faults']): void {
    this.data.faults[kind] += 1;
  }

  snapshot(): StatsSnapshot {
    return structuredClone(this.data);
  }

  reset(): void {
    this.data = EmulatorStats.empty();
  }
}
