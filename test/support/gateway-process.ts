import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { freePort } from './net.js';
import { buildProduction, DIST_MAIN, REPO_ROOT } from './production-build.js';

/**
 * The gateway as a separate process (`npm start`, or `node dist/src/main.js` as the Docker image
 * runs it), in its own process group so a test can signal it like a terminal or an orchestrator.
 * With the sandbox on, the banner names the emulator's origin and DATA_DIR holds its CA, so the
 * test can set emulator faults (latency) over real TLS.
 */
export interface GatewayProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  stdout(): string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** The sandbox emulator's origin from the banner. */
  emulatorOrigin: string;
  /** Sets emulator fault settings (POST /_emulator/faults). */
  setEmulatorFaults(settings: Record<string, number>): Promise<void>;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

export async function startGatewayProcess(input: {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  port: number;
  startTimeoutMs?: number;
}): Promise<GatewayProcess> {
  const child = spawn(input.command, input.args, { cwd: input.cwd, env: input.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  // Resolved once the output pipes are read to their end too ('close'), so a test reading stdout
  // after the exit sees the last lines; bounded, should a descendant keep a pipe open.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      const settle = () => resolve({ code, signal });
      const timer = setTimeout(settle, 2_000);
      child.once('close', () => {
        clearTimeout(timer);
        settle();
      });
    }),
  );
  const deadline = Date.now() + (input.startTimeoutMs ?? 60_000);
  while (!/listening on[\s\S]*(Sandbox tenant|Microsoft Graph)/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
      throw new Error(`gateway did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const emulatorOrigin = /emulator at (https:\/\/\S+)/.exec(out)?.[1] ?? '';
  const dataDir = input.env['DATA_DIR'];
  return {
    child,
    output: () => out,
    stdout: () => stdout,
    url: `http://127.0.0.1:${input.port}`,
    emulatorOrigin,
    async setEmulatorFaults(settings) {
      if (!emulatorOrigin || !dataDir) throw new Error('no sandbox emulator to configure');
      const dispatcher = new Agent({ connect: { ca: readFileSync(path.join(dataDir, 'emulator', 'emulator-ca.pem'), 'utf8') } });
      try {
        const res = await undiciFetch(`${emulatorOrigin}/_emulator/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(settings),
          dispatcher,
        });
        if (!res.ok) throw new Error(`faults refused: ${res.status} ${await res.text()}`);
      } finally {
        await dispatcher.close();
      }
    },
    exited,
    kill() {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    },
  };
}

/** The JSON log records in `text` (other lines, such as the banner, are skipped). */
export function logRecords(text: string): Array<Record<string, any>> {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, any>);
}

/**
 * The production build as the Docker image runs it: `npm run build` (reused when fresh), then
 * `node [nodeArgs] dist/src/main.js` with NODE_ENV=production and the sandbox tenant, on a free
 * loopback port, its state in `dataDir`; `env` adds the rest (CALLER_AUTH, API_KEYS, LOG_LEVEL...).
 */
export async function startProductionGateway(input: { dataDir: string; env: Record<string, string>; nodeArgs?: string[] }): Promise<GatewayProcess> {
  await buildProduction();
  const port = await freePort();
  return startGatewayProcess({
    command: process.execPath,
    args: [...(input.nodeArgs ?? []), DIST_MAIN],
    cwd: REPO_ROOT,
    port,
    env: {
      PATH: process.env['PATH'] ?? '',
      NODE_ENV: 'production',
      SANDBOX: 'true',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: input.dataDir,
      ...input.env,
    },
  });
}
