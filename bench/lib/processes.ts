/**
 * Child processes of the benchmark (gateway, naive server): started with their output in a log file,
 * measured through /proc, and always stopped: a registry kills whatever is left when the run ends,
 * fails or is interrupted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { cpuMsFromProcStat, vmFromProcStatus } from './stats.js';

export interface ChildHandle {
  name: string;
  pid: number;
  logFile: string;
  /** utime + stime so far, in ms (null when /proc is unavailable). */
  cpuMs(): number | null;
  /** Peak resident set so far (VmHWM), in MB. */
  peakRssMb(): number | null;
  /** Resolves with the first stdout line for which `match` returns a value. */
  waitForLine<T>(match: (line: string) => T | undefined, timeoutMs: number): Promise<T>;
  exited(): boolean;
  /** Sends `message` over the IPC channel and resolves with the first reply whose `type` is `replyType`. */
  ask<T>(message: Record<string, unknown>, replyType: string, timeoutMs: number): Promise<T>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
const exitTasks: Array<() => void> = [];
let hooksInstalled = false;

/** Runs `task` (synchronous) when the process exits for any reason, interrupts included. */
export function onExit(task: () => void): void {
  installExitHooks();
  exitTasks.push(task);
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
    for (const task of exitTasks) {
      try {
        task();
      } catch {
        // best effort while exiting
      }
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      // Ask politely first so children clean up after themselves (the emulator removes its data dir).
      for (const child of running) child.kill('SIGTERM');
      const deadline = Date.now() + 3_000;
      const check = setInterval(() => {
        if (running.size === 0 || Date.now() > deadline) {
          clearInterval(check);
          process.exit(130);
        }
      }, 50);
    });
  }
}

export function readProc(pid: number, file: 'stat' | 'status'): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
}

export function startChild(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
  options: { ipc?: boolean; cwd?: string } = {},
): ChildHandle {
  installExitHooks();
  const child = spawn(command, args, {
    env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  running.add(child);
  const log = createWriteStream(logFile);
  const lineListeners = new Set<(line: string) => void>();
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    log.write(chunk);
    buffered += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      for (const listener of lineListeners) listener(line);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => log.write(chunk));
  let hasExited = false;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      hasExited = true;
      running.delete(child);
      resolve();
    }),
  );
  const pid = child.pid;
  return {
    name,
    pid,
    logFile,
    cpuMs: () => {
      const stat = readProc(pid, 'stat');
      return stat ? cpuMsFromProcStat(stat) : null;
    },
    peakRssMb: () => {
      const status = readProc(pid, 'status');
      return status ? vmFromProcStatus(status, 'VmHWM') : null;
    },
    waitForLine: <T>(match: (line: string) => T | undefined, timeoutMs: number) =>
      new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`${name}: not ready within ${timeoutMs} ms (log: ${logFile})`)), timeoutMs);
        const onExit = () => finish(new Error(`${name}: exited before it was ready (log: ${logFile})`));
        const listener = (line: string) => {
          const value = match(line);
          if (value !== undefined) finish(undefined, value);
        };
        function finish(error: Error | undefined, value?: T) {
          clearTimeout(timer);
          lineListeners.delete(listener);
          child.off('exit', onExit);
          if (error) reject(error);
          else resolve(value as T);
        }
        lineListeners.add(listener);
        child.once('exit', onExit);
      }),
    exited: () => hasExited,
    ask: <T>(message: Record<string, unknown>, replyType: string, timeoutMs: number) =>
      new Promise<T>((resolve, reject) => {
        if (!child.send) return reject(new Error(`${name}: started without an IPC channel`));
        const timer = setTimeout(() => finish(new Error(`${name}: no '${replyType}' reply within ${timeoutMs} ms (log: ${logFile})`)), timeoutMs);
        const onExit = () => finish(new Error(`${name}: exited before replying (log: ${logFile})`));
        const onMessage = (reply: unknown) => {
          if ((reply as { type?: unknown } | null)?.type === replyType) finish(undefined, reply as T);
        };
        function finish(error: Error | undefined, value?: T) {
          clearTimeout(timer);
          child.off('message', onMessage);
          child.off('exit', onExit);
          if (error) reject(error);
          else resolve(value as T);
        }
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.send(message);
      }),
    stop: async () => {
      if (hasExited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exitPromise;
      clearTimeout(timer);
      log.end();
    },
  };
}

/** Polls `url` until it answers 2xx, the child exits, or `timeoutMs` passes. */
export async function waitForHttpOk(url: string, child: ChildHandle, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  for (let attempt = 0; attempt < 1000 && Date.now() < deadline; attempt++) {
    if (child.exited()) throw new Error(`${child.name}: exited before it was ready (log: ${child.logFile})`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.ok) return;
      lastProblem = `HTTP ${res.status}`;
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${child.name}: ${url} not ready within ${timeoutMs} ms (${lastProblem}; log: ${child.logFile})`);
}
