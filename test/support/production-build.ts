import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * `npm run build` (what CI and the Docker build stage run) for tests that start `dist/src/main.js`
 * the way the image does. Vitest runs test files in parallel and two tsc runs writing the same
 * files would race, so builds take a lock directory; a build that is already newer than every
 * source file is reused by the test files that come after it.
 */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const DIST_MAIN = path.join(REPO_ROOT, 'dist/src/main.js');
const STAMP = path.join(REPO_ROOT, 'dist/.build-stamp');
const LOCK = path.join(REPO_ROOT, 'dist.build-lock');
const SOURCES = ['src', 'schema', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];
const run = promisify(execFile);

function newestSourceMtime(entry: string): number {
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(entry).map((name) => newestSourceMtime(path.join(entry, name))));
}

function isFresh(): boolean {
  if (!existsSync(STAMP) || !existsSync(DIST_MAIN)) return false;
  const built = statSync(STAMP).mtimeMs;
  return SOURCES.every((s) => newestSourceMtime(path.join(REPO_ROOT, s)) < built);
}

async function acquireLock(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock left by a killed run is older than any build takes.
      if (Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 5 * 60_000) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${LOCK}`, { cause: error });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Runs `npm run build` unless a build newer than every source file exists; returns whether it built. */
export async function buildProduction(options: { force?: boolean } = {}): Promise<boolean> {
  await acquireLock(240_000);
  try {
    if (!options.force && isFresh()) return false;
    await run('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, timeout: 180_000 });
    writeFileSync(STAMP, new Date().toISOString());
    return true;
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
