import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import type { Config } from '../../src/config-types.js';
import { graphIdentityId } from '../../src/identity/identity-id.js';
import { createKeyvStore, createTokenCipher, deriveTokenCacheKey } from '../../src/store/index.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { capturingLogger } from '../support/log-capture.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { sealInLegacyFormat } from '../store/legacy-format.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * Upgrading a gateway whose token cache an older version wrote, values not yet bound to their
 * record (docs/operations.md#upgrading-the-token-cache-format), through the production
 * configuration with the cache in a SQLite file: the upgraded gateway starts on the old records,
 * says how many are in the old format, and serves with the cached Graph token (no token request).
 */
const KEY = 'format-test-api-key-0123';
const TOKEN_CACHE_KEY = 'token cache key of the upgrade test';
const QUERY = '{ users(first: 2) { nodes { id } } }';

describe('token cache format upgrade', () => {
  let emulator: TestEmulator;
  let dataDir: string;
  const apps: App[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 6 });
    dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-format-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await emulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const configOf = (): Config =>
    loadSandboxConfig(emulator, {
      NODE_ENV: 'production',
      CACHE_URL: `sqlite://${path.join(dataDir, 'tokens.sqlite')}`,
      GRAPH_AUTH_FLOW: 'client-credentials',
      ...apiKeyCallers({ soar: { key: KEY, permissions: ['Users.Read'] } }),
      TOKEN_CACHE_KEY,
    });
  const query = async (app: App) => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ query: QUERY }),
    });
    const body = (await res.json()) as { data?: { users: { nodes: unknown[] } }; errors?: unknown[] };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data!.users.nodes).toHaveLength(2);
  };

  it('starts on records in the old format, counts them and uses the cached token', { timeout: 60_000 }, async () => {
    const config = configOf();
    const first = await startApp(config, { emulator, logger: capturingLogger([], 'info') });
    apps.push(first);
    await query(first);
    // The identity as the running gateway has it (the sandbox fills in the emulator's app).
    const identityId = graphIdentityId(first.config);
    await first.close();
    apps.splice(apps.indexOf(first), 1);

    // What an older gateway would have left: the same records, sealed without their record.
    const key = deriveTokenCacheKey(TOKEN_CACHE_KEY);
    const cipher = createTokenCipher(key);
    const backend = await createKeyvStore(config.cache, { dataDir: config.dataDir, keepsRefreshToken: false });
    for (const record of ['key-check', 'msal-cache']) {
      const storageKey = `${identityId}:${record}`;
      const sealed = (await backend.keyv.get(storageKey)) as string;
      expect(sealed, record).toMatch(/^v2\./);
      await backend.keyv.set(storageKey, sealInLegacyFormat(key, cipher.open(sealed, storageKey)));
    }
    await backend.close();

    await emulator.resetStats();
    const log: string[] = [];
    const upgraded = await startApp(configOf(), { emulator, logger: capturingLogger(log, 'info') });
    apps.push(upgraded);
    expect(log.join('\n')).toMatch(/token cache: 1 token record\(s\) in the format before records were bound \(v1\)/);
    await query(upgraded);
    expect((await emulator.stats()).tokenRequests).toBe(0);
    for (const line of log) expect(line).not.toContain(TOKEN_CACHE_KEY);

    const after = await createKeyvStore(config.cache, { dataDir: config.dataDir, keepsRefreshToken: false });
    expect(await after.keyv.get(`${identityId}:key-check`)).toMatch(/^v2\./);
    await after.close();
  });
});
