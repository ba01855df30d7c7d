/**
 * Agent users are users: resources/agentuser says the type "Inherits from user", Graph lists them under
 * `/users` (List agentUser objects is `GET /users/microsoft.graph.agentUser`), and they are linked to
 * people through `manager` (an agent user has a manager and direct reports of its own). In a
 * directoryObject relationship they come typed `#microsoft.graph.agentUser`
 * (docs/graph-facts.md#manager-and-bulk-lookup, "Agent users"). The User type shows them like any
 * user: as a manager, by each way the gateway reads one, and among direct reports, on every page.
 * End to end over real sockets; the emulator types a user record with `identityParentId` as an agent
 * user (what it answers: test/emulator/conformance/manager-and-bulk-lookup.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/emulator/model.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let users: UserRecord[];
/** An agent user with a manager (`manager`) and reports of its own. */
let agent: UserRecord;
/** A user whose manager is the agent. */
let reportOfAgent: UserRecord;

beforeAll(async () => {
  gw = await startTestGateway();
  users = [...gw.emulator.tenant.users.values()];
  const reportsOf = (u: UserRecord) => users.filter((r) => r.managerId === u.id);
  agent = users.find((u) => u.managerId && reportsOf(u).length >= 1 && reportsOf(users.find((m) => m.id === u.managerId)!).length >= 2)!;
  expect(agent).toBeDefined();
  reportOfAgent = reportsOf(agent)[0]!;
  agent.identityParentId = randomUUID();
});
afterAll(async () => {
  await gw?.close();
});

describe('an agent user is a user', () => {
  it('as a manager: by the manager request, by $expand, and in an advanced query', async () => {
    const single = await gw.graphql('query($id: ID!) { user(id: $id) { id manager { id displayName } } }', { id: reportOfAgent.id });
    expect(single.errors).toBeUndefined();
    expect(single.data!.user).toEqual({ id: reportOfAgent.id, manager: { id: agent.id, displayName: agent.displayName } });

    const listed = await gw.graphql('query($ids: [ID!]) { users(first: 10, filter: { ids: $ids }) { nodes { id manager { id jobTitle } } } }', {
      ids: [reportOfAgent.id],
    });
    expect(listed.errors).toBeUndefined();
    expect(listed.data!.users.nodes).toEqual([{ id: reportOfAgent.id, manager: { id: agent.id, jobTitle: agent.jobTitle } }]);

    // totalCount makes the list an advanced query (no $expand): the manager comes from GET /users/{id}/manager.
    const advanced = await gw.graphql('query($ids: [ID!]) { users(first: 10, filter: { ids: $ids }) { totalCount nodes { id manager { id } } } }', {
      ids: [reportOfAgent.id],
    });
    expect(advanced.errors).toBeUndefined();
    expect(advanced.data!.users.nodes).toEqual([{ id: reportOfAgent.id, manager: { id: agent.id } }]);
  });

  it("among its manager's direct reports, on the first page and on later ones", async () => {
    const managerId = agent.managerId!;
    const expected = users
      .filter((u) => u.managerId === managerId)
      .map((u) => u.id)
      .sort();
    expect(expected).toContain(agent.id);
    const all = await gw.graphql('query($id: ID!) { user(id: $id) { directReports(first: 100) { nodes { id } } } }', { id: managerId });
    expect(all.errors).toBeUndefined();
    expect(all.data!.user.directReports.nodes.map((n: { id: string }) => n.id).sort()).toEqual(expected);

    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 50; page += 1) {
      const result: any = await gw.graphql(
        'query($id: ID!, $after: String) { user(id: $id) { directReports(first: 1, after: $after) { nodes { id userPrincipalName } pageInfo { hasNextPage endCursor } } } }',
        { id: managerId, after },
      );
      expect(result.errors).toBeUndefined();
      const conn = result.data.user.directReports;
      seen.push(...conn.nodes.map((n: { id: string }) => n.id));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen.sort()).toEqual(expected);
  });
});
