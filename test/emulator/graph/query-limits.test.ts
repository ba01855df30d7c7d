import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphSettingsFromEnv, validateGraphSettings } from '../../../src/emulator/graph-settings.js';
import type { TestEmulator } from '../../support/emulator.js';
import { EVENTUAL, type graphCaller, startEmulatorAsApp } from './graph-client.js';

/**
 * The emulator refuses what Graph refuses on collection queries (docs/graph-facts.md#listing-users,
 * #expand-and-page-size): the 15-expression limit of a default `$filter`, 120-character values, the
 * 2,048-character URL of an advanced query, v1.0 `$search` with an encoded `&`; and it caps pages
 * with `$expand` at 100 unless told otherwise.
 */
let emulator: TestEmulator;
let graph: ReturnType<typeof graphCaller>;
let ids: string[];

beforeAll(async () => {
  ({ emulator, graph } = await startEmulatorAsApp(['User Administrator'], { userCount: 300 }));
  ids = [...emulator.tenant.users.values()].map((u) => u.id);
});
afterAll(async () => {
  await emulator.close();
});

const quoted = (values: string[]) => values.map((v) => `'${v}'`).join(',');
const filter = (text: string) => `/v1.0/users?$select=id&$filter=${encodeURIComponent(text)}`;
const ADVANCED = { headers: EVENTUAL };

describe('$filter limits of a default query', () => {
  it('takes 15 `in` values and refuses 16 with Graph’s error', async () => {
    const ok = await graph('GET', filter(`id in (${quoted(ids.slice(0, 15))})`));
    expect(ok.status).toBe(200);
    expect(ok.body.value).toHaveLength(15);
    const refused = await graph('GET', filter(`id in (${quoted(ids.slice(0, 16))})`));
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('Request_UnsupportedQuery');
    expect(refused.body.error.message).toBe("Too many child clauses specified in search filter expression containing 'OR' operators: 16. Max allowed: 15.");
  });

  it('counts the whole clause: lists under an OR, side by side, and plain OR operands', async () => {
    const underOr = await graph('GET', filter(`id in (${quoted(ids.slice(0, 8))}) or id in (${quoted(ids.slice(8, 16))})`));
    expect(underOr.status).toBe(400);
    const sideBySide = await graph('GET', filter(`id in (${quoted(ids.slice(0, 10))}) and accountEnabled eq true and id in (${quoted(ids.slice(5, 15))})`));
    expect(sideBySide.status).toBe(400);
    expect(sideBySide.body.error.message).toContain(': 20.');
    const ors = Array.from({ length: 16 }, (_, i) => `startsWith(displayName,'${String.fromCharCode(65 + i)}')`).join(' or ');
    expect((await graph('GET', filter(ors))).status).toBe(400);
    expect((await graph('GET', filter(ors.split(' or ').slice(0, 15).join(' or ')))).status).toBe(200);
  });

  it('lifts the expression limit for an advanced query, which is bounded by its URL instead', async () => {
    const forty = await graph('GET', `${filter(`id in (${quoted(ids.slice(0, 40))})`)}&$count=true`, ADVANCED);
    expect(forty.status).toBe(200);
    expect(forty.body.value).toHaveLength(40);
    const sixty = await graph('GET', `${filter(`id in (${quoted(ids.slice(0, 60))})`)}&$count=true`, ADVANCED);
    expect(sixty.status).toBe(400);
    expect(sixty.body.error.code).toBe('Request_UnsupportedQuery');
    expect(sixty.body.error.message).toMatch(/2048/);
  });

  it('compares values of at most 120 characters in a default query, with eq and startsWith alike', async () => {
    for (const clause of [`displayName eq '${'a'.repeat(121)}'`, `startsWith(displayName,'${'a'.repeat(121)}')`]) {
      const res = await graph('GET', filter(clause));
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({
        code: 'Request_UnsupportedQuery',
        message: "Unsupported or invalid query filter clause specified for property 'displayName' of resource 'User'.",
      });
    }
    expect((await graph('GET', filter(`displayName eq '${'a'.repeat(120)}'`))).status).toBe(200);
    // Advanced queries apply the URL length instead of the value length.
    expect((await graph('GET', `${filter(`displayName eq '${'a'.repeat(200)}'`)}&$count=true`, ADVANCED)).status).toBe(200);
  });
});

describe('$search with an encoded ampersand', () => {
  const search = '/v1.0/users?$select=id,displayName&$search=' + encodeURIComponent('"displayName:Hiking&Recreation"');

  it('fails on v1.0 with Graph’s 400 unless the request says Prefer: legacySearch=false', async () => {
    const legacy = await graph('GET', search, ADVANCED);
    expect(legacy.status).toBe(400);
    expect(legacy.body.error).toMatchObject({ code: 'Request_BadRequest', message: "Unrecognized query argument specified: ''." });
    const modern = await graph('GET', search, { headers: { ...EVENTUAL, prefer: 'legacySearch=false' } });
    expect(modern.status).toBe(200);
    expect((await graph('GET', search.replace('/v1.0/', '/beta/'), ADVANCED)).status).toBe(200);
  });

  it('fails the same way inside $batch', async () => {
    const res = await graph('POST', '/v1.0/$batch', {
      body: { requests: [{ id: '1', method: 'GET', url: search.replace('/v1.0', ''), headers: { ConsistencyLevel: 'eventual' } }] },
    });
    expect(res.body.responses[0].status).toBe(400);
  });

  it('leaves other searches alone', async () => {
    const plain = await graph('GET', '/v1.0/users?$select=id&$search=' + encodeURIComponent('"displayName:a"'), ADVANCED);
    expect(plain.status).toBe(200);
  });
});

describe('pages with $expand', () => {
  it('hold at most 100 items by default, with a nextLink that keeps $top', async () => {
    const res = await graph('GET', '/v1.0/users?$select=id&$expand=manager($select=id)&$top=250');
    expect(res.status).toBe(200);
    expect(res.body.value).toHaveLength(100);
    const next = new URL(res.body['@odata.nextLink']);
    expect(next.searchParams.get('$top')).toBe('250');
    const second = await graph('GET', res.body['@odata.nextLink']);
    expect(second.body.value).toHaveLength(100);
    // Without $expand, $top is honoured.
    expect((await graph('GET', '/v1.0/users?$select=id&$top=250')).body.value).toHaveLength(250);
  });

  it('honour $top when the cap is switched off (admin route), and reset restores the start value', async () => {
    const set = await emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ expandPageCap: null }) });
    expect(await set.json()).toEqual({ expandPageCap: null });
    expect((await graph('GET', '/v1.0/users?$select=id&$expand=manager&$top=250')).body.value).toHaveLength(250);
    const bad = await emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ expandPageCap: 0 }) });
    expect(bad.status).toBe(400);
    await emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ expandPageCap: 100 }) });
    expect(((await (await emulator.fetch('/_emulator/graph')).json()) as { expandPageCap: number }).expandPageCap).toBe(100);
  });

  it('can be set from the environment and validates what it is given', () => {
    expect(graphSettingsFromEnv({ EMULATOR_EXPAND_PAGE_CAP: 'off' })).toEqual({ expandPageCap: null });
    expect(graphSettingsFromEnv({ EMULATOR_EXPAND_PAGE_CAP: '100' })).toEqual({ expandPageCap: 100 });
    expect(graphSettingsFromEnv({})).toEqual({});
    expect(() => graphSettingsFromEnv({ EMULATOR_EXPAND_PAGE_CAP: 'lots' })).toThrow(/EMULATOR_EXPAND_PAGE_CAP/);
    expect(() => validateGraphSettings({ expandPageCapp: 3 })).toThrow(/unknown Graph setting/);
  });
});
