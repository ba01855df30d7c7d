import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { badInput } from '../errors.js';

/**
 * Opaque, signed continuation tokens for connections and the change feed. A cursor carries Graph's
 * nextLink (or deltaLink), so it must never be forgeable: a caller who could edit it could point the
 * gateway at any URL. Format: base64url(JSON payload) "." base64url(HMAC-SHA256(payload)).
 * The Graph client validates nextLink hosts as a second line of defence.
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

export class CursorCodec {
  readonly #key: Buffer;
  readonly #previousKey: Buffer | undefined;

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
  }

  encode(payload: CursorPayload): string {
    const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
    return `${body}.${this.#sign(body, this.#key).toString('base64url')}`;
  }

  /** Throws BAD_USER_INPUT for anything this process did not issue for `expectedKind`. */
  decode(token: string, expectedKind: string, argumentName = 'after'): CursorPayload {
    const invalid = () =>
      badInput(
        `\`${argumentName}\` is not a cursor this gateway issued for this list; pass a cursor from the same query's pageInfo.endCursor or edges.cursor.`,
      );
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_CURSOR_LENGTH) throw invalid();
    const dot = token.indexOf('.');
    if (dot <= 0 || dot !== token.lastIndexOf('.')) throw invalid();
    const body = token.slice(0, dot);
    const signature = Buffer.from(token.slice(dot + 1), 'base64url');
    const signedBy = (key: Buffer) => {
      const expected = this.#sign(body, key);
      return signature.length === expected.length && timingSafeEqual(signature, expected);
    };
    if (!signedBy(this.#key) && !(this.#previousKey && signedBy(this.#previousKey))) throw invalid();
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw invalid();
    }
    if (!isCursorPayload(payload) || payload.kind !== expectedKind) throw invalid();
    return payload;
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
