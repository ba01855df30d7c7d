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
  /**
   * Entra's directory limits (src/emulator/throttling.ts): requests and `$batch` items priced,
   * RU and writes admitted, and those answered 429 because the app+tenant budget was spent.
   * RU are counted whether or not a budget is enforced.
   */
  directory: { priced: number; resourceUnits: number; writes: number; throttled: number };
  /**
   * The W3C `traceparent` headers of the last Graph requests that sent one (oldest first, at most
   * TRACEPARENTS_KEPT): how tests see that the gateway's trace context reaches Graph.
   */
  traceparents: string[];
}

export const TRACEPARENTS_KEPT = 200;

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
      directory: { priced: 0, resourceUnits: 0, writes: 0, throttled: 0 },
      traceparents: [],
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

  recordTraceparent(value: string | undefined): void {
    if (value === undefined) return;
    this.data.traceparents.push(value.slice(0, 128));
    if (this.data.traceparents.length > TRACEPARENTS_KEPT) this.data.traceparents.shift();
  }

  recordFault(kind: keyof StatsSnapshot['faults']): void {
    this.data.faults[kind] += 1;
  }

  recordDirectory(decision: { kind: 'admitted'; cost: { resourceUnits: number; writes: number } } | { kind: 'throttled' }): void {
    this.data.directory.priced += 1;
    if (decision.kind === 'throttled') this.data.directory.throttled += 1;
    else {
      this.data.directory.resourceUnits += decision.cost.resourceUnits;
      this.data.directory.writes += decision.cost.writes;
    }
  }

  snapshot(): StatsSnapshot {
    return structuredClone(this.data);
  }

  reset(): void {
    this.data = EmulatorStats.empty();
  }
}
