import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LRUCache } from 'lru-cache';

/**
 * AES-256-GCM sealing of everything the token cache persists, each value bound to the record it
 * is stored under. The format is versioned: `v2.` + base64url(nonce ‖ ciphertext ‖ tag), the record's
 * storage key (`<identity>:<record>`) as GCM's additional authenticated data, so a value moved to
 * another record or another identity's record (by whoever can write the Redis or the SQLite file
 * without knowing the key) no longer opens (docs/security.md#tokens-at-rest).
 *
 * `v1.` values (before 2026-12; no associated data) still open, wherever they are found: records a
 * gateway wrote before the upgrade are read until they are next written, in the new format, and an
 * upgraded replica reads what older ones still write (an older one cannot read `v2.`: finish a
 * rolling upgrade promptly). Ending the old format for good is a key rotation after the upgrade: what
 * v1 sealed then opens only with TOKEN_CACHE_KEY_PREVIOUS, and with it removed, not at all
 * (docs/operations.md#upgrading-the-token-cache-format).
 *
 * Key rotation (docs/operations.md#rotating-keys): values are always sealed with the current key;
 * they open with the current key or, while TOKEN_CACHE_KEY_PREVIOUS is set, with the previous one.
 * GCM's tag is what tells the keys apart: a value opens only with the key that sealed it.
 *
 * The same sealing serves paging cursors and change-feed tokens (src/graphql/cursor.ts, handed this
 * function by src/gateway.ts), with keys derived from CURSOR_KEY and `purpose: 'cursor'`: one
 * implementation of nonce, tag, record binding and previous key for both.
 */
export interface TokenCipher {
  /** `record`: the storage key the value is written under; it has to be the same to open it. */
  seal(plaintext: string, record: string): string;
  /** Throws TokenCacheDecryptError when no key opens it (wrong key, another record's value, or tampered with). */
  open(sealed: string, record: string): string;
  /** `open`, and how the value was sealed: what a start-up check counts, with one decryption per key tried. */
  inspect(sealed: string, record: string): OpenedValue;
}

export interface OpenedValue {
  plaintext: string;
  /** True when the value opens only with the previous key: it should be sealed again with the current one. */
  sealedWithPreviousKey: boolean;
  /** True for a value in the format before records were bound (`v1.`): it should be sealed again. */
  inLegacyFormat: boolean;
}

export class TokenCacheDecryptError extends Error {
  constructor(message = 'token cache value does not decrypt with the configured key') {
    super(message);
    this.name = 'TokenCacheDecryptError';
  }
}

const FORMAT = 'v2.';
const LEGACY_FORMAT = 'v1.';
/**
 * What the associated data of a `v2.` value starts with: the purpose, then the record (for the token
 * cache its storage key). The purpose keeps a value sealed for one use from opening as another's,
 * even under the same key.
 */
const associatedDataPrefix = (purpose: string) => `msgraph-user-gateway/${purpose}/v2:`;
const TOKEN_CACHE_PURPOSE = 'token-cache';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
// A fixed, purpose-bound salt: the derived key must be reproducible from TOKEN_CACHE_KEY alone
// (several replicas, restarts), and scrypt's cost still makes guessing a weak passphrase slow.
const KDF_SALT = 'msgraph-user-gateway/token-cache/v1';

/**
 * The last derivations: a process derives from one TOKEN_CACHE_KEY twice at start-up (the token
 * store, and the sign-in link key built on it: src/identity/sign-in-link.ts), from the previous key
 * once more during a rotation, and scrypt costs ~100 ms of blocked event loop each time.
 */
const derived = new LRUCache<string, Buffer>({ max: 2 });

/** Derives the 32-byte AES key from TOKEN_CACHE_KEY (any string; a passphrase is acceptable). */
export function deriveTokenCacheKey(secret: string): Buffer {
  if (secret.length === 0) throw new Error('TOKEN_CACHE_KEY must not be empty');
  let key = derived.get(secret);
  if (!key) {
    key = scryptSync(secret, KDF_SALT, 32, { N: 2 ** 14, r: 8, p: 1 });
    derived.set(secret, key);
  }
  // A copy: callers own their Buffer.
  return Buffer.from(key);
}

export interface TokenCipherOptions {
  /** What the values are for, bound into every value's associated data; `token-cache` unless said (what stored values were sealed with). */
  purpose?: string;
}

/** `previousKey`: while a rotation is under way, values sealed with it still open (never sealed with it). */
export function createTokenCipher(key: Buffer, previousKey?: Buffer, options: TokenCipherOptions = {}): TokenCipher {
  for (const k of previousKey ? [key, previousKey] : [key]) if (k.length !== 32) throw new Error(`token cache key must be 32 bytes, got ${k.length}`);
  const prefix = associatedDataPrefix(options.purpose ?? TOKEN_CACHE_PURPOSE);
  const associatedData = (record: string): Buffer => Buffer.from(prefix + record, 'utf8');
  const unseal = (sealed: string, record: string, withKey: Buffer): string | undefined => {
    const legacy = sealed.startsWith(LEGACY_FORMAT);
    if (!legacy && !sealed.startsWith(FORMAT))
      throw new TokenCacheDecryptError('token cache value is not in the encrypted format (written without encryption?)');
    const raw = Buffer.from(sealed.slice((legacy ? LEGACY_FORMAT : FORMAT).length), 'base64url');
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw new TokenCacheDecryptError('token cache value is truncated');
    const nonce = raw.subarray(0, NONCE_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', withKey, nonce);
      if (!legacy) decipher.setAAD(associatedData(record));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  };
  return {
    seal(plaintext, record) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(associatedData(record));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return FORMAT + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
    },
    open(sealed, record) {
      return inspect(sealed, record).plaintext;
    },
    inspect,
  };

  function inspect(sealed: string, record: string): OpenedValue {
    const inLegacyFormat = sealed.startsWith(LEGACY_FORMAT);
    const withCurrentKey = unseal(sealed, record, key);
    if (withCurrentKey !== undefined) return { plaintext: withCurrentKey, sealedWithPreviousKey: false, inLegacyFormat };
    const withPreviousKey = previousKey ? unseal(sealed, record, previousKey) : undefined;
    if (withPreviousKey === undefined) throw new TokenCacheDecryptError();
    return { plaintext: withPreviousKey, sealedWithPreviousKey: true, inLegacyFormat };
  }
}

/**
 * Where the AES key comes from: TOKEN_CACHE_KEY when set; a random per-process key when nothing
 * is persisted (memory store: tokens die with the process anyway); in sandbox mode a generated key
 * kept beside the cache in the data directory. A persisted production cache without a key is a
 * configuration error: a key stored next to the data it protects protects nothing.
 */
export function resolveTokenCacheKey(input: {
  tokenCacheKey?: string;
  previousTokenCacheKey?: string;
  persisted: boolean;
  sandbox: boolean;
  dataDir: string;
}): {
  key: Buffer;
  /** TOKEN_CACHE_KEY_PREVIOUS, derived: only with a configured key (a rotation is an operator's act). */
  previousKey?: Buffer;
  source: 'configured' | 'ephemeral' | 'sandbox-key-file';
} {
  if (input.tokenCacheKey !== undefined) {
    const key = deriveTokenCacheKey(input.tokenCacheKey);
    if (input.previousTokenCacheKey === undefined) return { key, source: 'configured' };
    return { key, previousKey: deriveTokenCacheKey(input.previousTokenCacheKey), source: 'configured' };
  }
  if (!input.persisted) return { key: randomBytes(32), source: 'ephemeral' };
  if (!input.sandbox) {
    throw new Error(
      'TOKEN_CACHE_KEY is required: the token cache is persisted (SQLite or Redis) and must be encrypted at rest. ' +
        'Set TOKEN_CACHE_KEY to a long random string (for example `openssl rand -base64 32`), the same on every replica.',
    );
  }
  const file = sandboxKeyFile(input.dataDir);
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process created it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  chmodSync(file, 0o600);
  return { key: deriveTokenCacheKey(readFileSync(file, 'utf8').trim()), source: 'sandbox-key-file' };
}

export function sandboxKeyFile(dataDir: string): string {
  return path.join(dataDir, 'token-cache.key');
}
