import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * A cursor resumes at Graph's nextLink; Graph has refused such page tokens as expired (400
 * `Directory_ExpiredPageToken`; a Graph SDK maintainer says they do not expire: docs/graph-facts.md#paging).
 * Under the expiring reading (the emulator's `pageTokenLifetimeSeconds` switch) the gateway says the
 * cursor is stale and to start again, naming `after`; under the other, the cursor works.
 */
let emulator: TestEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 60 });
  gw = await startTestGateway({ emulator });
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await emulator?.close();
});

const setLifetime = async (pageTokenLifetimeSeconds: number | null) => {
  const set = await emulator.setGraph({ pageTokenLifetimeSeconds });
  expect(set.status).toBe(200);
};

describe('a users cursor whose Graph page token has expired', () => {
  it('tokens that never expire: the cursor continues the list', async () => {
    await setLifetime(null);
    const first = await gw.graphql('{ users(first: 5) { pageInfo { endCursor } } }');
    const next = await gw.graphql(`{ users(first: 5, after: "${first.data!.users.pageInfo.endCursor}") { nodes { id } } }`);
    expect(next.errors).toBeUndefined();
    expect(next.data!.users.nodes).toHaveLength(5);
  });

  it('regression: Graph answers Directory_ExpiredPageToken: BAD_USER_INPUT naming `after`, saying to start again, with Graph code and request-id', async () => {
    await setLifetime(0);
    try {
      const first = await gw.graphql('{ users(first: 5) { pageInfo { endCursor } } }');
      const next = await gw.graphql(`{ users(first: 5, after: "${first.data!.users.pageInfo.endCursor}") { nodes { id } } }`);
      expect(next.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'after',
        cursorExpired: true,
        graphErrorCode: 'Directory_ExpiredPageToken',
      });
      expect(typeof next.errors![0]!.extensions!.requestId).toBe('string');
      expect(next.errors![0]!.message).toContain('start again without `after`');
    } finally {
      await setLifetime(null);
    }
  });
});
