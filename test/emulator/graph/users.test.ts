import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestEmulator } from '../../support/emulator.js';
import { EVENTUAL, type graphCaller, mintToken, startEmulatorAsApp } from './graph-client.js';
import { DOCUMENTED_DEFAULT_USER_PROPERTIES } from '../documented-user-properties.js';

let emulator: TestEmulator;
let graph: ReturnType<typeof graphCaller>;

beforeAll(async () => {
  // The default caller: an app with every permission whose service principal is a User Administrator.
  ({ emulator, graph } = await startEmulatorAsApp(['User Administrator']));
});
afterAll(async () => {
  await emulator.close();
});

describe('GET /v1.0/users', () => {
  it('returns the 11 default properties, 100 per page, with Graph headers', async () => {
    const res = await graph('GET', '/v1.0/users', { headers: { 'client-request-id': 'abc-123' } });
    expect(res.status).toBe(200);
    expect(res.body.value).toHaveLength(100);
    expect(Object.keys(res.body.value[0]).sort()).toEqual(DOCUMENTED_DEFAULT_USER_PROPERTIES);
    expect(res.body['@odata.context']).toBe(`${emulator.origin}/v1.0/$metadata#users`);
    expect(res.body['@odata.nextLink']).toMatch(new RegExp(`^${emulator.origin}/v1.0/users\\?.*\\$skiptoken=`));
    expect(res.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('client-request-id')).toBe('abc-123');
    expect(res.headers.get('date')).toBeTruthy();
  });

  it('$select returns only the selected properties', async () => {
    const res = await graph('GET', '/v1.0/users?$select=displayName&$top=5');
    expect(res.body.value).toHaveLength(5);
    for (const u of res.body.value) expect(Object.keys(u)).toEqual(['displayName']);
    expect(res.body['@odata.context']).toContain('#users(displayName)');
  });

  it('$select of an unknown property is Request_BadRequest', async () => {
    const res = await graph('GET', '/v1.0/users?$select=displayName,shoeSize');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('Request_BadRequest');
    expect(res.body.error.message).toBe("Could not find a property named 'shoeSize' on type 'microsoft.graph.user'.");
    expect(res.body.error.innerError['request-id']).toBe(res.headers.get('request-id'));
  });

  it('refuses $top=1000 and $skip', async () => {
    const top = await graph('GET', '/v1.0/users?$top=1000');
    expect(top.status).toBe(400);
    expect(top.body.error.code).toBe('Request_UnsupportedQuery');
    expect(top.body.error.message).toContain('Invalid page size specified');
    const skip = await graph('GET', '/v1.0/users?$skip=10');
    expect(skip.status).toBe(400);
  });

  it.each([250, 999])('following nextLinks with $top=%i visits every user exactly once', async (top) => {
    const seen: string[] = [];
    let url: string | undefined = `/v1.0/users?$top=${top}&$select=id,displayName`;
    let pages = 0;
    while (url) {
      const res = await graph('GET', url);
      expect(res.status).toBe(200);
      seen.push(...res.body.value.map((u: { id: string }) => u.id));
      url = res.body['@odata.nextLink'];
      pages += 1;
    }
    expect(seen).toHaveLength(emulator.tenant.users.size);
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBe(Math.ceil(emulator.tenant.users.size / top));
  });

  it('pages in a stable order with $orderby=displayName', async () => {
    const first = await graph('GET', '/v1.0/users?$orderby=displayName&$top=300&$select=displayName');
    const second = await graph('GET', first.body['@odata.nextLink']);
    const names = [...first.body.value, ...second.body.value].map((u: { displayName: string }) => u.displayName.toLowerCase());
    expect(names).toEqual([...names].sort());
    const bad = await graph('GET', '/v1.0/users?$orderby=jobTitle');
    expect(bad.status).toBe(400);
  });
});

describe('$filter', () => {
  it('supports default filters: eq, startsWith, in, and/or/parentheses', async () => {
    const res = await graph('GET', "/v1.0/users?$filter=startsWith(userPrincipalName,'admin')&$select=userPrincipalName");
    expect(res.body.value).toEqual([{ userPrincipalName: 'admin@contoso.example' }]);
    const dept = await graph(
      'GET',
      "/v1.0/users?$filter=(department eq 'Sales' or department eq 'Legal') and accountEnabled eq true&$select=department,accountEnabled&$top=999",
    );
    expect(dept.body.value.length).toBeGreaterThan(0);
    for (const u of dept.body.value) {
      expect(['Sales', 'Legal']).toContain(u.department);
      expect(u.accountEnabled).toBe(true);
    }
    const inList = await graph('GET', "/v1.0/users?$filter=userPrincipalName in ('admin@contoso.example','nobody@contoso.example')&$select=id");
    expect(inList.body.value).toHaveLength(1);
  });

  it('escapes apostrophes by doubling them', async () => {
    const obrien = [...emulator.tenant.users.values()].find((u) => u.userPrincipalName.includes("o'brien"))!;
    const literal = obrien.userPrincipalName.replace(/'/g, "''");
    const res = await graph('GET', `/v1.0/users?$filter=${encodeURIComponent(`userPrincipalName eq '${literal}'`)}&$select=id,userPrincipalName`);
    expect(res.status).toBe(200);
    expect(res.body.value).toEqual([{ id: obrien.id, userPrincipalName: obrien.userPrincipalName }]);
    const unbalanced = await graph('GET', `/v1.0/users?$filter=${encodeURIComponent(`userPrincipalName eq '${obrien.userPrincipalName}'`)}`);
    expect(unbalanced.status).toBe(400);
    expect(unbalanced.body.error.code).toBe('BadRequest');
  });

  it('advanced-only filters need ConsistencyLevel: eventual and $count=true', async () => {
    for (const filter of ["endsWith(mail,'@contoso.example')", "department ne 'Sales'", "companyName eq 'Contoso'", "not(department eq 'Sales')"]) {
      const refused = await graph('GET', `/v1.0/users?$filter=${encodeURIComponent(filter)}`);
      expect(refused.status, filter).toBe(400);
      expect(refused.body.error.code, filter).toBe('Request_UnsupportedQuery');
      const headerOnly = await graph('GET', `/v1.0/users?$filter=${encodeURIComponent(filter)}`, { headers: EVENTUAL });
      expect(headerOnly.status, filter).toBe(400);
    }
    const ok = await graph('GET', `/v1.0/users?$filter=${encodeURIComponent("endsWith(mail,'@contoso.example')")}&$count=true&$top=5&$select=mail`, {
      headers: EVENTUAL,
    });
    expect(ok.status).toBe(200);
    expect(ok.body['@odata.count']).toBeGreaterThan(500);
    for (const u of ok.body.value) expect(u.mail.endsWith('@contoso.example')).toBe(true);
  });

  it('unfilterable properties and syntax errors', async () => {
    const unfilterable = await graph('GET', `/v1.0/users?$filter=${encodeURIComponent('signInSessionsValidFromDateTime eq 2020-01-01T00:00:00Z')}`);
    expect(unfilterable.body.error.code).toBe('Request_UnsupportedQuery');
    const syntax = await graph('GET', `/v1.0/users?$filter=${encodeURIComponent('displayName eq')}`);
    expect(syntax.status).toBe(400);
    expect(syntax.body.error.code).toBe('BadRequest');
    expect(syntax.body.error.message).toContain('Invalid filter clause');
  });

  it('createdDateTime ge/le works by default (every published version of the user filter table), and as an advanced query', async () => {
    const query = `/v1.0/users?$filter=${encodeURIComponent('createdDateTime ge 2020-01-01T00:00:00Z and createdDateTime le 2020-12-31T23:59:59Z')}&$select=createdDateTime&$top=999`;
    for (const res of [await graph('GET', query), await graph('GET', `${query}&$count=true`, { headers: EVENTUAL })]) {
      expect(res.status).toBe(200);
      expect(res.body.value.length).toBeGreaterThan(10);
      for (const u of res.body.value) expect(u.createdDateTime.startsWith('2020')).toBe(true);
    }
  });
});

describe('$search and $count', () => {
  it('$search needs the ConsistencyLevel header', async () => {
    const refused = await graph('GET', `/v1.0/users?$search=${encodeURIComponent('"displayName:patti"')}`);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('Request_UnsupportedQuery');
    const res = await graph('GET', `/v1.0/users?$search=${encodeURIComponent('"displayName:patti"')}&$select=displayName&$top=999`, { headers: EVENTUAL });
    expect(res.status).toBe(200);
    expect(res.body.value.length).toBeGreaterThan(0);
    for (const u of res.body.value) expect(u.displayName.toLowerCase()).toMatch(/(^|\s)patti/);
  });

  it('$count=true without the header is silently ignored; /users/$count needs it', async () => {
    const ignored = await graph('GET', '/v1.0/users?$count=true&$top=1');
    expect(ignored.status).toBe(200);
    expect(ignored.body['@odata.count']).toBeUndefined();
    const refused = await graph('GET', '/v1.0/users/$count');
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe('$count is not currently supported.');
    const count = await graph('GET', '/v1.0/users/$count', { headers: EVENTUAL });
    expect(count.status).toBe(200);
    expect(count.headers.get('content-type')).toContain('text/plain');
    expect(Number(count.text)).toBe(emulator.tenant.users.size);
  });
});

describe('$expand', () => {
  it('expands manager on a list and on a single user, with a nested $select', async () => {
    const list = await graph('GET', '/v1.0/users?$expand=manager&$top=50&$select=id,displayName');
    const withManager = list.body.value.filter((u: { manager?: unknown }) => u.manager);
    expect(withManager.length).toBeGreaterThan(0);
    const u = withManager[0];
    const record = emulator.tenant.users.get(u.id)!;
    expect(u.manager.id).toBe(record.managerId);
    // The nested $select is ignored by default (src/emulator/graph-settings.ts): the manager's default properties.
    const single = await graph('GET', `/v1.0/users/${u.id}?$expand=manager($select=id,displayName)`);
    expect(single.body.manager).toMatchObject({ id: record.managerId, displayName: expect.any(String), userPrincipalName: expect.any(String) });
    const ceo = [...emulator.tenant.users.values()].find((x) => x.jobTitle === 'Chief Executive Officer')!;
    const reports = await graph('GET', `/v1.0/users/${ceo.id}?$expand=directReports`);
    expect(reports.body.directReports.length).toBeGreaterThan(0);
    expect(reports.body.directReports.length).toBeLessThanOrEqual(20);
  });

  it('refuses $expand with an advanced query', async () => {
    const res = await graph('GET', '/v1.0/users?$expand=manager&$count=true', { headers: EVENTUAL });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('Request_UnsupportedQuery');
  });
});

describe('addressing', () => {
  it('finds users by id, by UPN, by #EXT# UPN (encoded) and by apostrophe UPN', async () => {
    const admin = await graph('GET', '/v1.0/users/admin@contoso.example');
    expect(admin.body.id).toBe(emulator.tenant.wellKnown.adminUserId);
    const byId = await graph('GET', `/v1.0/users/${admin.body.id}?$select=userPrincipalName`);
    expect(byId.body.userPrincipalName).toBe('admin@contoso.example');
    const guest = [...emulator.tenant.users.values()].find((u) => u.userPrincipalName.includes('#EXT#'))!;
    const ext = await graph('GET', `/v1.0/users/${guest.userPrincipalName.replace(/#/g, '%23')}?$select=id,userType`);
    expect(ext.body).toMatchObject({ id: guest.id, userType: 'Guest' });
    // An unencoded # starts the URL fragment, so the server only sees the part before it.
    const truncated = await graph('GET', `/v1.0/users/${guest.userPrincipalName}`);
    expect(truncated.status).toBe(404);
    expect(truncated.body.error.code).toBe('Request_ResourceNotFound');
    const apostrophe = [...emulator.tenant.users.values()].find((u) => u.userPrincipalName.includes("'"))!;
    const ap = await graph('GET', `/v1.0/users/${encodeURIComponent(apostrophe.userPrincipalName)}?$select=id`);
    expect(ap.body.id).toBe(apostrophe.id);
  });

  it("a $-prefixed UPN works only in the users('...') form", async () => {
    const bare = await graph('GET', '/v1.0/users/$svc-backup@contoso.example');
    expect(bare.status).toBe(400);
    const parens = await graph('GET', "/v1.0/users('$svc-backup@contoso.example')?$select=userPrincipalName");
    expect(parens.status).toBe(200);
    expect(parens.body.userPrincipalName).toBe('$svc-backup@contoso.example');
    const encoded = await graph('GET', `/v1.0/users(${encodeURIComponent("'$svc-backup@contoso.example'")})`);
    expect(encoded.status).toBe(200);
  });

  it('/me works only for delegated tokens', async () => {
    const appOnly = await graph('GET', '/v1.0/me');
    expect(appOnly.status).toBe(400);
    const delegated = await mintToken(emulator, { scp: 'User.Read.All', oid: emulator.tenant.wellKnown.adminUserId });
    const me = await graph('GET', '/v1.0/me?$select=userPrincipalName', { token: delegated });
    expect(me.body.userPrincipalName).toBe('admin@contoso.example');
  });
});

describe('authorization', () => {
  it('401 for a missing, expired or wrong-audience token', async () => {
    const none = await graph('GET', '/v1.0/users', { token: null });
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('InvalidAuthenticationToken');
    const expired = await mintToken(emulator, { lifetimeSeconds: 60, issuedAt: Math.floor(Date.now() / 1000) - 7200 });
    const res = await graph('GET', '/v1.0/users', { token: expired });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toBe('Access token has expired or is not yet valid.');
    const wrongAudience = await mintToken(emulator, { audience: 'api://something-else' });
    const aud = await graph('GET', '/v1.0/users', { token: wrongAudience });
    expect(aud.body.error.message).toBe('Access token validation failure. Invalid audience.');
  });

  it('403 without the needed permission', async () => {
    const noRoles = await mintToken(emulator, { roles: [] });
    const list = await graph('GET', '/v1.0/users', { token: noRoles });
    expect(list.status).toBe(403);
    expect(list.body.error).toMatchObject({ code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' });
    const readOnly = await mintToken(emulator, { roles: ['User.Read.All'] });
    const someone = [...emulator.tenant.users.values()][20]!;
    const before = someone.accountEnabled;
    const patch = await graph('PATCH', `/v1.0/users/${someone.id}`, { token: readOnly, body: { accountEnabled: !before } });
    expect(patch.status).toBe(403);
    expect(someone.accountEnabled).toBe(before);
  });

  it('password changes need an admin role that outranks the target', async () => {
    const helpdesk = [...emulator.tenant.users.values()].find((u) => u._directoryRoles.includes('Helpdesk Administrator'))!;
    const helpdeskToken = await mintToken(emulator, { scp: 'Directory.AccessAsUser.All', oid: helpdesk.id });
    const admin = emulator.tenant.wellKnown.adminUserId;
    const refused = await graph('PATCH', `/v1.0/users/${admin}`, { token: helpdeskToken, body: { passwordProfile: { password: 'Xy7!kq-Vbn2m' } } });
    expect(refused.status).toBe(403);
    // An app with the permission whose role (User Administrator) is below the target's cannot either.
    const app = await graph('PATCH', `/v1.0/users/${admin}`, { body: { passwordProfile: { password: 'Xy7!kq-Vbn2m' } } });
    expect(app.status).toBe(403);
    const noRoleApp = await mintToken(emulator, { appid: '33333333-4444-4555-8666-777777777777' });
    const plainTarget = [...emulator.tenant.users.values()].find((u) => u._directoryRoles.length === 0 && u.userType === 'Member')!;
    const noRole = await graph('PATCH', `/v1.0/users/${plainTarget.id}`, { token: noRoleApp, body: { passwordProfile: { password: 'Xy7!kq-Vbn2m' } } });
    expect(noRole.status).toBe(403);
    const plain = [...emulator.tenant.users.values()].find(
      (u) => u._directoryRoles.length === 0 && u.userType === 'Member' && u.jobTitle !== 'Chief Executive Officer',
    )!;
    const ok = await graph('PATCH', `/v1.0/users/${plain.id}`, {
      token: helpdeskToken,
      body: { passwordProfile: { password: 'Xy7!kq-Vbn2m', forceChangePasswordNextSignIn: true } },
    });
    expect(ok.status).toBe(204);
    expect(plain._password).toBe('Xy7!kq-Vbn2m');
    expect(plain.passwordProfile.forceChangePasswordNextSignIn).toBe(true);
  });
});

describe('writes', () => {
  it('PATCH validates property names, types and password complexity, then 204', async () => {
    const user = [...emulator.tenant.users.values()][30]!;
    const unknown = await graph('PATCH', `/v1.0/users/${user.id}`, { body: { shoeSize: 44 } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('Request_BadRequest');
    expect(unknown.body.error.message).toContain('Invalid property');
    const wrongType = await graph('PATCH', `/v1.0/users/${user.id}`, { body: { accountEnabled: 3 } });
    expect(wrongType.status).toBe(400);
    const weak = await graph('PATCH', `/v1.0/users/${user.id}`, { body: { passwordProfile: { password: 'short' } } });
    expect(weak.status).toBe(400);
    expect(weak.body.error.message).toContain('password complexity');
    const ok = await graph('PATCH', `/v1.0/users/${user.id}`, { body: { jobTitle: 'Chief Tester', accountEnabled: false } });
    expect(ok.status).toBe(204);
    expect(user).toMatchObject({ jobTitle: 'Chief Tester', accountEnabled: false });
  });

  it('POST /users creates (201), refuses missing fields and duplicate UPNs', async () => {
    const body = {
      accountEnabled: true,
      displayName: 'Test Person',
      mailNickname: 'test.person',
      userPrincipalName: 'test.person@contoso.example',
      passwordProfile: { password: 'Gq8#vLz!3mw', forceChangePasswordNextSignIn: true },
    };
    const created = await graph('POST', '/v1.0/users', { body });
    expect(created.status).toBe(201);
    expect(created.body.userPrincipalName).toBe('test.person@contoso.example');
    expect(emulator.tenant.users.get(created.body.id)?._password).toBe('Gq8#vLz!3mw');
    const dup = await graph('POST', '/v1.0/users', { body });
    expect(dup.status).toBe(400);
    expect(dup.body.error).toMatchObject({
      code: 'Request_BadRequest',
      message: 'Another object with the same value for property userPrincipalName already exists.',
    });
    const { mailNickname: _omit, ...missing } = body;
    const bad = await graph('POST', '/v1.0/users', { body: { ...missing, userPrincipalName: 'other@contoso.example' } });
    expect(bad.status).toBe(400);
    const del = await graph('DELETE', `/v1.0/users/${created.body.id}`);
    expect(del.status).toBe(204);
    expect(emulator.tenant.deletedUsers.has(created.body.id)).toBe(true);
    expect((await graph('GET', `/v1.0/users/${created.body.id}`)).status).toBe(404);
  });

  it('manager: get, 404 when none, assign by $ref, refuse cycles, remove', async () => {
    const users = [...emulator.tenant.users.values()];
    const ceo = users.find((u) => u.jobTitle === 'Chief Executive Officer')!;
    const none = await graph('GET', `/v1.0/users/${ceo.id}/manager`);
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe('Request_ResourceNotFound');
    const worker = users.find((u) => u.managerId && users.some((m) => m.id === u.managerId && m.managerId))!;
    const mgr = await graph('GET', `/v1.0/users/${worker.id}/manager`);
    expect(mgr.body.id).toBe(worker.managerId);
    const cycle = await graph('PUT', `/v1.0/users/${worker.managerId}/manager/$ref`, { body: { '@odata.id': `${emulator.origin}/v1.0/users/${worker.id}` } });
    expect(cycle.status).toBe(400);
    const self = await graph('PUT', `/v1.0/users/${worker.id}/manager/$ref`, { body: { '@odata.id': `${emulator.origin}/v1.0/users/${worker.id}` } });
    expect(self.status).toBe(400);
    const assign = await graph('PUT', `/v1.0/users/${worker.id}/manager/$ref`, { body: { '@odata.id': `${emulator.origin}/v1.0/users/${ceo.id}` } });
    expect(assign.status).toBe(204);
    expect(worker.managerId).toBe(ceo.id);
    expect((await graph('DELETE', `/v1.0/users/${worker.id}/manager/$ref`)).status).toBe(204);
    expect(worker.managerId).toBeNull();
  });

  it('directReports pages with $top; memberOf and ownedDevices list', async () => {
    const users = [...emulator.tenant.users.values()];
    const ceo = users.find((u) => u.jobTitle === 'Chief Executive Officer')!;
    const reports = await graph('GET', `/v1.0/users/${ceo.id}/directReports?$top=2&$select=id,displayName`);
    expect(reports.body.value).toHaveLength(2);
    expect(reports.body.value[0]['@odata.type']).toBe('#microsoft.graph.user');
    expect(reports.body['@odata.nextLink']).toBeTruthy();
    const owner = users.find((u) => u.ownedDevices.length >= 2)!;
    const devices = await graph('GET', `/v1.0/users/${owner.id}/ownedDevices?$top=1&$count=true`, { headers: EVENTUAL });
    expect(devices.body['@odata.count']).toBe(owner.ownedDevices.length);
    expect(devices.body.value).toHaveLength(1);
    // memberOf holds groups and directory roles (user-list-memberof).
    const groups = await graph('GET', `/v1.0/users/${owner.id}/memberOf`);
    expect(groups.body.value.length).toBe(owner.memberOf.length + owner._directoryRoles.length);
  });

  it('revokeSignInSessions answers 200 value true and moves signInSessionsValidFromDateTime', async () => {
    const user = [...emulator.tenant.users.values()][40]!;
    const res = await graph('POST', `/v1.0/users/${user.id}/revokeSignInSessions`);
    expect(res.status).toBe(200);
    expect(res.body.value).toBe(true);
    expect(Date.parse(user.signInSessionsValidFromDateTime)).toBeGreaterThan(Date.now() - 60_000);
  });
});
