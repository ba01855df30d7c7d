import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateUpstreamRequests } from '../../../src/graphql/budget/index.js';
import { buildGatewaySchema } from '../../../src/graphql/schema.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { distinctUserSelections } from '../../support/user-selections.js';

/**
 * The Graph-aware budget: its estimate is checked against the requests the emulator really
 * received (`/_emulator/stats`, a `$batch` counting as one), and over-budget operations are
 * refused before anything goes upstream.
 */
let gw: TestGateway;
const schema = buildGatewaySchema();
let guids: string[] = [];
let upns: string[] = [];
let moreGuids: string[] = [];

/** Two aliased lookups by GUID per selection: `2 * selections` lookups in `selections` different `$select`s. */
const lookupsInSelections = (ids: string[], count: number) =>
  `{ ${distinctUserSelections(count)
    .map((selection, i) => `a${i}: user(id: "${ids[2 * i]}") { ${selection} } b${i}: user(id: "${ids[2 * i + 1]}") { ${selection} }`)
    .join(' ')} }`;

beforeAll(async () => {
  gw = await startTestGateway({ env: { MAX_UPSTREAM_REQUESTS: '40' } });
  const users = [...gw.emulator.tenant.users.values()] as Array<{ id: string; userPrincipalName: string }>;
  guids = users.slice(0, 50).map((u) => u.id);
  upns = users.slice(100, 130).map((u) => u.userPrincipalName);
  moreGuids = users.slice(200, 290).map((u) => u.id);
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

async function measure(query: string, variables?: Record<string, unknown>) {
  await gw.emulator.resetStats();
  const result = await gw.graphql(query, variables);
  const stats = await gw.emulator.stats();
  const estimate = estimateUpstreamRequests({ schema, document: parse(query), variables: variables ?? null });
  return { result, actual: stats.graphRequests, estimate: estimate!.total };
}

describe('estimate against the emulator', () => {
  const shapes: Array<{ name: string; query: () => string; variables?: Record<string, unknown>; exact: boolean }> = [
    { name: 'a list with manager expanded', query: () => '{ users(first: 100) { nodes { displayName manager { displayName } } } }', exact: true },
    {
      name: 'a list through a variable page size',
      query: () => 'query($n: Int) { users(first: $n) { edges { node { id } } totalCount } }',
      variables: { n: 250 },
      exact: true,
    },
    { name: '50 aliased GUID lookups', query: () => `{ ${guids.map((id, i) => `u${i}: user(id: "${id}") { displayName }`).join(' ')} }`, exact: true },
    // One getByIds (with the cross-request coalescer: one dispatch) per `$select`, not one for all.
    { name: '50 aliased GUID lookups in 25 different selections', query: () => lookupsInSelections(guids, 25), exact: true },
    {
      name: '50 aliased GUID lookups with manager',
      query: () => `{ ${guids.map((id, i) => `u${i}: user(id: "${id}") { displayName manager { displayName } }`).join(' ')} }`,
      exact: true,
    },
    { name: '30 UPN lookups', query: () => `{ ${upns.map((id, i) => `u${i}: user(id: "${id}") { id }`).join(' ')} }`, exact: true },
    {
      name: '30 UPN lookups with directReports',
      query: () => `{ ${upns.map((id, i) => `u${i}: user(id: "${id}") { id directReports(first: 3) { nodes { id } } }`).join(' ')} }`,
      exact: false,
    }, // the report pages ride the lookups' $batch POSTs: fewer than the per-field estimate
    {
      name: 'an advanced search with manager (no $expand there)',
      query: () => '{ users(first: 50, search: { displayName: "a" }) { nodes { id manager { id } } } }',
      exact: false,
    },
    {
      name: 'a list with directReports and their managers',
      query: () => '{ users(first: 100) { nodes { id directReports(first: 5) { nodes { id manager { id } } } } } }',
      exact: false,
    },
    {
      name: 'a list with memberOf and ownedDevices',
      query: () => '{ users(first: 15) { nodes { id memberOf(first: 3) { nodes { id } } ownedDevices(first: 2) { nodes { id } } } } }',
      exact: true,
    },
    { name: 'a list of 100 with memberOf', query: () => '{ users(first: 100) { nodes { memberOf(first: 5) { nodes { displayName } } } } }', exact: true },
    {
      name: 'a list of 40 with memberOf, ownedDevices and authenticationMethods',
      query: () =>
        '{ users(first: 40) { nodes { id memberOf(first: 5) { nodes { id } } ownedDevices(first: 5) { nodes { id } } authenticationMethods { id type } } } }',
      exact: true,
    },
    {
      name: '30 UPN lookups with authenticationMethods',
      query: () => `{ ${upns.map((id, i) => `u${i}: user(id: "${id}") { id authenticationMethods(type: PHONE) { id } }`).join(' ')} }`,
      exact: true,
    },
    {
      name: 'a list of 250 with manager expanded (pages with $expand hold 100: three list requests)',
      query: () => '{ users(first: 250) { nodes { id manager { id } } } }',
      exact: true,
    },
    {
      name: 'a list with totalCount and manager (advanced: the managers come through $batch)',
      query: () => '{ users(first: 100) { totalCount nodes { id manager { id } } } }',
      exact: true,
    },
    {
      name: 'a list filtered by 20 ids with manager (past 15 expressions: advanced, managers through $batch)',
      query: () => 'query($ids: [ID!]) { users(first: 20, filter: { ids: $ids }) { nodes { id manager { id } } } }',
      get variables() {
        return { ids: guids.slice(0, 20) };
      },
      exact: true,
    },
    { name: 'the change feed', query: () => '{ userChanges { changed { id } nextDeltaToken } }', exact: false },
  ];
  for (const shape of shapes) {
    it(`${shape.name}: never below the real count${shape.exact ? ', and equal to it' : ''}`, async () => {
      const { result, actual, estimate } = await measure(shape.query(), shape.variables);
      expect(result.errors).toBeUndefined();
      expect(actual).toBeGreaterThan(0);
      expect(estimate).toBeGreaterThanOrEqual(actual);
      if (shape.exact) expect(estimate).toBe(actual);
      else expect(estimate).toBeLessThanOrEqual(Math.max(actual * 8, actual + 30));
    });
  }
});

describe('refusal over budget', () => {
  it('refuses a nested fan-out with OPERATION_TOO_COMPLEX, the estimate and the budget, before any upstream call', async () => {
    await gw.emulator.resetStats();
    const r = await gw.graphql('{ users(first: 999) { nodes { directReports(first: 50) { nodes { directReports(first: 50) { nodes { id } } } } } } }');
    expect(r.status).toBe(400);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', budget: 40 });
    expect(r.errors?.[0]?.extensions?.estimatedUpstreamRequests).toBeGreaterThan(40);
    expect(r.data ?? null).toBeNull();
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });

  it('sees page sizes passed as variables', async () => {
    // 1 list request + ceil(999 / 20) = 50 `$batch` POSTs for the memberships.
    const query = 'query($n: Int!) { users(first: $n) { nodes { memberOf(first: 5) { nodes { id } } } } }';
    await gw.emulator.resetStats();
    const r = await gw.graphql(query, { n: 999 });
    expect(r.errors?.[0]?.extensions?.code).toBe('OPERATION_TOO_COMPLEX');
    expect(r.errors?.[0]?.extensions?.estimatedUpstreamRequests).toBe(51);
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });

  it('cannot be dodged with aliases: each alias is another request', async () => {
    const aliases = Array.from({ length: 45 }, (_, i) => `l${i}: users(first: 1) { nodes { id } }`).join(' ');
    const r = await gw.graphql(`{ ${aliases} }`);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', estimatedUpstreamRequests: 45, budget: 40 });
  });

  it('cannot be dodged with different selections: lookups by id share a getByIds only with the same $select', async () => {
    // 90 lookups by GUID in 45 selections sent 45 Graph requests under a budget of 40, estimated at 1.
    await gw.emulator.resetStats();
    const r = await gw.graphql(lookupsInSelections(moreGuids, 45));
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', estimatedUpstreamRequests: 45, budget: 40 });
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });

  it('is not bypassed by an operation or fragment named __schema', async () => {
    const r = await gw.graphql('query __schema { ...__type } fragment __type on Query { users(first: 999) { nodes { memberOf { nodes { id } } } } }');
    expect(r.errors?.[0]?.extensions?.code).toBe('OPERATION_TOO_COMPLEX');
  });

  it('keeps no estimate of a search that does not compile for a valid search of the same shape', async () => {
    // A valid search is an advanced query: no $expand, so 1 page + ceil(999 / 20) = 50 $batch POSTs
    // for the managers. A blank one fails before Graph; its estimate (10 pages with $expand, no
    // manager lookups) must not be reused for the next request, whose variables have the same shape.
    const query = 'query BlankSearch($t: String) { users(first: 999, search: { text: $t }) { nodes { id manager { id } } } }';
    const blank = await gw.graphql(query, { t: '   ' });
    expect(blank.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await gw.emulator.resetStats();
    const valid = await gw.graphql(query, { t: 'a' });
    expect(valid.errors?.[0]?.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', estimatedUpstreamRequests: 51, budget: 40 });
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });

  it('lets an operation within budget run', async () => {
    const r = await gw.graphql('{ users(first: 5) { nodes { id } } }');
    expect(r.errors).toBeUndefined();
    expect(r.data?.users.nodes).toHaveLength(5);
  });
});
