import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyCallers } from '../support/api-key-callers.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * Fair share between callers (docs/reliability.md#fair-share-between-callers), in the running
 * gateway: one API key filling the rate governor's queue does not stand in front of another key's
 * query. Before, the queue was first in, first out across callers, and the other key's one lookup
 * was answered after every operation the first had sent before it.
 */
const HOG = 'hog-key-0123456789abcdef';
const VICTIM = 'victim-key-0123456789abcdef';

let emulator: TestEmulator;
let gateway: TestGateway;
let upns: string[];

beforeAll(async () => {
  emulator = await startTestEmulator();
  upns = [...(emulator.tenant.users.values() as Iterable<{ userPrincipalName: string }>)].slice(0, 10).map((u) => u.userPrincipalName);
  gateway = await startTestGateway({
    emulator,
    env: {
      ...apiKeyCallers({ hog: { key: HOG, permissions: ['Users.Read'] }, victim: { key: VICTIM, permissions: ['Users.Read'] } }),
      // 200 RU per 10 s at 80 % headroom: 160 RU at once, then 16 a second; nothing refused for its wait.
      GRAPH_RU_PER_10S: '200',
      GRAPH_MAX_WAIT_MS: '60000',
    },
  });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

describe('the rate governor shares its queue between callers', () => {
  it("answers another key's lookup behind at most one of a hog's queued operations, not behind all of them", async () => {
    // Each hog operation is one `$batch` of 10 userPrincipalName lookups: 10 RU. 26 of them are
    // 260 RU: 16 go at once, 10 wait for refill (about 6 s in arrival order).
    const hogQuery = `{ ${upns.map((upn, i) => `u${i}: user(id: "${upn}") { id }`).join(' ')} }`;
    let hogDone = 0;
    const hog = Array.from({ length: 26 }, async () => {
      const result = await gateway.graphql(hogQuery, undefined, { 'x-api-key': HOG });
      hogDone += 1;
      return result;
    });
    // The victim asks once the hog's backlog is queued.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const victim = await gateway.graphql('query($id: ID!) { user(id: $id) { id } }', { id: upns[0]! }, { 'x-api-key': VICTIM });
    const hogDoneWhenVictimAnswered = hogDone;
    const hogResults = await Promise.all(hog);

    expect(victim.errors).toBeUndefined();
    expect(victim.data?.user?.id).toBeTruthy();
    for (const result of hogResults) expect(result.errors).toBeUndefined();
    // In arrival order all 26 were answered first; shared fairly, the 16 that went at once and at
    // most a couple of the queued ones.
    expect(hogDoneWhenVictimAnswered).toBeLessThanOrEqual(19);
  }, 60_000);
});
