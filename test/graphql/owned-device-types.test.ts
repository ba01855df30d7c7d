/**
 * A user's `ownedDevices` is a directoryObject collection that Graph's API description lets hold
 * endpoints and appRoleAssignments besides devices (Microsoft's Graph PowerShell reference:
 * Get-MgUserOwnedDeviceAsEndpoint, ...AsAppRoleAssignment; docs/graph-facts.md#manager-and-bulk-lookup,
 * "Owned devices are not always devices"). The Device type shows devices only: another object is left
 * out, on the first page and on later ones, and is not taken for a device listed with limited
 * information. End to end over real sockets, with an endpoint added through the emulator's
 * `POST /_emulator/endpoints` (what the emulator answers: test/emulator/conformance/manager-and-bulk-lookup.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/emulator/model.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let owner: UserRecord;
let devices: string[];

beforeAll(async () => {
  gw = await startTestGateway();
  owner = [...gw.emulator.tenant.users.values()].find((u) => u.ownedDevices.length >= 2)!;
  expect(owner).toBeDefined();
  devices = [...owner.ownedDevices].sort();
  const res = await gw.emulator.fetch(`${gw.emulator.origin}/_emulator/endpoints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ owner: owner.id, capability: 'Conversations', providerName: 'Microsoft 365', uri: 'https://outlook.example/owa' }),
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await gw?.close();
});

describe('ownedDevices shows devices only', () => {
  it('one page: the devices, no error, no endpoint', async () => {
    const result = await gw.graphql('query($id: ID!) { user(id: $id) { ownedDevices(first: 10) { nodes { id displayName operatingSystem } } } }', {
      id: owner.id,
    });
    expect(result.errors).toBeUndefined();
    const nodes = result.data!.user.ownedDevices.nodes as { id: string; displayName: string }[];
    expect(nodes.map((d) => d.id).sort()).toEqual(devices);
    for (const d of nodes) expect(typeof d.displayName).toBe('string');
  });

  it('page by page (later pages through their nextLinks): the same devices, no error', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const result: any = await gw.graphql(
        'query($id: ID!, $after: String) { user(id: $id) { ownedDevices(first: 1, after: $after) { nodes { id displayName } pageInfo { hasNextPage endCursor } } } }',
        { id: owner.id, after },
      );
      expect(result.errors).toBeUndefined();
      const connection = result.data.user.ownedDevices;
      seen.push(...connection.nodes.map((d: { id: string }) => d.id));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen.sort()).toEqual(devices);
  });
});
