import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * A delta token the gateway cannot verify (signed by another key: a restart without CURSOR_KEY, another
 * replica, or simply not ours) leaves the caller one way forward, a full resync; the error says so.
 * List cursors keep their own message.
 */

let emulator: TestEmulator;
let issuer: TestGateway;
let otherKey: TestGateway;
let sameKey: TestGateway;

const CHANGES = 'query($t: String) { userChanges(deltaToken: $t) { changed { id displayName } removed { id } nextDeltaToken } }';

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 30 });
  const key = randomBytes(32);
  [issuer, otherKey, sameKey] = await Promise.all([
    startTestGateway({ emulator, deps: { cursorKey: key } }),
    startTestGateway({ emulator, deps: { cursorKey: randomBytes(32) } }),
    startTestGateway({ emulator, deps: { cursorKey: Buffer.from(key) } }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([issuer?.close(), otherKey?.close(), sameKey?.close()]);
  await emulator?.close();
});

async function freshToken(): Promise<string> {
  const sync = await issuer.graphql<{ userChanges: { nextDeltaToken: string } }>(CHANGES, {});
  expect(sync.errors).toBeUndefined();
  return sync.data!.userChanges.nextDeltaToken;
}

function expectResyncAdvice(result: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, any> }> }) {
  expect(result.errors).toHaveLength(1);
  const [error] = result.errors!;
  expect(error!.extensions!.code).toBe('BAD_USER_INPUT');
  expect(error!.extensions!.reason).toBe('DELTA_TOKEN_UNKNOWN');
  expect(error!.message).toMatch(/call userChanges without a deltaToken/);
  expect(error!.message).toContain('CURSOR_KEY');
  expect(error!.message).toMatch(/restart/);
}

describe('change feed tokens', () => {
  it('rejects a token from a gateway with a different cursor key with resync advice and no upstream call', async () => {
    const token = await freshToken();
    await emulator.resetStats();
    const result = await otherKey.graphql(CHANGES, { t: token });
    expectResyncAdvice(result);
    expect(result.errors![0]!.message).not.toContain(token);
    expect((await emulator.stats()).graphRequests).toBe(0);
  });

  it('accepts the same token on a replica sharing the cursor key (what CURSOR_KEY is for)', async () => {
    const token = await freshToken();
    const result = await sameKey.graphql<{ userChanges: { changed: unknown[]; nextDeltaToken: string } }>(CHANGES, { t: token });
    expect(result.errors).toBeUndefined();
    expect(result.data!.userChanges.changed).toEqual([]);
    expect(result.data!.userChanges.nextDeltaToken).toMatch(/\./);
  });

  it('gives the same advice for a token that is garbage or was altered', async () => {
    const token = await freshToken();
    // `v2.` + base64url(nonce ‖ ciphertext ‖ tag): flip the first byte of the ciphertext.
    const bytes = Buffer.from(token.slice('v2.'.length), 'base64url');
    bytes[12]! ^= 1;
    const altered = `v2.${bytes.toString('base64url')}`;
    for (const t of ['not-a-token', altered]) expectResyncAdvice(await issuer.graphql(CHANGES, { t }));
  });

  it('gives the same advice for a list cursor passed as a delta token', async () => {
    const page = await issuer.graphql<{ users: { pageInfo: { endCursor: string } } }>('{ users(first: 2) { pageInfo { endCursor } } }');
    expect(page.errors).toBeUndefined();
    expectResyncAdvice(await issuer.graphql(CHANGES, { t: page.data!.users.pageInfo.endCursor }));
  });

  it('keeps the list-cursor message for list cursors (a delta token passed as `after`)', async () => {
    const token = await freshToken();
    const result = await issuer.graphql('query($a: String) { users(first: 2, after: $a) { nodes { id } } }', { a: token });
    expect(result.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toContain('is not a cursor this gateway issued for this list');
    expect(result.errors![0]!.message).not.toContain('userChanges');
  });
});
