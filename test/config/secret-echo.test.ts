import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/config.js';
import { REPO_ROOT } from '../support/production-build.js';
import { problemsOf } from '../support/config-problems.js';

/**
 * A configuration problem is printed to stderr, which a container platform ships to the log
 * pipeline. It names the variable and what is wrong, and never quotes a value that may be a secret,
 * even when the secret sits where it does not belong: the API key itself in API_KEYS (which wants
 * its SHA-256), the client secret in AZURE_CLIENT_ID, a password with a `/` in a mistyped CACHE_URL.
 * Before, all three were printed whole. The
 * gateway runs as `npm start` does (`node --import tsx src/main.ts`), NODE_ENV=production.
 */
const RAW_KEY = 'Sk7pQw2Lx9Vb4Nr8Tz1Hc6Md3Fg5Jy0A';
const CLIENT_SECRET = 'Xq58Q~abcdEFGH1234.ijklMN_opqrSTUVwxyz12';

function runGateway(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('configuration problems never print a secret that sits in the wrong place', () => {
  let dir: string;
  const tenant = { AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47', AZURE_CLIENT_SECRET: 'a-client-secret-of-the-app' };

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mgug-secret-echo-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the production process refuses to start and its output holds neither the API key nor the client secret', async () => {
    const keysFile = path.join(dir, 'api-keys');
    writeFileSync(keysFile, `${RAW_KEY}:Users.Read\n`, { mode: 0o600 });
    const variants: Array<Record<string, string>> = [{ API_KEYS: RAW_KEY }, { API_KEYS: `soar:${hashApiKey('x')},${RAW_KEY}` }, { API_KEYS_FILE: keysFile }];
    for (const keys of variants) {
      const { code, output } = await runGateway({ ...tenant, AZURE_CLIENT_ID: CLIENT_SECRET, CALLER_AUTH: 'api-key', ...keys });
      expect(code).toBe(2);
      expect(output).toMatch(/API_KEYS entry \d of \d is not valid \(not shown: it may hold a key\)/);
      expect(output).toMatch(/AZURE_CLIENT_ID \(not shown: it is no GUID and may be a secret\) is not valid/);
      expect(output).not.toContain(RAW_KEY);
      expect(output).not.toContain(CLIENT_SECRET);
      expect(output).not.toContain('Q~abcd');
    }
  }, 60_000);

  it('quotes a mistyped CACHE_URL without its password, whatever the password holds', async () => {
    for (const cacheUrl of ['redsi://:Pw/Secret+Part@redis:6379', ':PwSecretPart@redis:6379', 'redis//user:Pw@Secret@Part@redis:6379']) {
      const { code, output } = await runGateway({ SANDBOX: 'true', CALLER_AUTH: 'none', CACHE_URL: cacheUrl, TOKEN_CACHE_KEY: 'a token cache key 0123' });
      expect(code).toBe(2);
      expect(output).toMatch(/CACHE_URL=".*\[redacted\]@redis:6379" is not valid/);
      expect(output).not.toContain('Secret');
      expect(output).not.toContain('Pw');
    }
  }, 60_000);

  it('still quotes what cannot be a secret: a mistyped GUID, a key name with a good hash, a misspelt permission', () => {
    expect(problemsOf({ ...tenant, AZURE_CLIENT_ID: '0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2' })).toContainEqual(
      expect.stringMatching(/^AZURE_CLIENT_ID="0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2" is not valid/),
    );
    expect(problemsOf({ CALLER_AUTH: 'api-key', API_KEYS: `bot:${hashApiKey('k')}:Users.Fly` })[0]).toMatch(
      /^API_KEYS entry "bot" names an unknown permission "Users.Fly"/,
    );
    expect(problemsOf({ CALLER_AUTH: 'api-key', API_KEYS: `bot:${hashApiKey('k')}:${RAW_KEY}` })[0]).toMatch(/unknown permission \(not shown\)/);
  });
});
