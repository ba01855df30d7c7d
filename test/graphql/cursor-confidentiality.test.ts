import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CursorCodec } from '../../src/graphql/cursor.js';
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

  it('refuses a token whose ciphertext was altered, and one of another kind', () => {
    const codec = new CursorCodec(randomBytes(32));
    const token = codec.encode(payload);
    expect(codec.decode(token, 'users:x')).toEqual(payload);
    const parts = token.split('.');
    const bytes = Buffer.from(parts[1]!, 'base64url');
    bytes[0]! ^= 1;
    const altered = [parts[0], bytes.toString('base64url'), ...parts.slice(2)].join('.');
    expect(() => codec.decode(altered, 'users:x')).toThrow(/not a cursor this gateway issued/);
    expect(() => codec.decode(token, 'users:y')).toThrow(/not a cursor this gateway issued/);
    expect(() => new CursorCodec(randomBytes(32)).decode(token, 'users:x')).toThrow(/not a cursor this gateway issued/);
  });

  it('reads what the previous key issued (CURSOR_KEY_PREVIOUS), issues only with the current one', () => {
    const oldKey = randomBytes(32);
    const token = new CursorCodec(oldKey).encode(payload);
    const rotated = new CursorCodec(randomBytes(32), oldKey);
    expect(rotated.decode(token, 'users:x')).toEqual(payload);
    expect(() => new CursorCodec(oldKey).decode(rotated.encode(payload), 'users:x')).toThrow();
  });

  it('still accepts a signed token of the earlier format (a sync job keeps its feed), but not a forged one', () => {
    const key = randomBytes(32);
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    const signed = (k: Buffer) => `${body}.${createHmac('sha256', k).update(body).digest('base64url')}`;
    expect(new CursorCodec(key).decode(signed(key), 'users:x')).toEqual(payload);
    expect(() => new CursorCodec(key).decode(signed(randomBytes(32)), 'users:x')).toThrow(/not a cursor this gateway issued/);
  });
});
