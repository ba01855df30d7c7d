// PLACEHOLDER: owned by the emulator-identity helper, to be replaced.
import type { TenantModel } from './model.js';
export function seedApps(_model: TenantModel, _seed: number): void {}
