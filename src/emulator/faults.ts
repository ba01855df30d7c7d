// PLACEHOLDER: owned by the emulator-graph helper, to be replaced.
export interface FaultSettings { latencyMs: number; throttleRate: number; unavailableRate: number; timeoutRate: number; dropRate: number; retryAfterSeconds: number }
export class FaultInjector {
  settings: FaultSettings;
  constructor(initial: Partial<FaultSettings> = {}) { this.settings = { latencyMs: 0, throttleRate: 0, unavailableRate: 0, timeoutRate: 0, dropRate: 0, retryAfterSeconds: 1, ...initial }; }
  configure(input: unknown): FaultSettings { this.settings = { ...this.settings, ...(input as Partial<FaultSettings>) }; return this.settings; }
  reset(): void { this.settings = { latencyMs: 0, throttleRate: 0, unavailableRate: 0, timeoutRate: 0, dropRate: 0, retryAfterSeconds: 1 }; }
}
