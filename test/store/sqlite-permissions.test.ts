import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteKeyvStore } from '../../src/store/sqlite-keyv-store.js';

/**
 * The SQLite token cache holds (encrypted) refresh tokens: owner-only files, and an owner-only
 * directory where the gateway creates it. Before the fix the file was 0644 under the usual umask.
 */
const mode = (file: string) => statSync(file).mode & 0o777;

describe('SQLite token cache file permissions', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'mgug-perm-'));
  let umask: number;
  const stores: SqliteKeyvStore[] = [];
  beforeAll(() => {
    // The common default, under which files are created 0644 unless asked otherwise.
    umask = process.umask(0o022);
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.disconnect();
  });
  afterAll(() => {
    process.umask(umask);
    rmSync(root, { recursive: true, force: true });
  });

  it('creates the file, its -wal and -shm files 0600 and the directories it creates 0700', async () => {
    const file = path.join(root, 'new', 'nested', 'tokens.sqlite');
    const store = new SqliteKeyvStore(file);
    stores.push(store);
    await store.set('k', 'v');
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}-wal`)).toBe(0o600);
    expect(mode(`${file}-shm`)).toBe(0o600);
    expect(mode(path.join(root, 'new'))).toBe(0o700);
    expect(mode(path.join(root, 'new', 'nested'))).toBe(0o700);
    expect(await store.get('k')).toBe('v');
  });

  it('tightens a file an older version left 0644, and leaves an existing directory alone', async () => {
    const dir = path.join(root, 'existing');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { mode: 0o755 });
    const file = path.join(dir, 'tokens.sqlite');
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    const store = new SqliteKeyvStore(file);
    stores.push(store);
    await store.set('k', 'v');
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}-wal`)).toBe(0o600);
    expect(mode(dir)).toBe(0o755);
  });
});
