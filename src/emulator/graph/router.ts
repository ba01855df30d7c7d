// PLACEHOLDER: owned by the emulator-graph helper, to be replaced.
import type { EmulatorContext } from '../context.js';
import type { EmuRequest, EmuResponse } from '../http.js';
export async function handleGraph(_ctx: EmulatorContext, req: EmuRequest): Promise<EmuResponse> { return { status: 501, route: `${req.method} /v1.0` }; }
