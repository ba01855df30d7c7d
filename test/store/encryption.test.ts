import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTokenCipher, deriveTokenCacheKey, resolveTokenCacheKey, sandboxKeyFile, TokenCacheDecryptError } from '../../src/store/index.js';
import { sealInLegacyFormat } from './legacy-format.js';

describe('token cache encryption', () => {
  const cipher = createTokenCipher(deriveTokenCacheKey('k1'));
  const record = 'id-a:msal-cache';

  it('seals with a fresh nonce each time, bound to its record, and opens again', () => {
    const a = cipher.seal('hello', record);
    const b = cipher.seal('hello', record);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v2\./);
    expect(cipher.open(a, record)).toBe('hello');
    expect(a).not.toContain('hello');
    expect(cipher.inspect(a, record)).toEqual({ plaintext: 'hello', sealedWithPreviousKey: false, inLegacyFormat: false });
  });

  it('rejects a wrong key, tampering and plaintext', () => {
    const sealed = cipher.seal('hello', record);
    expect(() => createTokenCipher(deriveTokenCacheKey('k2')).open(sealed, record)).toThrow(TokenCacheDecryptError);
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[14] = raw[14]! ^ 1;
    expect(() => cipher.open(`v2.${raw.toString('base64url')}`, record)).toThrow(TokenCacheDecryptError);
    expect(() => cipher.open('{"plain":"json"}', record)).toThrow(/not in the encrypted format/);
  });

  it("refuses a value moved to another record or another identity's record, with the right key", () => {
    const refreshToken = cipher.seal('refresh token of identity a', 'id-a:broker-refresh-token');
    expect(() => cipher.open(refreshToken, 'id-b:broker-refresh-token')).toThrow(TokenCacheDecryptError);
    expect(() => cipher.open(refreshToken, 'id-a:msal-cache')).toThrow(TokenCacheDecryptError);
    expect(() => cipher.open(refreshToken, 'id-a:short-lived:sign-in')).toThrow(TokenCacheDecryptError);
    // Relabelled as the old format (which had no record binding): the tag does not verify either.
    expect(() => cipher.open(`v1.${refreshToken.slice(3)}`, 'id-b:broker-refresh-token')).toThrow(TokenCacheDecryptError);
    expect(cipher.open(refreshToken, 'id-a:broker-refresh-token')).toBe('refresh token of identity a');
  });

  it('binds the purpose too: a value sealed for one (cursors, src/graphql/cursor.ts) does not open as another, under the same key', () => {
    const key = deriveTokenCacheKey('k1');
    const forCursors = createTokenCipher(key, undefined, { purpose: 'cursor' });
    const sealed = forCursors.seal('payload', record);
    expect(forCursors.open(sealed, record)).toBe('payload');
    expect(() => cipher.open(sealed, record)).toThrow(TokenCacheDecryptError);
    expect(() => forCursors.open(cipher.seal('payload', record), record)).toThrow(TokenCacheDecryptError);
    // No purpose named is the token cache's, as before (what stores already hold keeps opening).
    expect(createTokenCipher(key, undefined, { purpose: 'token-cache' }).open(cipher.seal('payload', record), record)).toBe('payload');
  });

  it('opens what a gateway before the bound format sealed (v1), and tells it apart', () => {
    const key = deriveTokenCacheKey('k1');
    const legacy = sealInLegacyFormat(key, 'written before the upgrade');
    expect(cipher.open(legacy, record)).toBe('written before the upgrade');
    expect(cipher.open(legacy, 'any:record')).toBe('written before the upgrade');
    expect(cipher.inspect(legacy, record)).toEqual({ plaintext: 'written before the upgrade', sealedWithPreviousKey: false, inLegacyFormat: true });
    expect(() => createTokenCipher(deriveTokenCacheKey('k2')).open(legacy, record)).toThrow(TokenCacheDecryptError);
    // After a rotation, a v1 value opens only while the key that sealed it is the previous key.
    const rotated = createTokenCipher(deriveTokenCacheKey('k2'), key);
    expect(rotated.open(legacy, record)).toBe('written before the upgrade');
    expect(rotated.inspect(legacy, record)).toEqual({ plaintext: 'written before the upgrade', sealedWithPreviousKey: true, inLegacyFormat: true });
  });

  it('during a rotation opens what the previous key sealed, seals only with the current key', () => {
    const oldKey = deriveTokenCacheKey('old key of the rotation');
    const newKey = deriveTokenCacheKey('new key of the rotation');
    const sealedBefore = createTokenCipher(oldKey).seal('refresh token', record);
    const rotating = createTokenCipher(newKey, oldKey);
    expect(rotating.open(sealedBefore, record)).toBe('refresh token');
    expect(rotating.inspect(sealedBefore, record).sealedWithPreviousKey).toBe(true);
    const sealedNow = rotating.seal('refresh token', record);
    expect(rotating.inspect(sealedNow, record).sealedWithPreviousKey).toBe(false);
    expect(() => rotating.inspect(sealedBefore, 'id-b:msal-cache')).toThrow(TokenCacheDecryptError);
    // Sealed with the new key alone: the old key does not open it, the new one alone does.
    expect(createTokenCipher(newKey).open(sealedNow, record)).toBe('refresh token');
    expect(() => createTokenCipher(oldKey).open(sealedNow, record)).toThrow(TokenCacheDecryptError);
    // Without the previous key the old value stays closed; a third key opens nothing.
    expect(() => createTokenCipher(newKey).open(sealedBefore, record)).toThrow(TokenCacheDecryptError);
    expect(() => createTokenCipher(deriveTokenCacheKey('a third key'), newKey).open(sealedBefore, record)).toThrow(TokenCacheDecryptError);
    // Neither key opens the previous key's value under another record.
    expect(() => rotating.open(sealedBefore, 'id-b:msal-cache')).toThrow(TokenCacheDecryptError);
    // Tampering is refused whichever key is tried.
    const raw = Buffer.from(sealedBefore.slice(3), 'base64url');
    raw[14] = raw[14]! ^ 1;
    expect(() => rotating.open(`v2.${raw.toString('base64url')}`, record)).toThrow(TokenCacheDecryptError);
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
