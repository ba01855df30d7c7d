import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, type JWK, type JWTPayload, type CryptoKey } from 'jose';

const CLOCK_TOLERANCE_SECONDS = 5;
const VERIFIED_TOKENS_KEPT = 1024;

/** jose's time checks (`nbf`, `exp`, with the same tolerance), for a token whose signature verified. */
function stillValid(payload: JWTPayload, nowMs: number): boolean {
  const now = Math.floor(nowMs / 1000);
  if (payload.nbf !== undefined && payload.nbf > now + CLOCK_TOLERANCE_SECONDS) return false;
  return payload.exp === undefined || payload.exp > now - CLOCK_TOLERANCE_SECONDS;
}

/**
 * The tenant's token signing key: RS256, published in the JWKS, used for every access token the
 * emulator issues (Graph tokens and caller tokens for the gateway's own API).
 */
export class TokenSigner {
  /**
   * Tokens whose signature and claims verified, by the expectation they met: a client sends the
   * same access token for an hour, and an RSA verification per request (four for a `$batch` of
   * three items: the envelope and each item) was a third of the emulator's CPU in the benchmark,
   * on the cores the gateway under test shares. A hit is returned only while jose would accept the
   * token again (its time claims still hold at `nowMs`); anything else goes through jose, so every
   * refusal keeps jose's error. Bounded: the oldest entry leaves first.
   */
  private readonly verified = new Map<string, { expectation: string; payload: JWTPayload }>();

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
    const expectation = `${expected.issuer}\u0000${[expected.audience].flat().join('\u0000')}`;
    const known = this.verified.get(token);
    if (known !== undefined && known.expectation === expectation && stillValid(known.payload, nowMs)) return structuredClone(known.payload);
    const { payload } = await jwtVerify(token, this.publicKey, {
      issuer: expected.issuer,
      audience: expected.audience,
      algorithms: ['RS256'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(nowMs),
    });
    if (this.verified.size >= VERIFIED_TOKENS_KEPT) this.verified.delete(this.verified.keys().next().value!);
    this.verified.delete(token);
    this.verified.set(token, { expectation, payload: structuredClone(payload) });
    return payload;
  }
}
