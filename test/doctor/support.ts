import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config.js';
import { FEATURES, GRAPH_OPERATIONS, NOT_SUPPORTED } from '../../src/doctor/feature-permissions.js';
import { ADMINISTRATOR_LOOKUP, GROUP_ELIGIBILITY_LOOKUP, GROUP_OWNERSHIP_LOOKUP, ROLE_GRANTS_LOOKUP } from '../../src/doctor/admin-target-check.js';
import { renderText } from '../../src/doctor/report.js';
import { runDoctor, type DoctorOptions } from '../../src/doctor/run.js';
import { createUpstreamHttp } from '../../src/http/upstream.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { registerApp } from '../../src/emulator/apps.js';
import type { AppRegistration } from '../../src/emulator/model.js';
import type { TestEmulator } from '../support/emulator.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

export interface DoctorRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The printed lines, without the final Result line. */
  lines: string[];
}

/** The environment a gateway pointed at the emulator as a real tenant would have (no sandbox). */
export function tenantEnv(emulator: TestEmulator, app: Pick<AppRegistration, 'appId' | 'secrets'>, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '',
    SANDBOX: 'false',
    AZURE_TENANT_ID: emulator.tenantId,
    AZURE_CLIENT_ID: app.appId,
    AZURE_CLIENT_SECRET: app.secrets[0]!,
    AZURE_AUTHORITY_HOST: emulator.authorityHost,
    GRAPH_ENDPOINT: emulator.graphEndpoint,
    NODE_EXTRA_CA_CERTS: emulator.caFile,
    CACHE_URL: 'memory',
    DATA_DIR: emulator.dataDir,
    ...extra,
  };
}

/** Runs the doctor as a separate process, as an operator would (`npm run doctor` or tsx). */
export async function spawnDoctor(env: Record<string, string>, args: string[] = [], via: 'tsx' | 'npm' = 'tsx'): Promise<DoctorRun> {
  const [command, argv] =
    via === 'npm' ? ['npm', ['run', '--silent', 'doctor', '--', ...args]] : [process.execPath, ['--import', 'tsx', 'src/cli/doctor.ts', ...args]];
  try {
    const { stdout, stderr } = await run(command, argv, { cwd: ROOT, env, timeout: 90_000 });
    return { code: 0, stdout, stderr, lines: linesOf(stdout) };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '', lines: linesOf(e.stdout ?? '') };
  }
}

/**
 * The same run in this process (configuration from the same environment, same HTTP layer, same
 * text rendering), for the many parameterised cases where a process per case would be slow.
 */
export async function doctorInProcess(env: Record<string, string>, options: DoctorOptions = { allowWrites: false }): Promise<DoctorRun> {
  const config = loadConfig(env, { purpose: 'tool' });
  const upstream = createUpstreamHttp({ extraCaPem: config.extraCaPem, requestTimeoutMs: config.limits.upstreamTimeoutMs });
  try {
    const report = await runDoctor(config, options, { upstream, logger: createLogger({ level: 'silent' }), metrics: createMetrics({ defaultMetrics: false }) });
    const stdout = renderText(report);
    return { code: report.exitCode, stdout, stderr: '', lines: linesOf(stdout) };
  } finally {
    await upstream.close();
  }
}

function linesOf(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l !== '' && !l.startsWith('Result:'));
}

/** The least privileged application permissions that cover every feature app-only can run. */
export function leastApplicationPermissions(): string[] {
  const out = new Set<string>();
  for (const feature of FEATURES) {
    for (const id of feature.operations) {
      const sets = GRAPH_OPERATIONS[id].application;
      if (sets !== NOT_SUPPORTED) for (const p of sets[0]!) out.add(p);
    }
  }
  // The administrator-target check of takeover-class mutations (src/doctor/admin-target-check.ts).
  for (const lookup of [ADMINISTRATOR_LOOKUP, ROLE_GRANTS_LOOKUP, GROUP_ELIGIBILITY_LOOKUP, GROUP_OWNERSHIP_LOOKUP])
    for (const p of lookup.sets[0]!) out.add(p);
  return [...out].sort();
}

export function registerTestApp(
  emulator: TestEmulator,
  graphAppRoles: string[],
  directoryRoles: string[] = ['Privileged Authentication Administrator'],
): AppRegistration {
  return registerApp(emulator.tenant, { displayName: `doctor test app ${graphAppRoles.length}`, graphAppRoles, directoryRoles });
}
