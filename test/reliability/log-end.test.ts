import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { logRecords } from '../support/gateway-process.js';

/**
 * The graceful stop's last step (src/main.ts → endLog in src/logger.ts): every log line written
 * before exiting is out, in order, even when the destination's asynchronous write is still queued
 * in libuv's thread pool. `logger.flush` followed by `process.exit` (what the stop did before) is
 * run beside it as the baseline that shows the hazard: there the older line is lost or lands last.
 */
async function linesOf(mode: 'end' | 'flush'): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/reliability/log-end-worker.ts', mode], {
    env: { ...process.env, UV_THREADPOOL_SIZE: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  // 'close', not 'exit': the pipe is read to its end.
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  expect(code).toBe(0);
  return logRecords(out).map((r) => r.msg as string);
}

describe('ending the log before exit', () => {
  it('writes the line queued behind a busy thread pool before the newer one', async () => {
    const [ended, flushed] = await Promise.all([linesOf('end'), linesOf('flush')]);
    expect(ended).toEqual(['first', 'last']);
    expect(flushed).not.toEqual(['first', 'last']);
  }, 60_000);
});
