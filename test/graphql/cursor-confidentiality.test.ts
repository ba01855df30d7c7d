import { createCipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CursorCodec, cursorBindingOf } from '../../src/graphql/cursor.js';
import type { Caller } from '../../src/identity/types.js';
import { createTokenCipher } from '../../src/store/encryption.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * Cursors and change-feed tokens carry Graph's nextLink or deltaLink. Before, they were only
 * signed: every caller could base64-decode one and read the Graph endpoint the gateway talks to
 * (a private proxy's address, say), the tenant's `$skiptoken` and `$deltatoken`, and the query the
 * gateway built. Now their content is encrypted; only the gateway can read it.
 */

let emulator: TestEmulator;
let gateway: TestGateway;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 30 });
  gateway = await startTestGateway({ emulator, deps: { cursorKey: randomBytes(32) } });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

/** Everything a caller can read out of a token: each dot-separated part, base64url-decoded, and the token itself. */
function readable(token: string): string {
  return [token, ...token.split('.').map((part) => Buffer.from(part, 'base64url').toString('latin1'))].join('\n');
}

function expectOpaque(token: string) {
  const text = readable(token);
  const graphHost = new URL(gateway.config.graphEndpoint).host;
  expect(text).not.toContain(graphHost);
  expect(text).not.toMatch(/skiptoken|deltatoken|nextLink|v1\.0|users/i);
}

describe('cursors and delta tokens are opaque to callers', () => {
  it('a page cursor reveals neither the Graph endpoint nor the skiptoken, and still pages', async () => {
    const first = await gateway.graphql<{ users: { nodes: Array<{ id: string }>; edges: Array<{ cursor: string }>; pageInfo: { endCursor: string } } }>(
      '{ users(first: 2) { nodes { id } edges { cursor } pageInfo { endCursor } } }',
    );
    expect(first.errors).toBeUndefined();
    const { endCursor } = first.data!.users.pageInfo;
    for (const cursor of [endCursor, ...first.data!.users.edges.map((e) => e.cursor)]) expectOpaque(cursor);
    const next = await gateway.graphql<{ users: { nodes: Array<{ id: string }> } }>('query($a: String) { users(first: 2, after: $a) { nodes { id } } }', {
      a: endCursor,
    });
    expect(next.errors).toBeUndefined();
    expect(next.data!.users.nodes).toHaveLength(2);
    expect(next.data!.users.nodes.map((n) => n.id)).not.toEqual(first.data!.users.nodes.map((n) => n.id));
  });

  it('a change-feed token reveals neither the Graph endpoint nor the delta link, and still continues the feed', async () => {
    const CHANGES = 'query($t: String) { userChanges(deltaToken: $t) { changed { id } nextDeltaToken } }';
    const sync = await gateway.graphql<{ userChanges: { nextDeltaToken: string } }>(CHANGES, {});
    expect(sync.errors).toBeUndefined();
    expectOpaque(sync.data!.userChanges.nextDeltaToken);
    const again = await gateway.graphql<{ userChanges: { changed: unknown[] } }>(CHANGES, { t: sync.data!.userChanges.nextDeltaToken });
    expect(again.errors).toBeUndefined();
    expect(again.data!.userChanges.changed).toEqual([]);
  });
});

describe('CursorCodec', () => {
  const payload = { v: 1 as const, kind: 'users:x', nextLink: 'https://graph.internal.example/v1.0/users?$skiptoken=abc', skip: 0, advanced: false };
  const alpha: Caller = { kind: 'api-key', keyId: 'alpha', permissions: new Set() };
  const bravo: Caller = { kind: 'api-key', keyId: 'bravo', permissions: new Set() };
  const codecOf = (key: Buffer, previousKey?: Buffer) => new CursorCodec({ createCipher: createTokenCipher, key, previousKey });

  it('seals in the shared format, and refuses a token whose ciphertext was altered, one of another kind, another key or another caller', () => {
    const codec = codecOf(randomBytes(32));
    const token = codec.forCaller(alpha).encode(payload);
    // createTokenCipher's format (src/store/encryption.ts): `v2.` + base64url(nonce ‖ ciphertext ‖ tag).
    expect(token).toMatch(/^v2\.[A-Za-z0-9_-]+$/);
    expect(codec.forCaller(alpha).decode(token, 'users:x')).toEqual(payload);
    // The same caller identity (the same key name, another request) reads it.
    expect(codec.forCaller({ ...alpha, permissions: new Set(['Users.Read']) }).decode(token, 'users:x')).toEqual(payload);
    // So do the cursors of a request context, bound to the binding it computed once.
    expect(codec.forBinding(cursorBindingOf(alpha)).decode(token, 'users:x')).toEqual(payload);
    expect(() => codec.forBinding(cursorBindingOf(bravo)).decode(token, 'users:x')).toThrow(/not a cursor this gateway issued/);
    const bytes = Buffer.from(token.slice(3), 'base64url');
    bytes[12]! ^= 1;
    const altered = `v2.${bytes.toString('base64url')}`;
    expect(() => codec.forCaller(alpha).decode(altered, 'users:x')).toThrow(/not a cursor this gateway issued/);
    expect(() => codec.forCaller(alpha).decode(token, 'users:y')).toThrow(/not a cursor this gateway issued/);
    expect(() => codecOf(randomBytes(32)).forCaller(alpha).decode(token, 'users:x')).toThrow(/not a cursor this gateway issued/);
    // Another caller gets the very same message: nothing says the token is someone else's.
    expect(() => codec.forCaller(bravo).decode(token, 'users:x')).toThrow(
      "`after` is not a cursor this gateway issued for this list; pass a cursor from the same query's pageInfo.endCursor or edges.cursor.",
    );
  });

  it("binds the Graph identity: another identity's codec under the same key refuses, a token sealed before the binding still opens", () => {
    const key = randomBytes(32);
    const customerA = new CursorCodec({ createCipher: createTokenCipher, key, graphIdentity: 'hosted-aaaa' });
    const customerB = new CursorCodec({ createCipher: createTokenCipher, key: Buffer.from(key), graphIdentity: 'hosted-bbbb' });
    const token = customerA.forCaller(alpha).encode(payload);
    expect(customerA.forCaller(alpha).decode(token, 'users:x')).toEqual(payload);
    expect(() => customerB.forCaller(alpha).decode(token, 'users:x')).toThrow(/not a cursor this gateway issued/);
    // A codec without the binding (a gateway before the upgrade) does not open the new tokens either.
    expect(() => codecOf(Buffer.from(key)).forCaller(alpha).decode(token, 'users:x')).toThrow(/not a cursor this gateway issued/);
    // What a gateway sealed before the upgrade (caller only) still opens for that caller, for a
    // transition like the older formats; a CURSOR_KEY rotation ends it.
    const before = codecOf(Buffer.from(key)).forCaller(alpha).encode(payload);
    expect(customerA.forCaller(alpha).decode(before, 'users:x')).toEqual(payload);
    expect(() => customerA.forCaller(bravo).decode(before, 'users:x')).toThrow(/not a cursor this gateway issued/);
  });

  it('binds Entra callers by tenant and object id, and the sandbox caller to itself', () => {
    const codec = codecOf(randomBytes(32));
    const user = (subject: string, tenantId = 'tenant-1', assertion = 'x'): Caller => ({
      kind: 'entra',
      subject,
      tenantId,
      principal: 'user',
      permissions: new Set(),
      assertion,
    });
    const token = codec.forCaller(user('oid-1')).encode(payload);
    expect(codec.forCaller(user('oid-1', 'tenant-1', 'another token of the same user')).decode(token, 'users:x')).toEqual(payload);
    const app: Caller = { kind: 'entra', subject: 'oid-1', tenantId: 'tenant-1', principal: 'app', permissions: new Set(), assertion: 'x' };
    for (const other of [user('oid-2'), user('oid-1', 'tenant-2'), app, alpha])
      expect(() => codec.forCaller(other).decode(token, 'users:x')).toThrow(/not a cursor this gateway issued/);
    const sandbox: Caller = { kind: 'anonymous', permissions: new Set() };
    expect(codec.forCaller(sandbox).decode(codec.forCaller(sandbox).encode(payload), 'users:x')).toEqual(payload);
    expect(() => codec.forCaller(alpha).decode(codec.forCaller(sandbox).encode(payload), 'users:x')).toThrow(/not a cursor this gateway issued/);
  });

  it('reads what the previous key issued (CURSOR_KEY_PREVIOUS) for the same caller only, issues only with the current one', () => {
    const oldKey = randomBytes(32);
    const token = codecOf(oldKey).forCaller(alpha).encode(payload);
    const rotated = codecOf(randomBytes(32), oldKey);
    expect(rotated.forCaller(alpha).decode(token, 'users:x')).toEqual(payload);
    expect(() => rotated.forCaller(bravo).decode(token, 'users:x')).toThrow(/not a cursor this gateway issued/);
    expect(() => codecOf(oldKey).forCaller(alpha).decode(rotated.forCaller(alpha).encode(payload), 'users:x')).toThrow();
  });

  it('still accepts tokens of both earlier formats, from any caller (they carry no binding), with the current or the previous key; not forged ones', () => {
    const key = randomBytes(32);
    const text = JSON.stringify(payload);
    // The oldest format: base64url(JSON) "." base64url(HMAC-SHA256) with the cursor key itself.
    const body = Buffer.from(text).toString('base64url');
    const signed = (k: Buffer) => `${body}.${createHmac('sha256', k).update(body).digest('base64url')}`;
    // The encrypted format before the binding: base64url(IV) "." base64url(AES-256-GCM) "." base64url(tag), no associated data.
    const encrypted = (k: Buffer) => {
      const iv = randomBytes(12);
      const legacyKey = Buffer.from(hkdfSync('sha256', k, Buffer.alloc(0), 'msgraph-user-gateway cursor encryption v2', 32));
      const cipher = createCipheriv('aes-256-gcm', legacyKey, iv);
      const ciphertext = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
      return [iv, ciphertext, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.');
    };
    for (const caller of [alpha, bravo]) {
      expect(codecOf(key).forCaller(caller).decode(signed(key), 'users:x')).toEqual(payload);
      expect(codecOf(key).forCaller(caller).decode(encrypted(key), 'users:x')).toEqual(payload);
      expect(codecOf(randomBytes(32), key).forCaller(caller).decode(signed(key), 'users:x')).toEqual(payload);
      expect(codecOf(randomBytes(32), key).forCaller(caller).decode(encrypted(key), 'users:x')).toEqual(payload);
    }
    expect(() =>
      codecOf(key)
        .forCaller(alpha)
        .decode(signed(randomBytes(32)), 'users:x'),
    ).toThrow(/not a cursor this gateway issued/);
    expect(() =>
      codecOf(key)
        .forCaller(alpha)
        .decode(encrypted(randomBytes(32)), 'users:x'),
    ).toThrow(/not a cursor this gateway issued/);
    expect(() => codecOf(key).forCaller(alpha).decode(encrypted(key), 'users:y')).toThrow(/not a cursor this gateway issued/);
    const [iv, ciphertext, tag] = encrypted(key).split('.') as [string, string, string];
    const flipped = Buffer.from(ciphertext, 'base64url');
    flipped[0]! ^= 1;
    expect(() =>
      codecOf(key)
        .forCaller(alpha)
        .decode(`${iv}.${flipped.toString('base64url')}.${tag}`, 'users:x'),
    ).toThrow(/not a cursor this gateway issued/);
  });
});
