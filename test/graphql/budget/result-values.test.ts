import { getNamedType, isLeafType, parse, type GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_RESULT_VALUES, estimateUpstreamRequests } from '../../../src/graphql/budget/index.js';
import { buildGatewaySchema } from '../../../src/graphql/schema.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

/**
 * The size of an answer (docs/security.md#the-size-of-an-answer): the budget's estimate also bounds
 * the field values an answer can hold, and an operation past MAX_RESULT_VALUES is refused before
 * anything goes to Graph. The bound is checked against real answers of the emulator tenant.
 */
const schema = buildGatewaySchema();
let gw: TestGateway;
let ids: string[] = [];

/** Every scalar field of `User` that takes no argument: a client asking for "everything". */
const everyUserScalar = Object.values((schema.getType('User') as GraphQLObjectType).getFields())
  .filter((f) => isLeafType(getNamedType(f.type)) && f.args.length === 0)
  .map((f) => f.name)
  .join(' ');

/** Field values an answer holds: every key of every object (a list of scalars is one value). */
function valuesIn(data: unknown): number {
  if (Array.isArray(data)) return data.reduce((n: number, item) => n + valuesIn(item), 0);
  if (typeof data !== 'object' || data === null) return 0;
  return Object.values(data).reduce((n: number, value) => n + 1 + (Array.isArray(value) && value.every((v) => typeof v !== 'object') ? 0 : valuesIn(value)), 0);
}

const estimatedValues = (query: string, variables?: Record<string, unknown>) =>
  estimateUpstreamRequests({ schema, document: parse(query), variables: variables ?? null })!.values;

beforeAll(async () => {
  gw = await startTestGateway();
  ids = [...(gw.emulator.tenant.users.values() as Iterable<{ id: string }>)].slice(0, 30).map((u) => u.id);
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

describe('values an answer can hold', () => {
  const shapes: Array<{ name: string; query: () => string }> = [
    {
      name: 'a page of users with every property and their managers',
      query: () => `{ users(first: 999) { nodes { ${everyUserScalar} manager { id displayName } } } }`,
    },
    {
      name: 'edges, cursors and page info',
      query: () => '{ users(first: 50) { edges { cursor node { id mail } } pageInfo { hasNextPage endCursor } totalCount } }',
    },
    { name: 'aliased lookups', query: () => `{ ${ids.map((id, i) => `u${i}: user(id: "${id}") { id a: displayName b: displayName }`).join(' ')} }` },
    { name: 'reports of a page of users', query: () => '{ users(first: 30) { nodes { id directReports(first: 5) { nodes { id displayName } } } } }' },
  ];
  for (const shape of shapes) {
    it(`${shape.name}: the estimate is never below the answer`, async () => {
      const result = await gw.graphql(shape.query());
      expect(result.errors).toBeUndefined();
      const actual = valuesIn(result.data);
      expect(actual).toBeGreaterThan(0);
      expect(estimatedValues(shape.query())).toBeGreaterThanOrEqual(actual);
    });
  }

  it('a page of 999 users with every property and their managers is well within the default limit', () => {
    const values = estimatedValues(`{ users(first: 999) { nodes { ${everyUserScalar} manager { ${everyUserScalar} } } } }`);
    expect(values).toBeLessThan(DEFAULT_MAX_RESULT_VALUES / 2);
  });
});

describe('MAX_RESULT_VALUES', () => {
  it('refuses 50 aliases of a 999-user page before any Graph request: Graph would be asked little, the answer would hold 800,000 values', async () => {
    const fields =
      'id displayName givenName surname userPrincipalName mail jobTitle department officeLocation mobilePhone businessPhones accountEnabled userType createdDateTime employeeId companyName';
    const query = `{ ${Array.from({ length: 50 }, (_, i) => `p${i}: users(first: 999) { nodes { ${fields} } }`).join(' ')} }`;
    await gw.emulator.resetStats();
    const result = await gw.graphql(query);
    expect(result.status).toBe(400);
    expect(result.data).toBeUndefined();
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', limit: 'maxResultValues', max: DEFAULT_MAX_RESULT_VALUES });
    expect(result.errors![0]!.extensions!.estimatedValues).toBeGreaterThan(800_000);
    expect(result.errors![0]!.message).toMatch(/fewer aliases/);
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });

  it('refuses nested pages whose sizes multiply (40 users × 999 reports × 11 fields), which cost Graph 3 requests', async () => {
    const query =
      '{ users(first: 40) { nodes { id directReports(first: 999) { nodes { id displayName givenName surname mail jobTitle department officeLocation mobilePhone userType } } } } }';
    expect(estimateUpstreamRequests({ schema, document: parse(query) })!.total).toBe(3);
    await gw.emulator.resetStats();
    const result = await gw.graphql(query);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', limit: 'maxResultValues' });
    expect((await gw.emulator.stats()).graphRequests).toBe(0);
  });

  it('is configurable: with MAX_RESULT_VALUES=1000 a 100-user page of 10 fields is refused, one of 5 fields served', async () => {
    const small = await startTestGateway({ emulator: gw.emulator, env: { MAX_RESULT_VALUES: '1000' } });
    try {
      const refused = await small.graphql(
        '{ users(first: 100) { nodes { id displayName givenName surname mail jobTitle department officeLocation mobilePhone userType } } }',
      );
      expect(refused.errors![0]!.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', limit: 'maxResultValues', max: 1000 });
      const served = await small.graphql('{ users(first: 100) { nodes { id displayName givenName surname mail } } }');
      expect(served.errors).toBeUndefined();
      expect(served.data!.users.nodes).toHaveLength(100);
    } finally {
      await small.close();
    }
  });
});
