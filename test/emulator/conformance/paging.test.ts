/**
 * docs/graph-facts.md#paging: following `@odata.nextLink` (learn.microsoft.com/graph/paging).
 * Links are followed through the gateway's own `validateContinuationLink`, as it follows them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { continuationShapes, validateContinuationLink } from '../../../src/graph/paging.js';
import { encodeQuery, relativeUrl } from '../../../src/graph/paths.js';
import { graphSettingsFromEnv } from '../../../src/emulator/graph-settings.js';
import { type Conformance, EVENTUAL, graphErrorCode, startConformance } from './support.js';

let c: Conformance;
beforeAll(async () => {
  c = await startConformance(['User Administrator'], { userCount: 250 });
});
afterAll(async () => c.close());

/** What the gateway sends for a nextLink: the validated path and query, on its configured endpoint. */
function nextUrl(link: string, shape = continuationShapes.users): string {
  return `/v1.0${relativeUrl(validateContinuationLink(link, c.emulator.origin, shape))}`;
}

describe('nextLink (learn.microsoft.com/graph/paging)', () => {
  it('carries every original query parameter and a $skiptoken; following it to the end visits each user once', async () => {
    const first = await c.graph('GET', `/v1.0/users${encodeQuery({ $select: 'id,displayName', $top: '40' })}`);
    const link = new URL(first.body['@odata.nextLink']);
    expect(link.searchParams.get('$select')).toBe('id,displayName');
    expect(link.searchParams.get('$top')).toBe('40');
    expect(link.searchParams.get('$skiptoken')).toBeTruthy();
    const seen: string[] = first.body.value.map((u: { id: string }) => u.id);
    let next: string | undefined = first.body['@odata.nextLink'];
    while (next) {
      const page = await c.graph('GET', nextUrl(next));
      expect(page.status).toBe(200);
      seen.push(...page.body.value.map((u: { id: string }) => u.id));
      next = page.body['@odata.nextLink'];
    }
    expect(seen).toHaveLength(c.users.length);
    expect(new Set(seen).size).toBe(c.users.length);
  });

  it('ConsistencyLevel is not carried over: the next page of an advanced query is refused without it, served with it', async () => {
    const first = await c.graph('GET', `/v1.0/users${encodeQuery({ $filter: "endsWith(mail,'.example')", $count: 'true', $top: '10', $select: 'id' })}`, {
      headers: EVENTUAL,
    });
    expect(first.status).toBe(200);
    const next = nextUrl(first.body['@odata.nextLink']);
    const withoutHeader = await c.graph('GET', next);
    expect(withoutHeader.status).toBe(400);
    expect(graphErrorCode(withoutHeader)).toBe('Request_UnsupportedQuery');
    const withHeader = await c.graph('GET', next, { headers: EVENTUAL });
    expect(withHeader.status).toBe(200);
  });

  it('@odata.count is on the first page only', async () => {
    const first = await c.graph('GET', `/v1.0/users${encodeQuery({ $count: 'true', $top: '100', $select: 'id' })}`, { headers: EVENTUAL });
    expect(first.body['@odata.count']).toBe(c.users.length);
    const second = await c.graph('GET', nextUrl(first.body['@odata.nextLink']), { headers: EVENTUAL });
    expect(second.status).toBe(200);
    expect(second.body).not.toHaveProperty('@odata.count');
  });

  it('relationship collections page the same way (directReports)', async () => {
    const manager = c.users.find((u) => c.users.filter((r) => r.managerId === u.id).length > 2)!;
    const reports = c.users.filter((r) => r.managerId === manager.id).length;
    const first = await c.graph('GET', `/v1.0/users/${manager.id}/directReports${encodeQuery({ $select: 'id', $top: '1' })}`);
    let count = first.body.value.length;
    let next: string | undefined = first.body['@odata.nextLink'];
    while (next) {
      const page = await c.graph('GET', nextUrl(next, continuationShapes.directReports));
      count += page.body.value.length;
      next = page.body['@odata.nextLink'];
    }
    expect(count).toBe(reports);
  });

  it('a $skiptoken that was not issued is refused with a Graph error, not served from the start', async () => {
    const res = await c.graph('GET', '/v1.0/users?$skiptoken=not-a-token');
    expect(res.status).toBe(400);
    graphErrorCode(res);
  });
});

// Sources disagree on whether page tokens expire (msgraph-sdk-javascript#1463: no validity period;
// msgraph-sdk-dotnet#2254, msgraph-sdk-java#368: 400 Directory_ExpiredPageToken paging users).
describe('expired page tokens (Directory_ExpiredPageToken)', () => {
  it('by default a token stays valid; with pageTokenLifetimeSeconds the same link is 400 Directory_ExpiredPageToken once it is older', async () => {
    const first = await c.graph('GET', `/v1.0/users${encodeQuery({ $select: 'id', $top: '10' })}`);
    const link = nextUrl(first.body['@odata.nextLink']);
    expect((await c.graph('GET', link)).status).toBe(200);
    expect((await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ pageTokenLifetimeSeconds: 0 }) })).status).toBe(200);
    try {
      const expired = await c.graph('GET', link);
      expect(expired.status).toBe(400);
      expect(graphErrorCode(expired)).toBe('Directory_ExpiredPageToken');
      expect(expired.body.error.message).toBe('The specified page token value has expired and can no longer be included in your request.');
      const bad = await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ pageTokenLifetimeSeconds: -1 }) });
      expect(bad.status).toBe(400);
    } finally {
      await c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ pageTokenLifetimeSeconds: null }) });
    }
    expect((await c.graph('GET', link)).status).toBe(200);
  });

  it('EMULATOR_PAGE_TOKEN_LIFETIME_SECONDS sets the switch for `npm run emulator`: seconds or off', () => {
    expect(graphSettingsFromEnv({ EMULATOR_PAGE_TOKEN_LIFETIME_SECONDS: '60' })).toEqual({ pageTokenLifetimeSeconds: 60 });
    expect(graphSettingsFromEnv({ EMULATOR_PAGE_TOKEN_LIFETIME_SECONDS: '0' })).toEqual({ pageTokenLifetimeSeconds: 0 });
    expect(graphSettingsFromEnv({ EMULATOR_PAGE_TOKEN_LIFETIME_SECONDS: 'off' })).toEqual({ pageTokenLifetimeSeconds: null });
    expect(graphSettingsFromEnv({ EMULATOR_PAGE_TOKEN_LIFETIME_SECONDS: ' ' })).toEqual({});
    for (const bad of ['-1', '1.5', 'soon', '1e3']) {
      expect(() => graphSettingsFromEnv({ EMULATOR_PAGE_TOKEN_LIFETIME_SECONDS: bad })).toThrow(/EMULATOR_PAGE_TOKEN_LIFETIME_SECONDS/);
    }
  });
});
