import { EventEmitter } from 'node:events';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import type { DistributedLock } from './lock.js';

/**
 * A Keyv store adapter over better-sqlite3, written here instead of using @keyv/sqlite because
 * @keyv/sqlite depends on the `sqlite3` package, whose install step downloads prebuilt binaries
 * from the internet (not allowed in our builds); better-sqlite3 is already a dependency.
 *
 * The same file also holds the refresh locks (`locks` table): SQLite's own file locking makes the
 * "insert unless held and unexpired" statement atomic across every process opening the file.
 */
export class SqliteKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  opts: { dialect: 'sqlite'; url: string };
  namespace?: string | undefined;
  readonly file: string;
  private readonly db: Database.Database;

  constructor(file: string) {
    super();
    this.file = path.resolve(file);
    // The file holds (encrypted) refresh tokens: owner-only, like ~/.ssh. Directories we create
    // are 0700; an existing directory is the operator's choice and is left alone.
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    // Created 0600 before SQLite opens it; SQLite gives the -wal and -shm files the mode of the
    // database file. A file left 0644 by an older version is tightened.
    closeSync(openSync(this.file, 'a', 0o600));
    chmodSync(this.file, 0o600);
    this.opts = { dialect: 'sqlite', url: `sqlite://${this.file}` };
    this.db = new Database(this.file);
    try {
      // WAL lets readers in other processes proceed while one writes; busy_timeout waits out a writer.
      this.db.pragma('journal_mode = WAL');
      for (const suffix of ['-wal', '-shm']) if (existsSync(this.file + suffix)) chmodSync(this.file + suffix, 0o600);
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS keyv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires INTEGER);
        CREATE TABLE IF NOT EXISTS locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires INTEGER NOT NULL);
      `);
    } catch (error) {
      // A full disk fails here, after the open: no handle is left behind for the caller's error path.
      this.db.close();
      throw error;
    }
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const row = this.db.prepare('SELECT value, expires FROM keyv WHERE key = ?').get(key) as { value: string; expires: number | null } | undefined;
    if (!row) return undefined;
    if (row.expires !== null && row.expires <= Date.now()) {
      this.db.prepare('DELETE FROM keyv WHERE key = ?').run(key);
      return undefined;
    }
    return row.value as StoredData<Value>;
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const expires = typeof ttl === 'number' && ttl > 0 ? Date.now() + ttl : null;
    this.db
      .prepare('INSERT INTO keyv (key, value, expires) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires = excluded.expires')
      .run(key, typeof value === 'string' ? value : JSON.stringify(value), expires);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM keyv WHERE key = ?').run(key).changes > 0;
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async clear(): Promise<void> {
    if (this.namespace) this.db.prepare("DELETE FROM keyv WHERE key LIKE ? ESCAPE '\\'").run(`${escapeLike(this.namespace)}:%`);
    else this.db.exec('DELETE FROM keyv');
  }

  async disconnect(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** The refresh lock stored in the same file. */
  readonly lock: DistributedLock = {
    tryAcquire: async (name, owner, ttlMs) => {
      const now = Date.now();
      const result = this.db
        .prepare(
          'INSERT INTO locks (name, owner, expires) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires WHERE locks.expires <= ?',
        )
        .run(name, owner, now + ttlMs, now);
      return result.changes > 0;
    },
    release: async (name, owner) => {
      this.db.prepare('DELETE FROM locks WHERE name = ? AND owner = ?').run(name, owner);
    },
  };
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
