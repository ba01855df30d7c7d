/**
 * docs/graph-facts.md#delta-query: the basics of `GET /users/delta` the gateway's change feed
 * relies on (learn.microsoft.com/graph/api/user-delta; learn.microsoft.com/graph/delta-query-overview).
 * Links are followed through the gateway's own `validateContinuationLink`.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { continuationShapes, validateContinuationLink } from '../../../src/graph/paging.js';
import { relativeUrl } from '../../../src/graph/paths.js';
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
});
