import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection } from 'node:net';
import { freePort } from '../support/net.js';

export const REDIS_SERVER = '/usr/bin/redis-server';

/** Why Redis tests are skipped, or undefined when they run. In CI a missing redis-server fails instead. */
export function redisSkipReason(): string | undefined {
  if (existsSync(REDIS_SERVER)) return undefined;
  if (process.env.CI === 'true') throw new Error(`${REDIS_SERVER} is missing: CI must install redis-server`);
  const reason = `${REDIS_SERVER} not installed: skipping the Redis variants`;
  console.warn(reason);
  return reason;
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

/**
 * A throwaway redis-server on a loopback port (a random one unless given: a restart uses the same),
 * no persistence; `extraArgs` are further server options (e.g. `--maxmemory 4mb`).
 */
export async function startTestRedis(port?: number, extraArgs: string[] = []): Promise<TestRedis & { port: number }> {
  port ??= await freePort();
  const child: ChildProcess = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100 && !(await canConnect(port)); i++) await sleep(50);
  if (!(await canConnect(port))) {
    child.kill('SIGKILL');
    throw new Error('redis-server did not start');
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
