import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAppGraphToken, startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/**
 * Graph's user delta tracks only the properties `$select` names, and a user's manager only when
 * `manager` is selected (docs/graph-facts.md#delta-query). A caller who asks the change feed for
 * `manager` is told when it changes; one who does not is not.
 */

let emulator: TestEmulator;
let gateway: TestGateway;

interface Changes {
  userChanges: { complete: boolean; changed: Array<{ id: string; manager?: { id: string } | null }>; nextDeltaToken: string };
}

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 30 });
  // A manager per changed user is costly to plan for (one lookup each): room for this small tenant.
  gateway = await startTestGateway({ emulator, env: { MAX_UPSTREAM_REQUESTS: '200' } });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

async function syncToEnd(query: string): Promise<string> {
  let token: string | undefined;
  for (;;) {
    const r = await gateway.graphql<Changes>(query, token ? { t: token } : {});
    expect(r.errors).toBeUndefined();
    token = r.data!.userChanges.nextDeltaToken;
    if (r.data!.userChanges.complete) return token;
  }
}

/** Users without roles or reports: any other user can become their manager without a cycle. */
function plainUsers() {
  const all = [...emulator.tenant.users.values()];
  const managers = new Set(all.map((u) => u.managerId));
  return all.filter((u) => u._directoryRoles.length === 0 && !managers.has(u.id));
}

async function setManager(userId: string, managerId: string) {
  const res = await emulator.fetch(`/v1.0/users/${userId}/manager/$ref`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${await demoAppGraphToken(emulator)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ '@odata.id': `${emulator.origin}/v1.0/users/${managerId}` }),
  });
  expect(res.status, await res.text()).toBe(204);
}

/** Syncs `query` to its end, gives `user` the manager `boss`, and returns the next round's `changed`. */
async function changedAfterNewManager(query: string, [user, boss]: Array<{ id: string }>): Promise<Changes['userChanges']['changed']> {
  const token = await syncToEnd(query);
  await setManager(user!.id, boss!.id);
  const round = await gateway.graphql<Changes>(query, { t: token });
  expect(round.errors).toBeUndefined();
  return round.data!.userChanges.changed;
}

describe('userChanges and managers', () => {
  it('reports a user whose manager changed when the feed selects manager, with the new manager', async () => {
    const [user, boss] = plainUsers().slice(0, 2);
    const query = 'query($t: String) { userChanges(deltaToken: $t) { complete changed { id manager { id } } nextDeltaToken } }';
    expect(await changedAfterNewManager(query, [user!, boss!])).toEqual([{ id: user!.id, manager: { id: boss!.id } }]);
  });

  it('does not report a manager change to a feed that does not select manager (Graph would not either)', async () => {
    const query = 'query($t: String) { userChanges(deltaToken: $t) { complete changed { id displayName } nextDeltaToken } }';
    expect(await changedAfterNewManager(query, plainUsers().slice(2, 4))).toEqual([]);
  });
});
