import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { capturingLogger } from '../support/log-capture.js';
import { loadSandboxConfig } from '../support/sandbox-config.js';
import { apiKeyCallers } from '../support/api-key-callers.js';

/**
 * Rotating TOKEN_CACHE_KEY and CURSOR_KEY (docs/operations.md#rotating-keys) through the production
 * configuration, with the token cache in a SQLite file: with the old keys in *_PREVIOUS, the
 * gateway starts on the old cache without a new token request and accepts the cursors and delta
 * tokens the old key signed; without them, the old cache is a clear start-up error and old cursors
 * are refused.
 */
const KEY = 'rotation-test-api-key-0123';
const TOKEN_KEY_OLD = 'token cache key before the rotation';
const TOKEN_KEY_NEW = 'token cache key after the rotation';
const CURSOR_KEY_OLD = randomBytes(32).toString('base64');
const CURSOR_KEY_NEW = randomBytes(32).toString('base64');

const PAGE = 'query($after: String) { users(first: 2, after: $after) { nodes { id } pageInfo { endCursor } } }';
const CHANGES = 'query($t: String) { userChanges(deltaToken: $t) { changed { id } nextDeltaToken } }';

describe('key rotation', () => {
  let emulator: TestEmulator;
  let dataDir: string;
  const apps: App[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator({ userCount: 12 });
    dataDir = mkdtempSync(path.join(tmpdir(), 'mgug-rotation-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await emulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async (keys: Record<string, string>, logLines: string[] = []) => {
    const config = loadSandboxConfig(emulator, {
      NODE_ENV: 'production',
      CACHE_URL: `sqlite://${path.join(dataDir, 'tokens.sqlite')}`,
      GRAPH_AUTH_FLOW: 'client-credentials',
      ...apiKeyCallers({ soar: { key: KEY, permissions: ['Users.Read', 'Users.ReadChanges'] } }),
      ...keys,
    });
    const app = await startApp(config, { emulator, logger: capturingLogger(logLines, 'info') });
    apps.push(app);
    return app;
  };
  const graphql = async <T>(app: App, query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.text();
    expect(res.status, body).toBe(200);
    return JSON.parse(body) as { data?: T; errors?: Array<{ message: string; extensions: { code: string } }> };
  };
  const stop = async (app: App) => {
    await app.close();
    apps.splice(apps.indexOf(app), 1);
  };

  it('keeps the token cache, cursors and delta tokens across the rotation, and only while the previous keys are set', { timeout: 60_000 }, async () => {
    // Before: the old keys. The Graph token lands in the SQLite cache, sealed with the old key.
    const before = await start({ TOKEN_CACHE_KEY: TOKEN_KEY_OLD, CURSOR_KEY: CURSOR_KEY_OLD });
    const page = await graphql<{ users: { pageInfo: { endCursor: string } } }>(before, PAGE);
    expect(page.errors).toBeUndefined();
    const oldCursor = page.data!.users.pageInfo.endCursor;
    const sync = await graphql<{ userChanges: { nextDeltaToken: string } }>(before, CHANGES);
    expect(sync.errors).toBeUndefined();
    const oldDeltaToken = sync.data!.userChanges.nextDeltaToken;
    await stop(before);

    // The new keys alone: the cache sealed with the old key stops the start, naming the way out.
    await expect(start({ TOKEN_CACHE_KEY: TOKEN_KEY_NEW, CURSOR_KEY: CURSOR_KEY_NEW })).rejects.toThrow(
      /TOKEN_CACHE_KEY does not decrypt the existing token cache/,
    );

    // During the rotation: the cached Graph token is used (no token request), old cursors work.
    await emulator.resetStats();
    const rotationLog: string[] = [];
    const rotating = await start(
      { TOKEN_CACHE_KEY: TOKEN_KEY_NEW, TOKEN_CACHE_KEY_PREVIOUS: TOKEN_KEY_OLD, CURSOR_KEY: CURSOR_KEY_NEW, CURSOR_KEY_PREVIOUS: CURSOR_KEY_OLD },
      rotationLog,
    );
    expect(rotationLog.join('\n')).toMatch(/TOKEN_CACHE_KEY rotation: 1 token record\(s\) still open only with TOKEN_CACHE_KEY_PREVIOUS/);
    const next = await graphql<{ users: { nodes: unknown[]; pageInfo: { endCursor: string } } }>(rotating, PAGE, { after: oldCursor });
    expect(next.errors).toBeUndefined();
    expect(next.data!.users.nodes).toHaveLength(2);
    const newCursor = next.data!.users.pageInfo.endCursor;
    const changes = await graphql<{ userChanges: { nextDeltaToken: string } }>(rotating, CHANGES, { t: oldDeltaToken });
    expect(changes.errors).toBeUndefined();
    expect((await emulator.stats()).tokenRequests).toBe(0);
    for (const line of rotationLog) for (const secret of [TOKEN_KEY_OLD, TOKEN_KEY_NEW, CURSOR_KEY_OLD, CURSOR_KEY_NEW]) expect(line).not.toContain(secret);
    await stop(rotating);

    // Without CURSOR_KEY_PREVIOUS: what the old cursor key signed is refused, the new key's is not.
    const cursorRotated = await start({ TOKEN_CACHE_KEY: TOKEN_KEY_NEW, TOKEN_CACHE_KEY_PREVIOUS: TOKEN_KEY_OLD, CURSOR_KEY: CURSOR_KEY_NEW });
    const refused = await graphql(cursorRotated, PAGE, { after: oldCursor });
    expect(refused.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
    const accepted = await graphql(cursorRotated, PAGE, { after: newCursor });
    expect(accepted.errors).toBeUndefined();
  });
});
