/**
 * The benchmark's emulator in its own process, so the load generator and the floor's client do not
 * share an event loop with it. Talks to the harness over IPC: `ready` (origins, CA, demo app
 * credentials, fixtures), and `trace-start` / `trace-stop` (Graph request completion times for the
 * round-trip probe, on this process's clock: only their differences matter).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmulator } from '../src/emulator/index.js';
import { pickFixtures } from './lib/fixtures.js';
import { traceUpstream } from './lib/upstream-trace.js';

if (!process.send) throw new Error('bench/emulator-child.ts runs under the benchmark harness (it needs an IPC channel)');
const send = (message: Record<string, unknown>) => process.send!(message);

const dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-bench-emu-'));
const emulator = await startEmulator({ dataDir, seed: Number(process.env.BENCH_SEED ?? 42), userCount: Number(process.env.BENCH_USERS ?? 1000), port: 0 });
const trace = traceUpstream(emulator.context.stats);
const { wellKnown } = emulator.tenant;

let closing = false;
const shutdown = () => {
  if (closing) return;
  closing = true;
  void emulator.close().finally(() => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// The harness went away (crashed or was killed): do not outlive it.
process.on('disconnect', shutdown);

process.on('message', (message: { type?: string }) => {
  if (message.type === 'trace-start') {
    trace.start();
    send({ type: 'trace-started' });
  } else if (message.type === 'trace-stop') {
    send({ type: 'trace', times: trace.stop() });
  }
});

send({
  type: 'ready',
  origin: emulator.origin,
  graphEndpoint: emulator.graphEndpoint,
  authorityHost: emulator.authorityHost,
  tenantId: emulator.tenantId,
  caFile: emulator.caFile,
  caCertPem: emulator.caCertPem,
  demoAppId: wellKnown.demoAppId,
  demoAppSecret: wellKnown.demoAppSecret,
  fixtures: pickFixtures(emulator.tenant),
});
