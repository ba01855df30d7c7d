import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, type JWK, type JWTPayload, type CryptoKey } from 'jose';

/**
 * The tenant's token signing key: RS256, published in the JWKS, used for every access token the
 * emulator issues (Graph tokens and caller tokens for the gateway's own API).
 */
export class TokenSigner {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    readonly jwk: JWK,
    readonly kid: string,
  ) {}

  static async create(): Promise<TokenSigner> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = randomUUID().replace(/-/g, '');
    const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
    return new TokenSigner(privateKey, publicKey, jwk, kid);
  }

  get jwks(): { keys: JWK[] } {
    return { keys: [this.jwk] };
  }

  async sign(claims: JWTPayload, lifetimeSeconds: number, nowSeconds = Math.floor(Date.now() / 1000)): Promise<string> {
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.kid })
      .setIssuedAt(nowSeconds)
      .setNotBefore(nowSeconds - 5)
      .setExpirationTime(nowSeconds + lifetimeSeconds)
      .setJti(randomUUID())
      .sign(this.privateKey);
  }

  /**
   * Verifies signature, issuer, audience and expiry; throws jose errors otherwise. `nowMs` is the
   * emulator's clock, the one tokens were signed with (an injected clock moves both).
   */
  async verify(token: string, expected: { issuer: string; audience: string | string[] }, nowMs = Date.now()): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, this.publicKey, {
      issuer: expected.issuer,
      audience: expected.audience,
      algorithms: ['RS256'],
      clockTolerance: 5,
      currentDate: new Date(nowMs),
    });
    return payload;
  }
}
