import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTokenCipher, deriveTokenCacheKey, resolveTokenCacheKey, sandboxKeyFile, TokenCacheDecryptError } from '../../src/store/index.js';

describe('token cache encryption', () => {
  const cipher = createTokenCipher(deriveTokenCacheKey('k1'));

  it('seals with a fresh nonce each time and opens again', () => {
    const a = cipher.seal('hello');
    const b = cipher.seal('hello');
    expect(a).not.toBe(b);
    expect(cipher.open(a)).toBe('hello');
    expect(a).not.toContain('hello');
  });

  it('rejects a wrong key, tampering and plaintext', () => {
    const sealed = cipher.seal('hello');
    expect(() => createTokenCipher(deriveTokenCacheKey('k2')).open(sealed)).toThrow(TokenCacheDecryptError);
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[14] = raw[14]! ^ 1;
    expect(() => cipher.open(`v1.${raw.toString('base64url')}`)).toThrow(TokenCacheDecryptError);
    expect(() => cipher.open('{"plain":"json"}')).toThrow(/not in the encrypted format/);
  });

  it('during a rotation opens what the previous key sealed, seals only with the current key', () => {
    const oldKey = deriveTokenCacheKey('old key of the rotation');
    const newKey = deriveTokenCacheKey('new key of the rotation');
    const sealedBefore = createTokenCipher(oldKey).seal('refresh token');
    const rotating = createTokenCipher(newKey, oldKey);
    expect(rotating.open(sealedBefore)).toBe('refresh token');
    expect(rotating.sealedWithPreviousKey(sealedBefore)).toBe(true);
    const sealedNow = rotating.seal('refresh token');
    expect(rotating.sealedWithPreviousKey(sealedNow)).toBe(false);
    // Sealed with the new key alone: the old key does not open it, the new one alone does.
    expect(createTokenCipher(newKey).open(sealedNow)).toBe('refresh token');
    expect(() => createTokenCipher(oldKey).open(sealedNow)).toThrow(TokenCacheDecryptError);
    // Without the previous key the old value stays closed; a third key opens nothing.
    expect(() => createTokenCipher(newKey).open(sealedBefore)).toThrow(TokenCacheDecryptError);
    expect(() => createTokenCipher(deriveTokenCacheKey('a third key'), newKey).open(sealedBefore)).toThrow(TokenCacheDecryptError);
    // Tampering is refused whichever key is tried.
    const raw = Buffer.from(sealedBefore.slice(3), 'base64url');
    raw[14] = raw[14]! ^ 1;
    expect(() => rotating.open(`v1.${raw.toString('base64url')}`)).toThrow(TokenCacheDecryptError);
    expect(
      resolveTokenCacheKey({
        tokenCacheKey: 'new key of the rotation',
        previousTokenCacheKey: 'old key of the rotation',
        persisted: true,
        sandbox: false,
        dataDir: '/nonexistent',
      }).previousKey!.equals(oldKey),
    ).toBe(true);
  });

  it('needs TOKEN_CACHE_KEY for a persisted production cache, generates a kept key in sandbox mode', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mgug-key-'));
    try {
      expect(() => resolveTokenCacheKey({ persisted: true, sandbox: false, dataDir: dir })).toThrow(/TOKEN_CACHE_KEY is required/);
      expect(resolveTokenCacheKey({ persisted: false, sandbox: false, dataDir: dir }).source).toBe('ephemeral');
      const first = resolveTokenCacheKey({ persisted: true, sandbox: true, dataDir: dir });
      const second = resolveTokenCacheKey({ persisted: true, sandbox: true, dataDir: dir });
      expect(first.source).toBe('sandbox-key-file');
      expect(first.key.equals(second.key)).toBe(true);
      expect(statSync(sandboxKeyFile(dir)).mode & 0o777).toBe(0o600);
      expect(readFileSync(sandboxKeyFile(dir), 'utf8').length).toBeGreaterThan(40);
      expect(resolveTokenCacheKey({ tokenCacheKey: 'x', persisted: true, sandbox: false, dataDir: dir }).source).toBe('configured');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
