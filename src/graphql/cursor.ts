import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { badInput } from '../errors.js';

/**
 * Opaque, authenticated continuation tokens for connections and the change feed. A cursor carries
 * Graph's nextLink (or deltaLink), so it must never be forgeable: a caller who could edit it could
 * point the gateway at any URL. Nor readable: the link names the Graph endpoint the gateway talks
 * to (a private proxy's address, perhaps) and holds the tenant's `$skiptoken` or `$deltatoken`
 * (docs/querying.md#directory-page). Format: base64url(IV) "." base64url(AES-256-GCM(JSON payload)) "."
 * base64url(tag), with a key derived from the cursor key. The Graph client validates nextLink hosts
 * as a second line of defence.
 *
 * Tokens of the earlier format, base64url(JSON payload) "." base64url(HMAC-SHA256), are still
 * accepted (their integrity holds, and a sync job holding one would otherwise face a full resync);
 * none is issued any more.
 */
export interface CursorPayload {
  v: 1;
  /** What the cursor continues, e.g. `users:<query hash>` or `directReports:<user id>`; a cursor of another kind is foreign. */
  kind: string;
  /** Graph link of the page the continuation starts from; null = the first page of the query. */
  nextLink: string | null;
  /** Items of that page already returned. */
  skip: number;
  /** The continuation needs `ConsistencyLevel: eventual` (advanced query). */
  advanced: boolean;
  /** Graph properties baked into `nextLink`'s `$select` (a later page cannot select more). */
  select?: string[];
  /** Properties of the expanded manager baked into `nextLink`, when any. */
  expandManager?: string[] | null;
  /** `@odata.count` of the first page, carried so later pages can answer `totalCount`. */
  count?: number | null;
  /** Issue time (ms since epoch); delta tokens expire upstream after 7 days. */
  issuedAt?: number;
  /** Change feed: the round `nextLink` continues (absent on older tokens: a round of changes). */
  round?: 'full-sync' | 'changes';
}

const MAX_CURSOR_LENGTH = 16_384;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** HKDF label: the encryption key is never the HMAC key of the earlier format. */
const ENCRYPTION_INFO = 'msgraph-user-gateway cursor encryption v2';

const encryptionKeyOf = (key: Buffer): Buffer => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), ENCRYPTION_INFO, 32));

export class CursorCodec {
  readonly #key: Buffer;
  readonly #previousKey: Buffer | undefined;
  readonly #encryptionKey: Buffer;
  readonly #previousEncryptionKey: Buffer | undefined;

  /**
   * `key`: at least 32 bytes. A random per-process key makes cursors die with the process; configure
   * one to share them across instances. `previousKey` (CURSOR_KEY_PREVIOUS, during a rotation): what
   * it signed is still accepted, nothing new is signed with it (docs/operations.md#rotating-keys).
   */
  constructor(key: Buffer = randomBytes(32), previousKey?: Buffer) {
    for (const k of previousKey ? [key, previousKey] : [key])
      if (k.length < 32) throw new Error(`CursorCodec needs keys of at least 32 bytes, received ${k.length}`);
    this.#key = Buffer.from(key);
    this.#previousKey = previousKey ? Buffer.from(previousKey) : undefined;
    this.#encryptionKey = encryptionKeyOf(this.#key);
    this.#previousEncryptionKey = this.#previousKey ? encryptionKeyOf(this.#previousKey) : undefined;
  }

  encode(payload: CursorPayload): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#encryptionKey, iv);
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
    return [iv, ciphertext, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.');
  }

  /** Throws BAD_USER_INPUT for anything this process did not issue for `expectedKind`. */
  decode(token: string, expectedKind: string, argumentName = 'after'): CursorPayload {
    const invalid = () =>
      badInput(
        `\`${argumentName}\` is not a cursor this gateway issued for this list; pass a cursor from the same query's pageInfo.endCursor or edges.cursor.`,
      );
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_CURSOR_LENGTH) throw invalid();
    const parts = token.split('.');
    const text = parts.length === 3 ? this.#decrypt(parts) : parts.length === 2 ? this.#verifySigned(parts) : undefined;
    if (text === undefined) throw invalid();
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      throw invalid();
    }
    if (!isCursorPayload(payload) || payload.kind !== expectedKind) throw invalid();
    return payload;
  }

  /** The payload text of a token this gateway encrypted, with the current or the previous key. */
  #decrypt([ivText, ciphertextText, tagText]: string[]): string | undefined {
    const iv = Buffer.from(ivText!, 'base64url');
    const tag = Buffer.from(tagText!, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return undefined;
    const ciphertext = Buffer.from(ciphertextText!, 'base64url');
    for (const key of this.#previousEncryptionKey ? [this.#encryptionKey, this.#previousEncryptionKey] : [this.#encryptionKey]) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
      } catch {
        // not this key: try the next
      }
    }
    return undefined;
  }

  /** The payload text of a token of the earlier, signed-only format (see the class comment). */
  #verifySigned([body, signatureText]: string[]): string | undefined {
    if (!body) return undefined;
    const signature = Buffer.from(signatureText!, 'base64url');
    const signedBy = (key: Buffer) => {
      const expected = this.#sign(body, key);
      return signature.length === expected.length && timingSafeEqual(signature, expected);
    };
    if (!signedBy(this.#key) && !(this.#previousKey && signedBy(this.#previousKey))) return undefined;
    return Buffer.from(body, 'base64url').toString('utf8');
  }

  #sign(body: string, key: Buffer): Buffer {
    return createHmac('sha256', key).update(body).digest();
  }
}

function isCursorPayload(value: unknown): value is CursorPayload {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return (
    p.v === 1 &&
    typeof p.kind === 'string' &&
    (p.nextLink === null || typeof p.nextLink === 'string') &&
    typeof p.skip === 'number' &&
    Number.isInteger(p.skip) &&
    p.skip >= 0 &&
    typeof p.advanced === 'boolean'
  );
}
