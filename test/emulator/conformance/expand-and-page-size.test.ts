/**
 * docs/graph-facts.md#expand-and-page-size. Two published readings: the 2023 text of known issue
 * 13635 and field reports (techcommunity threads 3885391 of 2023 and 4203190 of 2024) say
 * `GET /users?$top=999&$expand=manager` comes back in pages of 100; the current text says expanded
 * relationships hold at most 20 items per object and never a nextLink. The emulator caps pages with
 * `$expand` at 100 behind a switch (`expandPageCap`, on by default, `EMULATOR_EXPAND_PAGE_CAP`), so
 * the gateway is tested under both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphSettingsFromEnv, validateGraphSettings } from '../../../src/emulator/graph-settings.js';
import { type Conformance, startConformance } from './support.js';

let c: Conformance;
beforeAll(async () => {
  c = await startConformance(['User Administrator'], { userCount: 300 });
});
afterAll(async () => c.close());

describe('expanded relationships (known issue 13635, current text)', () => {
  it('carry at most 20 objects and no nextLink: directReports expanded on a manager with more reports', async () => {
    const counts = new Map<string, number>();
    for (const u of c.users) if (u.managerId) counts.set(u.managerId, (counts.get(u.managerId) ?? 0) + 1);
    const [managerId, reports] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]!;
    const res = await c.graph('GET', `/v1.0/users/${managerId}?$select=id&$expand=directReports($select=id)`);
    expect(res.status).toBe(200);
    expect(res.body.directReports.length).toBe(Math.min(20, reports));
    expect(res.body).not.toHaveProperty('directReports@odata.nextLink');
  });
});

describe('pages with $expand on directory collections (2023 text of known issue 13635; techcommunity threads 3885391, 4203190)', () => {
  it('regression: hold at most 100 items under the switch (its start value), with a nextLink that keeps $top (paging: nextLink repeats every query parameter)', async () => {
    const res = await c.graph('GET', '/v1.0/users?$select=id&$expand=manager($select=id)&$top=250');
    expect(res.status).toBe(200);
    expect(res.body.value).toHaveLength(100);
    const next = new URL(res.body['@odata.nextLink']);
    expect(next.searchParams.get('$top')).toBe('250');
    const second = await c.graph('GET', res.body['@odata.nextLink']);
    expect(second.body.value).toHaveLength(100);
    // Without $expand, $top is honoured.
    expect((await c.graph('GET', '/v1.0/users?$select=id&$top=250')).body.value).toHaveLength(250);
  });

  it('honour $top when the cap is switched off (admin route), and reset restores the start value', async () => {
    const set = await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ expandPageCap: null }) });
    expect(await set.json()).toEqual({
      expandPageCap: null,
      expandNestedSelect: false,
      revokeSignInSessionsStatus: 200,
      forceChangeWithoutPassword: 'applied',
      pageTokenLifetimeSeconds: null,
      directReportsTop: 'honoured',
      authMethodTypeAnnotation: 'omitted',
      getByIdsSelect: 'honoured',
      resetPasswordAnswer: 'accepted',
      advancedQueryIndexLagSeconds: 0,
      pimLicence: 'licensed',
    });
    expect((await c.graph('GET', '/v1.0/users?$select=id&$expand=manager&$top=250')).body.value).toHaveLength(250);
    const bad = await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ expandPageCap: 0 }) });
    expect(bad.status).toBe(400);
    await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ expandPageCap: 100 }) });
    expect(((await (await c.emulator.fetch('/_emulator/graph')).json()) as { expandPageCap: number }).expandPageCap).toBe(100);
  });

  it('can be set from the environment and validates what it is given', () => {
    expect(graphSettingsFromEnv({ EMULATOR_EXPAND_PAGE_CAP: 'off' })).toEqual({ expandPageCap: null });
    expect(graphSettingsFromEnv({ EMULATOR_EXPAND_PAGE_CAP: '100' })).toEqual({ expandPageCap: 100 });
    expect(graphSettingsFromEnv({})).toEqual({});
    expect(() => graphSettingsFromEnv({ EMULATOR_EXPAND_PAGE_CAP: 'lots' })).toThrow(/EMULATOR_EXPAND_PAGE_CAP/);
    expect(() => validateGraphSettings({ expandPageCapp: 3 })).toThrow(/unknown Graph setting/);
    expect(graphSettingsFromEnv({ EMULATOR_EXPAND_NESTED_SELECT: 'honoured' })).toEqual({ expandNestedSelect: true });
    expect(graphSettingsFromEnv({ EMULATOR_EXPAND_NESTED_SELECT: 'ignored' })).toEqual({ expandNestedSelect: false });
    expect(() => graphSettingsFromEnv({ EMULATOR_EXPAND_NESTED_SELECT: 'yes' })).toThrow(/EMULATOR_EXPAND_NESTED_SELECT/);
    expect(() => validateGraphSettings({ expandNestedSelect: 'true' })).toThrow(/true or false/);
    expect(graphSettingsFromEnv({ EMULATOR_DIRECT_REPORTS_TOP: 'ignored' })).toEqual({ directReportsTop: 'ignored' });
    expect(() => graphSettingsFromEnv({ EMULATOR_DIRECT_REPORTS_TOP: 'off' })).toThrow(/EMULATOR_DIRECT_REPORTS_TOP/);
    expect(graphSettingsFromEnv({ EMULATOR_RESET_PASSWORD_ANSWER: 'completed' })).toEqual({ resetPasswordAnswer: 'completed' });
    expect(() => graphSettingsFromEnv({ EMULATOR_RESET_PASSWORD_ANSWER: '204' })).toThrow(/EMULATOR_RESET_PASSWORD_ANSWER/);
    expect(graphSettingsFromEnv({ EMULATOR_ADVANCED_QUERY_INDEX_LAG_SECONDS: '30' })).toEqual({ advancedQueryIndexLagSeconds: 30 });
    expect(() => graphSettingsFromEnv({ EMULATOR_ADVANCED_QUERY_INDEX_LAG_SECONDS: 'soon' })).toThrow(/EMULATOR_ADVANCED_QUERY_INDEX_LAG_SECONDS/);
    expect(() => validateGraphSettings({ advancedQueryIndexLagSeconds: -1 })).toThrow(/whole number of seconds/);
    expect(graphSettingsFromEnv({ EMULATOR_PIM_LICENCE: 'unlicensed' })).toEqual({ pimLicence: 'unlicensed' });
    expect(() => graphSettingsFromEnv({ EMULATOR_PIM_LICENCE: 'p1' })).toThrow(/EMULATOR_PIM_LICENCE/);
    expect(() => validateGraphSettings({ pimLicence: false })).toThrow(/'licensed' or 'unlicensed'/);
  });

  it('a $select nested in $expand: ignored by default (the known issue, the stricter reading), honoured when switched on (the List manager page)', async () => {
    const withManager = [...c.emulator.tenant.users.values()].find((u) => u.managerId)!;
    const path = `/v1.0/users/${withManager.id}?$select=id&$expand=manager($select=id,department)`;
    const ignored = await c.graph('GET', path);
    expect(ignored.status).toBe(200);
    // The default properties of a user, and not the department asked for.
    expect(Object.keys(ignored.body.manager)).toEqual(expect.arrayContaining(['id', 'displayName', 'userPrincipalName', 'mail']));
    expect(ignored.body.manager).not.toHaveProperty('department');
    await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ expandNestedSelect: true }) });
    try {
      const honoured = await c.graph('GET', path);
      expect(Object.keys(honoured.body.manager).sort()).toEqual(['@odata.type', 'department', 'id']);
    } finally {
      await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ expandNestedSelect: false }) });
    }
  });
});

describe('$expand=manager($levels=n) (user-list-manager)', () => {
  // user-list-manager: "$levels parameter is only supported on a single user (/users/{id} or me endpoints)
  // and not on the entire list of users"; "$levels requires the ConsistencyLevel header set to eventual";
  // n is max or 1..1000, and the answer nests each manager's manager.
  const EVENTUAL = { consistencylevel: 'eventual' };
  const chainOf = (id: string) => {
    const chain: string[] = [];
    for (let cur = c.emulator.tenant.users.get(id)!; cur.managerId; cur = c.emulator.tenant.users.get(cur.managerId)!) chain.push(cur.managerId);
    return chain;
  };
  const deepest = () => [...c.users].sort((a, b) => chainOf(b.id).length - chainOf(a.id).length)[0]!;

  it("on the list of users it is 400 Request_UnsupportedQuery with Graph's message (microsoft-graph-docs#18615)", async () => {
    const res = await c.graph('GET', '/v1.0/users?$select=id&$expand=manager($levels=max)&$top=5', { headers: EVENTUAL });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'Request_UnsupportedQuery',
      message: "Transitive manager's list is only supported on a single user, send the $expand request on /users/{id} endpoint",
    });
  });

  it('two relationships in one $expand are 400 BadRequest: users take a single expanded navigation (microsoft-graph-docs#96)', async () => {
    for (const path of ['/v1.0/users?$select=id&$expand=manager,memberOf', `/v1.0/users/${c.users[0]!.id}?$expand=manager,directReports`]) {
      const res = await c.graph('GET', path);
      expect(res.status, path).toBe(400);
      expect(res.body.error, path).toMatchObject({
        code: 'BadRequest',
        message: 'The result of parsing $expand contained at least 2 items, but the maximum allowed is 1.',
      });
    }
  });

  it('on a single user without ConsistencyLevel: eventual it is 400', async () => {
    const res = await c.graph('GET', `/v1.0/users/${deepest().id}?$select=id&$expand=manager($levels=max)`);
    expect(res.status).toBe(400);
  });

  it('with the header it nests the chain of managers: max to the top, n levels otherwise; n outside 1..1000 is 400', async () => {
    const user = deepest();
    const chain = chainOf(user.id);
    expect(chain.length).toBeGreaterThanOrEqual(2);
    const nested = (body: any) => {
      const ids: string[] = [];
      for (let m = body.manager; m; m = m.manager) ids.push(m.id);
      return ids;
    };
    const all = await c.graph('GET', `/v1.0/users/${user.id}?$select=id&$expand=manager($levels=max)`, { headers: EVENTUAL });
    expect(all.status).toBe(200);
    expect(nested(all.body)).toEqual(chain);
    const one = await c.graph('GET', `/v1.0/users/${user.id}?$select=id&$expand=manager($levels=1)`, { headers: EVENTUAL });
    expect(nested(one.body)).toEqual(chain.slice(0, 1));
    for (const bad of ['0', '1001', 'x']) {
      expect((await c.graph('GET', `/v1.0/users/${user.id}?$expand=manager($levels=${bad})`, { headers: EVENTUAL })).status).toBe(400);
    }
  });
});
