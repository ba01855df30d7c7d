import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { badInput } from '../errors.js';
import type { Caller } from '../identity/types.js';

/**
 * Opaque, authenticated continuation tokens for connections and the change feed. A cursor carries
 * Graph's nextLink (or deltaLink), so it must never be forgeable: a caller who could edit it could
 * point the gateway at any URL. Nor readable: the link names the Graph endpoint the gateway talks
 * to (a private proxy's address, perhaps) and holds the tenant's `$skiptoken` or `$deltatoken`
 * (docs/querying.md#directory-page). Nor usable by another caller: a `$skiptoken` continues a query
 * of the gateway's Graph identity, and a cursor passed on (or leaked) must not let a second API key
 * or Entra user page through a list or a change feed it never started (docs/security.md#cursors-and-change-feed-tokens).
 *
 * Format: the gateway's sealed-value format (createTokenCipher, src/store/encryption.ts: `v2.` +
 * base64url(nonce ‖ AES-256-GCM(JSON payload) ‖ tag)) under a key derived from the cursor key, with
 * the gateway's Graph identity, the caller's binding and the cursor's kind as associated data: none
 * is inside the token, and a token presented by another caller, for another list, or at a gateway
 * of another Graph identity (another customer's hosted gateway given the same CURSOR_KEY and an API
 * key of the same name) fails authentication like a forged one: its link continues a query of the
 * identity that issued it, and must not be sent to Graph under another.
 * The Graph client validates nextLink hosts as a second line of defence.
 *
 * Two earlier formats are still accepted, from any caller (they carry no binding), so that a sync
 * job holding a delta token (good for 7 days upstream) does not face a full resync after an
 * upgrade; none is issued any more, and ending them is a CURSOR_KEY rotation once the previous key
 * has been removed (docs/operations.md#rotating-keys):
 * - base64url(IV) "." base64url(AES-256-GCM(JSON payload)) "." base64url(tag), no associated data;
 * - base64url(JSON payload) "." base64url(HMAC-SHA256), signed only.
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
/** createTokenCipher's prefix of a sealed value: the HMAC format's body is base64url JSON (`eyJ…`), the encrypted one's IV has no dot. */
const SEALED_FORMAT = 'v2.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** HKDF labels: each format has a key of its own, and none of them is the HMAC key of the oldest. */
const SEALING_INFO = 'msgraph-user-gateway cursor sealing v3';
const LEGACY_ENCRYPTION_INFO = 'msgraph-user-gateway cursor encryption v2';
/** What createTokenCipher binds into the associated data besides the record: a cursor never opens as a token-cache value. */
const PURPOSE = 'cursor';

const derive = (key: Buffer, info: string): Buffer => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), info, 32));

/**
 * The gateway's AES-256-GCM sealing (createTokenCipher, src/store/encryption.ts), handed in by the
 * composition (src/gateway.ts): graphql/ does not import store/ (docs/design.md#import-direction).
 */
export type CipherFactory = (
  key: Buffer,
  previousKey?: Buffer,
  options?: { purpose?: string },
) => { seal(plaintext: string, record: string): string; open(sealed: string, record: string): string };

/** Continuation tokens as one caller sees them: what it encodes, only it (or the same caller on another replica) decodes. */
export interface CallerCursors {
  encode(payload: CursorPayload): string;
  /** Throws BAD_USER_INPUT for anything this gateway did not issue to this caller for `expectedKind`. */
  decode(token: string, expectedKind: string, argumentName?: string): CursorPayload;
}

/**
 * Who a token is bound to: the caller's stable identity, never its credential. An API key by its
 * name (a rotated key under the same name keeps its cursors), an Entra caller by tenant and object id
 * (of the user, or of the service principal for app-only tokens); the sandbox's loopback caller is
 * always the same one.
 */
export function cursorBindingOf(caller: Caller): string {
  switch (caller.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'api-key':
      return `api-key:${caller.keyId}`;
    case 'entra':
      return `entra:${caller.tenantId}:${caller.principal}:${caller.subject}`;
    default: {
      const unreachable: never = caller;
      return String(unreachable);
    }
  }
}

type Cipher = ReturnType<CipherFactory>;

export class CursorCodec {
  readonly #sealing: Cipher;
  /** Opens the earlier 3-part format (createTokenCipher reads its bytes as a value of the unbound `v1.` format). */
  readonly #legacyEncryption: Cipher;
  readonly #signingKeys: Buffer[];

  /**
   * `key`: at least 32 bytes. A random per-process key makes cursors die with the process; configure
   * one to share them across instances. `previousKey` (CURSOR_KEY_PREVIOUS, during a rotation): what
   * it sealed or signed is still accepted, nothing new is sealed with it (docs/operations.md#rotating-keys).
   */
  readonly #graphIdentity: string | undefined;

  /**
   * `graphIdentity`: the partition of the gateway's Graph identity (graphIdentityId), bound into
   * every token sealed from now on.
   */
  constructor(options: { createCipher: CipherFactory; key?: Buffer; previousKey?: Buffer; graphIdentity?: string }) {
    const { createCipher, key = randomBytes(32), previousKey, graphIdentity } = options;
    this.#graphIdentity = graphIdentity;
    for (const k of previousKey ? [key, previousKey] : [key])
      if (k.length < 32) throw new Error(`CursorCodec needs keys of at least 32 bytes, received ${k.length}`);
    const cipherOf = (info: string) => createCipher(derive(key, info), previousKey && derive(previousKey, info), { purpose: PURPOSE });
    this.#sealing = cipherOf(SEALING_INFO);
    this.#legacyEncryption = cipherOf(LEGACY_ENCRYPTION_INFO);
    this.#signingKeys = (previousKey ? [key, previousKey] : [key]).map((k) => Buffer.from(k));
  }

  /** The tokens of one caller. */
  forCaller(caller: Caller): CallerCursors {
    return this.forBinding(cursorBindingOf(caller));
  }

  /** The tokens of the caller whose `cursorBindingOf` is `binding` (the request context computes it once). */
  forBinding(binding: string): CallerCursors {
    return {
      encode: (payload) => this.#sealing.seal(JSON.stringify(payload), recordOf(payload.kind, binding, this.#graphIdentity)),
      decode: (token, expectedKind, argumentName = 'after') => this.#decode(token, expectedKind, binding, argumentName),
    };
  }

  #decode(token: string, expectedKind: string, binding: string, argumentName: string): CursorPayload {
    // The same answer whatever failed, another caller's token included: a caller learns nothing of whose it was.
    const invalid = () =>
      badInput(
        `\`${argumentName}\` is not a cursor this gateway issued for this list; pass a cursor from the same query's pageInfo.endCursor or edges.cursor.`,
      );
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_CURSOR_LENGTH) throw invalid();
    const text = this.#plaintextOf(token, expectedKind, binding);
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

  #plaintextOf(token: string, expectedKind: string, binding: string): string | undefined {
    if (token.startsWith(SEALED_FORMAT))
      return (
        openOrUndefined(this.#sealing, token, recordOf(expectedKind, binding, this.#graphIdentity)) ??
        // Sealed before the Graph identity was bound (bound to the caller only): accepted for a
        // transition like the older formats below, so a sync job's delta token survives the upgrade.
        (this.#graphIdentity === undefined ? undefined : openOrUndefined(this.#sealing, token, recordOf(expectedKind, binding)))
      );
    const parts = token.split('.');
    if (parts.length === 3) return this.#openLegacyEncrypted(parts);
    if (parts.length === 2) return this.#verifySigned(parts);
    return undefined;
  }

  /**
   * A token of the earlier encrypted format (see the class comment): IV, ciphertext and tag are the
   * bytes of an unbound `v1.` value of createTokenCipher, under that format's own key.
   */
  #openLegacyEncrypted([ivText, ciphertextText, tagText]: string[]): string | undefined {
    const iv = Buffer.from(ivText!, 'base64url');
    const tag = Buffer.from(tagText!, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return undefined;
    const ciphertext = Buffer.from(ciphertextText!, 'base64url');
    return openOrUndefined(this.#legacyEncryption, `v1.${Buffer.concat([iv, ciphertext, tag]).toString('base64url')}`, '');
  }

  /** The payload text of a token of the oldest, signed-only format (see the class comment). */
  #verifySigned([body, signatureText]: string[]): string | undefined {
    if (!body) return undefined;
    const signature = Buffer.from(signatureText!, 'base64url');
    const signedBy = (key: Buffer) => {
      const expected = createHmac('sha256', key).update(body).digest();
      return signature.length === expected.length && timingSafeEqual(signature, expected);
    };
    if (!this.#signingKeys.some(signedBy)) return undefined;
    return Buffer.from(body, 'base64url').toString('utf8');
  }
}

/** The associated data of a token: which Graph identity and caller it is of and what it continues (JSON: none can run into another). */
function recordOf(kind: string, binding: string, graphIdentity?: string): string {
  return JSON.stringify(graphIdentity === undefined ? [binding, kind] : [graphIdentity, binding, kind]);
}

function openOrUndefined(cipher: Cipher, sealed: string, record: string): string | undefined {
  try {
    return cipher.open(sealed, record);
  } catch {
    return undefined;
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
