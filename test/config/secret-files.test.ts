import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { hashApiKey, loadConfig } from '../../src/config.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { problemsOf } from '../support/config-problems.js';

/**
 * `NAME_FILE` for each secret (docs/configuration.md#secrets-in-files): Docker and Kubernetes secrets
 * mounted as files. Real files in a temporary directory; the problems name the variable and the
 * path, never what the file holds.
 */
const tenantCredentials = {
  AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  AZURE_CLIENT_ID: '0b4c2f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f',
  CALLER_AUTH: 'none',
};

describe('secrets in files', () => {
  let dir: string;
  const file = (name: string, content: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, content, { mode: 0o600 });
    return p;
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mgug-secret-files-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads each secret from the file its _FILE variable names, trimmed of the final newline', () => {
    const cursorKey = Buffer.alloc(32, 7).toString('base64');
    const config = loadConfig({
      ...tenantCredentials,
      AZURE_CLIENT_SECRET_FILE: file('client-secret', 'client-secret-from-a-file\n'),
      TOKEN_CACHE_KEY_FILE: file('token-cache-key', 'token cache key from a file\n'),
      CURSOR_KEY_FILE: file('cursor-key', `${cursorKey}\n`),
      CACHE_URL_FILE: file('cache-url', 'redis://:pass-in-a-file@127.0.0.1:6379\n'),
    });
    expect(config.selfDeployed?.credential).toMatchObject({ kind: 'secret' });
    expect(config.selfDeployed?.credential.kind === 'secret' && config.selfDeployed.credential.secret.reveal()).toBe('client-secret-from-a-file');
    expect(config.tokenCacheKey?.reveal()).toBe('token cache key from a file');
    expect(config.cursorKey?.reveal()).toBe(cursorKey);
    expect(config.cache).toEqual({ kind: 'redis', url: 'redis://:pass-in-a-file@127.0.0.1:6379' });
  });

  it('refuses a secret set both ways, a missing, empty or oversized file, naming the path and never the content', () => {
    const both = problemsOf({ ...tenantCredentials, AZURE_CLIENT_SECRET: 'in-the-env', AZURE_CLIENT_SECRET_FILE: file('s1', 'in-the-file') });
    expect(both).toContainEqual(expect.stringMatching(/^AZURE_CLIENT_SECRET and AZURE_CLIENT_SECRET_FILE are both set/));

    const missing = path.join(dir, 'no-such-file');
    const [missingProblem] = problemsOf({ TOKEN_CACHE_KEY_FILE: missing });
    expect(missingProblem).toBe(`TOKEN_CACHE_KEY_FILE=${JSON.stringify(missing)} cannot be read (ENOENT): it should name a file holding TOKEN_CACHE_KEY`);

    expect(problemsOf({ TOKEN_CACHE_KEY_FILE: file('empty', '\n') })[0]).toMatch(/^TOKEN_CACHE_KEY_FILE=".*empty" names an empty file/);

    const large = 'k'.repeat(70_000);
    const oversized = problemsOf({ CALLER_AUTH: 'api-key', API_KEYS_FILE: file('large', large) });
    expect(oversized[0]).toMatch(/^API_KEYS_FILE=".*large" cannot be read \(the file holds 70000 bytes, more than a secret/);
    expect(oversized.join('\n')).not.toContain('kkkk');

    // A file the key rules refuse: the problem is the variable's own, without the value.
    const short = problemsOf({ CURSOR_KEY_FILE: file('short-cursor-key', 'c2hvcnQtc2VjcmV0') });
    expect(short[0]).toMatch(/^CURSOR_KEY is too short/);
    expect(short.join('\n')).not.toContain('c2hvcnQtc2VjcmV0');
  });

  describe('through the production configuration', () => {
    let emulator: TestEmulator;
    let app: App | undefined;
    const KEY = 'api-key-kept-in-a-secret-file-01';

    beforeAll(async () => {
      emulator = await startTestEmulator({ userCount: 5 });
    }, 60_000);
    afterAll(async () => {
      await app?.close();
      await emulator?.close();
    });

    it('serves the callers of API_KEYS_FILE', async () => {
      app = await startApp(
        loadSandboxConfig(emulator, {
          NODE_ENV: 'production',
          GRAPH_AUTH_FLOW: 'client-credentials',
          CALLER_AUTH: 'api-key',
          API_KEYS_FILE: file('api-keys', `soar:${hashApiKey(KEY)}:Users.Read\n`),
        }),
        { emulator },
      );
      const ask = (key: string) =>
        fetch(`${app!.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': key },
          body: JSON.stringify({ query: '{ users(first: 1) { nodes { id } } }' }),
        });
      const ok = await ask(KEY);
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { data: { users: { nodes: unknown[] } } }).data.users.nodes).toHaveLength(1);
      expect((await ask('not-the-key-0000000000000000')).status).toBe(401);
    });
  });
});
