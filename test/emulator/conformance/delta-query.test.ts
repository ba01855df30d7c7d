/**
 * docs/graph-facts.md#delta-query: the basics of `GET /users/delta` the gateway's change feed
 * relies on (learn.microsoft.com/graph/api/user-delta; learn.microsoft.com/graph/delta-query-overview).
 * Links are followed through the gateway's own `validateContinuationLink`.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { continuationShapes, validateContinuationLink } from '../../../src/graph/paging.js';
import { relativeUrl } from '../../../src/graph/paths.js';
import { DELTA_FILTER_LIMIT } from '../../../src/emulator/graph/delta-options.js';
import { type Conformance, graphErrorCode, mintToken, startConformance } from './support.js';

let c: Conformance;
let clockOffsetMs = 0;
let token: string;
beforeAll(async () => {
  c = await startConformance(['User Administrator'], { userCount: 300, now: () => Date.now() + clockOffsetMs });
  // Valid for longer than a delta token lives, so only the delta token can expire here.
  token = await mintToken(c.emulator, { lifetimeSeconds: 10 * 24 * 3600 });
});
afterAll(async () => c.close());
beforeEach(() => {
  clockOffsetMs = 0;
});

const get = (url: string) => c.graph('GET', url, { token });
const follow = (link: string) => `/v1.0${relativeUrl(validateContinuationLink(link, c.emulator.origin, continuationShapes.usersDelta))}`;

async function sync(start: string): Promise<{ items: Array<Record<string, unknown>>; deltaLink: string }> {
  const items: Array<Record<string, unknown>> = [];
  let url = start;
  for (;;) {
    const page = await get(url);
    expect(page.status).toBe(200);
    items.push(...page.body.value);
    if (page.body['@odata.nextLink']) url = follow(page.body['@odata.nextLink']);
    else return { items, deltaLink: page.body['@odata.deltaLink'] };
  }
}

describe('delta query (user-delta)', () => {
  it('the first sync pages with nextLinks ($skiptoken) to a deltaLink ($deltatoken); $select limits the properties, id always included', async () => {
    const first = await get('/v1.0/users/delta?$select=displayName');
    expect(new URL(first.body['@odata.nextLink']).searchParams.has('$skiptoken')).toBe(true);
    const all = await sync('/v1.0/users/delta?$select=displayName');
    expect(all.items).toHaveLength(c.users.length);
    for (const item of all.items) expect(Object.keys(item).sort()).toEqual(['displayName', 'id']);
    expect(new URL(all.deltaLink).searchParams.has('$deltatoken')).toBe(true);
    // Query parameters went in on the first call only: the links carry them.
    expect(new URL(all.deltaLink).searchParams.has('$select')).toBe(false);
  });

  it('the deltaLink returns changes since, with @removed reason "changed" for a soft delete', async () => {
    const { deltaLink } = await sync('/v1.0/users/delta?$select=jobTitle');
    const plain = c.users.filter((u) => u._directoryRoles.length === 0);
    const changed = plain[3]!;
    const removed = plain[4]!;
    expect((await c.graph('PATCH', `/v1.0/users/${changed.id}`, { body: { jobTitle: 'Conformance' } })).status).toBe(204);
    expect((await c.graph('DELETE', `/v1.0/users/${removed.id}`)).status).toBe(204);
    const changes = await sync(follow(deltaLink));
    expect(changes.items).toEqual(
      expect.arrayContaining([
        { id: changed.id, jobTitle: 'Conformance' },
        { id: removed.id, '@removed': { reason: 'changed' } },
      ]),
    );
  });

  it('only the $select properties are tracked: a user whose changes are all outside it is not in the next round (delta-query-overview, "Optional query parameters")', async () => {
    const plain = c.users.filter((u) => u._directoryRoles.length === 0 && c.emulator.tenant.users.has(u.id));
    const [outside, inside, both] = plain.slice(30, 33);
    const { deltaLink } = await sync('/v1.0/users/delta?$select=jobTitle');
    // officeLocation is not selected; a manager change is tracked only when `manager` is selected.
    expect((await c.graph('PATCH', `/v1.0/users/${outside!.id}`, { body: { officeLocation: 'Not tracked' } })).status).toBe(204);
    expect(
      (await c.graph('PUT', `/v1.0/users/${outside!.id}/manager/$ref`, { body: { '@odata.id': `${c.emulator.origin}/v1.0/users/${inside!.id}` } })).status,
    ).toBe(204);
    expect((await c.graph('PATCH', `/v1.0/users/${inside!.id}`, { body: { jobTitle: 'Tracked' } })).status).toBe(204);
    expect((await c.graph('PATCH', `/v1.0/users/${both!.id}`, { body: { officeLocation: 'Elsewhere', jobTitle: 'Also tracked' } })).status).toBe(204);
    const changes = await sync(follow(deltaLink));
    expect(changes.items.map((i) => i.id).sort()).toEqual([inside!.id, both!.id].sort());
    // Without $select every property is tracked.
    const all = await sync('/v1.0/users/delta?$deltatoken=latest');
    expect((await c.graph('PATCH', `/v1.0/users/${outside!.id}`, { body: { officeLocation: 'Tracked now' } })).status).toBe(204);
    expect((await sync(follow(all.deltaLink))).items.map((i) => i.id)).toEqual([outside!.id]);
  });

  it('$select=manager tracks the manager as manager@delta: the first sync shows it, later rounds report a new or removed manager (delta-query-overview; api-guidelines change-tracking)', async () => {
    const plain = c.users.filter((u) => u._directoryRoles.length === 0 && c.emulator.tenant.users.has(u.id));
    const [a, b, boss] = plain.slice(40, 43);
    const first = await sync('/v1.0/users/delta?$select=displayName,manager');
    const managed = first.items.find((i) => i.id === a!.id)!;
    const managerId = c.emulator.tenant.users.get(a!.id)!.managerId;
    expect(managerId).toBeTruthy();
    expect(managed).toEqual({ id: a!.id, displayName: a!.displayName, 'manager@delta': [{ '@odata.type': '#microsoft.graph.user', id: managerId }] });
    const ref = { '@odata.id': `${c.emulator.origin}/v1.0/users/${boss!.id}` };
    expect((await c.graph('PUT', `/v1.0/users/${a!.id}/manager/$ref`, { body: ref })).status).toBe(204);
    const formerOfB = c.emulator.tenant.users.get(b!.id)!.managerId;
    expect((await c.graph('DELETE', `/v1.0/users/${b!.id}/manager/$ref`)).status).toBe(204);
    const round = await c.graph('GET', follow(first.deltaLink), { token, headers: { prefer: 'return=minimal' } });
    expect(round.status).toBe(200);
    expect(round.body.value).toEqual(
      expect.arrayContaining([
        { id: a!.id, 'manager@delta': [{ '@odata.type': '#microsoft.graph.user', id: boss!.id }] },
        { id: b!.id, 'manager@delta': [{ '@odata.type': '#microsoft.graph.user', id: formerOfB, '@removed': { reason: 'deleted' } }] },
      ]),
    );
    expect(round.body.value).toHaveLength(2);
  });

  it('$deltatoken=latest gives an empty page with a deltaLink from now', async () => {
    const latest = await get('/v1.0/users/delta?$deltatoken=latest');
    expect(latest.status).toBe(200);
    expect(latest.body.value).toEqual([]);
    expect(latest.body['@odata.deltaLink']).toContain('$deltatoken=');
  });

  it('a token older than 7 days, or one Graph never issued, asks for a full resync (410 Gone + Location, or syncStateNotFound)', async () => {
    const latest = await get('/v1.0/users/delta?$deltatoken=latest');
    clockOffsetMs = 8 * 24 * 3600 * 1000;
    const expired = await get(follow(latest.body['@odata.deltaLink']));
    expect([400, 410]).toContain(expired.status);
    expect(['syncStateNotFound', 'resyncRequired']).toContain(graphErrorCode(expired));
    clockOffsetMs = 0;
    const unknown = await get('/v1.0/users/delta?$deltatoken=never-issued');
    expect(unknown.status).toBe(410);
    expect(unknown.headers.get('location')).toBe(`${c.emulator.origin}/v1.0/users/delta`);
  });

  // A round's nextLink is a state token (delta-query-overview, "State tokens", "Token duration") and a
  // directory page token (field reports: 400 Directory_ExpiredPageToken, docs/graph-facts.md#paging).
  it("under pageTokenLifetimeSeconds a round's nextLink expires with 400 Directory_ExpiredPageToken; its deltaLink does not; by default neither does", async () => {
    const setLifetime = async (pageTokenLifetimeSeconds: number | null) =>
      expect((await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ pageTokenLifetimeSeconds }) })).status).toBe(200);
    const first = await get('/v1.0/users/delta?$select=displayName');
    const nextLink = follow(first.body['@odata.nextLink']);
    const { deltaLink } = await sync('/v1.0/users/delta?$select=displayName');
    clockOffsetMs = 3600 * 1000;
    expect((await get(nextLink)).status).toBe(200);
    await setLifetime(60);
    try {
      const expired = await get(nextLink);
      expect(expired.status).toBe(400);
      expect(graphErrorCode(expired)).toBe('Directory_ExpiredPageToken');
      expect(expired.body.error.message).toBe('The specified page token value has expired and can no longer be included in your request.');
      expect((await get(follow(deltaLink))).status).toBe(200);
      clockOffsetMs = 0;
      // A link younger than the lifetime is still taken.
      expect((await get(nextLink)).status).toBe(200);
    } finally {
      await setLifetime(null);
    }
  });
});

describe('$filter, Prefer: return=minimal and $expand (user-delta "OData query parameters", "Request headers"; delta-query-overview "Optional query parameters")', () => {
  const plain = () => c.users.filter((u) => u._directoryRoles.length === 0 && c.emulator.tenant.users.has(u.id));
  const idFilter = (ids: string[]) =>
    `/v1.0/users/delta?$select=displayName,jobTitle&$filter=${encodeURIComponent(ids.map((id) => `id eq '${id}'`).join(' or '))}`;

  it('tracks only the objects an id filter names, in the first sync and in later rounds', async () => {
    const [a, b, other] = plain().slice(10, 13);
    const first = await sync(idFilter([a!.id, b!.id]));
    expect(first.items.map((i) => i.id).sort()).toEqual([a!.id, b!.id].sort());
    await c.graph('PATCH', `/v1.0/users/${a!.id}`, { body: { jobTitle: 'Tracked' } });
    await c.graph('PATCH', `/v1.0/users/${other!.id}`, { body: { jobTitle: 'Not tracked' } });
    const round = await sync(follow(first.deltaLink));
    expect(round.items.map((i) => i.id)).toEqual([a!.id]);
  });

  it(`refuses any other filter, and more than ${DELTA_FILTER_LIMIT} ids: 400 Request_UnsupportedQuery (Microsoft Q&A 1090594)`, async () => {
    for (const filter of [
      "startsWith(displayName,'A')",
      "endsWith(mail,'a@contoso.com')",
      "id ne '00000000-0000-4000-8000-000000000001'",
      "id eq '1' and displayName eq 'x'",
    ]) {
      const res = await get(`/v1.0/users/delta?$filter=${encodeURIComponent(filter)}`);
      expect(res.status, filter).toBe(400);
      expect(graphErrorCode(res)).toBe('Request_UnsupportedQuery');
    }
    const ids = c.users.slice(0, DELTA_FILTER_LIMIT + 1).map((u) => u.id);
    expect((await get(idFilter(ids.slice(0, DELTA_FILTER_LIMIT)))).status).toBe(200);
    const tooMany = await get(idFilter(ids));
    expect(tooMany.status).toBe(400);
    expect(graphErrorCode(tooMany)).toBe('Request_UnsupportedQuery');
  });

  it('with Prefer: return=minimal a deltaLink round shows only the changed properties; without it, every selected one', async () => {
    const [user] = plain().slice(20, 21);
    const first = await sync(idFilter([user!.id]));
    await c.graph('PATCH', `/v1.0/users/${user!.id}`, { body: { jobTitle: 'Minimal' } });
    const minimal = await c.graph('GET', follow(first.deltaLink), { token, headers: { prefer: 'return=minimal' } });
    expect(minimal.body.value).toEqual([{ id: user!.id, jobTitle: 'Minimal' }]);
    const full = await get(follow(first.deltaLink));
    expect(full.body.value).toEqual([{ id: user!.id, displayName: user!.displayName, jobTitle: 'Minimal' }]);
  });

  it('$expand, like $top and $orderby, is refused with 400 (delta-query-overview: for users "$expand isn\'t supported"; the stricter reading of "not supported")', async () => {
    for (const query of ['$select=displayName&$expand=manager', '$expand=manager', '$expand=manager($select=id)', '$top=5', '$orderby=displayName']) {
      const res = await get(`/v1.0/users/delta?${query}`);
      expect(res.status, query).toBe(400);
      expect(graphErrorCode(res), query).toBe('Request_BadRequest');
    }
    expect((await get('/v1.0/users/delta?$select=displayName')).status).toBe(200);
  });
});
