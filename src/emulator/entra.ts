// PLACEHOLDER: owned by the emulator-identity helper, to be replaced.
import type { EmulatorContext } from './context.js';
import type { EmuRequest, EmuResponse } from './http.js';
export async function handleEntra(_ctx: EmulatorContext, _req: EmuRequest): Promise<EmuResponse | undefined> { return undefined; }
