/**
 * docs/graph-facts.md#manager-and-bulk-lookup: a user's manager and direct reports, and
 * `POST /directoryObjects/getByIds` (learn.microsoft.com/graph/api/user-list-manager,
 * /user-list-directreports, /directoryobject-getbyids). Requests are built with the gateway's
 * request builders.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphSettingsFromEnv } from '../../../src/emulator/graph-settings.js';
import { relativeUrl } from '../../../src/graph/paths.js';
import { GET_BY_IDS_LIMIT, directReportsRequest, getByIdsRequest, managerRequest, ownedDevicesRequest, userRequest } from '../../../src/graph/requests.js';
import type { GraphRequest } from '../../../src/graph/types.js';
import { type Conformance, EVENTUAL, graphErrorCode, mintToken, startConformance } from './support.js';

let c: Conformance;
beforeAll(async () => {
  c = await startConformance(['User Administrator'], { userCount: 1000 });
});
afterAll(async () => c.close());

const send = (req: GraphRequest) => c.graph(req.method, `/v1.0${relativeUrl(req.path, req.query)}`, req.body === undefined ? {} : { body: req.body });

describe('manager (user-list-manager)', () => {
  it('GET /users/{id}/manager returns the manager as a typed directory object', async () => {
    const user = c.users.find((u) => u.managerId)!;
    const res = await send(managerRequest(user.id, ['displayName']));
    expect(res.status).toBe(200);
    expect(res.body['@odata.type']).toBe('#microsoft.graph.user');
    expect(res.body.id).toBe(user.managerId);
  });

  it('a user without a manager: 404 Request_ResourceNotFound', async () => {
    const user = c.users.find((u) => !u.managerId)!;
    const res = await send(managerRequest(user.id, ['displayName']));
    expect(res.status).toBe(404);
    expect(graphErrorCode(res)).toBe('Request_ResourceNotFound');
  });

  it('$expand=manager leaves manager out when there is none, and carries it when there is one', async () => {
    const without = c.users.find((u) => !u.managerId)!;
    const a = await send(userRequest(without.id, ['displayName'], ['displayName']));
    expect(a.status).toBe(200);
    expect(a.body).not.toHaveProperty('manager');
    const withManager = c.users.find((u) => u.managerId)!;
    const b = await send(userRequest(withManager.id, ['displayName'], ['displayName']));
    expect(b.body.manager.id).toBe(withManager.managerId);
  });

  it('directReports is a directoryObject collection; a $filter on it is an advanced query (aad-advanced-queries relationships)', async () => {
    const manager = c.users.find((u) => c.users.some((r) => r.managerId === u.id))!;
    const res = await c.graph('GET', `/v1.0/users/${manager.id}/directReports?$select=id`);
    expect(res.status).toBe(200);
    for (const item of res.body.value) expect(item['@odata.type']).toBe('#microsoft.graph.user');
    const filter = `?$filter=${encodeURIComponent("startsWith(displayName,'A')")}`;
    const refused = await c.graph('GET', `/v1.0/users/${manager.id}/directReports${filter}`);
    expect(refused.status).toBe(400);
    expect(graphErrorCode(refused)).toBe('Request_UnsupportedQuery');
    expect((await c.graph('GET', `/v1.0/users/${manager.id}/directReports${filter}&$count=true`, { headers: EVENTUAL })).status).toBe(200);
  });
});

describe('getByIds (directoryobject-getbyids: "You can specify up to 1000 ids")', () => {
  it(`answers ${GET_BY_IDS_LIMIT} ids in one call with the selected properties; unknown ids are left out`, async () => {
    const ids = c.users.slice(0, GET_BY_IDS_LIMIT - 1).map((u) => u.id);
    const res = await send(getByIdsRequest([...ids, '00000000-0000-4000-8000-00000000dead'], ['displayName', 'department']));
    expect(res.status).toBe(200);
    expect(res.body.value).toHaveLength(ids.length);
    expect(Object.keys(res.body.value[0]).sort()).toEqual(['@odata.type', 'department', 'displayName', 'id']);
  });

  it('users: a limited set without $select; with it the selected properties (the known issue), or still the limited set under getByIdsSelect: ignored (the older page: "$select ... is not available")', async () => {
    const ids = c.users.slice(0, 3).map((u) => u.id);
    const bare = await c.graph('POST', '/v1.0/directoryObjects/getByIds', { body: { ids, types: ['user'] } });
    expect(Object.keys(bare.body.value[0]).sort()).toEqual(['@odata.type', 'displayName', 'id', 'userPrincipalName']);
    const setting = (getByIdsSelect: string) => c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ getByIdsSelect }) });
    expect((await setting('ignored')).status).toBe(200);
    try {
      const ignored = await send(getByIdsRequest(ids, ['department', 'jobTitle']));
      expect(ignored.status).toBe(200);
      expect(Object.keys(ignored.body.value[0]).sort()).toEqual(['@odata.type', 'displayName', 'id', 'userPrincipalName']);
    } finally {
      await setting('honoured');
    }
    expect(Object.keys((await send(getByIdsRequest(ids, ['department', 'jobTitle']))).body.value[0]).sort()).toEqual([
      '@odata.type',
      'department',
      'id',
      'jobTitle',
    ]);
    expect(graphSettingsFromEnv({ EMULATOR_GET_BY_IDS_SELECT: 'ignored' })).toEqual({ getByIdsSelect: 'ignored' });
    expect(() => graphSettingsFromEnv({ EMULATOR_GET_BY_IDS_SELECT: 'no' })).toThrow(/EMULATOR_GET_BY_IDS_SELECT/);
  });

  it(`refuses ${GET_BY_IDS_LIMIT + 1} ids, and an empty list`, async () => {
    const ids = Array.from({ length: GET_BY_IDS_LIMIT + 1 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const tooMany = await c.graph('POST', '/v1.0/directoryObjects/getByIds?$select=id', { body: { ids, types: ['user'] } });
    expect(tooMany.status).toBe(400);
    graphErrorCode(tooMany);
    const empty = await c.graph('POST', '/v1.0/directoryObjects/getByIds?$select=id', { body: { ids: [], types: ['user'] } });
    expect(empty.status).toBe(400);
    graphErrorCode(empty);
  });

  it('regression: ids are GUIDs ("represented as strings"); one that is not fails the whole call with 400 Request_BadRequest "Invalid GUID specified." (microsoft-graph-docs-contrib#5884)', async () => {
    const known = c.users[0]!.id;
    for (const bad of [c.users[0]!.userPrincipalName, `{${known}}`, known.replace(/-/g, ''), 'not-a-guid']) {
      const res = await c.graph('POST', '/v1.0/directoryObjects/getByIds?$select=id', { body: { ids: [known, bad], types: ['user'] } });
      expect(res.status).toBe(400);
      expect(graphErrorCode(res)).toBe('Request_BadRequest');
      expect(res.body.error.message).toBe('Invalid GUID specified.');
    }
    // Upper case is the same GUID.
    const upper = await c.graph('POST', '/v1.0/directoryObjects/getByIds?$select=id', { body: { ids: [known.toUpperCase()], types: ['user'] } });
    expect(upper.status).toBe(200);
    expect(upper.body.value.map((u: { id: string }) => u.id)).toEqual([known]);
  });

  it('the gateway never builds a getByIds request outside 1..1000 ids', () => {
    expect(() => getByIdsRequest([], ['id'])).toThrow(RangeError);
    expect(() =>
      getByIdsRequest(
        Array.from({ length: GET_BY_IDS_LIMIT + 1 }, () => 'x'),
        ['id'],
      ),
    ).toThrow(RangeError);
  });
});

describe('getByIds permissions (directoryobject-getbyids: Directory.Read.All, "higher: not available")', () => {
  const body = () => ({ ids: c.users.slice(0, 3).map((u) => u.id), types: ['user'] });

  it('an app with User.Read.All (or User.ReadWrite.All) only: 403 Authorization_RequestDenied, while GET /users/{id} works', async () => {
    for (const roles of [['User.Read.All'], ['User.ReadWrite.All']]) {
      const token = await mintToken(c.emulator, { roles });
      const res = await c.graph('POST', '/v1.0/directoryObjects/getByIds?$select=id', { token, body: body() });
      expect(res.status, roles.join()).toBe(403);
      expect(graphErrorCode(res)).toBe('Authorization_RequestDenied');
      expect((await c.graph('GET', `/v1.0/users/${c.users[0]!.id}?$select=id`, { token })).status).toBe(200);
    }
  });

  it('Directory.Read.All answers; so does Directory.ReadWrite.All, whose description includes reading the directory', async () => {
    for (const roles of [['Directory.Read.All'], ['Directory.ReadWrite.All']]) {
      const token = await mintToken(c.emulator, { roles });
      const res = await c.graph('POST', '/v1.0/directoryObjects/getByIds?$select=id', { token, body: body() });
      expect(res.status, roles.join()).toBe(200);
      expect(res.body.value).toHaveLength(3);
    }
  });

  it('without $select a v1.0 user comes back with limited properties (known issue named on the page)', async () => {
    const res = await c.graph('POST', '/v1.0/directoryObjects/getByIds', { body: body() });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.value[0])).not.toContain('jobTitle');
  });
});

describe('memberships (user-list-memberof)', () => {
  it('regression: memberOf holds the directory roles of a user too, typed #microsoft.graph.directoryRole, next to its groups', async () => {
    const member = c.users.find((u) => u._directoryRoles.length > 0 && u.memberOf.length > 0) ?? c.users.find((u) => u._directoryRoles.length > 0)!;
    const res = await c.graph('GET', `/v1.0/users/${member.id}/memberOf?$select=id,displayName,mail`);
    expect(res.status).toBe(200);
    const types = res.body.value.map((o: any) => o['@odata.type']);
    expect(types.filter((t: string) => t === '#microsoft.graph.directoryRole')).toHaveLength(member._directoryRoles.length);
    expect(types.filter((t: string) => t === '#microsoft.graph.group')).toHaveLength(member.memberOf.length);
    const role = res.body.value.find((o: any) => o['@odata.type'] === '#microsoft.graph.directoryRole');
    // A directoryRole has no `mail`: it carries the selected properties it has.
    expect(Object.keys(role).sort()).toEqual(['@odata.type', 'displayName', 'id']);
    expect(member._directoryRoles).toContain(role.displayName);
  });

  // user-list-memberof, "Request headers": "This header and $count are required when using the $search,
  // $filter, $orderby, or OData cast query parameters"; "You can use $search on the displayName property."
  it('$search needs ConsistencyLevel: eventual AND $count=true (the header alone is 400 Request_UnsupportedQuery), and searches displayName only', async () => {
    const member = c.users.find((u) => u.memberOf.length > 0)!;
    const search = `$search=${encodeURIComponent('"displayName:a"')}`;
    const headerOnly = await c.graph('GET', `/v1.0/users/${member.id}/memberOf?${search}`, { headers: EVENTUAL });
    expect(headerOnly.status).toBe(400);
    expect(graphErrorCode(headerOnly)).toBe('Request_UnsupportedQuery');
    expect(headerOnly.body.error.message).toMatch(/\$count=true/);
    const both = await c.graph('GET', `/v1.0/users/${member.id}/memberOf?${search}&$count=true`, { headers: EVENTUAL });
    expect(both.status).toBe(200);
    expect(typeof both.body['@odata.count']).toBe('number');
    const other = await c.graph('GET', `/v1.0/users/${member.id}/memberOf?$search=${encodeURIComponent('"mail:a"')}&$count=true`, { headers: EVENTUAL });
    expect(other.status).toBe(400);
    expect(graphErrorCode(other)).toBe('Request_UnsupportedQuery');
  });

  // user-list-memberof, example 2: GET /users/{id}/memberOf/$count with ConsistencyLevel: eventual → 200 text/plain.
  it('/memberOf/$count with ConsistencyLevel: eventual is the plain-text number of memberships; without the header 400', async () => {
    const member = c.users.find((u) => u.memberOf.length > 0)!;
    const res = await c.graph('GET', `/v1.0/users/${member.id}/memberOf/$count`, { headers: EVENTUAL });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.text).toBe(String(member.memberOf.length + member._directoryRoles.length));
    expect((await c.graph('GET', `/v1.0/users/${member.id}/memberOf/$count`)).status).toBe(400);
  });

  it('$filter needs ConsistencyLevel: eventual AND $count=true too', async () => {
    const member = c.users.find((u) => u.memberOf.length > 0)!;
    const filter = `$filter=${encodeURIComponent("startswith(displayName,'a')")}`;
    const headerOnly = await c.graph('GET', `/v1.0/users/${member.id}/memberOf?${filter}`, { headers: EVENTUAL });
    expect(headerOnly.status).toBe(400);
    expect(graphErrorCode(headerOnly)).toBe('Request_UnsupportedQuery');
    expect((await c.graph('GET', `/v1.0/users/${member.id}/memberOf?${filter}&$count=true`, { headers: EVENTUAL })).status).toBe(200);
  });

  it("the gateway's client keeps the groups of memberOf and leaves directory roles out", async () => {
    const member = c.users.find((u) => u._directoryRoles.length > 0 && u.memberOf.length > 0) ?? c.users.find((u) => u._directoryRoles.length > 0)!;
    const client = await c.gatewayClient();
    const page = await client.listMemberOf(member.id, { kind: 'first', query: { top: 50, select: ['displayName'] } });
    expect(page.items.map((g) => g.id).sort()).toEqual([...member.memberOf].sort());
  });
});

describe('ownedDevices holds more than devices (Get-MgUserOwnedDeviceAsEndpoint, ...AsAppRoleAssignment)', () => {
  it('an endpoint the user owns is listed typed #microsoft.graph.endpoint, with only the selected properties it has', async () => {
    const owner = c.users.find((u) => u.ownedDevices.length > 0)!;
    const devices = [...owner.ownedDevices];
    const added = await c.emulator.fetch(`${c.emulator.origin}/_emulator/endpoints`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ owner: owner.id, capability: 'Conversations', providerName: 'Microsoft 365', uri: 'https://outlook.example/owa' }),
    });
    expect(added.status).toBe(200);
    const endpointId = ((await added.json()) as { id: string }).id;
    // The gateway's request: device properties selected (displayName always).
    const res = await send(ownedDevicesRequest(owner.id, ['id', 'operatingSystem'], 100));
    expect(res.status).toBe(200);
    const items = res.body.value as Record<string, unknown>[];
    expect(
      items
        .filter((i) => i['@odata.type'] === '#microsoft.graph.device')
        .map((i) => i.id)
        .sort(),
    ).toEqual(devices.sort());
    expect(items.filter((i) => i['@odata.type'] === '#microsoft.graph.endpoint')).toEqual([{ '@odata.type': '#microsoft.graph.endpoint', id: endpointId }]);
    // Without $select, its own properties (resources/endpoint).
    const own = await c.graph('GET', `/v1.0/users/${owner.id}/ownedDevices`);
    expect(own.status).toBe(200);
    expect((own.body.value as Record<string, unknown>[]).find((i) => i.id === endpointId)).toMatchObject({
      '@odata.type': '#microsoft.graph.endpoint',
      capability: 'Conversations',
      uri: 'https://outlook.example/owa',
    });
  });
});

describe('agent users (resources/agentuser: "Inherits from user")', () => {
  it('as a manager and as a direct report they come typed #microsoft.graph.agentUser, with the user properties selected', async () => {
    const agent = c.users.find((u) => u.managerId && c.users.some((r) => r.managerId === u.id))!;
    const report = c.users.find((r) => r.managerId === agent.id)!;
    agent.identityParentId = '7b1b2b3c-0000-4000-8000-000000000001';
    try {
      const manager = await send(managerRequest(report.id, ['displayName', 'userPrincipalName']));
      expect(manager.status).toBe(200);
      expect(manager.body).toMatchObject({ '@odata.type': '#microsoft.graph.agentUser', id: agent.id, userPrincipalName: agent.userPrincipalName });
      const reports = await send(directReportsRequest(agent.managerId!, ['displayName'], 999));
      expect(reports.status).toBe(200);
      expect((reports.body.value as Record<string, unknown>[]).find((r) => r.id === agent.id)).toMatchObject({ '@odata.type': '#microsoft.graph.agentUser' });
      const expanded = await send(userRequest(report.id, ['displayName'], ['displayName']));
      expect(expanded.body.manager).toMatchObject({ '@odata.type': '#microsoft.graph.agentUser', id: agent.id });
    } finally {
      delete agent.identityParentId;
    }
  });
});
