import { describe, expect, it } from 'vitest';
import { TokenSigner } from '../../src/emulator/keys.js';

/**
 * The emulator keeps tokens it has verified (src/emulator/keys.ts), so a client that sends one token
 * for an hour costs one RSA verification. What jose would refuse must stay refused after a hit.
 */
describe('TokenSigner.verify with verified tokens kept', () => {
  const expected = { issuer: 'https://issuer.example/', audience: 'https://graph.microsoft.com' };
  const start = Date.UTC(2026, 11, 1, 12, 0, 0);

  it('accepts a token again while its time claims hold, and refuses it once it has expired', async () => {
    const signer = await TokenSigner.create();
    const token = await signer.sign({ iss: expected.issuer, aud: expected.audience, oid: 'a' }, 3600, start / 1000);
    expect((await signer.verify(token, expected, start)).oid).toBe('a');
    expect((await signer.verify(token, expected, start + 60_000)).oid).toBe('a');
    // 3600 s later plus the 5 s tolerance: jose's ERR_JWT_EXPIRED, as on a first verification.
    await expect(signer.verify(token, expected, start + 3_606_000)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
  });

  it('refuses a token verified under one audience when another is expected', async () => {
    const signer = await TokenSigner.create();
    const token = await signer.sign({ iss: expected.issuer, aud: expected.audience }, 3600, start / 1000);
    await signer.verify(token, expected, start);
    await expect(signer.verify(token, { ...expected, audience: 'api://other' }, start)).rejects.toMatchObject({ claim: 'aud' });
    await expect(signer.verify(token, { ...expected, issuer: 'https://other.example/' }, start)).rejects.toMatchObject({ claim: 'iss' });
  });

  it('refuses an altered token and one signed by another key, however often the genuine one was seen', async () => {
    const signer = await TokenSigner.create();
    const stranger = await TokenSigner.create();
    const token = await signer.sign({ iss: expected.issuer, aud: expected.audience, roles: ['User.Read.All'] }, 3600, start / 1000);
    await signer.verify(token, expected, start);
    const [header, , signature] = token.split('.');
    const forgedClaims = Buffer.from(JSON.stringify({ iss: expected.issuer, aud: expected.audience, roles: ['User.ReadWrite.All'] })).toString('base64url');
    await expect(signer.verify(`${header}.${forgedClaims}.${signature}`, expected, start)).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
    const foreign = await stranger.sign({ iss: expected.issuer, aud: expected.audience }, 3600, start / 1000);
    await expect(signer.verify(foreign, expected, start)).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
  });

  it('hands each caller its own copy of the claims', async () => {
    const signer = await TokenSigner.create();
    const token = await signer.sign({ iss: expected.issuer, aud: expected.audience, roles: ['User.Read.All'] }, 3600, start / 1000);
    const first = await signer.verify(token, expected, start);
    (first.roles as string[]).push('User.ReadWrite.All');
    expect((await signer.verify(token, expected, start)).roles).toEqual(['User.Read.All']);
  });
});
