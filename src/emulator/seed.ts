// PLACEHOLDER: owned by the emulator-graph helper, to be replaced.
import type { TenantModel } from './model.js';
export function tenantIdForSeed(seed: number): string { return `00000000-0000-4000-8000-${String(seed).padStart(12, '0')}`; }
export function seedDirectory(_model: TenantModel, _options: { seed: number; userCount: number }): void {}
