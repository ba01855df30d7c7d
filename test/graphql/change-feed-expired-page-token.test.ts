import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELTA_PAGE_SIZE } from '../../src/emulator/graph/delta.js';
import { DELTA_PAGES_PER_CALL } from '../../src/graphql/user-changes.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * A change-feed token that continues a round wraps Graph's delta nextLink (`$skiptoken`). Directory
 * page tokens have been answered as expired (400 `Directory_ExpiredPageToken`, docs/graph-facts.md#paging)
 * and delta-query-overview says a round's state tokens are valid for a period only
 * (docs/graph-facts.md#delta-query). Under the expiring reading (the emulator's
 * `pageTokenLifetimeSeconds` switch) the gateway answers the resync error (`DELTA_TOKEN_EXPIRED`)
 * after one upstream request; under the other, the token continues the round.
 */
// More users than one call reads (DELTA_PAGES_PER_CALL pages of DELTA_PAGE_SIZE), so the first call ends mid-round.
const USERS = DELTA_PAGES_PER_CALL * DELTA_PAGE_SIZE + 100;
const FEED = 'query($t: String) { userChanges(deltaToken: $t) { kind complete users { id } changed { id } nextDeltaToken } }';

interface Round {
  kind: 'FULL_SYNC' | 'CHANGES';
  complete: boolean;
  users: Array<{ id: string }>;
  changed: Array<{ id: string }>;
  nextDeltaToken: string;
}

let emulator: TestEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: USERS });
  gw = await startTestGateway({ emulator, env: { LOG_LEVEL: 'warn' } });
}, 120_000);
afterAll(async () => {
  await gw?.close();
  await emulator?.close();
});

const setLifetime = async (pageTokenLifetimeSeconds: number | null) => {
  const set = await emulator.setGraph({ pageTokenLifetimeSeconds });
  expect(set.status).toBe(200);
};

async function feed(token: string | null) {
  await emulator.resetStats();
  const result = await gw.graphql<{ userChanges: Round }>(FEED, token ? { t: token } : {});
  return { result, graphRequests: (await emulator.stats()).graphRequests };
}

async function midRoundToken(): Promise<string> {
  const { result } = await feed(null);
  expect(result.errors).toBeUndefined();
  expect(result.data!.userChanges.complete).toBe(false);
  return result.data!.userChanges.nextDeltaToken;
}

describe('userChanges when Graph no longer takes the nextLink of its round', () => {
  it('page tokens that never expire: the token continues the full sync to its end', async () => {
    await setLifetime(null);
    const token = await midRoundToken();
    const { result } = await feed(token);
    expect(result.errors).toBeUndefined();
    expect(result.data!.userChanges).toMatchObject({ kind: 'FULL_SYNC', complete: true });
    expect(result.data!.userChanges.users).toHaveLength(USERS - DELTA_PAGES_PER_CALL * DELTA_PAGE_SIZE);
  });

  it('regression: an expired nextLink (400 Directory_ExpiredPageToken) is the resync error, DELTA_TOKEN_EXPIRED, after one Graph request', async () => {
    await setLifetime(null);
    const token = await midRoundToken();
    await setLifetime(0);
    try {
      const { result, graphRequests } = await feed(token);
      expect(result.errors).toHaveLength(1);
      expect(result.errors![0]!.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'DELTA_TOKEN_EXPIRED',
        graphErrorCode: 'Directory_ExpiredPageToken',
      });
      expect(typeof result.errors![0]!.extensions!.requestId).toBe('string');
      expect(result.errors![0]!.message).toContain('Start again without a deltaToken');
      expect(result.errors![0]!.message).not.toContain(token);
      // The 400 is not retried: one request, the one that found the token expired.
      expect(graphRequests).toBe(1);
    } finally {
      await setLifetime(null);
    }
    // The advice works: a full sync without a token.
    const again = await feed(null);
    expect(again.result.errors).toBeUndefined();
    expect(again.result.data!.userChanges.kind).toBe('FULL_SYNC');
  });

  it('a nextLink that expires while one call follows it: the same resync error, no partial round', async () => {
    await setLifetime(0);
    try {
      const { result, graphRequests } = await feed(null);
      expect(result.data?.userChanges ?? null).toBeNull();
      expect(result.errors![0]!.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'DELTA_TOKEN_EXPIRED',
        graphErrorCode: 'Directory_ExpiredPageToken',
      });
      // The first page, then its nextLink, refused.
      expect(graphRequests).toBe(2);
    } finally {
      await setLifetime(null);
    }
  });

  it('the switch leaves deltaLinks alone: a completed round’s token still reads the changes after it', async () => {
    await setLifetime(null);
    let token: string | null = null;
    for (;;) {
      const { result } = await feed(token);
      expect(result.errors).toBeUndefined();
      token = result.data!.userChanges.nextDeltaToken;
      if (result.data!.userChanges.complete) break;
    }
    await setLifetime(0);
    try {
      const { result, graphRequests } = await feed(token);
      expect(result.errors).toBeUndefined();
      expect(result.data!.userChanges).toMatchObject({ kind: 'CHANGES', complete: true, changed: [] });
      expect(graphRequests).toBe(1);
    } finally {
      await setLifetime(null);
    }
  });
});
