import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { ordinaryUserPicker } from './mutations/support.js';

/**
 * Whether Graph refuses a manager assignment that closes a reporting loop is not documented
 * (docs/graph-facts.md#manager-and-bulk-lookup, "Reporting loops"): the emulator refuses it, the
 * other reading stores it. Under that other reading the directory holds a loop, set here directly
 * in the emulator's data; the gateway must still answer nested `manager` and `directReports`
 * selections in full and in a bounded number of Graph requests.
 */
let emulator: TestEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emulator = await startTestEmulator({ userCount: 40 });
  gw = await startTestGateway({ emulator });
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await emulator?.close();
});

const ordinaryUser = ordinaryUserPicker(() => emulator);

describe('a reporting loop in the directory', () => {
  it('the emulator refuses to close one (its reading), and the gateway passes the refusal on without writing', async () => {
    const [a, b] = [ordinaryUser(), ordinaryUser()];
    a.managerId = b.id;
    const result = await gw.graphql(`mutation { assignManager(input: {user: "${b.id}", manager: "${a.id}"}) { requestId } }`);
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
    expect(b.managerId).not.toBe(a.id);
  });

  it('a loop Graph did store (the other reading): nested manager and directReports answer alternately, each level once', async () => {
    const [a, b] = [ordinaryUser(), ordinaryUser()];
    a.managerId = b.id;
    b.managerId = a.id;
    await emulator.resetStats();
    const result = await gw.graphql(`{
      user(id: "${a.id}") {
        id
        manager { id manager { id manager { id directReports(first: 5) { nodes { id } } } } }
        directReports(first: 5) { nodes { id directReports(first: 5) { nodes { id } } } }
      }
    }`);
    expect(result.errors).toBeUndefined();
    const user = result.data!.user;
    expect([user.id, user.manager.id, user.manager.manager.id, user.manager.manager.manager.id]).toEqual([a.id, b.id, a.id, b.id]);
    expect(user.manager.manager.manager.directReports.nodes.map((n: { id: string }) => n.id)).toContain(a.id);
    expect(user.directReports.nodes.map((n: { id: string }) => n.id)).toEqual([b.id]);
    expect(user.directReports.nodes[0].directReports.nodes.map((n: { id: string }) => n.id)).toEqual([a.id]);
    expect((await emulator.stats()).totalRequests).toBeLessThan(20);
  });
});
