/**
 * docs/graph-facts.md#manager-and-bulk-lookup: a user's manager can be an organizational contact, and
 * direct reports include contacts, which callers without a permission that reads contacts see with
 * limited information (learn.microsoft.com/graph/api/user-list-manager, /user-list-directreports).
 * No contact is seeded; this file adds one through the emulator's `POST /_emulator/contacts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../../src/emulator/model.js';
import { mintToken, startConformance, type Conformance } from './support.js';

let c: Conformance;
/** A user whose manager is the contact. */
let managedByContact: UserRecord;
/** A manager with the contact among its direct reports. */
let managerWithContact: UserRecord;
let contactId: string;

beforeAll(async () => {
  c = await startConformance();
  managedByContact = c.users.find((u) => u.managerId)!;
  managerWithContact = c.users.find((u) => u !== managedByContact && c.users.filter((r) => r.managerId === u.id).length >= 2)!;
  const res = await c.emulator.fetch(`${c.emulator.origin}/_emulator/contacts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      displayName: 'Partner Liaison (contact)',
      mail: 'liaison@fabrikam.example',
      jobTitle: 'Liaison',
      manager: managerWithContact.id,
      reports: [managedByContact.id],
    }),
  });
  expect(res.status).toBe(200);
  contactId = ((await res.json()) as { id: string }).id;
});
afterAll(async () => c?.close());

async function graph(path: string, roles: string[]) {
  const token = await mintToken(c.emulator, { roles });
  const res = await c.emulator.fetch(`${c.emulator.origin}/v1.0${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('organizational contacts as manager and direct reports', () => {
  it('GET /users/{id}/manager answers the contact, typed #microsoft.graph.orgContact', async () => {
    const res = await graph(`/users/${managedByContact.id}/manager?$select=id,displayName,userPrincipalName`, ['Directory.Read.All']);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ '@odata.type': '#microsoft.graph.orgContact', id: contactId, displayName: 'Partner Liaison (contact)' });
    expect(res.body).not.toHaveProperty('userPrincipalName');
  });

  it('directReports holds users and the contact; without a permission that reads contacts, the contact comes with its type and id only', async () => {
    const full = await graph(`/users/${managerWithContact.id}/directReports?$select=id,displayName`, ['Directory.Read.All']);
    const contact = full.body.value.find((o: any) => o.id === contactId);
    expect(contact).toEqual({ '@odata.type': '#microsoft.graph.orgContact', id: contactId, displayName: 'Partner Liaison (contact)' });
    const limited = await graph(`/users/${managerWithContact.id}/directReports?$select=id,displayName`, ['User.Read.All']);
    expect(limited.body.value.find((o: any) => o.id === contactId)).toEqual({ '@odata.type': '#microsoft.graph.orgContact', id: contactId, displayName: null });
    expect(limited.body.value.filter((o: any) => o['@odata.type'] === '#microsoft.graph.user').length).toBe(
      c.users.filter((u) => u.managerId === managerWithContact.id).length,
    );
  });
});
