import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey, loadConfig } from '../../src/config.js';
import { openTokenStore } from '../../src/store/index.js';
import { buildProduction, DIST_MAIN, REPO_ROOT } from '../support/production-build.js';

/**
 * The SQLite token cache on a directory the gateway cannot write: a read-only file system (a
 * container with readOnlyRootFilesystem and no volume at DATA_DIR, a volume mounted read-only) and
 * a full one. Before, the start failed with SQLite's or Node's bare words ("database or disk is
 * full", with no path; "EROFS: read-only file system, open '…'"), naming neither the variable nor
 * what to do. Now it names the file, the variable that chose it (CACHE_URL, or DATA_DIR for the
 * default), the reason and the fix, exits 1 and echoes no secret. The production build as the
 * image runs it; the file systems are tmpfs mounts (root with CAP_SYS_ADMIN), skipped elsewhere.
 */
const TOKEN_CACHE_KEY = Buffer.alloc(32, 8).toString('base64');
const CURSOR_KEY = Buffer.alloc(32, 9).toString('base64');
const API_KEY = 'sqlite-unwritable-key-4b7d';

const root = mkdtempSync(path.join(tmpdir(), 'mgug-sqlite-unwritable-'));
const mounted: string[] = [];

/** A tmpfs at `dir` with `options`; false where this process may not mount. */
function tryMount(dir: string, options: string): boolean {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
    mounted.push(dir);
    return true;
  } catch {
    return false;
  }
}

const readOnlyDir = path.join(root, 'read-only');
const fullDir = path.join(root, 'full');
const canMount = tryMount(readOnlyDir, 'size=64k,ro,mode=0777') && tryMount(fullDir, 'size=64k,mode=0777');
if (canMount) {
  // Fill it: the last write fails with ENOSPC, which is the point.
  try {
    writeFileSync(path.join(fullDir, 'filler'), Buffer.alloc(128 * 1024));
  } catch {
    /* full */
  }
} else console.warn('cannot mount tmpfs here (needs root with CAP_SYS_ADMIN): skipping the unwritable SQLite directory tests');

afterAll(() => {
  for (const dir of mounted.reverse()) execFileSync('umount', [dir], { stdio: 'ignore' });
  rmSync(root, { recursive: true, force: true });
});

function runProduction(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DIST_MAIN], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        NODE_ENV: 'production',
        SANDBOX: 'true',
        HOST: '127.0.0.1',
        PORT: '0',
        DATA_DIR: path.join(root, 'data'),
        TOKEN_CACHE_KEY,
        CURSOR_KEY,
        API_KEYS: `ops:${hashApiKey(API_KEY)}:Users.Read`,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe.skipIf(!canMount)('the SQLite token cache on a directory the gateway cannot write', () => {
  beforeAll(async () => {
    await buildProduction();
  }, 240_000);

  it('read-only file system, CACHE_URL=sqlite://…: exit 1, naming the file, CACHE_URL, the reason and the fix', async () => {
    const file = path.join(readOnlyDir, 'tokens.sqlite');
    const { code, output } = await runProduction({ CACHE_URL: `sqlite://${file}` });
    expect(code).toBe(1);
    expect(output).toMatch(
      new RegExp(`failed to start: the token cache's SQLite file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(CACHE_URL\\) could not be opened: EROFS`),
    );
    expect(output).toMatch(/needs a directory it can write, with free space/);
    expect(output).not.toContain(TOKEN_CACHE_KEY);
    expect(output).not.toContain(CURSOR_KEY);
  }, 120_000);

  it('full file system: exit 1, naming the file and that the disk is full, instead of SQLite\'s bare "database or disk is full"', async () => {
    const file = path.join(fullDir, 'tokens.sqlite');
    const { code, output } = await runProduction({ CACHE_URL: `sqlite://${file}` });
    expect(code).toBe(1);
    expect(output).toMatch(/the token cache's SQLite file .*full.*tokens\.sqlite \(CACHE_URL\) could not be opened: .*(SQLITE_FULL|ENOSPC)/);
    expect(output).toMatch(/needs a directory it can write, with free space/);
    expect(output).not.toContain(TOKEN_CACHE_KEY);
  }, 120_000);

  it('the default cache (a refresh token kept, no CACHE_URL) under a read-only DATA_DIR names DATA_DIR', async () => {
    // Self-deployed with the authorization-code flow keeps its refresh token in DATA_DIR/token-cache.sqlite.
    const config = loadConfig(
      {
        NODE_ENV: 'production',
        AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
        AZURE_CLIENT_ID: '0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f',
        AZURE_CLIENT_SECRET: 'sqlite-unwritable-client-secret',
        GRAPH_AUTH_FLOW: 'authorization-code',
        REDIRECT_URI: 'http://localhost:4000/auth/callback',
        DATA_DIR: readOnlyDir,
        TOKEN_CACHE_KEY,
        CURSOR_KEY,
        API_KEYS: `ops:${hashApiKey(API_KEY)}:Users.Read`,
      },
      { purpose: 'tool' },
    );
    expect(config.cache.kind).toBe('default');
    const failure = await openTokenStore(config, { identityId: 'sqlite-unwritable', keepsRefreshToken: true }).then(
      async (store) => {
        await store.close();
        return undefined;
      },
      (error: unknown) => error as Error,
    );
    expect(failure?.message).toMatch(/^the token cache's SQLite file .*token-cache\.sqlite \(DATA_DIR\) could not be opened: EROFS/);
    expect(failure?.message).toMatch(/mount a writable volume at DATA_DIR|set CACHE_URL/);
  });
});
