/**
 * A user's manager can be an organizational contact, and direct reports include contacts
 * (learn.microsoft.com/graph/api/user-list-manager, /user-list-directreports;
 * docs/graph-facts.md#manager-and-bulk-lookup). The User type shows users only: a contact manager
 * is `manager: null`, contacts are left out of `directReports`. End to end over real sockets, with
 * contacts added through the emulator's `POST /_emulator/contacts` (what the emulator answers for
 * them: test/emulator/conformance/org-contacts.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/emulator/model.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let users: UserRecord[];
/** A user (with reports of its own) whose manager is the contact. */
let managedByContact: UserRecord;
/** A manager with one contact among its direct reports. */
let managerWithContact: UserRecord;
let contactId: string;

async function addContact(body: Record<string, unknown>): Promise<string> {
  const res = await gw.emulator.fetch(`${gw.emulator.origin}/_emulator/contacts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

beforeAll(async () => {
  gw = await startTestGateway();
  users = [...gw.emulator.tenant.users.values()];
  managedByContact = users.find((u) => u.managerId && users.some((r) => r.managerId === u.id))!;
  managerWithContact = users.find((u) => u !== managedByContact && users.filter((r) => r.managerId === u.id).length >= 2)!;
  contactId = await addContact({
    displayName: 'Partner Liaison (contact)',
    mail: 'liaison@fabrikam.example',
    jobTitle: 'Liaison',
    manager: managerWithContact.id,
    reports: [managedByContact.id],
  });
});
afterAll(async () => {
  await gw?.close();
});

describe('the gateway shows users only', () => {
  it('user(id) { manager }: a contact manager is null, by the manager request and by $expand', async () => {
    const single = await gw.graphql('query($id: ID!) { user(id: $id) { id manager { id displayName } } }', { id: managedByContact.id });
    expect(single.errors).toBeUndefined();
    expect(single.data!.user).toEqual({ id: managedByContact.id, manager: null });

    const listed = await gw.graphql('query($ids: [ID!]) { users(first: 10, filter: { ids: $ids }) { nodes { id manager { id displayName jobTitle } } } }', {
      ids: [managedByContact.id],
    });
    expect(listed.errors).toBeUndefined();
    expect(listed.data!.users.nodes).toEqual([{ id: managedByContact.id, manager: null }]);

    // totalCount makes the list an advanced query (no $expand): the manager comes from GET /users/{id}/manager.
    const advanced = await gw.graphql('query($ids: [ID!]) { users(first: 10, filter: { ids: $ids }) { totalCount nodes { id manager { id } } } }', {
      ids: [managedByContact.id],
    });
    expect(advanced.errors).toBeUndefined();
    expect(advanced.data!.users.nodes).toEqual([{ id: managedByContact.id, manager: null }]);
  });

  it('directReports leaves the contact out, on the first page and on later ones', async () => {
    const expected = users
      .filter((u) => u.managerId === managerWithContact.id)
      .map((u) => u.id)
      .sort();
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page += 1) {
      const result: any = await gw.graphql(
        'query($id: ID!, $after: String) { user(id: $id) { directReports(first: 1, after: $after) { nodes { id userPrincipalName } pageInfo { hasNextPage endCursor } } } }',
        { id: managerWithContact.id, after },
      );
      expect(result.errors).toBeUndefined();
      const conn = result.data.user.directReports;
      for (const node of conn.nodes) {
        expect(node.userPrincipalName).toEqual(expect.any(String));
        seen.push(node.id);
      }
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).not.toContain(contactId);
    expect(seen.sort()).toEqual(expected);
  });
});
