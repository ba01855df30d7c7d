/**
 * docs/graph-facts.md#manager-and-bulk-lookup, "Limited information, not 403": a caller that reaches
 * a directoryObject relationship but may not read a type in it gets those objects with `@odata.type`
 * and `id` only, with 200 (learn.microsoft.com/graph/permissions-overview, "Limited information
 * returned for inaccessible member objects"; for memberOf, Microsoft's troubleshooting article
 * learn.microsoft.com/troubleshoot/entra/entra-id/users-groups-entra-apis/memberof-api-returns-null-properties).
 * Who reaches memberOf and ownedDevices, and who reads groups and devices in full, follows
 * user-list-memberof, user-list-owneddevices, group-get and device-get, in the stricter reading.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPH_OPERATIONS, NOT_SUPPORTED, type PermissionSet } from '../../../src/doctor/feature-permissions.js';
import { ErrorCode, GatewayError } from '../../../src/errors.js';
import type { UserRecord } from '../../../src/emulator/model.js';
import { USER_ADMIN_APP_ID } from '../graph/graph-client.js';
import { EVENTUAL, mintToken, startConformance, type Conformance } from './support.js';

let c: Conformance;
/** A member of groups who also holds a directory role. */
let member: UserRecord;
/** A user who owns devices. */
let owner: UserRecord;

beforeAll(async () => {
  c = await startConformance();
  member = c.users.find((u) => u._directoryRoles.length > 0 && u.memberOf.length > 0 && u.userType === 'Member')!;
  owner = c.users.find((u) => u.ownedDevices.length > 0)!;
  expect(member).toBeDefined();
  expect(owner).toBeDefined();
});
afterAll(async () => c?.close());

async function asApp(path: string, roles: string[], headers?: Record<string, string>) {
  return c.graph('GET', `/v1.0${path}`, { token: await mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, roles }), ...(headers ? { headers } : {}) });
}

async function asUser(path: string, scopes: string[], oid: string, headers?: Record<string, string>) {
  return c.graph('GET', `/v1.0${path}`, {
    token: await mintToken(c.emulator, { appid: USER_ADMIN_APP_ID, scp: scopes.join(' '), oid }),
    ...(headers ? { headers } : {}),
  });
}

const GROUP = '#microsoft.graph.group';
const ROLE = '#microsoft.graph.directoryRole';
const DEVICE = '#microsoft.graph.device';
const ofType = (body: any, type: string) => (body.value as any[]).filter((o) => o['@odata.type'] === type);

describe('memberOf (user-list-memberof)', () => {
  it('an app with User.Read.All gets 200 and the groups with their type and id only, collections empty (the troubleshooting article)', async () => {
    const res = await asApp(`/users/${member.id}/memberOf?$select=id,displayName,mailEnabled,groupTypes`, ['User.Read.All']);
    expect(res.status).toBe(200);
    const groups = ofType(res.body, GROUP);
    expect(groups.map((g) => g.id).sort()).toEqual([...member.memberOf].sort());
    for (const g of groups) expect(g).toEqual({ '@odata.type': GROUP, id: g.id, displayName: null, mailEnabled: null, groupTypes: [] });
    // Directory roles too: the app cannot read them.
    for (const r of ofType(res.body, ROLE)) expect(r).toEqual({ '@odata.type': ROLE, id: r.id, displayName: null });
  });

  it('application GroupMember.Read.All reaches the call, yet gets the groups limited: the page and the article name only Directory.Read.All for apps', async () => {
    const res = await asApp(`/users/${member.id}/memberOf?$select=id,displayName`, ['GroupMember.Read.All']);
    expect(res.status).toBe(200);
    expect(ofType(res.body, GROUP).every((g) => g.displayName === null)).toBe(true);
  });

  it('application Directory.Read.All reads the groups and directory roles in full', async () => {
    const res = await asApp(`/users/${member.id}/memberOf?$select=id,displayName`, ['Directory.Read.All']);
    expect(res.status).toBe(200);
    expect(ofType(res.body, GROUP).every((g) => typeof g.displayName === 'string')).toBe(true);
    expect(
      ofType(res.body, ROLE)
        .map((r) => r.displayName)
        .sort(),
    ).toEqual([...member._directoryRoles].sort());
  });

  it('delegated User.Read on /me/memberOf gets the groups limited (the article shows /me/memberOf too); GroupMember.Read.All reads them', async () => {
    const limited = await asUser('/me/memberOf?$select=id,displayName', ['User.Read'], member.id);
    expect(limited.status).toBe(200);
    expect(ofType(limited.body, GROUP)).toHaveLength(member.memberOf.length);
    expect(ofType(limited.body, GROUP).every((g) => g.displayName === null)).toBe(true);
    const full = await asUser(`/users/${member.id}/memberOf?$select=id,displayName`, ['GroupMember.Read.All'], c.emulator.tenant.wellKnown.adminUserId);
    expect(full.status).toBe(200);
    expect(ofType(full.body, GROUP).every((g) => typeof g.displayName === 'string')).toBe(true);
    // GroupMember.Read.All reads groups, not directory roles.
    expect(ofType(full.body, ROLE).every((r) => r.displayName === null)).toBe(true);
  });

  it('$expand=memberOf follows the same rule', async () => {
    const res = await asApp(`/users/${member.id}?$select=id&$expand=memberOf`, ['User.Read.All']);
    expect(res.status).toBe(200);
    expect(ofType({ value: res.body.memberOf }, GROUP).every((g: any) => g.displayName === null)).toBe(true);
  });

  it('a caller that reads neither the user nor groups is refused with 403 Authorization_RequestDenied', async () => {
    const res = await asApp(`/users/${member.id}/memberOf`, ['Device.Read.All']);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('Authorization_RequestDenied');
  });
});

describe('transitiveMemberOf cast to directoryRole (user-list-transitivememberof)', () => {
  const roles = (id: string, select = 'id,displayName') => `/users/${id}/transitiveMemberOf/microsoft.graph.directoryRole?$select=${select}&$count=true`;

  it('an app with User.Read.All (the least permission on the page) gets 200 and every role with its type and id only, counted', async () => {
    const res = await asApp(roles(member.id), ['User.Read.All'], EVENTUAL);
    expect(res.status).toBe(200);
    expect(res.body['@odata.count']).toBe(member._directoryRoles.length);
    expect(res.body.value).toHaveLength(member._directoryRoles.length);
    for (const r of res.body.value) expect(r).toEqual({ '@odata.type': ROLE, id: expect.any(String), displayName: null });
  });

  it('application Directory.Read.All reads them in full, the $select honoured', async () => {
    const res = await asApp(roles(member.id, 'displayName,roleTemplateId'), ['Directory.Read.All'], EVENTUAL);
    expect(res.status).toBe(200);
    expect(res.body.value.map((r: any) => r.displayName).sort()).toEqual([...member._directoryRoles].sort());
    for (const r of res.body.value) expect(Object.keys(r).sort()).toEqual(['@odata.type', 'displayName', 'roleTemplateId']);
  });

  it('delegated User.Read on /me gets its own roles limited too; a property directoryRole lacks is a 400', async () => {
    const own = await asUser(
      '/me/transitiveMemberOf/microsoft.graph.directoryRole?$select=displayName,roleTemplateId&$count=true',
      ['User.Read'],
      member.id,
      EVENTUAL,
    );
    expect(own.status).toBe(200);
    expect(own.body.value).toHaveLength(member._directoryRoles.length);
    for (const r of own.body.value) expect(r).toEqual({ '@odata.type': ROLE, id: expect.any(String), displayName: null, roleTemplateId: null });
    const unknown = await asApp(roles(member.id, 'id,mail'), ['Directory.Read.All'], EVENTUAL);
    expect(unknown.status).toBe(400);
  });
});

describe('ownedDevices (user-list-owneddevices)', () => {
  it('an app with User.Read.All gets 200 and the devices with their type and id only', async () => {
    const res = await asApp(`/users/${owner.id}/ownedDevices?$select=id,displayName,operatingSystem`, ['User.Read.All']);
    expect(res.status).toBe(200);
    expect(res.body.value).toHaveLength(owner.ownedDevices.length);
    for (const d of res.body.value) expect(d).toEqual({ '@odata.type': DEVICE, id: d.id, displayName: null, operatingSystem: null });
  });

  it('User.Read.All with Device.Read.All (device-get) reads them in full; Device.Read.All alone, not on the page, is refused', async () => {
    const full = await asApp(`/users/${owner.id}/ownedDevices?$select=id,displayName`, ['User.Read.All', 'Device.Read.All']);
    expect(full.status).toBe(200);
    expect(full.body.value.every((d: any) => typeof d.displayName === 'string')).toBe(true);
    const alone = await asApp(`/users/${owner.id}/ownedDevices`, ['Device.Read.All']);
    expect(alone.status).toBe(403);
  });
});

describe("the doctor's permission sets", () => {
  const cases = (['listMemberOf', 'listOwnedDevices'] as const).flatMap((operation) => {
    const { application, delegated } = GRAPH_OPERATIONS[operation];
    const sets = (kind: 'application' | 'delegated', list: readonly PermissionSet[] | typeof NOT_SUPPORTED) =>
      list === NOT_SUPPORTED ? [] : list.map((set) => [operation, kind, set] as const);
    return [...sets('application', application), ...sets('delegated', delegated)];
  });

  it.each(cases)('%s, %s, %j: the groups or devices come in full', async (operation, kind, set) => {
    const path =
      operation === 'listMemberOf' ? `/users/${member.id}/memberOf?$select=id,displayName` : `/users/${owner.id}/ownedDevices?$select=id,displayName`;
    const res = kind === 'application' ? await asApp(path, [...set]) : await asUser(path, [...set], c.emulator.tenant.wellKnown.adminUserId);
    expect(res.status).toBe(200);
    const items = operation === 'listMemberOf' ? ofType(res.body, GROUP) : res.body.value;
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((o: any) => typeof o.displayName === 'string')).toBe(true);
  });
});

describe("the gateway's Graph client", () => {
  it('takes groups or devices listed with limited information as FORBIDDEN, not as nameless objects', async () => {
    const limited = await c.gatewayClient(['User.Read.All']);
    const groups = limited.listMemberOf(member.id, { kind: 'first', query: { top: 50, select: ['id'] } });
    await expect(groups).rejects.toBeInstanceOf(GatewayError);
    await expect(groups).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN, extensions: { graphLimitedInformation: true } });
    const devices = limited.listOwnedDevices(owner.id, { kind: 'first', query: { top: 50, select: ['id'] } });
    await expect(devices).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN, extensions: { graphLimitedInformation: true } });

    const full = await c.gatewayClient(['Directory.Read.All']);
    const page = await full.listMemberOf(member.id, { kind: 'first', query: { top: 50, select: ['id'] } });
    expect(page.items.map((g) => g.id).sort()).toEqual([...member.memberOf].sort());
    expect((await full.listOwnedDevices(owner.id, { kind: 'first', query: { top: 50, select: ['id'] } })).items).toHaveLength(owner.ownedDevices.length);
  });
});
